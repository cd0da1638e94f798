// Going back (issue "Debug adapter" §5): the machine is deterministic (ARCHITECTURE.md "Deterministic"), so an
// earlier state is reached by restoring a snapshot and replaying forward with every stop condition off.
//
// A position must not depend on how a run was sliced. `machine.steps` does (an exit that retires nothing costs a
// step only when it comes first in a CPU call, so a 50k-step slice and single steps count the same path
// differently), so positions here are built from what the machine has observably done:
//   position = Σ vcpu ticks + events emitted + 2 × host statements completed (+1 while a KVM_RUN is in progress)
// Every transition (an instruction retired, an idle tick, an exit handled — each emits an event —, a statement
// started or completed) raises it, and slicing cannot change it. Replays run coarse slices while far from the
// target and single steps near it; a slice that would overshoot (background vcpus take whole turns) falls back
// to single steps from the snapshot.

import type { Machine, MachineSnapshot, MachineStatus, StopInfo } from '../emulator/machine';

export const SNAPSHOT_INTERVAL = 200_000;
/** single-step this close to a target */
const FINE = 2_000;
/** step back looks at this last stretch before the current position first */
const WINDOW = 4_096;
/** at most this many snapshots: beyond it, every other old one is dropped (the first always stays) */
const MAX_SNAPSHOTS = 2_000;

interface Snap { readonly pos: number; readonly snap: MachineSnapshot; extra: unknown }

export interface ReplayHooks {
  /** take every stop condition off the machine (and the CPUs) */
  disarm(): void;
  /** put them back */
  arm(): void;
  /** debugger state that belongs to a position (breakpoint hit counts), kept with each snapshot */
  save?(atStop: boolean): unknown;
  /** the machine state was restored from a snapshot (with what `save` gave) */
  restored?(extra: unknown): void;
}

/** the slicing-invariant position of a machine (see the header) */
export function positionOf(m: Machine): number {
  let ticks = 0;
  for (const c of m.cpus) ticks += c.ticks;
  return ticks + m.events.length + 2 * m.hostIndex + (m.waitingFor !== undefined ? 1 : 0);
}

export class History {
  private snaps: Snap[] = [];
  /** positions at which a host statement was about to start */
  private readonly opStarts = new Set<number>();

  constructor(private readonly machine: Machine, private readonly hooks: ReplayHooks,
              private readonly depth: (vcpu: number) => number = () => 0) {
    this.take();
  }

  get position(): number { return positionOf(this.machine); }

  /**
   * The debugger changed the state (setVariable, writeMemory): earlier positions no longer replay to this
   * state, so history restarts here.
   */
  rebase(): void {
    this.snaps = [];
    this.opStarts.clear();
    this.take();
  }

  get earliest(): number { return this.snaps[0]?.pos ?? 0; }

  /**
   * Snapshot the current position (once per position). `atStop`: the debugger stopped here, so resuming from
   * this snapshot skips the breakpoint at this very place, as resuming from the stop does.
   */
  take(atStop = false): void {
    const pos = this.position;
    const i = this.indexAtOrBefore(pos);
    if (i >= 0 && this.snaps[i].pos === pos) {
      if (atStop) this.snaps[i].extra = this.hooks.save?.(true);
      return;
    }
    this.snaps.splice(i + 1, 0, { pos, snap: this.machine.snapshot(), extra: this.hooks.save?.(atStop) });
    if (this.snaps.length > MAX_SNAPSHOTS) {
      // thin out the older half: going back that far replays longer, memory stays bounded
      const half = this.snaps.length >> 1;
      this.snaps = this.snaps.filter((_, k) => k === 0 || k >= half || k % 2 === 0);
    }
  }

  /** during a long run: a snapshot every SNAPSHOT_INTERVAL */
  maybeTake(): void {
    const pos = this.position;
    const last = this.snaps[this.indexAtOrBefore(pos)];
    if (!last || pos - last.pos >= SNAPSHOT_INTERVAL) this.take();
  }

  noteOpStart(): void { this.opStarts.add(this.position); }

  /** the latest recorded host statement start strictly before `pos` */
  opStartBefore(pos: number): number | undefined {
    let best: number | undefined;
    for (const s of this.opStarts) if (s < pos && (best === undefined || s > best)) best = s;
    return best;
  }

