// Second reading of KVM_RUN's order (spec F "KVM_RUN order", C.5 #3, E.5 STOP_EXIT; kvm_arch_vcpu_ioctl_run with
// the SPE RFC's v4 36/39 hunk: the kvm_spe_exit_to_user() check sits inside the run loop, after
// kvm_handle_mmio_return()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvmRun } from '../../../emulator/kvm/run';
import type { KvmSpeVcpu } from '../../../emulator/kvm/spe';
import type { CpuExit } from '../../../emulator/kvm/guest';
import { fail } from '../../../emulator/kvm/errno';
import { FakeCpu, abortExit } from './abort-fixture.test';
import { makeVm } from './vm-fixture';

/** A stand-in for KvmSpeVcpu: only what KVM_RUN reads (stop mode, kvm_spe_exit_to_user). */
class FakeSpe {
  stop: 'none' | 'trap' | 'exit' = 'none';
  bufferOn = false;
  exitToUser(): boolean { return this.stop === 'exit' && this.bufferOn; }
  entryCheck() {
    if (!this.exitToUser()) return { ok: true as const };
    return { ok: false as const, exitReason: 'fail_entry' as const, hardwareEntryFailureReason: 1, result: fail('EAGAIN', 'E.5#stop-exit', 'stop exit') };
  }
}

/** A CPU whose program is a list of steps; each step may change the fake SPE state (a trapped register write). */
class ScriptCpu extends FakeCpu {
  script: (() => CpuExit | void)[] = [];
  override execute(budget = 1): CpuExit {
    for (let i = 0; i < budget; i++) {
      const step = this.script.shift();
      this.ticks++;
      this.pc += 4n;
      if (step === undefined) return { kind: 'budget' };
      const exit = step();
      if (exit) return exit;
    }
    return { kind: 'budget' };
  }
}

function mk() {
  const { vm, events } = makeVm('spe-rfc-v5', { spe: true });
  assert.ok(vm!.vcpuInit(0, { target: 5, features: [2] }).ok);
  const cpu = new ScriptCpu(0);
  const spe = new FakeSpe();
  const run = new KvmRun(vm!, [cpu], events, [spe as unknown as KvmSpeVcpu]);
  return { vm: vm!, cpu, spe, run, events };
}

test('F KVM_RUN order: the MMIO read is completed before the SPE STOP_EXIT entry check fails the entry', () => {
  const { cpu, spe, run } = mk();
  assert.equal(run.enter(0), null);
  // a pending MMIO read into x3 (as io_mem_abort leaves it), then STOP_EXIT with the guest's buffer enabled
  (run as unknown as { runs: { pendingMmio: unknown }[] }).runs[0].pendingMmio =
    { ipa: 0x0900_0000, len: 4, write: false, rt: 3, sse: false, sf: false, data: 0n };
  run.setMmioData(0, 0x1234n);
  spe.stop = 'exit';
  spe.bufferOn = true;
  const pc = cpu.pc;
  const res = run.enter(0);
  assert.ok(res !== null && res.kind === 'errno' && res.errno === 'EAGAIN');
  assert.equal(cpu.x[3], 0x1234n, 'kvm_handle_mmio_return ran first');
  assert.equal(cpu.pc, pc + 4n);
  assert.equal(run.pendingMmio(0), null);
});

test('E.5#stop-exit the run loop re-checks before every entry: a trapped write that enables the buffer ends KVM_RUN', () => {
  const { cpu, spe, run, events } = mk();
  spe.stop = 'exit';
  assert.equal(run.enter(0), null);
  // instruction 1: the guest enables its buffer (a trapped PMBLIMITR_EL1 write); instruction 2 must not run
  let second = false;
  cpu.script = [() => { spe.bufferOn = true; }, () => { second = true; }];
  const exit = run.runGuest(0, 100);
  const res = run.handleExit(0, exit);
  assert.ok(res !== 'resume' && res.kind === 'errno' && res.errno === 'EAGAIN');
  assert.equal(second, false, 'KVM does not re-enter the guest after the trapped write');
  assert.equal(events.last('kvm-exit')!.fields.reason, 'fail_entry');
});

