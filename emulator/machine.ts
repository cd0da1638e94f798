// The whole machine as every consumer drives it (ARCHITECTURE.md "One machine API"): host statements in order,
// vcpus inside KVM_RUN scheduled per LANGUAGE.md "Execution model", the event stream, stop conditions for the
// debugger, and snapshots for step-back. The machine knows no syntax: `scenario/` compiles the AST to `HostOp`s.
//
// Scheduling (LANGUAGE.md "Execution model"): one global schedule; vcpus inside KVM_RUN run round-robin in index
// order, TURN instructions per turn (a vcpu that leaves KVM_RUN ends its turn early); idle vcpus spend turns as
// ticks. `run N` runs the schedule until vcpu N's KVM_RUN returns. A background vcpu (`run N &`) takes one turn
// after each completed statement that is not an `expect`.
//
// All progress state (host statement index, the run in progress, the turn position) lives in fields, so a run can
// be suspended at any instruction boundary (a breakpoint, `pause`, a time slice) and resumed with the same result
// as an uninterrupted run: slicing never changes the trace.

import { EventLog, type EventLogSnapshot, type TraceEvent } from './events';
import type { CpuExit } from './kvm/guest';
import type { ErrnoName } from './kvm/errno';

export const TURN = 1000;
export const DEFAULT_RUN_STEPS = 1_000_000;

export interface SourcePos { readonly line: number; readonly col: number }
/** 0-based lines and columns, LSP style */
export interface SourceRange { readonly start: SourcePos; readonly end: SourcePos }

/** What KVM_RUN returned to userspace. */
export type KvmExit =
  | { readonly reason: 'mmio'; readonly addr: number; readonly len: number; readonly write: boolean; readonly data: bigint }
  | { readonly reason: 'system_event'; readonly type: 'shutdown' | 'reset' | 'crash' }
  | { readonly reason: 'arm_nisv'; readonly addr: number; readonly esrIss: bigint }
  | { readonly reason: 'guest_exception'; readonly esr: bigint; readonly far: bigint; readonly elr: bigint; readonly vector: string }
  | { readonly reason: 'fail_entry'; readonly hardwareEntryFailureReason: bigint };

export type RunResult =
  | { readonly kind: 'exit'; readonly exit: KvmExit }
  | { readonly kind: 'errno'; readonly errno: ErrnoName; readonly rule?: string; readonly message?: string };

/** The outcome of executing one host statement. */
export type OpOutcome =
  | { readonly kind: 'done' }
  /** an expectation failed, or an ioctl without `=>` failed: the scenario stops, exit code 1 */
  | { readonly kind: 'fail'; readonly message: string; readonly expected?: string; readonly actual?: string }
  /** a scenario error at run time (LANGUAGE.md "Execution model"): exit code 2 */
  | { readonly kind: 'error'; readonly message: string }
  /** start KVM_RUN on `vcpu`; `complete` is called with its result (foreground) or at `join` (background) */
  | { readonly kind: 'run'; readonly vcpu: number; readonly steps: number; readonly background: boolean; readonly complete: (r: RunResult) => OpOutcome }
  /** wait for a background run of `vcpu` to return */
  | { readonly kind: 'join'; readonly vcpu: number; readonly complete: (r: RunResult) => OpOutcome };

export interface HostOp {
  readonly range: SourceRange;
  /** short text for views and traces, e.g. "lock 0 read write" */
  readonly text: string;
  /** `expect` statements do not give background vcpus a turn and do not open a new event window */
  readonly isExpect: boolean;
  /** the ioctl this statement issues, for function breakpoints ("KVM_ARM_VCPU_INIT"); stops happen before it runs */
  readonly ioctl?: string;
  execute(m: Machine): OpOutcome;
}

/** The hypervisor side of KVM_RUN, implemented by kvm/ (entry checks, exit handling). */
export interface KvmRunPort {
  /** the KVM_RUN steps before entering the guest; a result ends the ioctl at once */
  enter(vcpu: number): RunResult | null;
  /**
   * Let the vcpu run for at most `budget` ticks: the CPU executes, or, if the vcpu is powered off / idle, the ticks
   * pass idly (the virtual counter still advances, LANGUAGE.md "Execution model").
   */
  runGuest(vcpu: number, budget: number): CpuExit;
  /** handle a CPU exit: resume the guest, or return to userspace with a result */
  handleExit(vcpu: number, exit: CpuExit): 'resume' | RunResult;
  /** a vcpu entered / left KVM_RUN (kvm_lock_all_vcpus sees it inside an ioctl) */
  setInIoctl(vcpu: number, inside: boolean): void;
}

