// What the checker needs to know from the rest of the emulator, as one injectable environment: predefined
// symbols per flavour (arch/smccc.ts), SPE field masks (arch/sysregs.ts), register names (arch/sysregs.ts) and
// the guest assembler (cpu/assembler.ts). `defaultEnvironment` wires the real modules; tests may replace parts.

import { predefinedSymbols } from '../arch/smccc';
import { lookupSysreg, speFieldSymbols } from '../arch/sysregs';
import { assembleProgram } from '../cpu/assembler';
import { FLAVOUR_NAMES, getFlavour, type Flavour } from '../kvm/flavours';
import { CORE_REGISTERS } from './vocabulary';

/** One guest block for the assembler: `line` is the 0-based file line of the block body's first character and `col` its column. */
export interface AssemblerBlock {
  readonly base: bigint;
  readonly source: string;
  readonly line: number;
  readonly col?: number;
}
export interface AssemblerDiagnostic {
  readonly line: number;
  readonly col: number;
  readonly endCol: number;
  readonly message: string;
}
export interface AssembledProgram {
  readonly ok: boolean;
  readonly blocks: readonly unknown[];
  readonly labels: Map<string, bigint>;
  readonly lines: readonly { readonly line: number; readonly addr: bigint; readonly size: number; readonly block: number }[];
  readonly diagnostics: readonly AssemblerDiagnostic[];
}
export type AssembleProgram = (blocks: AssemblerBlock[], symbols: (name: string) => bigint | undefined) => AssembledProgram;

export interface CheckEnvironment {
  /** LANGUAGE.md predefined symbols of a flavour (MMIO_GUARD_* only where the flavour has the guard) */
  predefinedSymbols(flavour: Flavour): Map<string, bigint>;
  /** `REG_FIELD` masks of the SPE registers (spec E.1) */
  speFieldSymbols(): Map<string, bigint>;
  /** a system register by name or `s3_…` form */
  isSystemRegister(name: string): boolean;
  /** the guest assembler; absent: guest code is only scanned for labels */
  readonly assembleProgram?: AssembleProgram;
  /**
   * How the assembler numbers lines/cols in its diagnostics and `lines`: 0 = 0-based like the AST, 1 = 1-based.
   * The checker converts to the AST's 0-based convention.
   */
  readonly assemblerLineBase?: 0 | 1;
}

export const defaultEnvironment: CheckEnvironment = {
  predefinedSymbols,
  speFieldSymbols,
  isSystemRegister: (name) => lookupSysreg(name) !== undefined,
  // cpu/assembler.ts numbers lines and columns from 1 (its AsmBlockInput / AsmDiagnostic docs)
  assembleProgram,
  assemblerLineBase: 1,
};

/** a register name usable in set_reg / get_reg / expect reg */
export function isRegisterName(env: CheckEnvironment, name: string): boolean {
  return CORE_REGISTERS.includes(name.toLowerCase()) || env.isSystemRegister(name);
}

/** every predefined symbol name of any flavour, mapped to the flavours that have it */
export function allPredefinedSymbolFlavours(env: CheckEnvironment): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of FLAVOUR_NAMES) {
    for (const k of env.predefinedSymbols(getFlavour(n)).keys()) {
      const l = out.get(k) ?? [];
      l.push(n);
      out.set(k, l);
    }
  }
  return out;
}
