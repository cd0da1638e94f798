// Running the machine for the DAP session: continue, step (host statement / guest instruction, over `bl`, out by
// return), pause, and going back (history.ts). Long runs are sliced (SLICE steps, then a macrotask) so `pause`
// and other requests are handled within milliseconds; slicing never changes the trace (machine.ts).
//
// Stop semantics (ARCHITECTURE.md "Debug adapter shapes"): event breakpoints stop when the event is emitted,
// after KVM handled it; ioctl function breakpoints and host line breakpoints stop before the statement runs;
// instruction breakpoints stop before the instruction, data breakpoints after the access.

import type { Machine, MachineStatus, StopInfo, StopReason } from '../emulator/machine';
import type { Board } from '../emulator/board';
import type { TraceEvent } from '../emulator/events';
import { disassemble } from '../emulator/cpu/disasm';
import type { Breakpoints, StopDecision } from './breakpoints';
import type { FilterId } from './exception-filters';
import { History } from './history';

export const SLICE = 50_000;
export const DEFAULT_STEP_LIMIT = 200_000_000;
const STEP_LOOP_YIELD = 20_000;

export interface Stop {
  readonly reason: StopReason;
  /** undefined = the host thread */
  readonly vcpu?: number;
  readonly text?: string;
  readonly event?: TraceEvent;
  readonly filter?: FilterId;
  readonly hitBreakpointIds: number[];
}

