// How per-CPU devices (the SPE profiling unit, the vGICv3 CPU interface) plug into the CPU core.
// The core (cpu.ts / interp.ts) owns decode, execute, MMU and exceptions; devices own their registers and state.

/** A device that owns some system registers (by architectural name, upper case: "PMBSR_EL1", "ICC_IAR1_EL1"). */
export interface SysregDevice {
  readonly sysregs: readonly string[];
  read(name: string): bigint;
  write(name: string, value: bigint): void;
}

/** The CPU asks this each time it may take an IRQ (PSTATE.I masking is the CPU's business). */
export interface IrqSource {
  irqPending(): boolean;
}

/** What a retired instruction looks like to a sampling profiler. */
export interface RetiredOp {
  readonly pc: bigint;
  /** exception level the instruction ran at (0 or 1) */
  readonly el: number;
  readonly kind: 'load' | 'store' | 'branch' | 'other';
  /** virtual address of the data access for loads/stores */
  readonly dataVa?: bigint;
}

/** Services the core gives a device that writes memory through the guest's translation (SPE buffer writes). */
export interface CpuMemoryPort {
  /**
   * Translate a VA for a write in the current EL1&0 regime through stage 1 and stage 2 without taking an
   * exception; report the fault instead. `fsc` uses spec C.2 codes.
   */
  translateWrite(va: bigint): { readonly pa: number } | { readonly fault: 's1' | 's2'; readonly fsc: number; readonly ipa?: number };
  writePhys(pa: number, bytes: Uint8Array): void;
  /** CNTVCT_EL0 now */
  counter(): bigint;
}

/** A sampling unit called once per retired instruction while `active()` is true (SPE). */
export interface InstructionSampler {
  active(): boolean;
  onRetire(op: RetiredOp): void;
}
