// MMIO guard, KVM side (Marc Zyngier, "[PATCH v2 xx/16] KVM: arm64: MMIO guard PV services", Oct 2021; seed 003,
// spec D.5). Only in flavours with `flavour.mmioGuard` and when the machine's `mmio_guard` key is on.
//
// - INFO: host PAGE_SIZE for a 64-bit vcpu, NOT_SUPPORTED for a 32-bit one.
// - ENROLL: sets the VM-wide KVM_ARCH_FLAG_MMIO_GUARD (idempotent, any vcpu) when mmio_guard_allowed: not 32-bit
//   and NISV_TO_USER not enabled.
// - MAP(x1) / UNMAP(x1): also refused for a 32-bit vcpu (v2 09/16).
// - MAP(x1): enrolled, page-aligned, not inside a memslot -> stage 2 annotation MMIO_NOTE on that page (x2 ignored).
// - UNMAP(x1): enrolled, and the leaf for x1 page-aligned-down is a PAGE_SIZE leaf equal to MMIO_NOTE -> unmap it
//   (the aligned-down lookup makes a misaligned UNMAP of a mapped page succeed: v2 quirk).
// - check on MMIO (kvm_check_ioguard_page): not enrolled -> allowed; else the page must carry MMIO_NOTE.
// Every failure is SMCCC_RET_NOT_SUPPORTED (-1): the result register starts out as NOT_SUPPORTED.
// Events: `mmio-guard` {op, ipa, ok} for enroll / map / unmap / check-failed (enroll has ipa 0).

import { SMCCC_RET_NOT_SUPPORTED, SMCCC_RET_SUCCESS } from '../arch/smccc';
import type { ExitVm } from './exit-context';
import type { GuestCpu } from './guest';

/** mmio_guard_allowed(vcpu): the vcpu is AArch64 and NISV_TO_USER is off (gates ENROLL and KVM_FEATURES bits 2..5). */
export function mmioGuardAllowed(vm: ExitVm, vcpu: GuestCpu): boolean {
  return !vm.vcpuInfo(vcpu.index).el1_32bit && !vm.flags.nisvToUser;
}

// --- capability interactions (v2 09/16), for Vm.checkExtension / Vm.enableCap --------------------------------

/**
 * KVM_CHECK_EXTENSION(KVM_CAP_ARM_NISV_TO_USER) answers 1 only while the guard is not enrolled, and
 * KVM_ENABLE_CAP(KVM_CAP_ARM_NISV_TO_USER) fails with -EINVAL once it is (v2 09/16 kvm_vm_ioctl_enable_cap).
 * There is no KVM_ENABLE_CAP for KVM_CAP_ARM_MMIO_GUARD: it only advertises the hypercalls.
 */
export function mmioGuardAllowsNisv(vm: { readonly flags: { readonly mmioGuard: boolean } }): boolean {
  return !vm.flags.mmioGuard;
}

/** KVM_CHECK_EXTENSION(KVM_CAP_ARM_MMIO_GUARD) answers 1 only while NISV_TO_USER is not enabled. */
export function nisvAllowsMmioGuard(vm: { readonly flags: { readonly nisvToUser: boolean } }): boolean {
  return !vm.flags.nisvToUser;
}

// --- the stage 2 side -----------------------------------------------------------------------------------------

function leafSizeAt(level: number, pageSize: number): number {
  const stride = Math.log2(pageSize) - 3;
  return pageSize * 2 ** ((3 - level) * stride);
}

function alignDown(x: number, a: number): number { return x - (x % a); }

/** __check_ioguard_page: the leaf for the page of `ipa` is a PAGE_SIZE leaf whose raw value is MMIO_NOTE. */
export function isIoguardPage(vm: ExitVm, ipa: number): boolean {
  const note = vm.flavour.mmioNote;
  if (note === null) return false;
  if (ipa < 0 || ipa >= 2 ** vm.ipaBits) return false;
  const leaf = vm.stage2.getLeaf(alignDown(ipa, vm.pageSize));
  return leafSizeAt(leaf.level, vm.pageSize) === vm.pageSize && leaf.raw === note;
}

