// handle_hvc / handle_smc and kvm_hvc_call_handler as in 5.15 (arch/arm64/kvm/handle_exit.c, hypercalls.c;
// spec D.2–D.5):
// - SMC (EC 0x17, trapped by HCR_EL2.TSC): not SMCCC in ≤6.2 — x0 = ~0 and PC += 4 (the preferred return is the
//   SMC itself). x1..x3 untouched.
// - HVC (EC 0x16): the immediate is ignored, W0 is dispatched, PC is already past the HVC. The handler starts
//   with val[4] = {NOT_SUPPORTED, 0, 0, 0} and ends with smccc_set_retval(val[0..3]), so x1..x3 are written (0)
//   for every call it answers; unknown ids go to PSCI, which also writes (NOT_SUPPORTED, 0, 0, 0).
//   So in 5.15 an unknown function gives x0 = -1 and x1..x3 = 0, not "unchanged" (spec D.2 UNCONFIRMED item).
// - SMCCC_VERSION = 1.1 (0x10001). ARCH_FEATURES: WORKAROUND_1 -> 0 and WORKAROUND_2 -> NOT_REQUIRED for the
//   emulated host (Spectre-v2 mitigated; Spectre-v4 mitigated without SSBS), PV_TIME_FEATURES -> 0, else -1
//   (WORKAROUND_3 arrived after 5.15.0). PV_TIME_FEATURES and PV_TIME_ST answer -1: both need a stolen-time IPA
//   set by the VMM (vcpu->arch.steal.base), which this machine never sets.
// - TRNG (kvm_trng_call, ≥5.12): VERSION 1.0, FEATURES, GET_UUID, RND32/RND64. The "random" bits are
//   deterministic: splitmix64 of (vcpu index, vcpu ticks, word index), so runs replay exactly.
// - KVM vendor services: UID, FEATURES (bits 0 and 1; bits 2..5 with the MMIO guard, D.5), PTP.
//   PTP's "wall clock" is deterministic: the counter is the vcpu's virtual counter (ticks, CNTVOFF = 0, 100 MHz),
//   and the wall clock in ns is counter * 10. x1 other than 0 / 1 leaves (NOT_SUPPORTED, 0, 0, 0).
// Each call emits one `hypercall` event {conduit, fn, name, args [x1,x2,x3] on entry, ret [x0..x3] on return}.

import {
  ARM_SMCCC_ARCH_FEATURES_FUNC_ID, ARM_SMCCC_ARCH_WORKAROUND_1, ARM_SMCCC_ARCH_WORKAROUND_2,
  ARM_SMCCC_HV_PV_TIME_FEATURES, ARM_SMCCC_HV_PV_TIME_ST, ARM_SMCCC_KVM_FUNC_FEATURES, ARM_SMCCC_KVM_FUNC_PTP,
  ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID, ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID,
  ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID, ARM_SMCCC_VENDOR_HYP_UID_KVM, ARM_SMCCC_VERSION_1_1, ARM_SMCCC_VERSION_FUNC_ID,
  ARM_SMCCC_TRNG_FEATURES, ARM_SMCCC_TRNG_GET_UUID, ARM_SMCCC_TRNG_RND32, ARM_SMCCC_TRNG_RND64,
  ARM_SMCCC_TRNG_UUID_KVM, ARM_SMCCC_TRNG_VERSION, ARM_SMCCC_TRNG_VERSION_1_0, TRNG_INVALID_PARAMETER,
  TRNG_NOT_SUPPORTED, TRNG_SUCCESS, hypercallName, KVM_PTP_PHYS_COUNTER, KVM_PTP_VIRT_COUNTER, mmioGuardIds, SMCCC_RET_NOT_REQUIRED,
  SMCCC_RET_NOT_SUPPORTED, SMCCC_RET_SUCCESS, toReg,
} from '../arch/smccc';
import { emitKvmExit } from './exit-context';
import type { ExitVm, UserExit } from './exit-context';
import type { GuestCpu } from './guest';
import { mmioGuardAllowed, mmioGuardEnroll, mmioGuardInfo, mmioGuardMap, mmioGuardUnmap } from './mmio-guard';
import { psciCall } from './psci';

export type HypercallOutcome =
  | { readonly kind: 'resume' }
  /** PSCI CPU_SUSPEND: the vcpu waits as for WFI */
  | { readonly kind: 'wfi' }
  /** PSCI CPU_OFF: the calling vcpu is now powered off */
  | { readonly kind: 'power-off' }
  /** PSCI SYSTEM_OFF / SYSTEM_RESET: KVM_RUN returns with KVM_EXIT_SYSTEM_EVENT (kvm-exit already emitted) */
  | { readonly kind: 'exit'; readonly exit: UserExit };

