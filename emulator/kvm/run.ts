// KVM_RUN as the machine's scheduler sees it (machine.ts KvmRunPort): the entry steps (spec F "KVM_RUN order":
// ENOEXEC, pending ops, first-run init, SPE entry checks, MMIO completion), running the guest (or idling a
// powered-off vcpu), and the exit handlers (stage 2 aborts C.4, hypercalls D, WFI, guest-exception stops).

import type { EventSink } from '../events';
import type { CpuExit, GuestCpu } from './guest';
import type { KvmRunPort, RunResult, KvmExit } from '../machine';
import type { Vm } from './vm';
import { handleGuestAbort } from './abort';
import { handleHypercall } from './hypercalls';
import { completeMmio } from './mmio';
import { injectedAbortEsr, injectExtDabt } from './inject';
import { cHex, type ExitVm, type PendingMmio, type UserExit } from './exit-context';
import type { KvmSpeVcpu } from './spe';
import { OK, type IoctlResult } from './errno';

/** The CPU as KVM_RUN drives it: GuestCpu plus idling and pending virtual SErrors. */
export interface RunnableCpu extends GuestCpu {
  /** let `ticks` pass without executing (a powered-off vcpu inside KVM_RUN) */
  idle?(ticks: number): void;
  /** HCR_EL2.VSE: a virtual SError is pending with this syndrome (VSESR_EL2) */
  pendSError?(vsesr: bigint): void;
}

/** Per-vcpu userspace-visible run state (struct kvm_run and friends). */
interface VcpuRunState {
  /** vcpu->mmio_needed: an MMIO read/write to complete on the next KVM_RUN */
  pendingMmio: PendingMmio | null;
  /** run->mmio.data as userspace left it (`mmio_reply`); undefined: never written for this exit */
  mmioData: bigint | undefined;
  /** run->mmio.data's previous contents (what KVM reads when userspace does not reply) */
  lastMmioData: bigint;
  /** the last exit was MMIO or NISV (KVM_SET_VCPU_EVENTS ext_dabt_pending is valid only then) */
  lastExitFar: bigint | undefined;
  lastExitEsr: bigint | undefined;
  /** a guest SPE register write made kvm_spe_exit_to_user() true: the next loop iteration fails the entry */
  speExitPending?: boolean;
  /** KVM_SET_VCPU_EVENTS(ext_dabt) after a KVM_EXIT_MMIO: the pending abort meets kvm_handle_mmio_return */
  abortedMmio?: boolean;
}

export interface KvmRunSnapshot {
  readonly runs: readonly VcpuRunState[];
}

export class KvmRun implements KvmRunPort {
  private runs: VcpuRunState[];
  readonly exitVm: ExitVm;

  constructor(
    private readonly vm: Vm,
    private readonly cpus: readonly RunnableCpu[],
    private readonly events: EventSink,
    private readonly spe: readonly (KvmSpeVcpu | null)[],
  ) {
    this.runs = cpus.map(() => ({ pendingMmio: null, mmioData: undefined, lastMmioData: 0n, lastExitFar: undefined, lastExitEsr: undefined }));
    // the Vm is the exit handlers' view (it implements ExitVm); PSCI CPU_ON resets its target CPU through it
    vm.attachCpus(cpus);
    this.exitVm = vm;
  }

  /** run->mmio.data for vcpu N's pending read (`mmio_reply N data=V`) */
  setMmioData(vcpu: number, data: bigint): void { this.runs[vcpu].mmioData = data; }

  pendingMmio(vcpu: number): PendingMmio | null { return this.runs[vcpu].pendingMmio; }