/**
 * kvm_check_ioguard_page for an MMIO access of `len` bytes at `ipa` (both pages when the access crosses a page,
 * spec D.5 / C.5 #2). Returns the failing address (emitted as `check-failed`) or undefined when allowed.
 */
export function mmioGuardCheck(vm: ExitVm, ipa: number, len: number, vcpu?: number): number | undefined {
  if (!vm.flags.mmioGuard) return undefined;
  let failed: number | undefined;
  if (!isIoguardPage(vm, ipa)) failed = ipa;
  else {
    const last = ipa + len - 1;
    if (alignDown(last, vm.pageSize) !== alignDown(ipa, vm.pageSize) && !isIoguardPage(vm, last)) failed = last;
  }
  if (failed !== undefined) vm.events.emit('mmio-guard', { op: 'check-failed', ipa: BigInt(failed), ok: false }, vcpu);
  return failed;
}

// --- the hypercalls (each returns x0 as a signed number) --------------------------------------------------------

export function mmioGuardInfo(vm: ExitVm, vcpu: GuestCpu): number {
  return vm.vcpuInfo(vcpu.index).el1_32bit ? SMCCC_RET_NOT_SUPPORTED : vm.pageSize;
}

export function mmioGuardEnroll(vm: ExitVm, vcpu: GuestCpu): number {
  const ok = mmioGuardAllowed(vm, vcpu);
  if (ok) vm.flags.mmioGuard = true;
  vm.events.emit('mmio-guard', { op: 'enroll', ipa: 0n, ok }, vcpu.index);
  return ok ? SMCCC_RET_SUCCESS : SMCCC_RET_NOT_SUPPORTED;
}

/** kvm_install_ioguard_page(vcpu, x1) */
export function mmioGuardMap(vm: ExitVm, vcpu: GuestCpu, x1: bigint): number {
  const ok = !vm.vcpuInfo(vcpu.index).el1_32bit && installIoguardPage(vm, x1);
  vm.events.emit('mmio-guard', { op: 'map', ipa: x1, ok }, vcpu.index);
  return ok ? SMCCC_RET_SUCCESS : SMCCC_RET_NOT_SUPPORTED;
}

function installIoguardPage(vm: ExitVm, x1: bigint): boolean {
  const note = vm.flavour.mmioNote;
  if (!vm.flags.mmioGuard || note === null) return false;
  if (x1 % BigInt(vm.pageSize) !== 0n) return false;           // ipa & ~PAGE_MASK
  if (x1 >= 1n << BigInt(vm.ipaBits)) return false;            // the walk would fail with -ERANGE
  const ipa = Number(x1);
  if (vm.findMemslot(ipa) !== undefined) return false;         // "The page cannot be in a memslot"
  return vm.stage2.annotate(ipa, vm.pageSize, note) === 'ok';
}

/** kvm_remove_ioguard_page(vcpu, x1) */
export function mmioGuardUnmap(vm: ExitVm, vcpu: GuestCpu, x1: bigint): number {
  let ok = false;
  if (vm.flags.mmioGuard && !vm.vcpuInfo(vcpu.index).el1_32bit && x1 < 1n << BigInt(vm.ipaBits)) {
    const page = alignDown(Number(x1), vm.pageSize);             // ipa & PAGE_MASK: the v2 quirk
    ok = isIoguardPage(vm, page);
    if (ok) vm.stage2.unmap(page, vm.pageSize);
  }
  vm.events.emit('mmio-guard', { op: 'unmap', ipa: x1, ok }, vcpu.index);
  return ok ? SMCCC_RET_SUCCESS : SMCCC_RET_NOT_SUPPORTED;
}

/**
 * MMIO guard reset on PSCI SYSTEM_OFF / SYSTEM_RESET (v2 06/16, kvm_prepare_system_event): if the flag was set,
 * clear it and pay for a full stage2_unmap_vm.
 */
export function mmioGuardResetOnSystemEvent(vm: ExitVm): void {
  if (vm.flags.mmioGuard) {
    vm.flags.mmioGuard = false;
    vm.stage2UnmapVm();
  }
}