/** The emulated host's mitigation state answered through SMCCC_ARCH_FEATURES (see header). */
export const HOST_ARCH_WORKAROUND: ReadonlyMap<number, number> = new Map([
  [ARM_SMCCC_ARCH_WORKAROUND_1, SMCCC_RET_SUCCESS],
  [ARM_SMCCC_ARCH_WORKAROUND_2, SMCCC_RET_NOT_REQUIRED],
  [ARM_SMCCC_HV_PV_TIME_FEATURES, SMCCC_RET_SUCCESS],
]);

/** PTP: ns of the deterministic wall clock for a counter value (100 MHz counter). */
export function ptpWallClockNs(counter: bigint): bigint { return counter * 10n; }

/** KVM_FEATURES bitmap (x0) for this vcpu. */
export function kvmFeaturesBitmap(vm: ExitVm, vcpu: GuestCpu): bigint {
  let bits = (1n << BigInt(ARM_SMCCC_KVM_FUNC_FEATURES)) | (1n << BigInt(ARM_SMCCC_KVM_FUNC_PTP));
  const g = mmioGuardIds(vm.flavour);
  if (g !== null && vm.mmioGuardAvailable && mmioGuardAllowed(vm, vcpu)) {
    for (const id of [g.info, g.enroll, g.map, g.unmap]) bits |= 1n << BigInt(id & 0xffff);
  }
  return bits;
}

/**
 * Handle an HVC / SMC exit of `vcpu` (spec D.2). `imm` is the instruction's immediate (ignored by 5.x KVM; kept
 * for the trace and for later flavours).
 */
export function handleHypercall(vm: ExitVm, vcpu: GuestCpu, conduit: 'hvc' | 'smc', imm: number): HypercallOutcome {
  void imm;
  const fn = Number(vcpu.getX(0) & 0xffff_ffffn);
  const args = [vcpu.getX(1), vcpu.getX(2), vcpu.getX(3)];
  let outcome: HypercallOutcome = { kind: 'resume' };

  if (conduit === 'smc') {
    // handle_smc (≤ 6.2): x0 = ~0, skip the SMC
    vcpu.setX(0, toReg(-1));
    vcpu.setPc(BigInt.asUintN(64, vcpu.getPc() + 4n));
  } else {
    outcome = hvcCallHandler(vm, vcpu, fn);
  }

  vm.events.emit('hypercall', {
    conduit, fn: BigInt(fn), name: hypercallName(fn, vm.flavour), args,
    ret: [vcpu.getX(0), vcpu.getX(1), vcpu.getX(2), vcpu.getX(3)],
  }, vcpu.index);
  if (outcome.kind === 'exit') emitKvmExit(vm.events, outcome.exit, vcpu.index);
  return outcome;
}

/** kvm_hvc_call_handler */
function hvcCallHandler(vm: ExitVm, vcpu: GuestCpu, fn: number): HypercallOutcome {
  const val: bigint[] = [toReg(SMCCC_RET_NOT_SUPPORTED), 0n, 0n, 0n];
  const g = vm.mmioGuardAvailable ? mmioGuardIds(vm.flavour) : null;

  switch (fn) {
    case ARM_SMCCC_VERSION_FUNC_ID:
      val[0] = toReg(ARM_SMCCC_VERSION_1_1);
      break;
    case ARM_SMCCC_ARCH_FEATURES_FUNC_ID: {
      const feature = Number(vcpu.getX(1) & 0xffff_ffffn);
      const r = HOST_ARCH_WORKAROUND.get(feature);
      if (r !== undefined) val[0] = toReg(r);
      break;
    }
    case ARM_SMCCC_HV_PV_TIME_FEATURES:
      // kvm_hypercall_pv_features: SUCCESS for PV_TIME_FEATURES / PV_TIME_ST only once the VMM has set the
      // stolen-time IPA (KVM_ARM_VCPU_PVTIME_CTRL), which this machine never does
    case ARM_SMCCC_HV_PV_TIME_ST:
      break;                                    // kvm_init_stolen_time: base == GPA_INVALID
    case ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID:
      for (let i = 0; i < 4; i++) val[i] = BigInt(ARM_SMCCC_VENDOR_HYP_UID_KVM[i]);
      break;
    case ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID:
      val[0] = kvmFeaturesBitmap(vm, vcpu);
      break;
    case ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID: {
      const feature = Number(vcpu.getX(1) & 0xffff_ffffn);
      if (feature === KVM_PTP_VIRT_COUNTER || feature === KVM_PTP_PHYS_COUNTER) {
        const cycles = BigInt(vcpu.ticks);     // CNTVOFF_EL2 = 0: virtual and physical counters agree
        const ns = ptpWallClockNs(cycles);
        val[0] = (ns >> 32n) & 0xffff_ffffn;
        val[1] = ns & 0xffff_ffffn;
        val[2] = (cycles >> 32n) & 0xffff_ffffn;
        val[3] = cycles & 0xffff_ffffn;
      }
      break;
    }
    case ARM_SMCCC_TRNG_VERSION:
    case ARM_SMCCC_TRNG_FEATURES:
    case ARM_SMCCC_TRNG_GET_UUID:
    case ARM_SMCCC_TRNG_RND32:
    case ARM_SMCCC_TRNG_RND64:
      trngCall(vcpu, fn, val);
      break;
    default:
      if (g !== null && fn === g.info) val[0] = toReg(mmioGuardInfo(vm, vcpu));
      else if (g !== null && fn === g.enroll) val[0] = toReg(mmioGuardEnroll(vm, vcpu));
      else if (g !== null && fn === g.map) val[0] = toReg(mmioGuardMap(vm, vcpu, vcpu.getX(1)));
      else if (g !== null && fn === g.unmap) val[0] = toReg(mmioGuardUnmap(vm, vcpu, vcpu.getX(1)));
      else return psciCall(vm, vcpu);
      break;
  }
  for (let i = 0; i < 4; i++) vcpu.setX(i, val[i]);
  return { kind: 'resume' };
}