  /**
   * KVM_SET_VCPU_EVENTS with ext_dabt_pending (spec G.4): kvm_inject_dabt at the vcpu's last fault address (HFAR).
   * The kernel does not check that the last exit was MMIO/NISV (api.rst only calls anything else a programming
   * error), so neither do we.
   *
   * After a KVM_EXIT_MMIO the 5.x kernels (5.12 … 6.12, every flavour here) mishandle it: inject_abt64 writes
   * FAR_EL1/ESR_EL1 and pends EXCEPT_AA64_EL1_SYNC, then the next KVM_RUN still runs kvm_handle_mmio_return(),
   * which writes Rt for a read and does kvm_incr_pc() — WARN_ON(PENDING_EXCEPTION) — and KVM_ARM64_INCREMENT_PC
   * (bit 9) overlaps the EXCEPT field, turning the pending SYNC into ELx_IRQ, which kvm_inject_exception()
   * "silently ignores". So the abort is lost, the PC does not move, and the guest retries the access. Fixed only
   * by "KVM: arm64: Don't retire aborted MMIO instruction" (Oliver Upton, Oct 2024). After a NISV exit
   * (no MMIO completion) the abort is delivered.
   */
  injectExtDabt(vcpu: number): IoctlResult {
    const r = this.runs[vcpu];
    if (r.pendingMmio !== null) {
      const cpu = this.cpus[vcpu];
      cpu.setSysreg('FAR_EL1', r.lastExitFar ?? 0n);
      cpu.setSysreg('ESR_EL1', injectedAbortEsr(cpu.getPstate(), false, r.lastExitEsr));
      r.abortedMmio = true;
      return OK;
    }
    injectExtDabt(this.cpus[vcpu], r.lastExitFar ?? 0n, r.lastExitEsr);
    return OK;
  }

  setInIoctl(vcpu: number, inside: boolean): void { this.vm.vcpuInIoctl(vcpu, inside); }

  enter(v: number): RunResult | null {
    const entry = this.vm.kvmRunEntry(v);
    if (entry !== null && !entry.ok) return { kind: 'errno', errno: entry.errno, rule: entry.rule, message: entry.message };
    // kvm_arch_vcpu_ioctl_run: kvm_handle_mmio_return() comes right after kvm_vcpu_first_run_init(), before the run
    // loop whose top holds the SPE STOP_EXIT check (v4 36/39): a failed entry has already completed the MMIO access
    const r = this.runs[v];
    if (r.pendingMmio !== null) {
      const p = r.pendingMmio;
      let data = r.mmioData;
      if (data === undefined) {
        data = r.lastMmioData;
        if (!p.write) {
          this.events.emit('warning', {
            message: `KVM_RUN completes the MMIO read at ${cHex(p.ipa)} with run->mmio.data as it was (${cHex(data)}): userspace did not fill it (mmio_reply)`,
          }, v);
        }
      }
      if (r.abortedMmio) {
        // see injectExtDabt: Rt is written, the PC increment is swallowed together with the pending abort
        const cpu = this.cpus[v];
        const pc = cpu.getPc();
        completeMmio(cpu, p, data);
        cpu.setPc(pc);
        r.abortedMmio = false;
        this.events.emit('warning', {
          message: `WARNING: kvm_handle_mmio_return: WARN_ON(vcpu->arch.flags & KVM_ARM64_PENDING_EXCEPTION) in kvm_incr_pc(): the MMIO access at ${cHex(p.ipa)} is retired although userspace injected an external abort; KVM_ARM64_INCREMENT_PC turns the pending EL1 SYNC into ELx_IRQ, which kvm_inject_exception() ignores: no abort, the PC stays, the guest retries the access (fixed in 6.13, "KVM: arm64: Don't retire aborted MMIO instruction")`,
        }, v);
      } else {
        completeMmio(this.cpus[v], p, data);
      }
      r.lastMmioData = data;
      r.pendingMmio = null;
      r.mmioData = undefined;
    }
    r.speExitPending = false;
    return this.speEntryCheck(v);
  }

  /** The run loop's `kvm_spe_exit_to_user()` check before each guest entry (v4 36/39): fail_entry + -EAGAIN. */
  private speEntryCheck(v: number): RunResult | null {
    const spe = this.spe[v];
    if (!spe) return null;
    const check = spe.entryCheck();
    if (check.ok) return null;
    this.events.emit('kvm-exit', { reason: 'fail_entry', hardware_entry_failure_reason: BigInt(check.hardwareEntryFailureReason) }, v);
    return { kind: 'errno', errno: check.result.errno, rule: check.result.rule, message: check.result.message };
  }

