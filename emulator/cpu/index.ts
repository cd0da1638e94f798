// Public surface of the guest CPU core (cpu.ts implements kvm/guest.ts `GuestCpu`).
export { Cpu, UNWIND } from './cpu';
export type {
  Breakpoints, CallFrame, CpuOptions, CpuSnapshot, DataAccess, DataRange, RegsSnapshot, TranslateReport,
} from './cpu';
export { SysregFile, MIDR_NEOVERSE_N1, CNTFRQ, DCZID_EL0, CTR_EL0, ID_AA64MMFR0, SCTLR_RESET } from './sysreg-file';
export { translateFull, walkStage1 } from './mmu';
export type { Access, Fault, Regime, WalkStep } from './mmu';
export { decodeExec, isUndefinedExec } from './interp';
export { abortEsr, immEsr, hpfarFor, fscFor } from './exceptions';