  private indexAtOrBefore(pos: number): number {
    let lo = 0, hi = this.snaps.length - 1, ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.snaps[mid].pos <= pos) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return ans;
  }

  /** progress that a slice of k steps cannot exceed by much (events excluded: an instruction may emit many) */
  private progress(): number {
    let ticks = 0;
    for (const c of this.machine.cpus) ticks += c.ticks;
    return ticks + 2 * this.machine.hostIndex + (this.machine.waitingFor !== undefined ? 1 : 0);
  }

  /** with the conditions off: from the current state to exactly `target`; false if it cannot be hit */
  private forwardTo(target: number, snap: Snap): boolean {
    const m = this.machine;
    // coarse: the progress (events excluded) at the target is at most target - the events emitted so far
    for (;;) {
      const left = target - (this.position - this.progress()) - FINE - this.progress();
      if (left <= 0) break;
      const st = m.run(left);
      if (st.state === 'finished') break;
    }
    if (this.position > target) this.restore(snap);
    // fine
    while (this.position < target) {
      const st = m.run(1);
      if (st.state === 'finished') break;
    }
    return this.position === target;
  }

  private restore(s: Snap): void {
    this.machine.restore(s.snap);
    this.hooks.restored?.(s.extra);
  }

  /**
   * Restore the machine to exactly position `target`. false if that position cannot be reached. The debugger
   * state (hit counts) is the snapshot's: hits between the snapshot and the target are not counted.
   */
  replayTo(target: number): boolean {
    const i = this.indexAtOrBefore(target);
    if (i < 0) return false;
    const s = this.snaps[i];
    this.restore(s);
    this.hooks.disarm();
    try {
      return this.forwardTo(target, s);
    } finally {
      this.hooks.arm();
    }
  }

  /**
   * One step back for vcpu `vcpu` (the reverse of `next`): the latest position before `pos` where that vcpu had
   * retired fewer instructions than now, at the same call depth or outside it. Scans forward one step at a time
   * from the snapshots before `pos`.
   */
  previousVcpuPosition(pos: number, vcpu: number, ticksNow: number, depthNow: number): number | undefined {
    const cpu = this.machine.cpus[vcpu];
    const here = (): boolean => cpu.ticks < ticksNow && this.machine.inKvmRun(vcpu) && this.depth(vcpu) <= depthNow;
    /** single steps from the current state to segEnd: the last position where `here` holds */
    const scan = (segEnd: number): number | undefined => {
      let found = here() ? this.position : undefined;
      while (this.position < segEnd) {
        const st = this.machine.run(1);
        if (st.state === 'finished') break;
        if (this.position < segEnd && here()) found = this.position;
      }
      return found;
    };
    let segEnd = pos;
    for (let i = this.indexAtOrBefore(pos - 1); i >= 0; i--) {
      const snap = this.snaps[i];
      if (snap.pos >= segEnd) continue;
      this.hooks.disarm();
      try {
        // usually the answer is just before `pos`: try the last stretch of the segment first
        if (segEnd - snap.pos > 2 * WINDOW) {
          this.restore(snap);
          if (this.forwardTo(segEnd - WINDOW, snap)) {
            const found = scan(segEnd);
            if (found !== undefined) return found;
          }
        }
        this.restore(snap);
        const found = scan(segEnd);
        if (found !== undefined) return found;
      } finally {
        this.hooks.arm();
      }
      segEnd = snap.pos;
    }
    return undefined;
  }


  /**
   * The latest stop condition hit strictly before `pos`: replay each segment between snapshots (latest first)
   * with the conditions armed, recording hits without stopping there. `accept` applies the caller's stop
   * filtering (conditions of CPU breakpoints) and returns the stop, or undefined to go on.
   */
  latestHitBefore(pos: number, accept: (s: MachineStatus) => StopInfo | undefined): { pos: number; stop: StopInfo } | undefined {
    let segEnd = pos;
    for (let i = this.indexAtOrBefore(pos - 1); i >= 0; i--) {
      const start = this.snaps[i].pos;
      if (start >= segEnd) continue;
      this.restore(this.snaps[i]);
      let last: { pos: number; stop: StopInfo } | undefined;
      // up to and including segEnd: a breakpoint "before the instruction at segEnd" shows only when going on
      while (this.position <= segEnd) {
        const st = this.machine.run(Math.max(1, Math.min(50_000, segEnd - this.position)));
        if (st.state === 'finished') break;
        if (st.state === 'stopped') {
          const stop = accept(st);
          const p = this.position;
          if (stop && p < pos) last = { pos: p, stop };
        }
      }
      if (last) return last;
      segEnd = start;
    }
    return undefined;
  }
}
