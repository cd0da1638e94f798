// Exceptions KVM injects into the guest (arch/arm64/kvm/inject_fault.c, spec C.6, G.4):
// - inject_abt64: a synchronous external abort (FSC 0x10, ISV = 0) to EL1, FAR_EL1 = the faulting address;
//   EC = IABT/DABT "current EL" when the vcpu was at EL1, "lower EL" when at EL0 (or AArch32); IL copied from the
//   trapping instruction (ESR_EL2.IL of the exit being handled).
// - inject_undef64: EC 0 (UNKNOWN), IL copied, FAR untouched.
// - kvm_inject_vabt: a pending virtual SError with VSESR_EL2 = ISV (an IMPLEMENTATION DEFINED syndrome), delivered
//   by the CPU (ExitVm.pendVirtualSError).

import {
  ESR_ELx_EC_DABT_LOW, ESR_ELx_EC_IABT_CUR, ESR_ELx_EC_IABT_LOW, ESR_ELx_EC_SHIFT, ESR_ELx_EC_UNKNOWN,
  ESR_ELx_FSC_EXTABT, ESR_ELx_IL, ESR_ELx_ISV,
} from '../arch/esr';
import type { ExitVm } from './exit-context';
import type { GuestCpu } from './guest';

/** PSTATE.M[4] = nRW (AArch32) */
const PSR_MODE32_BIT = 0x10n;
const PSR_MODE_MASK = 0x0fn;
const PSR_MODE_EL0t = 0x0n;

/**
 * ESR_EL1 of inject_abt64 (spec C.6). `pstate` is the vcpu's PSTATE when it trapped, `trapEsr` the ESR_EL2 of that
 * trap (its IL is copied; undefined = IL set, as for every A64 instruction).
 */
export function injectedAbortEsr(pstate: bigint, isIabt: boolean, trapEsr?: bigint): bigint {
  let esr = 0n;
  if (trapEsr === undefined || (trapEsr & ESR_ELx_IL) !== 0n) esr |= ESR_ELx_IL;
  const fromLower = (pstate & PSR_MODE32_BIT) !== 0n || (pstate & PSR_MODE_MASK) === PSR_MODE_EL0t;
  esr |= BigInt(fromLower ? ESR_ELx_EC_IABT_LOW : ESR_ELx_EC_IABT_CUR) << ESR_ELx_EC_SHIFT;
  // "OR in DABT_LOW": 0x20 -> 0x24, 0x21 -> 0x25
  if (!isIabt) esr |= BigInt(ESR_ELx_EC_DABT_LOW) << ESR_ELx_EC_SHIFT;
  return esr | BigInt(ESR_ELx_FSC_EXTABT);
}

/** ESR_EL1 of inject_undef64. */
export function injectedUndefEsr(trapEsr?: bigint): bigint {
  let esr = BigInt(ESR_ELx_EC_UNKNOWN) << ESR_ELx_EC_SHIFT;
  if (trapEsr === undefined || (trapEsr & ESR_ELx_IL) !== 0n) esr |= ESR_ELx_IL;
  return esr;
}

/** kvm_inject_dabt(vcpu, addr) */
export function injectDabt(vcpu: GuestCpu, addr: bigint, trapEsr?: bigint): void {
  vcpu.injectSync(injectedAbortEsr(vcpu.getPstate(), false, trapEsr), addr, 'injected');
}

/** kvm_inject_pabt(vcpu, addr) */
export function injectPabt(vcpu: GuestCpu, addr: bigint, trapEsr?: bigint): void {
  vcpu.injectSync(injectedAbortEsr(vcpu.getPstate(), true, trapEsr), addr, 'injected');
}

/** kvm_inject_undefined(vcpu) */
export function injectUndef(vcpu: GuestCpu, trapEsr?: bigint): void {
  vcpu.injectSync(injectedUndefEsr(trapEsr), undefined, 'injected');
}

/** VSESR_EL2 value kvm_inject_vabt uses: kvm_set_sei_esr(vcpu, ESR_ELx_ISV) */
export const KVM_VABT_VSESR = ESR_ELx_ISV;

/** kvm_inject_vabt(vcpu): pend a virtual SError. */
export function injectVabt(vm: Pick<ExitVm, 'pendVirtualSError'>, vcpu: GuestCpu): void {
  vm.pendVirtualSError(vcpu, KVM_VABT_VSESR);
}

/**
 * KVM_SET_VCPU_EVENTS with ext_dabt_pending (KVM_CAP_ARM_INJECT_EXT_DABT, spec G.4): kvm_inject_dabt at
 * FAR_EL2 of the last exit. Meant for right after a KVM_EXIT_MMIO / KVM_EXIT_ARM_NISV exit; the caller must then
 * drop the pending MMIO completion (the faulting instruction is not retired — what later kernels enforce with
 * "Don't retire aborted MMIO instruction"; 5.x would still write Rt for a read, not modelled).
 */
export function injectExtDabt(vcpu: GuestCpu, lastFaultFar: bigint, lastExitEsr?: bigint): void {
  injectDabt(vcpu, lastFaultFar, lastExitEsr);
}
