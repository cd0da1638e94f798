// Going back (issue "Debug adapter" §5): the machine is deterministic (ARCHITECTURE.md "Deterministic"), so a
// position is just `machine.steps` (host statements + guest instructions/ticks). Snapshots are taken at every
// stop and every SNAPSHOT_INTERVAL steps of a run; reaching an earlier position restores the nearest snapshot at
// or before it and replays forward with every stop condition off. Host statement starts are recorded as they
// are passed, so the host thread can step back one statement.

import type { Machine, MachineSnapshot, MachineStatus, StopInfo } from '../emulator/machine';

export const SNAPSHOT_INTERVAL = 200_000;

interface Snap { readonly steps: number; readonly snap: MachineSnapshot }

export interface ReplayHooks {
  /** take every stop condition off the machine (and the CPUs) */
  disarm(): void;
  /** put them back */
  arm(): void;
}

export class History {
  private snaps: Snap[] = [];
  /** steps at which a host statement was about to start -> its index */
  private readonly opStarts = new Map<number, number>();

  constructor(private readonly machine: Machine, private readonly hooks: ReplayHooks) {
    this.take();
  }

  /**
   * The debugger changed the state (setVariable, writeMemory): earlier positions no longer replay to this
   * state, so history restarts here.
   */
  rebase(): void {
    this.snaps = [];
    this.opStarts.clear();
    this.take();
  }

  get earliest(): number { return this.snaps[0]?.steps ?? 0; }

  /** snapshot the current position (once per position) */
  take(): void {
    const steps = this.machine.steps;
    const i = this.indexAtOrBefore(steps);
    if (i >= 0 && this.snaps[i].steps === steps) return;
    this.snaps.splice(i + 1, 0, { steps, snap: this.machine.snapshot() });
  }

  /** during a long run: a snapshot every SNAPSHOT_INTERVAL steps */
  maybeTake(): void {
    const last = this.snaps[this.indexAtOrBefore(this.machine.steps)];
    if (!last || this.machine.steps - last.steps >= SNAPSHOT_INTERVAL) this.take();
  }

  noteOpStart(index: number): void { this.opStarts.set(this.machine.steps, index); }

  /** the latest recorded host statement start strictly before `pos` */
  opStartBefore(pos: number): number | undefined {
    let best: number | undefined;
    for (const s of this.opStarts.keys()) if (s < pos && (best === undefined || s > best)) best = s;
    return best;
  }

  private indexAtOrBefore(steps: number): number {
    let lo = 0, hi = this.snaps.length - 1, ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.snaps[mid].steps <= steps) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return ans;
  }

  /** Restore the machine to exactly `target` steps. false if that position cannot be reached. */
  replayTo(target: number): boolean {
    const i = this.indexAtOrBefore(target);
    if (i < 0) return false;
    this.machine.restore(this.snaps[i].snap);
    this.hooks.disarm();
    try {
      while (this.machine.steps < target) {
        const st = this.machine.run(target - this.machine.steps);
        if (st.state === 'finished') break;
      }
    } finally {
      this.hooks.arm();
    }
    return this.machine.steps === target;
  }

  /**
   * One step back for vcpu `vcpu`: the latest position before `pos` where that vcpu had retired fewer
   * instructions than now. Scans forward one step at a time from the snapshots before `pos`.
   */
  previousVcpuPosition(pos: number, vcpu: number, ticksNow: number): number | undefined {
    let segEnd = pos;
    for (let i = this.indexAtOrBefore(pos - 1); i >= 0; i--) {
      const start = this.snaps[i].steps;
      if (start >= segEnd) continue;
      this.machine.restore(this.snaps[i].snap);
      let found: number | undefined;
      this.hooks.disarm();
      try {
        const cpu = this.machine.cpus[vcpu];
        if (cpu.ticks < ticksNow && this.machine.inKvmRun(vcpu)) found = this.machine.steps;
        while (this.machine.steps < segEnd) {
          const st = this.machine.run(1);
          if (st.state === 'finished') break;
          if (this.machine.steps < segEnd && cpu.ticks < ticksNow && this.machine.inKvmRun(vcpu)) found = this.machine.steps;
        }
      } finally {
        this.hooks.arm();
      }
      if (found !== undefined) return found;
      segEnd = start;
    }
    return undefined;
  }

  /**
   * The latest stop condition hit strictly before `pos`: replay each segment between snapshots (latest first)
   * with the conditions armed, recording hits without stopping there.
   * `run` resumes the machine after a hit (the caller's stop filtering: conditions, hit counts).
   */
  latestHitBefore(pos: number, resume: (limit: number) => MachineStatus, accept: (s: MachineStatus) => StopInfo | undefined): { steps: number; stop: StopInfo } | undefined {
    let segEnd = pos;
    for (let i = this.indexAtOrBefore(pos - 1); i >= 0; i--) {
      const start = this.snaps[i].steps;
      if (start >= segEnd) continue;
      this.machine.restore(this.snaps[i].snap);
      let last: { steps: number; stop: StopInfo } | undefined;
      while (this.machine.steps < segEnd) {
        const st = resume(segEnd - this.machine.steps);
        if (st.state === 'finished') break;
        if (st.state === 'stopped') {
          const stop = accept(st);
          if (stop && this.machine.steps < pos) last = { steps: this.machine.steps, stop };
        }
      }
      if (last) return last;
      segEnd = start;
    }
    return undefined;
  }
}
