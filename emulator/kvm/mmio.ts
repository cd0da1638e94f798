// io_mem_abort and kvm_handle_mmio_return (arch/arm64/kvm/mmio.c, spec C.5), with the MMIO guard checks of
// MMIO-guard v2 05/16 (spec D.5) where the flavour has them.
//
// Big-endian guests (vcpu_data_guest_to_host / host_to_guest byte swaps) are not modelled: data is little-endian.

import { decodeAbortIss, nisvSanitizedIss } from '../arch/esr';
import { emitKernelLog, emitKvmExit } from './exit-context';
import type { AbortOutcome, ExitVm, FaultResolution, PendingMmio } from './exit-context';
import { fail } from './errno';
import type { GuestCpu } from './guest';
import { injectDabt } from './inject';
import { mmioGuardCheck } from './mmio-guard';

export const NISV_MESSAGE = 'Data abort outside memslots with no valid syndrome info';

function lenMask(len: number): bigint { return len >= 8 ? (1n << 64n) - 1n : (1n << BigInt(len * 8)) - 1n; }

/**
 * io_mem_abort(vcpu, fault_ipa) for a stage 2 data abort with syndrome `esr` at `far`; `faultIpa` already carries
 * the low 12 bits of FAR (spec C.4 step 4d). `fault.report` is called once with the resolution (the caller emits
 * the stage2-fault event from it) before any exit event.
 */
export function ioMemAbort(
  vm: ExitVm, vcpu: GuestCpu, esr: bigint, far: bigint, faultIpa: number, fault: { report(r: FaultResolution): void },
): AbortOutcome {
  const iss = decodeAbortIss(esr);
  const addr = BigInt(faultIpa);

  // C.5 #1: no valid syndrome
  if (!iss.isv) {
    if (vm.flags.mmioGuard) {
      // D.5: an enrolled guest gets an abort instead of NISV / -ENOSYS
      fault.report('inject');
      injectDabt(vcpu, far, esr);
      return { kind: 'resume', resolution: 'inject' };
    }
    if (vm.flags.nisvToUser) {
      fault.report('nisv');
      const exit = { reason: 'arm_nisv' as const, addr, esr_iss: nisvSanitizedIss(esr) };
      emitKvmExit(vm.events, exit, vcpu.index);
      return { kind: 'exit', resolution: 'nisv', exit };
    }
    fault.report('error');
    emitKernelLog(vm.events, NISV_MESSAGE, vcpu.index);
    return { kind: 'error', resolution: 'error', error: fail('ENOSYS', 'C.5#1', NISV_MESSAGE) };
  }

  // C.5 #2
  const write = iss.wnr;
  const len = iss.len;
  const rt = iss.srt;

  if (vm.flags.mmioGuard && mmioGuardCheck(vm, faultIpa, len, vcpu.index) !== undefined) {
    fault.report('inject');
    injectDabt(vcpu, far, esr);
    return { kind: 'resume', resolution: 'inject' };
  }

  // vcpu_get_reg(31) reads 0; the data is truncated to len (vcpu_data_guest_to_host, little-endian guest)
  const data = write ? (rt === 31 ? 0n : vcpu.getX(rt)) & lenMask(len) : 0n;
  const pending: PendingMmio = { ipa: faultIpa, len, write, rt, sse: iss.sse, sf: iss.sf, data };

  const inKernel = vm.inKernelMmio?.(faultIpa, len, write, data);
  if (inKernel?.handled) {
    fault.report('in-kernel');
    const readData = inKernel.data ?? 0n;
    completeMmio(vcpu, pending, readData);
    // `if (!is_write) memcpy(run->mmio.data, data_buf, len)` before kvm_handle_mmio_return (5.x io_mem_abort)
    return write ? { kind: 'resume', resolution: 'in-kernel' } : { kind: 'resume', resolution: 'in-kernel', runMmioData: { len, data: readData } };
  }

  fault.report('mmio');
  const exit = { reason: 'mmio' as const, addr, len, write, data, pending };
  emitKvmExit(vm.events, exit, vcpu.index);
  return { kind: 'exit', resolution: 'mmio', exit };
}

/**
 * kvm_handle_mmio_return (spec C.5 #3), called on the next KVM_RUN with run->mmio.data as a little-endian value:
 * a read takes len bytes, sign-extends if SSE and len < 8, masks to 32 bits if !SF, and writes Rt (XZR discards);
 * then PC += 4 (A64). A write only advances the PC.
 */
export function completeMmio(vcpu: GuestCpu, pending: PendingMmio, runData: bigint): void {
  if (!pending.write) {
    const len = pending.len;
    let data = BigInt.asUintN(64, runData) & lenMask(len);
    if (pending.sse && len < 8) data = BigInt.asUintN(64, BigInt.asIntN(len * 8, data));
    if (!pending.sf) data &= 0xffff_ffffn;
    if (pending.rt !== 31) vcpu.setX(pending.rt, data);
  }
  vcpu.setPc(BigInt.asUintN(64, vcpu.getPc() + 4n));
}