  runGuest(v: number, budget: number): CpuExit {
    const cpu = this.cpus[v];
    const state = this.vm.vcpus[v];
    if (state.pendingVSError !== null && cpu.pendSError) {
      // HCR_EL2.VSE: the virtual SError recorded by kvm_inject_vabt is taken when the guest runs
      cpu.pendSError(state.pendingVSError);
      state.pendingVSError = null;
    }
    if (state.powerState === 'off') {
      // a powered-off vcpu sleeps in KVM_RUN (kvm_vcpu_block) until CPU_ON: its turn passes as idle ticks
      if (cpu.idle) cpu.idle(budget);
      return { kind: 'budget' };
    }
    const spe = this.spe[v];
    if (spe && spe.stop === 'exit') {
      // With STOP_EXIT every SPE register is trapped (MDCR_EL2.TPMS/E2PB): each guest access is an exit to EL2, and
      // the loop top re-checks kvm_spe_exit_to_user() before entering again. The CPU handles the trapped access
      // inline, so step one instruction at a time and look after each; the synthetic exit reaches handleExit.
      let spent = 0;
      while (spent < budget) {
        const t0 = cpu.ticks;
        const exit = cpu.execute(1);
        spent += Math.max(1, cpu.ticks - t0);
        if (exit.kind !== 'budget') return exit;
        if (spe.exitToUser()) {
          this.runs[v].speExitPending = true;
          return { kind: 'wfi' };
        }
      }
      return { kind: 'budget' };
    }
    return cpu.execute(budget);
  }

  handleExit(v: number, exit: CpuExit): 'resume' | RunResult {
    if (this.runs[v].speExitPending) {
      this.runs[v].speExitPending = false;
      return this.speEntryCheck(v) ?? 'resume';
    }
    const out = this.handleCpuExit(v, exit);
    // back to the top of the KVM_RUN loop: the SPE STOP_EXIT check runs before every entry (v4 36/39)
    if (out === 'resume' && exit.kind !== 'budget' && exit.kind !== 'stop') return this.speEntryCheck(v) ?? 'resume';
    return out;
  }

  private handleCpuExit(v: number, exit: CpuExit): 'resume' | RunResult {
    const cpu = this.cpus[v];
    switch (exit.kind) {
      case 'dabt':
      case 'iabt': {
        // FAR_EL2 / ESR_EL2 as saved on this exit (kvm_vcpu_get_hfar for a later ext_dabt injection)
        this.runs[v].lastExitFar = exit.far;
        this.runs[v].lastExitEsr = exit.esr;
        const out = handleGuestAbort(this.exitVm, cpu, exit);
        if (out.kind === 'resume') {
          if (out.runMmioData) this.runs[v].lastMmioData = mergeMmioData(this.runs[v].lastMmioData, out.runMmioData.data, out.runMmioData.len);
          return 'resume';
        }
        if (out.kind === 'error') return { kind: 'errno', errno: out.error.errno, rule: out.error.rule, message: out.error.message };
        return this.userExit(v, out.exit);
      }
      case 'hvc':
      case 'smc': {
        const out = handleHypercall(this.exitVm, cpu, exit.kind, exit.imm);
        if (out.kind === 'exit') return this.userExit(v, out.exit);
        // wfi (CPU_SUSPEND) and power-off are states the next runGuest observes
        return 'resume';
      }
      case 'wfi':
        return 'resume';
      case 'guest-exception':
        return {
          kind: 'exit',
          exit: { reason: 'guest_exception', esr: exit.esr, far: exit.far, elr: exit.elr, vector: exit.vector },
        };
      case 'budget':
      case 'stop':
        return 'resume';
    }
  }

  private userExit(v: number, e: UserExit): RunResult {
    let exit: KvmExit;
    switch (e.reason) {
      case 'mmio':
        this.runs[v].pendingMmio = e.pending;
        this.runs[v].mmioData = undefined;
        // io_mem_abort: `memcpy(run->mmio.data, data_buf, len)` for a write exit — the first len bytes of
        // run->mmio.data now hold the written value, the rest keep their previous contents
        if (e.write) this.runs[v].lastMmioData = mergeMmioData(this.runs[v].lastMmioData, e.data, e.len);
        exit = { reason: 'mmio', addr: Number(e.addr), len: e.len, write: e.write, data: e.data };
        break;
      case 'arm_nisv':
        exit = { reason: 'arm_nisv', addr: Number(e.addr), esrIss: e.esr_iss };
        break;
      case 'system_event':
        exit = { reason: 'system_event', type: e.type };
        break;
    }
    return { kind: 'exit', exit };
  }

  snapshot(): KvmRunSnapshot {
    return { runs: this.runs.map((r) => ({ ...r })) };
  }

  restore(s: unknown): void {
    this.runs = (s as KvmRunSnapshot).runs.map((r) => ({ ...r }));
  }
}

/** run->mmio.data after `memcpy(run->mmio.data, buf, len)`: the first len bytes replaced (little-endian value). */
function mergeMmioData(old: bigint, data: bigint, len: number): bigint {
  const mask = len >= 8 ? (1n << 64n) - 1n : (1n << BigInt(8 * len)) - 1n;
  return (old & ~mask) | (data & mask);
}
