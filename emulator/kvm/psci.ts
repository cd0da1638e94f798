// PSCI as 5.15 KVM implements it (arch/arm64/kvm/psci.c, include/kvm/arm_psci.h; spec D.3, F, G.7):
// - a vcpu with the PSCI_0_2 feature gets KVM_ARM_PSCI_LATEST = PSCI 1.0 (kvm_psci_1_0_call, falling back to
//   kvm_psci_0_2_call); without it, KVM's own PSCI 0.1 ids (KVM_PSCI_FN_BASE 0x95c1ba5e + n: CPU_OFF, CPU_ON only).
// - every call ends with smccc_set_retval(val, 0, 0, 0): x1..x3 are zeroed, also for unknown ids (NOT_SUPPORTED).
// - CPU_ON looks the target up by MPIDR (reset_mpidr: Aff0 = index[3:0], Aff1 = index[11:4], Aff2 = index[19:12]);
//   an affinity with bits outside MPIDR_HWID_BITMASK (5.15+; earlier flavours mask them off) or no such vcpu ->
//   INVALID_PARAMS; a running target ->
//   ALREADY_ON (0.2+) / INVALID_PARAMS (0.1). The 32-bit CPU_ON / AFFINITY_INFO narrow x1..x3 to 32 bits first.
// - AFFINITY_INFO answers ON or OFF (5.15 powers the target on synchronously, so it never reports ON_PENDING).
// - SYSTEM_OFF / SYSTEM_RESET: every vcpu powered off, KVM_EXIT_SYSTEM_EVENT, x0 preloaded with INTERNAL_FAILURE;
//   with the MMIO guard flavour the guard flag is cleared and stage 2 unmapped (v2 06/16).
// - CPU_SUSPEND is WFI (kvm_vcpu_wfi), returning SUCCESS.

import {
  ARM_SMCCC_VERSION_FUNC_ID, KVM_ARM_PSCI_0_1, KVM_ARM_PSCI_0_2, KVM_ARM_PSCI_1_0, KVM_PSCI_FN_CPU_OFF, KVM_PSCI_FN_CPU_ON,
  PSCI_0_2_64BIT, PSCI_0_2_AFFINITY_LEVEL_OFF, PSCI_0_2_AFFINITY_LEVEL_ON, PSCI_0_2_FN64_AFFINITY_INFO,
  PSCI_0_2_FN64_CPU_ON, PSCI_0_2_FN64_CPU_SUSPEND, PSCI_0_2_FN_AFFINITY_INFO, PSCI_0_2_FN_CPU_OFF,
  PSCI_0_2_FN_CPU_ON, PSCI_0_2_FN_CPU_SUSPEND, PSCI_0_2_FN_MIGRATE_INFO_TYPE, PSCI_0_2_FN_PSCI_VERSION,
  PSCI_0_2_FN_SYSTEM_OFF, PSCI_0_2_FN_SYSTEM_RESET, PSCI_0_2_TOS_MP, PSCI_1_0_FN_PSCI_FEATURES,
  PSCI_RET_ALREADY_ON, PSCI_RET_INTERNAL_FAILURE, PSCI_RET_INVALID_PARAMS, PSCI_RET_NOT_SUPPORTED, PSCI_RET_SUCCESS,
  toReg,
} from '../arch/smccc';
import type { ExitVm, UserExit } from './exit-context';
import type { GuestCpu } from './guest';
import { mmioGuardResetOnSystemEvent } from './mmio-guard';

/** MPIDR_HWID_BITMASK: Aff3 [39:32], Aff2..Aff0 [23:0] */
export const MPIDR_HWID_BITMASK = 0xff00ffffffn;

/** The affinity KVM gives vcpu `index` (sys_regs.c reset_mpidr; MPIDR_EL1 also has RES1 bit 31). */
export function vcpuMpidrAff(index: number): bigint {
  const i = BigInt(index);
  return (i & 0xfn) | (((i >> 4n) & 0xffn) << 8n) | (((i >> 12n) & 0xffn) << 16n);
}

/** kvm_psci_version: 1.0 with the PSCI_0_2 feature (KVM_ARM_PSCI_LATEST in 5.15), else 0.1. */
export function psciVersionFor(vm: ExitVm, vcpu: GuestCpu): number {
  return vm.vcpuInfo(vcpu.index).psci02 ? KVM_ARM_PSCI_1_0 : KVM_ARM_PSCI_0_1;
}

/** What the call did to the calling vcpu besides its registers. */
export type PsciEffect =
  | { readonly kind: 'resume' }
  /** CPU_SUSPEND: behave as WFI */
  | { readonly kind: 'wfi' }
  /** CPU_OFF: the calling vcpu is powered off (it sleeps inside KVM_RUN until a CPU_ON) */
  | { readonly kind: 'power-off' }
  | { readonly kind: 'exit'; readonly exit: UserExit & { readonly reason: 'system_event' } };