export type Outcome =
  | { readonly kind: 'stopped'; readonly stop: Stop }
  | { readonly kind: 'finished'; readonly status: MachineStatus & { state: 'finished' } }
  | { readonly kind: 'terminated' };

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export class Execution {
  readonly history: History;
  /** set by `pause`: the running loop stops at the next slice boundary */
  pauseRequested = false;
  /** set by terminate/disconnect */
  terminated = false;
  running = false;
  /** steps one resume may run before it pauses by itself */
  stepLimit = DEFAULT_STEP_LIMIT;
  /** the stop the UI shows */
  current: Stop | undefined;
  private lastDecision: StopDecision | undefined;
  /** a step in progress stops before the next host statement whose index satisfies this */
  private stepGuard: ((index: number) => boolean) | undefined;
  /** do not stop again before the statement we are stopped at (resuming from it) */
  private skip: { index: number; steps: number } | undefined;

  constructor(private readonly machine: Machine, private readonly board: Board, private readonly bps: Breakpoints) {
    this.history = new History(
      machine, {
        arm: () => this.arm(), disarm: () => this.disarm(),
        save: (atStop) => ({ hits: this.bps.saveHits(), atStop }),
        restored: (extra) => {
          const x = extra as { hits: Map<number, number>; atStop: boolean } | undefined;
          if (x) this.bps.restoreHits(x.hits);
          // resuming from a stop does not hit the breakpoint it stopped at; from any other snapshot, it does
          if (x?.atStop) { this.resumeCpus(); this.skip = { index: machine.hostIndex, steps: machine.steps }; }
          else { for (const c of board.cpus) c.clearBreakpointSkip(); this.skip = undefined; }
        },
      },
      (v) => board.cpus[v].callStack().length,
    );
    this.arm();
  }

  /** install the breakpoints as machine stop conditions and CPU breakpoints */
  arm(): void {
    this.machine.conditions = {
      beforeOp: (op, index) => {
        this.history.noteOpStart();
        if (this.skip && this.skip.index === index && this.skip.steps === this.machine.steps) return undefined;
        const d = this.bps.beforeOp(op, index);
        if (d) { this.lastDecision = d; return { reason: d.reason, text: d.text }; }
        if (this.stepGuard?.(index)) { this.lastDecision = undefined; return { reason: 'step' }; }
        return undefined;
      },
      onEvent: (e) => {
        const d = this.bps.onEvent(e);
        if (!d) return undefined;
        this.lastDecision = d;
        return { reason: d.reason, text: d.text };
      },
    };
    const cpuBps = this.bps.cpuBreakpoints();
    for (const c of this.board.cpus) c.setBreakpoints(cpuBps);
  }

  /** resuming from a stop: the instruction each vcpu is at runs without stopping at its breakpoint again */
  private resumeCpus(): void {
    for (const c of this.board.cpus) c.skipBreakpointHere();
  }

  disarm(): void {
    this.machine.conditions = {};
    for (const c of this.board.cpus) c.setBreakpoints({});
  }

  private threadVcpu(): number | undefined { return this.machine.waitingFor; }

  /** After a machine call: a stop to report, a finished scenario, or undefined = keep going. */
  private classify(st: MachineStatus): Outcome | undefined {
    if (st.state === 'ready') return undefined;
    if (st.state === 'finished') return { kind: 'finished', status: st };
    const s = st.stop;
    if ((s.reason === 'instruction breakpoint' || s.reason === 'data breakpoint') && s.vcpu !== undefined && !s.event) {
      const cpu = this.board.cpus[s.vcpu];
      const a = cpu.lastDataAccess;
      const d = this.bps.onCpuStop(s.reason, s.vcpu, cpu.getPc(), a ? { ipa: a.ipa, size: a.size, write: a.write } : undefined);
      if (!d) return undefined;
      return this.stopped({ reason: d.reason, vcpu: s.vcpu, text: d.text, hitBreakpointIds: d.ids });
    }
    if (s.reason === 'step') return this.stopped({ reason: 'step', vcpu: s.vcpu, hitBreakpointIds: [] });
    const d = this.lastDecision;
    this.lastDecision = undefined;
    return this.stopped({ reason: s.reason, vcpu: s.vcpu, text: s.text, event: s.event, filter: d?.filter, hitBreakpointIds: d?.ids ?? [] });
  }

  private stopped(stop: Stop): Outcome {
    this.markStopped(stop);
    return { kind: 'stopped', stop };
  }

  /** remember a stop position (also used for entry and after going back) */
  markStopped(stop: Stop): void {
    this.current = stop;
    this.skip = { index: this.machine.hostIndex, steps: this.machine.steps };
    this.stepGuard = undefined;
    this.history.take(true);
  }

  private pauseStop(text?: string): Outcome {
    this.pauseRequested = false;
    return this.stopped({ reason: 'pause', vcpu: this.threadVcpu(), text, hitBreakpointIds: [] });
  }

  private async loop(once: () => MachineStatus): Promise<Outcome> {
    this.resumeCpus();
    this.running = true;
    const start = this.machine.steps;
    try {
      for (;;) {
        if (this.terminated) return { kind: 'terminated' };
        if (this.pauseRequested) return this.pauseStop();
        const out = this.classify(once());
        if (out) return out;
        this.history.maybeTake();
        // a budget per resume, so a runaway guest always comes back to the user
        if (this.machine.steps - start >= this.stepLimit) return this.pauseStop(`the scenario ran ${this.stepLimit} steps without stopping`);
        await tick();
      }
    } finally {
      this.running = false;
    }
  }

  continue(): Promise<Outcome> {
    this.stepGuard = undefined;
    return this.loop(() => this.machine.run(SLICE));
  }

  /** host `next`/`stepOut`: run until the current statement is done (stop before the next one) */
  stepHost(): Promise<Outcome> {
    if (this.machine.finished) return Promise.resolve({ kind: 'finished', status: this.machine.status as MachineStatus & { state: 'finished' } });
    const h = this.machine.hostIndex;
    this.stepGuard = (index) => index > h;
    return this.loop(() => this.machine.run(SLICE));
  }

  /** host `stepIn`: a `run N` statement enters the guest and stops at its first instruction */
  async stepInHost(): Promise<Outcome> {
    if (this.machine.waitingFor !== undefined) return this.stepVcpu(this.machine.waitingFor, 'in');
    this.resumeCpus();
    this.running = true;
    let st: MachineStatus;
    try {
      st = this.machine.run(1);
    } finally {
      this.running = false;
    }
    const out = this.classify(st);
    if (out) return out;
    return this.stopped({ reason: 'step', vcpu: this.machine.waitingFor, hitBreakpointIds: [] });
  }

  /** one guest instruction (`in`), over a `bl`/`blr` (`over`), or until the function returns (`out`) */
  async stepVcpu(vcpu: number, how: 'in' | 'over' | 'out'): Promise<Outcome> {
    if (!this.machine.inKvmRun(vcpu)) return how === 'in' ? this.stepInHost() : this.stepHost();
    const cpu = this.board.cpus[vcpu];
    this.stepGuard = () => true; // the vcpu's KVM_RUN returned: stop before the next statement
    let until: () => boolean = () => true;
    if (how === 'over') {
      const pc = cpu.getPc();
      const w = cpu.readVirt(pc, 4);
      const text = w ? disassemble((w[0] | (w[1] << 8) | (w[2] << 16) | (w[3] << 24)) >>> 0, pc) : '';
      if (/^blr?\s/.test(text)) {
        const ret = pc + 4n;
        const depth = cpu.callStack().length;
        until = () => cpu.getPc() === ret && cpu.callStack().length <= depth;
      }
    } else if (how === 'out') {
      const depth = cpu.callStack().length;
      if (depth === 0) {
        // outermost: run until this vcpu's KVM_RUN returns
        return this.loop(() => this.machine.run(SLICE));
      }
      until = () => cpu.callStack().length < depth;
    }
    const pcs = this.bps.cpuBreakpoints().pcs;
    this.running = true;
    try {
      for (let n = 1; ; n++) {
        if (this.terminated) return { kind: 'terminated' };
        if (this.pauseRequested) return this.pauseStop();
        this.resumeCpus();
        const st = this.machine.stepVcpu(vcpu);
        if (st.state !== 'stopped' || st.stop.reason !== 'step' || st.stop.vcpu !== vcpu) {
          const out = this.classify(st);
          if (out) return out;
          if (st.state === 'ready') continue;
        }
        if (!this.machine.inKvmRun(vcpu)) return this.stopped({ reason: 'step', vcpu: this.machine.waitingFor, hitBreakpointIds: [] });
        if (until()) return this.stopped({ reason: 'step', vcpu, hitBreakpointIds: [] });
        // stepping one instruction at a time passes over CPU breakpoints: check them here
        const pc = cpu.getPc();
        if (pcs.has(pc)) {
          const d = this.bps.onCpuStop('instruction breakpoint', vcpu, pc);
          if (d) return this.stopped({ reason: d.reason, vcpu, hitBreakpointIds: d.ids });
        }
        if (n % STEP_LOOP_YIELD === 0) { this.running = false; await tick(); this.running = true; }
      }
    } finally {
      this.running = false;
    }
  }

  // ------------------------------------------------------------------------------------------------ going back

  /** where we are, for going back: a finished machine is one step after its last state */
  private here(): number {
    return this.history.position + (this.machine.finished ? 1 : 0);
  }

  stepBack(vcpu: number | undefined): Outcome {
    const pos = this.here();
    let target: number | undefined;
    let thread = vcpu;
    if (vcpu !== undefined) {
      // the vcpu's previous instruction, even when its KVM_RUN has returned since (a stop after an MMIO exit)
      const cpu = this.board.cpus[vcpu];
      target = this.history.previousVcpuPosition(pos, vcpu, cpu.ticks, cpu.callStack().length);
    }
    if (target === undefined) {
      target = this.history.opStartBefore(pos) ?? this.history.earliest;
      thread = undefined;
    }
    this.history.replayTo(target);
    return this.stopped({ reason: 'step', vcpu: thread !== undefined && this.machine.inKvmRun(thread) ? thread : undefined, hitBreakpointIds: [] });
  }

  reverseContinue(): Outcome {
    const pos = this.here();
    const hits = this.bps.saveHits();
    /** hit counts at each hit, so counting goes on from there after landing */
    const hitsAt = new Map<number, Map<number, number>>();
    this.bps.quiet = true;
    let found: { pos: number; stop: StopInfo } | undefined;
    const decisions = new Map<number, StopDecision | undefined>();
    try {
      found = this.history.latestHitBefore(pos, (st) => {
        if (st.state !== 'stopped') return undefined;
        const s = st.stop;
        if (s.reason === 'step') return undefined;
        if ((s.reason === 'instruction breakpoint' || s.reason === 'data breakpoint') && s.vcpu !== undefined && !s.event) {
          const cpu = this.board.cpus[s.vcpu];
          const a = cpu.lastDataAccess;
          const d = this.bps.onCpuStop(s.reason, s.vcpu, cpu.getPc(), a ? { ipa: a.ipa, size: a.size, write: a.write } : undefined);
          if (!d) return undefined;
          decisions.set(this.history.position, d);
          hitsAt.set(this.history.position, this.bps.saveHits());
          return { ...s, reason: d.reason, text: d.text };
        }
        decisions.set(this.history.position, this.lastDecision);
        hitsAt.set(this.history.position, this.bps.saveHits());
        this.lastDecision = undefined;
        return s;
      });
    } finally {
      this.bps.quiet = false;
      this.bps.restoreHits(hits);
    }
    if (!found) {
      this.history.replayTo(this.history.earliest);
      return this.stopped({ reason: 'entry', hitBreakpointIds: [] });
    }
    const decision = decisions.get(found.pos);
    this.history.replayTo(found.pos);
    const counts = hitsAt.get(found.pos);
    if (counts) this.bps.restoreHits(counts);
    const s = found.stop;
    return this.stopped({ reason: s.reason, vcpu: s.vcpu, text: s.text, event: s.event, filter: decision?.filter, hitBreakpointIds: decision?.ids ?? [] });
  }
}