// ---------------------------------------------------------------------------------------------------------------
// TRNG (arch/arm64/kvm/trng.c)

const TRNG_IDS = new Set<bigint>([ARM_SMCCC_TRNG_VERSION, ARM_SMCCC_TRNG_FEATURES, ARM_SMCCC_TRNG_GET_UUID,
  ARM_SMCCC_TRNG_RND32, ARM_SMCCC_TRNG_RND64].map(n => BigInt(n)));
const TRNG_MAX_BITS64 = 192;

/** splitmix64: the deterministic stand-in for get_random_long() */
export function splitmix64(seed: bigint): bigint {
  let z = BigInt.asUintN(64, seed + 0x9e37_79b9_7f4a_7c15n);
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn);
  return z ^ (z >> 31n);
}

/** The i-th "random" word a TRNG_RND call of `vcpu` gets now. */
export function trngWord(vcpu: GuestCpu, i: number): bigint {
  return splitmix64((BigInt(vcpu.ticks) << 16n) ^ (BigInt(vcpu.index) << 4n) ^ BigInt(i));
}

/** kvm_trng_call: fills val[0..3] (smccc_set_retval follows in the caller). */
function trngCall(vcpu: GuestCpu, fn: number, val: bigint[]): void {
  val[0] = toReg(TRNG_NOT_SUPPORTED);
  switch (fn) {
    case ARM_SMCCC_TRNG_VERSION:
      val[0] = BigInt(ARM_SMCCC_TRNG_VERSION_1_0);
      return;
    case ARM_SMCCC_TRNG_FEATURES:
      if (TRNG_IDS.has(vcpu.getX(1))) val[0] = toReg(TRNG_SUCCESS);
      return;
    case ARM_SMCCC_TRNG_GET_UUID:
      for (let i = 0; i < 4; i++) val[i] = BigInt(ARM_SMCCC_TRNG_UUID_KVM[i]);
      return;
    default: {
      // kvm_trng_do_rnd: at most 3 * size bits; bits above num_bits cleared
      const size = fn === ARM_SMCCC_TRNG_RND32 ? 32 : 64;
      const numBits = Number(vcpu.getX(1) & 0xffff_ffffn);
      if (numBits > 3 * size) {
        val[0] = toReg(TRNG_INVALID_PARAMETER);
        return;
      }
      const bits = [0n, 0n, 0n];
      for (let i = 0; i < Math.ceil(numBits / 64); i++) bits[i] = trngWord(vcpu, i);
      for (let b = numBits; b < TRNG_MAX_BITS64; b++) bits[b >> 6] &= ~(1n << BigInt(b & 63));
      val[0] = toReg(TRNG_SUCCESS);
      if (size === 32) {
        val[1] = bits[1] & 0xffff_ffffn;
        val[2] = bits[0] >> 32n;
        val[3] = bits[0] & 0xffff_ffffn;
      } else {
        val[1] = bits[2];
        val[2] = bits[1];
        val[3] = bits[0];
      }
    }
  }
}