/** What the machine needs from a vcpu's CPU (a subset of GuestCpu plus stop support). */
export interface SchedulableCpu {
  readonly ticks: number;
  /** make a running `execute` return `{kind:'stop'}` at the next instruction boundary */
  requestStop?(): void;
}

export interface Snapshotable {
  snapshot(): unknown;
  restore(s: unknown): void;
}

interface VcpuRun {
  stepsLeft: number;
  readonly background: boolean;
  readonly complete: (r: RunResult) => OpOutcome;
  /** set when the KVM_RUN returned while in the background; `join` collects it */
  result?: RunResult;
}

export type StopReason =
  | 'entry' | 'step' | 'pause' | 'breakpoint' | 'exception' | 'function breakpoint' | 'data breakpoint'
  | 'instruction breakpoint';

export interface StopInfo {
  readonly reason: StopReason;
  /** vcpu that stopped, or undefined for the host thread */
  readonly vcpu?: number;
  readonly event?: TraceEvent;
  readonly text?: string;
}

export type MachineStatus =
  | { readonly state: 'ready' }
  | { readonly state: 'stopped'; readonly stop: StopInfo }
  | { readonly state: 'finished'; readonly exitCode: 0 | 1 | 2; readonly failure?: Failure };

export interface Failure {
  readonly line: number;
  readonly message: string;
  readonly expected?: string;
  readonly actual?: string;
}

/** Stop conditions installed by the debugger. */
export interface StopConditions {
  /** an event that should stop the machine: return a reason (and text) or undefined */
  onEvent?: (e: TraceEvent) => { reason: StopReason; text?: string } | undefined;
  /** called before each host statement: stop before it runs (line / function breakpoints) */
  beforeOp?: (op: HostOp, index: number) => { reason: StopReason; text?: string } | undefined;
}

export interface MachineSnapshot {
  readonly hostIndex: number;
  readonly finished: MachineStatus | undefined;
  readonly runs: readonly (VcpuRun | null)[];
  readonly turnVcpu: number;
  readonly turnLeft: number;
  readonly awaiting: number | undefined;
  readonly eventLog: EventLogSnapshot;
  readonly windowStart: number;
  readonly steps: number;
  readonly parts: readonly unknown[];
}

export interface MachineParts {
  readonly events: EventLog;
  readonly cpus: readonly SchedulableCpu[];
  readonly kvm: KvmRunPort;
  /** every stateful part (memory, VM, CPUs, devices), snapshotted in this order */
  readonly stateful: readonly Snapshotable[];
}

export class Machine {
  readonly events: EventLog;
  readonly cpus: readonly SchedulableCpu[];
  private readonly kvm: KvmRunPort;
  private readonly stateful: readonly Snapshotable[];

  /** next host statement to execute */
  hostIndex = 0;
  private finishedStatus: MachineStatus | undefined;
  private runs: (VcpuRun | null)[];
  /** round-robin position: the vcpu whose turn it is and what is left of it */
  private turnVcpu = 0;
  private turnLeft = 0;
  /** the vcpu whose KVM_RUN the current statement waits for (run N / join N) */
  private awaiting: number | undefined;
  /** seq of the first event of the latest statement that is not an expect (`expect event` looks there) */
  windowStart = 1;
  /** steps taken so far: host statements + guest instructions/ticks (the position for step-back) */
  steps = 0;

  conditions: StopConditions = {};
  private pendingStop: StopInfo | undefined;
  private runningVcpu: number | undefined;
  private skipBeforeOpAt = -1;

  constructor(parts: MachineParts, readonly ops: readonly HostOp[]) {
    this.events = parts.events;
    this.cpus = parts.cpus;
    this.kvm = parts.kvm;
    this.stateful = parts.stateful;
    this.runs = this.cpus.map(() => null);
    // only listen while a stop condition could fire (checkEvent's own early return), so the hot emitters can store
    // compact records the rest of the time
    this.events.onEvent((e) => this.checkEvent(e), () => !this.pendingStop && this.conditions.onEvent !== undefined);
  }

