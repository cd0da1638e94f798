// Instruction breakpoints at every instruction boundary, wrapped around each vcpu's `Cpu.execute` (a local
// workaround, reported to the lead). The CPU skips its breakpoint check on the first instruction of every
// `execute` call (so resuming from a breakpoint does not stop at once), but the machine also starts a new call at
// every scheduler turn (1,000 instructions) and after every KVM exit, so a breakpoint there would be missed.
// The guard checks the PC before the call and skips that check exactly once where the debugger resumes (the PC
// it is stopped at).

import type { Cpu } from '../emulator/cpu/cpu';
import type { CpuExit } from '../emulator/kvm/guest';

export class BreakpointGuard {
  private pcs: ReadonlySet<bigint> = new Set();
  private readonly skipPc: (bigint | undefined)[];

  constructor(private readonly cpus: readonly Cpu[]) {
    this.skipPc = cpus.map(() => undefined);
    cpus.forEach((cpu, v) => {
      const execute = cpu.execute.bind(cpu);
      cpu.execute = (budget: number): CpuExit => {
        if (this.pcs.size !== 0 && !cpu.waiting) {
          const pc = cpu.getPc();
          if (this.skipPc[v] !== pc && this.pcs.has(pc)) {
            // stop before this instruction; the next call runs it
            this.skipPc[v] = pc;
            return { kind: 'stop', reason: 'instruction breakpoint' };
          }
        }
        this.skipPc[v] = undefined;
        const exit = execute(budget);
        // the CPU reported this breakpoint itself: do not report it again when the call after it starts here
        if (exit.kind === 'stop' && exit.reason === 'instruction breakpoint') this.skipPc[v] = cpu.getPc();
        return exit;
      };
    });
  }

  /** the PCs that stop (empty while replaying) */
  setPcs(pcs: ReadonlySet<bigint>): void { this.pcs = pcs; }

  /** resuming from a stop: the instruction each vcpu is at runs without stopping again */
  resume(): void {
    this.cpus.forEach((c, v) => { this.skipPc[v] = c.getPc(); });
  }

  /** after a snapshot restore: every breakpoint counts again */
  clear(): void { this.skipPc.fill(undefined); }
}