const RESUME: PsciEffect = { kind: 'resume' };

/** kvm_psci_call: handle W0 as a PSCI call; sets x0..x3. */
export function psciCall(vm: ExitVm, vcpu: GuestCpu): PsciEffect {
  const fn = Number(vcpu.getX(0) & 0xffff_ffffn);
  if (psciVersionFor(vm, vcpu) === KVM_ARM_PSCI_0_1) return psci01Call(vm, vcpu, fn);
  return psci10Call(vm, vcpu, fn);
}

function setRet(vcpu: GuestCpu, val: number | bigint): void {
  vcpu.setX(0, toReg(val));
  vcpu.setX(1, 0n);
  vcpu.setX(2, 0n);
  vcpu.setX(3, 0n);
}

/** kvm_psci_check_allowed_function: 32-bit vcpus may not call the SMC64 ids */
function checkAllowed(vm: ExitVm, vcpu: GuestCpu, fn: number): number {
  return (fn & PSCI_0_2_64BIT) !== 0 && vm.vcpuInfo(vcpu.index).el1_32bit ? PSCI_RET_NOT_SUPPORTED : 0;
}

const PSCI_1_0_FEATURES = new Set<number>([
  PSCI_0_2_FN_PSCI_VERSION, PSCI_0_2_FN_CPU_SUSPEND, PSCI_0_2_FN64_CPU_SUSPEND, PSCI_0_2_FN_CPU_OFF,
  PSCI_0_2_FN_CPU_ON, PSCI_0_2_FN64_CPU_ON, PSCI_0_2_FN_AFFINITY_INFO, PSCI_0_2_FN64_AFFINITY_INFO,
  PSCI_0_2_FN_MIGRATE_INFO_TYPE, PSCI_0_2_FN_SYSTEM_OFF, PSCI_0_2_FN_SYSTEM_RESET, PSCI_1_0_FN_PSCI_FEATURES,
  ARM_SMCCC_VERSION_FUNC_ID,
]);

function psci10Call(vm: ExitVm, vcpu: GuestCpu, fn: number): PsciEffect {
  switch (fn) {
    case PSCI_0_2_FN_PSCI_VERSION:
      setRet(vcpu, KVM_ARM_PSCI_1_0);
      return RESUME;
    case PSCI_1_0_FN_PSCI_FEATURES: {
      const feature = Number(vcpu.getX(1) & 0xffff_ffffn);
      const denied = checkAllowed(vm, vcpu, feature);
      setRet(vcpu, denied !== 0 ? denied : PSCI_1_0_FEATURES.has(feature) ? 0 : PSCI_RET_NOT_SUPPORTED);
      return RESUME;
    }
    default:
      return psci02Call(vm, vcpu, fn);
  }
}

function psci02Call(vm: ExitVm, vcpu: GuestCpu, fn: number): PsciEffect {
  const denied = checkAllowed(vm, vcpu, fn);
  if (denied !== 0) {
    setRet(vcpu, denied);
    return RESUME;
  }
  switch (fn) {
    case PSCI_0_2_FN_PSCI_VERSION:
      setRet(vcpu, KVM_ARM_PSCI_0_2);   // not reached through psci10Call
      return RESUME;
    case PSCI_0_2_FN_CPU_SUSPEND:
    case PSCI_0_2_FN64_CPU_SUSPEND:
      setRet(vcpu, PSCI_RET_SUCCESS);
      return { kind: 'wfi' };
    case PSCI_0_2_FN_CPU_OFF:
      vm.powerOffVcpu(vcpu.index);
      setRet(vcpu, PSCI_RET_SUCCESS);
      return { kind: 'power-off' };
    case PSCI_0_2_FN_CPU_ON:
      narrowTo32(vcpu);
      setRet(vcpu, vcpuOn(vm, vcpu, false));
      return RESUME;
    case PSCI_0_2_FN64_CPU_ON:
      setRet(vcpu, vcpuOn(vm, vcpu, false));
      return RESUME;
    case PSCI_0_2_FN_AFFINITY_INFO:
      narrowTo32(vcpu);
      setRet(vcpu, affinityInfo(vm, vcpu));
      return RESUME;
    case PSCI_0_2_FN64_AFFINITY_INFO:
      setRet(vcpu, affinityInfo(vm, vcpu));
      return RESUME;
    case PSCI_0_2_FN_MIGRATE_INFO_TYPE:
      setRet(vcpu, PSCI_0_2_TOS_MP);
      return RESUME;
    case PSCI_0_2_FN_SYSTEM_OFF:
      setRet(vcpu, PSCI_RET_INTERNAL_FAILURE);
      return systemEvent(vm, 'shutdown');
    case PSCI_0_2_FN_SYSTEM_RESET:
      setRet(vcpu, PSCI_RET_INTERNAL_FAILURE);
      return systemEvent(vm, 'reset');
    default:
      setRet(vcpu, PSCI_RET_NOT_SUPPORTED);
      return RESUME;
  }
}