  get status(): MachineStatus {
    return this.finishedStatus ?? { state: 'ready' };
  }

  get finished(): boolean { return this.finishedStatus?.state === 'finished'; }

  /** the host statement about to run (or running, while a run/join waits), if any */
  get currentOp(): HostOp | undefined { return this.ops[this.hostIndex]; }

  /** is vcpu N inside KVM_RUN (foreground or background)? */
  inKvmRun(vcpu: number): boolean { return this.runs[vcpu] !== null; }
  /** is vcpu N running in the background (`run N &`) */
  inBackground(vcpu: number): boolean { return this.runs[vcpu]?.background === true; }
  /** the vcpu the current statement is waiting for, while a `run`/`join` is in progress */
  get waitingFor(): number | undefined { return this.awaiting; }

  private checkEvent(e: TraceEvent): void {
    if (this.pendingStop || !this.conditions.onEvent) return;
    const hit = this.conditions.onEvent(e);
    if (!hit) return;
    this.pendingStop = { reason: hit.reason, vcpu: e.vcpu, event: e, text: hit.text };
    if (this.runningVcpu !== undefined) this.cpus[this.runningVcpu].requestStop?.();
  }

  private finish(exitCode: 0 | 1 | 2, failure?: Failure): MachineStatus {
    this.finishedStatus = { state: 'finished', exitCode, failure };
    return this.finishedStatus;
  }

  /**
   * Run until the scenario ends, a stop condition fires, or `limit` steps have been taken (then the status is
   * 'ready' and calling again continues exactly where it left off).
   */
  run(limit = Number.POSITIVE_INFINITY): MachineStatus {
    return this.advance({ limit });
  }

  /** Execute exactly one host statement (a `run` goes until its KVM_RUN returns, unless something stops it). */
  stepHost(): MachineStatus {
    if (this.awaiting !== undefined) {
      // finish the statement in progress
      return this.advance({ limit: Number.POSITIVE_INFINITY, untilStatementDone: this.hostIndex });
    }
    return this.advance({ limit: Number.POSITIVE_INFINITY, untilStatementDone: this.hostIndex, stepped: true });
  }

  /** Execute one instruction (or idle tick) of `vcpu`, running other vcpus' turns in between as scheduled. */
  stepVcpu(vcpu: number): MachineStatus {
    if (!this.inKvmRun(vcpu)) return this.stepHost();
    const before = this.cpus[vcpu].ticks;
    return this.advance({ limit: Number.POSITIVE_INFINITY, untilVcpuTicks: { vcpu, ticks: before + 1 } });
  }