// mmio.c io_mem_abort (5.15): a write exit does `memcpy(run->mmio.data, data_buf, len)`; kvm_handle_mmio_return
// later reads whatever run->mmio.data holds. A read that userspace does not answer gets those bytes.
test('C.5#3 run->mmio.data after a write exit holds the written bytes: an unanswered read returns them', () => {
  const { cpu, run } = mk();
  assert.equal(run.enter(0), null);
  const userExit = (run as unknown as { userExit(v: number, e: unknown): unknown }).userExit.bind(run);
  userExit(0, { reason: 'mmio', addr: 0x0900_0000n, len: 2, write: true, data: 0xbeefn,
    pending: { ipa: 0x0900_0000, len: 2, write: true, rt: 1, sse: false, sf: false, data: 0xbeefn } });
  assert.equal(run.enter(0), null);
  userExit(0, { reason: 'mmio', addr: 0x0900_0000n, len: 4, write: false, data: 0n,
    pending: { ipa: 0x0900_0000, len: 4, write: false, rt: 5, sse: false, sf: true, data: 0n } });
  assert.equal(run.enter(0), null);
  assert.equal(cpu.x[5], 0xbeefn);
});

// 5.12–6.12: inject_abt64 pends EXCEPT_AA64_EL1_SYNC; kvm_handle_mmio_return still retires the access and
// kvm_incr_pc() sets KVM_ARM64_INCREMENT_PC (1 << 9), which overlaps KVM_ARM64_EXCEPT_MASK (7 << 9): the pending
// exception becomes ELx_IRQ and kvm_inject_exception() "silently ignores" it ("Don't retire aborted MMIO
// instruction", Oliver Upton, Oct 2024, fixes this). After a NISV exit there is no MMIO completion: delivered.
test('G.4 ext_dabt after KVM_EXIT_MMIO (5.x): Rt written, abort lost, PC kept, FAR/ESR_EL1 clobbered, WARN', () => {
  const { cpu, run, events } = mk();
  assert.equal(run.enter(0), null);
  const userExit = (run as unknown as { userExit(v: number, e: unknown): unknown }).userExit.bind(run);
  const internals = run as unknown as { runs: { lastExitFar: bigint; lastExitEsr: bigint }[] };
  internals.runs[0].lastExitFar = 0x0900_0010n;
  internals.runs[0].lastExitEsr = 0x9340_0046n;
  userExit(0, { reason: 'mmio', addr: 0x0900_0010n, len: 4, write: false, data: 0n,
    pending: { ipa: 0x0900_0010, len: 4, write: false, rt: 2, sse: false, sf: false, data: 0n } });
  const pc = cpu.pc;
  run.setMmioData(0, 0x77n);
  assert.ok(run.injectExtDabt(0).ok);
  assert.equal(cpu.injected.length, 0, 'nothing delivered at KVM_SET_VCPU_EVENTS');
  assert.equal(cpu.sysregs.get('FAR_EL1'), 0x0900_0010n);
  assert.equal(run.enter(0), null);
  assert.equal(cpu.injected.length, 0, 'the abort is lost');
  assert.equal(cpu.pc, pc, 'the access is retried');
  assert.equal(cpu.x[2], 0x77n, 'Rt was written anyway');
  assert.match(String(events.last('warning')!.fields.message), /WARN_ON/);
});

test('G.4 ext_dabt after KVM_EXIT_ARM_NISV is delivered (no MMIO completion in the way)', () => {
  const { cpu, run } = mk();
  assert.equal(run.enter(0), null);
  assert.ok(run.injectExtDabt(0).ok);
  assert.equal(cpu.injected.length, 1);
});

// io_mem_abort (5.15): an access handled by an in-kernel device (KVM_MMIO_BUS) still prepares run->mmio, and a
// read does `memcpy(run->mmio.data, data_buf, len)` before completing in the kernel
test('C.5#2 an in-kernel MMIO read leaves its bytes in run->mmio.data (a later unanswered user read sees them)', () => {
  const { vm, cpu, run } = mk();
  vm.inKernelMmio = (ipa) => ipa === 0x3fff_0000 ? { handled: true, data: 0xabcdn } : { handled: false };
  assert.equal(run.enter(0), null);
  assert.equal(run.handleExit(0, abortExit({ ipa: 0x3fff_0000, isv: true, sas: 2, srt: 1, sf: false, wnr: false })), 'resume');
  assert.equal(cpu.x[1], 0xabcdn);
  const out = run.handleExit(0, abortExit({ ipa: 0x0900_0000, isv: true, sas: 2, srt: 4, sf: false, wnr: false }));
  assert.ok(out !== 'resume' && out.kind === 'exit');
  assert.equal(run.enter(0), null);
  assert.equal(cpu.x[4], 0xabcdn);
});