function psci01Call(vm: ExitVm, vcpu: GuestCpu, fn: number): PsciEffect {
  switch (fn) {
    case KVM_PSCI_FN_CPU_OFF:
      vm.powerOffVcpu(vcpu.index);
      setRet(vcpu, PSCI_RET_SUCCESS);
      return { kind: 'power-off' };
    case KVM_PSCI_FN_CPU_ON:
      setRet(vcpu, vcpuOn(vm, vcpu, true));
      return RESUME;
    default:
      setRet(vcpu, PSCI_RET_NOT_SUPPORTED);
      return RESUME;
  }
}

/** kvm_psci_narrow_to_32bit: zero the upper halves of x1..x3 */
function narrowTo32(vcpu: GuestCpu): void {
  for (let i = 1; i < 4; i++) vcpu.setX(i, vcpu.getX(i) & 0xffff_ffffn);
}

/** kvm_mpidr_to_vcpu */
export function mpidrToVcpu(vm: ExitVm, mpidr: bigint): number | undefined {
  const m = mpidr & MPIDR_HWID_BITMASK;
  for (let i = 0; i < vm.vcpuCount; i++) if (vcpuMpidrAff(i) === m) return i;
  return undefined;
}

/** kvm_psci_vcpu_on: x1 = target MPIDR, x2 = entry point, x3 = context id */
function vcpuOn(vm: ExitVm, vcpu: GuestCpu, psci01: boolean): number {
  const cpuId = vcpu.getX(1);
  // kvm_psci_valid_affinity (5.15+); older kernels masked the reserved bits off (flavour table)
  if ((cpuId & ~MPIDR_HWID_BITMASK) !== 0n && vm.flavour.psciAffinityReservedBits === 'invalid-params') return PSCI_RET_INVALID_PARAMS;
  const target = mpidrToVcpu(vm, cpuId);
  if (target === undefined) return PSCI_RET_INVALID_PARAMS;
  if (!vm.vcpuInfo(target).powerOff) return psci01 ? PSCI_RET_INVALID_PARAMS : PSCI_RET_ALREADY_ON;
  vm.powerOnVcpu(target, vcpu.getX(2), vcpu.getX(3));
  return PSCI_RET_SUCCESS;
}

/** psci_affinity_mask: MPIDR_HWID_BITMASK & ~((1 << level*8) - 1) for level <= 3, else 0 */
function affinityMask(level: bigint): bigint {
  if (level > 3n) return 0n;
  return MPIDR_HWID_BITMASK & ~((1n << (level * 8n)) - 1n);
}

/** kvm_psci_vcpu_affinity_info: x1 = target affinity, x2 = lowest affinity level */
function affinityInfo(vm: ExitVm, vcpu: GuestCpu): number {
  let target = vcpu.getX(1);
  const level = vcpu.getX(2);
  if ((target & ~MPIDR_HWID_BITMASK) !== 0n && vm.flavour.psciAffinityReservedBits === 'invalid-params') return PSCI_RET_INVALID_PARAMS;
  const mask = affinityMask(level);
  if (mask === 0n) return PSCI_RET_INVALID_PARAMS;
  target &= mask;
  let matching = 0;
  for (let i = 0; i < vm.vcpuCount; i++) {
    if ((vcpuMpidrAff(i) & mask) === target) {
      matching++;
      if (!vm.vcpuInfo(i).powerOff) return PSCI_0_2_AFFINITY_LEVEL_ON;
    }
  }
  return matching === 0 ? PSCI_RET_INVALID_PARAMS : PSCI_0_2_AFFINITY_LEVEL_OFF;
}

/** kvm_prepare_system_event: power every vcpu off, exit with KVM_EXIT_SYSTEM_EVENT (+ MMIO guard reset, D.5) */
function systemEvent(vm: ExitVm, type: 'shutdown' | 'reset'): PsciEffect {
  for (let i = 0; i < vm.vcpuCount; i++) vm.powerOffVcpu(i);
  if (vm.flavour.mmioGuard !== null) mmioGuardResetOnSystemEvent(vm);
  return { kind: 'exit', exit: { reason: 'system_event', type } };
}