  private advance(goal: {
    limit: number;
    untilStatementDone?: number;
    stepped?: boolean;
    untilVcpuTicks?: { vcpu: number; ticks: number };
  }): MachineStatus {
    if (this.finishedStatus?.state === 'finished') return this.finishedStatus;
    this.finishedStatus = undefined;
    let budget = goal.limit;
    for (;;) {
      if (this.pendingStop) {
        const stop = this.pendingStop;
        this.pendingStop = undefined;
        this.finishedStatus = { state: 'stopped', stop };
        return this.finishedStatus;
      }
      if (budget <= 0) return { state: 'ready' };

      if (this.awaiting !== undefined) {
        const r = this.runSchedule(budget, goal.untilVcpuTicks);
        budget -= r.used;
        if (r.stop) {
          this.finishedStatus = { state: 'stopped', stop: r.stop };
          return this.finishedStatus;
        }
        if (r.reachedTicks) {
          this.finishedStatus = { state: 'stopped', stop: { reason: 'step', vcpu: goal.untilVcpuTicks!.vcpu } };
          return this.finishedStatus;
        }
        const vcpu = this.awaiting;
        const run = this.runs[vcpu]!;
        if (run.result === undefined) continue; // budget/slice ended, or a stop is pending
        // the awaited KVM_RUN returned
        this.runs[vcpu] = null;
        this.kvm.setInIoctl(vcpu, false);
        this.awaiting = undefined;
        const st = this.settle(run.complete(run.result), goal);
        if (st) return st;
        continue;
      }

      if (this.hostIndex >= this.ops.length) return this.finish(0);
      const op = this.ops[this.hostIndex];
      if (this.conditions.beforeOp && this.skipBeforeOpAt !== this.hostIndex && !(goal.stepped && goal.untilStatementDone === this.hostIndex)) {
        const hit = this.conditions.beforeOp(op, this.hostIndex);
        if (hit) {
          this.skipBeforeOpAt = this.hostIndex;
          this.finishedStatus = { state: 'stopped', stop: { reason: hit.reason, text: hit.text } };
          return this.finishedStatus;
        }
      }
      this.skipBeforeOpAt = -1;
      this.events.line = op.range.start.line + 1;
      if (!op.isExpect) this.windowStart = this.events.nextSeq;
      this.steps++;
      budget--;
      const out = op.execute(this);
      if (out.kind === 'run') {
        if (this.runs[out.vcpu] !== null) {
          const st = this.completeStatement({ kind: 'error', message: `run ${out.vcpu} while vcpu ${out.vcpu} runs in the background` });
          if (st) return st;
          continue;
        }
        const entry = this.kvm.enter(out.vcpu);
        if (entry) {
          const st = this.settle(out.complete(entry), goal);
          if (st) return st;
          continue;
        }
        this.runs[out.vcpu] = { stepsLeft: out.steps, background: out.background, complete: out.complete };
        this.kvm.setInIoctl(out.vcpu, true);
        if (out.background) {
          const st = this.settle({ kind: 'done' }, goal);
          if (st) return st;
          continue;
        }
        this.awaiting = out.vcpu;
        this.startRotation();
        continue;
      }
      if (out.kind === 'join') {
        const run = this.runs[out.vcpu];
        if (run === null || !run.background) {
          const st = this.completeStatement({ kind: 'error', message: `join ${out.vcpu} without a background run` });
          if (st) return st;
          continue;
        }
        // the join's expectation replaces the background run's completion
        this.runs[out.vcpu] = { ...run, complete: out.complete };
        if (run.result !== undefined) {
          this.runs[out.vcpu] = null;
          this.kvm.setInIoctl(out.vcpu, false);
          const st = this.settle(out.complete(run.result), goal);
          if (st) return st;
          continue;
        }
        this.awaiting = out.vcpu;
        this.startRotation();
        continue;
      }
      const st = this.settle(out, goal);
      if (st) return st;
    }
  }

  /** A statement finished: complete it, and stop here when single-stepping the host thread. */
  private settle(out: OpOutcome, goal: { untilStatementDone?: number }): MachineStatus | undefined {
    const st = this.completeStatement(out);
    if (st) return st;
    if (goal.untilStatementDone === undefined) return undefined;
    if (this.hostIndex >= this.ops.length) return this.finish(0);
    this.finishedStatus = { state: 'stopped', stop: { reason: 'step' } };
    return this.finishedStatus;
  }

  /** After a statement: fail/error ends the scenario; otherwise background vcpus take their turn. */
  private completeStatement(out: OpOutcome): MachineStatus | undefined {
    const op = this.ops[this.hostIndex];
    const line = op.range.start.line;
    if (out.kind === 'fail') return this.finish(1, { line, message: out.message, expected: out.expected, actual: out.actual });
    if (out.kind === 'error') return this.finish(2, { line, message: out.message });
    this.hostIndex++;
    if (!op.isExpect) this.backgroundTurns();
    return undefined;
  }

  /** Each background vcpu takes one turn (index order), its events belonging to the statement just completed. */
  private backgroundTurns(): void {
    for (let v = 0; v < this.runs.length; v++) {
      const run = this.runs[v];
      if (run === null || !run.background || run.result !== undefined) continue;
      this.runVcpuTurn(v, TURN);
    }
  }

  private startRotation(): void {
    this.turnVcpu = this.runs.findIndex((r) => r !== null && r.result === undefined);
    this.turnLeft = TURN;
  }

  /**
   * Run the round-robin schedule until the awaited vcpu's KVM_RUN returns, a stop is pending, `budget` steps are
   * used, or (single-stepping) a vcpu reaches a tick count.
   */
  private runSchedule(budget: number, untilTicks?: { vcpu: number; ticks: number }): { used: number; stop?: StopInfo; reachedTicks?: boolean } {
    let used = 0;
    const awaited = this.awaiting!;
    while (used < budget && this.runs[awaited]!.result === undefined) {
      if (this.pendingStop) return { used };
      const v = this.turnVcpu;
      const run = v >= 0 ? this.runs[v] : null;
      if (run === null || run.result !== undefined || this.turnLeft <= 0) {
        this.nextTurn();
        continue;
      }
      let n = Math.min(this.turnLeft, budget - used);
      if (untilTicks && untilTicks.vcpu === v) n = Math.min(n, untilTicks.ticks - this.cpus[v].ticks);
      const spent = this.runVcpuTurn(v, n);
      used += spent.ticks;
      this.turnLeft -= spent.ticks;
      if (spent.ended) this.turnLeft = 0;
      if (spent.stop) return { used, stop: spent.stop };
      if (untilTicks && this.cpus[untilTicks.vcpu].ticks >= untilTicks.ticks) return { used, reachedTicks: true };
    }
    return { used };
  }

  private nextTurn(): void {
    const n = this.runs.length;
    for (let i = 1; i <= n; i++) {
      const v = (this.turnVcpu + i + n) % n;
      const r = this.runs[v];
      if (r !== null && r.result === undefined) {
        this.turnVcpu = v;
        this.turnLeft = TURN;
        return;
      }
    }
    this.turnLeft = 0;
  }

  /** Give vcpu `v` up to `n` ticks inside KVM_RUN. */
  private runVcpuTurn(v: number, n: number): { ticks: number; ended: boolean; stop?: StopInfo } {
    const run = this.runs[v]!;
    const cpu = this.cpus[v];
    let ticks = 0;
    while (ticks < n && run.result === undefined) {
      const budget = Math.min(n - ticks, run.stepsLeft);
      if (budget <= 0) {
        run.result = { kind: 'errno', errno: 'EINTR', message: 'the run\'s step budget ran out' };
        break;
      }
      const t0 = cpu.ticks;
      this.runningVcpu = v;
      const exit = this.kvm.runGuest(v, budget);
      this.runningVcpu = undefined;
      // An exit that retired nothing (a fault KVM resolves and the guest retries) still costs one step, so a guest
      // that faults forever ends with EINTR like any other runaway guest. A debugger stop costs nothing: breakpoints
      // must not change the schedule.
      const spent = exit.kind === 'stop' ? cpu.ticks - t0 : Math.max(1, cpu.ticks - t0);
      ticks += spent;
      this.steps += spent;
      run.stepsLeft -= spent;
      if (exit.kind === 'budget') {
        if (run.stepsLeft <= 0) run.result = { kind: 'errno', errno: 'EINTR', message: 'the run\'s step budget ran out' };
        if (this.pendingStop) {
          // a stop condition fired on the last instruction of this slice
          const stop = this.pendingStop;
          this.pendingStop = undefined;
          return { ticks, ended: run.result !== undefined, stop };
        }
        continue;
      }
      if (exit.kind === 'stop') {
        const stop: StopInfo = this.pendingStop ?? { reason: exit.reason as StopReason, vcpu: v };
        this.pendingStop = undefined;
        return { ticks, ended: false, stop };
      }
      const handled = this.kvm.handleExit(v, exit);
      if (handled !== 'resume') {
        run.result = handled;
        if (run.background) this.kvm.setInIoctl(v, false);
        break;
      }
      if (this.pendingStop) {
        const stop = this.pendingStop;
        this.pendingStop = undefined;
        return { ticks, ended: false, stop };
      }
    }
    return { ticks, ended: run.result !== undefined };
  }

  snapshot(): MachineSnapshot {
    return {
      hostIndex: this.hostIndex,
      finished: this.finishedStatus,
      runs: this.runs.map((r) => (r === null ? null : { ...r })),
      turnVcpu: this.turnVcpu,
      turnLeft: this.turnLeft,
      awaiting: this.awaiting,
      eventLog: this.events.snapshot(),
      windowStart: this.windowStart,
      steps: this.steps,
      parts: this.stateful.map((p) => p.snapshot()),
    };
  }

  restore(s: MachineSnapshot): void {
    this.hostIndex = s.hostIndex;
    this.finishedStatus = s.finished;
    this.runs = s.runs.map((r) => (r === null ? null : { ...r }));
    this.turnVcpu = s.turnVcpu;
    this.turnLeft = s.turnLeft;
    this.awaiting = s.awaiting;
    this.events.restore(s.eventLog);
    this.windowStart = s.windowStart;
    this.steps = s.steps;
    this.pendingStop = undefined;
    this.stateful.forEach((p, i) => p.restore(s.parts[i]));
  }
}
