// System registers used by the product: canonical name <-> (op0, op1, CRn, CRm, op2), plus the SYS operations
// (DC/IC/AT/TLBI) the guest language supports, the generic `S<op0>_<op1>_C<n>_C<m>_<op2>` spelling, and the
// SPE field masks that LANGUAGE.md predefines as `REG_FIELD` symbols (spec E.1).
//
// Encodings: Arm ARM (DDI0487) system register index, cross-checked against binutils opcodes/aarch64-opc.c
// and Linux arch/arm64/include/asm/sysreg.h (SPE block: spec E.1).

export interface SysregDef {
  /** Canonical upper-case name, e.g. 'SCTLR_EL1'. */
  name: string;
  op0: number;
  op1: number;
  crn: number;
  crm: number;
  op2: number;
  /** 'r' read-only (MSR is UNDEFINED / GNU as refuses), 'w' write-only (MRS refused), 'rw' both. */
  access: 'r' | 'w' | 'rw';
  /** Named fields: [msb, lsb] inclusive. Only for registers whose fields the product decodes. */
  fields?: Readonly<Record<string, readonly [number, number]>>;
}

function r(
  name: string,
  op0: number,
  op1: number,
  crn: number,
  crm: number,
  op2: number,
  access: 'r' | 'w' | 'rw' = 'rw',
  fields?: Record<string, readonly [number, number]>,
): SysregDef {
  return { name, op0, op1, crn, crm, op2, access, fields };
}

/** SPSR_ELx (AArch64 state): M[3:0] mode, nRW M[4], DAIF, IL, SS, PAN, UAO, NZCV. */
const SPSR_FIELDS: Record<string, readonly [number, number]> = {
  M: [3, 0], NRW: [4, 4], F: [6, 6], I: [7, 7], A: [8, 8], D: [9, 9], IL: [20, 20], SS: [21, 21], PAN: [22, 22],
  UAO: [23, 23], V: [28, 28], C: [29, 29], Z: [30, 30], N: [31, 31],
};

/** Every named system register (MRS/MSR). */
export const SYSREGS: readonly SysregDef[] = [
  // identification (read-only)
  r('MIDR_EL1', 3, 0, 0, 0, 0, 'r'),
  r('MPIDR_EL1', 3, 0, 0, 0, 5, 'r', { AFF0: [7, 0], AFF1: [15, 8], AFF2: [23, 16], MT: [24, 24], U: [30, 30], AFF3: [39, 32] }),
  r('REVIDR_EL1', 3, 0, 0, 0, 6, 'r'),
  r('ID_AA64PFR0_EL1', 3, 0, 0, 4, 0, 'r'),
  r('ID_AA64PFR1_EL1', 3, 0, 0, 4, 1, 'r'),
  r('ID_AA64ZFR0_EL1', 3, 0, 0, 4, 4, 'r'),
  r('ID_AA64DFR0_EL1', 3, 0, 0, 5, 0, 'r', { PMSVER: [35, 32], PMUVER: [11, 8], DEBUGVER: [3, 0] }),
  r('ID_AA64DFR1_EL1', 3, 0, 0, 5, 1, 'r'),
  r('ID_AA64AFR0_EL1', 3, 0, 0, 5, 4, 'r'),
  r('ID_AA64AFR1_EL1', 3, 0, 0, 5, 5, 'r'),
  r('ID_AA64ISAR0_EL1', 3, 0, 0, 6, 0, 'r'),
  r('ID_AA64ISAR1_EL1', 3, 0, 0, 6, 1, 'r'),
  r('ID_AA64ISAR2_EL1', 3, 0, 0, 6, 2, 'r'),
  r('ID_AA64MMFR0_EL1', 3, 0, 0, 7, 0, 'r', { PARANGE: [3, 0], ASIDBITS: [7, 4], TGRAN16: [23, 20], TGRAN64: [27, 24], TGRAN4: [31, 28] }),
  r('ID_AA64MMFR1_EL1', 3, 0, 0, 7, 1, 'r'),
  r('ID_AA64MMFR2_EL1', 3, 0, 0, 7, 2, 'r'),
  r('CCSIDR_EL1', 3, 1, 0, 0, 0, 'r'),
  r('CLIDR_EL1', 3, 1, 0, 0, 1, 'r'),
  r('AIDR_EL1', 3, 1, 0, 0, 7, 'r'),
  r('CSSELR_EL1', 3, 2, 0, 0, 0),
  r('CTR_EL0', 3, 3, 0, 0, 1, 'r'),
  r('DCZID_EL0', 3, 3, 0, 0, 7, 'r', { BS: [3, 0], DZP: [4, 4] }),
  // system control / translation
  r('SCTLR_EL1', 3, 0, 1, 0, 0, 'rw', { M: [0, 0], A: [1, 1], C: [2, 2], SA: [3, 3], SA0: [4, 4], I: [12, 12], WXN: [19, 19], EE: [25, 25], UCI: [26, 26] }),
  r('ACTLR_EL1', 3, 0, 1, 0, 1),
  r('CPACR_EL1', 3, 0, 1, 0, 2),
  r('TTBR0_EL1', 3, 0, 2, 0, 0),
  r('TTBR1_EL1', 3, 0, 2, 0, 1),
  r('TCR_EL1', 3, 0, 2, 0, 2, 'rw', { T0SZ: [5, 0], EPD0: [7, 7], IRGN0: [9, 8], ORGN0: [11, 10], SH0: [13, 12], TG0: [15, 14], T1SZ: [21, 16], A1: [22, 22], EPD1: [23, 23], TG1: [31, 30], IPS: [34, 32], AS: [36, 36] }),
  r('MAIR_EL1', 3, 0, 10, 2, 0),
  r('AMAIR_EL1', 3, 0, 10, 3, 0),
  r('CONTEXTIDR_EL1', 3, 0, 13, 0, 1),
  // exception handling
  r('SPSR_EL1', 3, 0, 4, 0, 0, 'rw', SPSR_FIELDS),
  r('ELR_EL1', 3, 0, 4, 0, 1),
  r('SP_EL0', 3, 0, 4, 1, 0),
  r('SPSEL', 3, 0, 4, 2, 0),
  r('CURRENTEL', 3, 0, 4, 2, 2, 'r', { EL: [3, 2] }),
  r('PAN', 3, 0, 4, 2, 3),
  r('UAO', 3, 0, 4, 2, 4),
  r('ICC_PMR_EL1', 3, 0, 4, 6, 0),
  r('AFSR0_EL1', 3, 0, 5, 1, 0),
  r('AFSR1_EL1', 3, 0, 5, 1, 1),
  r('ESR_EL1', 3, 0, 5, 2, 0),
  r('FAR_EL1', 3, 0, 6, 0, 0),
  r('PAR_EL1', 3, 0, 7, 4, 0, 'rw', { F: [0, 0], FST: [6, 1], SH: [8, 7], NS: [9, 9], PA: [47, 12], ATTR: [63, 56] }),
  r('VBAR_EL1', 3, 0, 12, 0, 0),
  r('ISR_EL1', 3, 0, 12, 1, 0, 'r'),
  r('TPIDR_EL1', 3, 0, 13, 0, 4),
  r('CNTKCTL_EL1', 3, 0, 14, 1, 0),
  r('NZCV', 3, 3, 4, 2, 0, 'rw', { V: [28, 28], C: [29, 29], Z: [30, 30], N: [31, 31] }),
  r('DAIF', 3, 3, 4, 2, 1, 'rw', { F: [6, 6], I: [7, 7], A: [8, 8], D: [9, 9] }),
  r('FPCR', 3, 3, 4, 4, 0),
  r('FPSR', 3, 3, 4, 4, 1),
  r('SP_EL1', 3, 4, 4, 1, 0),
  r('TPIDR_EL0', 3, 3, 13, 0, 2),
  r('TPIDRRO_EL0', 3, 3, 13, 0, 3),
  // generic timer
  r('CNTFRQ_EL0', 3, 3, 14, 0, 0),
  r('CNTPCT_EL0', 3, 3, 14, 0, 1, 'r'),
  r('CNTVCT_EL0', 3, 3, 14, 0, 2, 'r'),
  r('CNTP_TVAL_EL0', 3, 3, 14, 2, 0),
  r('CNTP_CTL_EL0', 3, 3, 14, 2, 1, 'rw', { ENABLE: [0, 0], IMASK: [1, 1], ISTATUS: [2, 2] }),
  r('CNTP_CVAL_EL0', 3, 3, 14, 2, 2),
  r('CNTV_TVAL_EL0', 3, 3, 14, 3, 0),
  r('CNTV_CTL_EL0', 3, 3, 14, 3, 1, 'rw', { ENABLE: [0, 0], IMASK: [1, 1], ISTATUS: [2, 2] }),
  r('CNTV_CVAL_EL0', 3, 3, 14, 3, 2),
  // debug
  r('MDSCR_EL1', 2, 0, 0, 2, 2),
  r('OSLAR_EL1', 2, 0, 1, 0, 4, 'w'),
  r('OSLSR_EL1', 2, 0, 1, 1, 4, 'r'),
  r('OSDLR_EL1', 2, 0, 1, 3, 4),
  // PMU (the vcpu has no PMU attributes; listed so the names assemble)
  r('PMCR_EL0', 3, 3, 9, 12, 0),
  r('PMCNTENSET_EL0', 3, 3, 9, 12, 1),
  r('PMCCNTR_EL0', 3, 3, 9, 13, 0),
  r('PMUSERENR_EL0', 3, 3, 9, 14, 0),
  // SPE (spec E.1)
  r('PMSCR_EL1', 3, 0, 9, 9, 0, 'rw', { E0SPE: [0, 0], E1SPE: [1, 1], CX: [3, 3], PA: [4, 4], TS: [5, 5], PCT: [7, 6] }),
  r('PMSCR_EL2', 3, 4, 9, 9, 0, 'rw', { E0HSPE: [0, 0], E2SPE: [1, 1], CX: [3, 3], PA: [4, 4], TS: [5, 5], PCT: [7, 6] }),
  r('PMSNEVFR_EL1', 3, 0, 9, 9, 1),
  r('PMSICR_EL1', 3, 0, 9, 9, 2, 'rw', { COUNT: [31, 0], ECOUNT: [63, 56] }),
  r('PMSIRR_EL1', 3, 0, 9, 9, 3, 'rw', { RND: [0, 0], INTERVAL: [31, 8] }),
  r('PMSFCR_EL1', 3, 0, 9, 9, 4, 'rw', { FE: [0, 0], FT: [1, 1], FL: [2, 2], FNE: [3, 3], B: [16, 16], LD: [17, 17], ST: [18, 18] }),
  r('PMSEVFR_EL1', 3, 0, 9, 9, 5),
  r('PMSLATFR_EL1', 3, 0, 9, 9, 6, 'rw', { MINLAT: [15, 0] }),
  r('PMSIDR_EL1', 3, 0, 9, 9, 7, 'r', {
    FE: [0, 0], FT: [1, 1], FL: [2, 2], ARCHINST: [3, 3], LDS: [4, 4], ERND: [5, 5], FNE: [6, 6],
    INTERVAL: [11, 8], MAXSIZE: [15, 12], COUNTSIZE: [19, 16], FORMAT: [23, 20], PBT: [24, 24],
  }),
  r('PMBLIMITR_EL1', 3, 0, 9, 10, 0, 'rw', { E: [0, 0], FM: [2, 1], PMFZ: [5, 5], LIMIT: [63, 12] }),
  r('PMBPTR_EL1', 3, 0, 9, 10, 1, 'rw', { PTR: [63, 0] }),
  r('PMBSR_EL1', 3, 0, 9, 10, 3, 'rw', { MSS: [15, 0], COLL: [16, 16], S: [17, 17], EA: [18, 18], DL: [19, 19], EC: [31, 26] }),
  r('PMBIDR_EL1', 3, 0, 9, 10, 7, 'r', { ALIGN: [3, 0], P: [4, 4], F: [5, 5], EA: [11, 8] }),
  // GICv3 CPU interface
  r('ICC_IAR0_EL1', 3, 0, 12, 8, 0, 'r'),
  r('ICC_EOIR0_EL1', 3, 0, 12, 8, 1, 'w'),
  r('ICC_HPPIR0_EL1', 3, 0, 12, 8, 2, 'r'),
  r('ICC_BPR0_EL1', 3, 0, 12, 8, 3),
  r('ICC_AP0R0_EL1', 3, 0, 12, 8, 4),
  r('ICC_AP1R0_EL1', 3, 0, 12, 9, 0),
  r('ICC_DIR_EL1', 3, 0, 12, 11, 1, 'w'),
  r('ICC_RPR_EL1', 3, 0, 12, 11, 3, 'r'),
  r('ICC_SGI1R_EL1', 3, 0, 12, 11, 5, 'w'),
  r('ICC_ASGI1R_EL1', 3, 0, 12, 11, 6, 'w'),
  r('ICC_SGI0R_EL1', 3, 0, 12, 11, 7, 'w'),
  r('ICC_IAR1_EL1', 3, 0, 12, 12, 0, 'r'),
  r('ICC_EOIR1_EL1', 3, 0, 12, 12, 1, 'w'),
  r('ICC_HPPIR1_EL1', 3, 0, 12, 12, 2, 'r'),
  r('ICC_BPR1_EL1', 3, 0, 12, 12, 3),
  r('ICC_CTLR_EL1', 3, 0, 12, 12, 4),
  r('ICC_SRE_EL1', 3, 0, 12, 12, 5),
  r('ICC_IGRPEN0_EL1', 3, 0, 12, 12, 6),
  r('ICC_IGRPEN1_EL1', 3, 0, 12, 12, 7),
  // EL2 registers (named in syndromes and by the debugger; guest EL1 access is UNDEFINED)
  r('HCR_EL2', 3, 4, 1, 1, 0),
  r('MDCR_EL2', 3, 4, 1, 1, 1, 'rw', { E2PB: [13, 12], TPMS: [14, 14] }),
  r('SCTLR_EL2', 3, 4, 1, 0, 0),
  r('VTTBR_EL2', 3, 4, 2, 1, 0),
  // spec B.1
  r('VTCR_EL2', 3, 4, 2, 1, 2, 'rw', { T0SZ: [5, 0], SL0: [7, 6], IRGN0: [9, 8], ORGN0: [11, 10], SH0: [13, 12], TG0: [15, 14], PS: [18, 16], VS: [19, 19], HA: [21, 21], HD: [22, 22], DS: [32, 32] }),
  r('SPSR_EL2', 3, 4, 4, 0, 0, 'rw', SPSR_FIELDS),
  r('ELR_EL2', 3, 4, 4, 0, 1),
  r('ESR_EL2', 3, 4, 5, 2, 0),
  r('FAR_EL2', 3, 4, 6, 0, 0),
  r('HPFAR_EL2', 3, 4, 6, 0, 4),
  r('VBAR_EL2', 3, 4, 12, 0, 0),
  r('CNTHCTL_EL2', 3, 4, 14, 1, 0),
  r('CNTVOFF_EL2', 3, 4, 14, 0, 3),
];

/** A SYS operation (op0 = 1): DC/IC/AT/TLBI. `hasRt`: takes an address/value register operand. */
export interface SysOpDef {
  /** e.g. 'DC ZVA', 'TLBI VMALLE1'. */
  name: string;
  op1: number;
  crn: number;
  crm: number;
  op2: number;
  hasRt: boolean;
}

function s(name: string, op1: number, crn: number, crm: number, op2: number, hasRt: boolean): SysOpDef {
  return { name, op1, crn, crm, op2, hasRt };
}

export const SYS_OPS: readonly SysOpDef[] = [
  s('IC IALLUIS', 0, 7, 1, 0, false),
  s('IC IALLU', 0, 7, 5, 0, false),
  s('IC IVAU', 3, 7, 5, 1, true),
  s('DC IVAC', 0, 7, 6, 1, true),
  s('DC ISW', 0, 7, 6, 2, true),
  s('DC CSW', 0, 7, 10, 2, true),
  s('DC CISW', 0, 7, 14, 2, true),
  s('DC ZVA', 3, 7, 4, 1, true),
  s('DC CVAC', 3, 7, 10, 1, true),
  s('DC CVAU', 3, 7, 11, 1, true),
  s('DC CVAP', 3, 7, 12, 1, true),
  s('DC CIVAC', 3, 7, 14, 1, true),
  s('AT S1E1R', 0, 7, 8, 0, true),
  s('AT S1E1W', 0, 7, 8, 1, true),
  s('AT S1E0R', 0, 7, 8, 2, true),
  s('AT S1E0W', 0, 7, 8, 3, true),
  s('TLBI VMALLE1IS', 0, 8, 3, 0, false),
  s('TLBI VAE1IS', 0, 8, 3, 1, true),
  s('TLBI ASIDE1IS', 0, 8, 3, 2, true),
  s('TLBI VAAE1IS', 0, 8, 3, 3, true),
  s('TLBI VALE1IS', 0, 8, 3, 5, true),
  s('TLBI VAALE1IS', 0, 8, 3, 7, true),
  s('TLBI VMALLE1', 0, 8, 7, 0, false),
  s('TLBI VAE1', 0, 8, 7, 1, true),
  s('TLBI ASIDE1', 0, 8, 7, 2, true),
  s('TLBI VAAE1', 0, 8, 7, 3, true),
  s('TLBI VALE1', 0, 8, 7, 5, true),
  s('TLBI VAALE1', 0, 8, 7, 7, true),
];

const key = (op0: number, op1: number, crn: number, crm: number, op2: number): number =>
  (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;

const BY_NAME = new Map<string, SysregDef>(SYSREGS.map((d) => [d.name, d]));
const BY_KEY = new Map<number, SysregDef>(SYSREGS.map((d) => [key(d.op0, d.op1, d.crn, d.crm, d.op2), d]));
const SYSOP_BY_NAME = new Map<string, SysOpDef>(SYS_OPS.map((d) => [d.name, d]));
const SYSOP_BY_KEY = new Map<number, SysOpDef>(SYS_OPS.map((d) => [key(1, d.op1, d.crn, d.crm, d.op2), d]));

/** The 16-bit o0:op1:CRn:CRm:op2 index used in MRS/MSR bits [20:5] (op0 is 2 or 3, stored as o0 = op0 - 2). */
export function sysregKey(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return key(op0, op1, crn, crm, op2);
}

/** Look up by encoding. */
export function sysregByEncoding(op0: number, op1: number, crn: number, crm: number, op2: number): SysregDef | undefined {
  return BY_KEY.get(key(op0, op1, crn, crm, op2));
}

/** Canonical generic spelling 'S3_0_C9_C9_0'. */
export function formatGenericSysreg(op0: number, op1: number, crn: number, crm: number, op2: number): string {
  return `S${op0}_${op1}_C${crn}_C${crm}_${op2}`;
}

/** Parse 's3_0_c9_c9_0' (any case). op0 must be 2 or 3 (MRS/MSR space). */
export function parseGenericSysreg(text: string): { op0: number; op1: number; crn: number; crm: number; op2: number } | undefined {
  const m = /^s([23])_([0-7])_c([0-9]|1[0-5])_c([0-9]|1[0-5])_([0-7])$/i.exec(text);
  if (!m) return undefined;
  return { op0: +m[1]!, op1: +m[2]!, crn: +m[3]!, crm: +m[4]!, op2: +m[5]! };
}

/** Resolve a register name (case-insensitive, or the generic form) to its encoding. */
export function lookupSysreg(text: string): SysregDef | undefined {
  const d = BY_NAME.get(text.toUpperCase());
  if (d) return d;
  const g = parseGenericSysreg(text);
  if (!g) return undefined;
  return BY_KEY.get(key(g.op0, g.op1, g.crn, g.crm, g.op2)) ?? {
    name: formatGenericSysreg(g.op0, g.op1, g.crn, g.crm, g.op2),
    ...g,
    access: 'rw',
  };
}

/** Name of the register with this encoding: table name or the generic form. */
export function sysregName(op0: number, op1: number, crn: number, crm: number, op2: number): string {
  return BY_KEY.get(key(op0, op1, crn, crm, op2))?.name ?? formatGenericSysreg(op0, op1, crn, crm, op2);
}

export function sysOpByName(name: string): SysOpDef | undefined {
  return SYSOP_BY_NAME.get(name.toUpperCase().replace(/\s+/g, ' '));
}

export function sysOpByEncoding(op1: number, crn: number, crm: number, op2: number): SysOpDef | undefined {
  return SYSOP_BY_KEY.get(key(1, op1, crn, crm, op2));
}

/** In-place mask of field [msb:lsb]. */
export function fieldMask(msb: number, lsb: number): bigint {
  return ((1n << BigInt(msb - lsb + 1)) - 1n) << BigInt(lsb);
}

/** The SPE registers of spec E.1, whose fields are predefined symbols. */
const SPE_REGS = [
  'PMSCR_EL1', 'PMSCR_EL2', 'PMSICR_EL1', 'PMSIRR_EL1', 'PMSFCR_EL1', 'PMSLATFR_EL1', 'PMSIDR_EL1',
  'PMBLIMITR_EL1', 'PMBPTR_EL1', 'PMBSR_EL1', 'PMBIDR_EL1',
];

/**
 * LANGUAGE.md predefined symbols: for every field of the SPE registers of spec E.1, `REG_FIELD` = the field's
 * in-place mask, REG without the `_ELn` suffix (PMBLIMITR_E = 1, PMBLIMITR_FM = 0x6, PMSCR_E1SPE = 2,
 * PMBSR_S = 1 << 17). PMSCR_EL2 fields are named PMSCR_EL2_FIELD (they would clash with PMSCR_EL1's otherwise:
 * PMSCR_PA etc. name the EL1 register).
 */
export function speFieldSymbols(): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const name of SPE_REGS) {
    const d = BY_NAME.get(name)!;
    const base = name === 'PMSCR_EL2' ? 'PMSCR_EL2' : name.replace(/_EL[0-3]$/, '');
    for (const [f, [msb, lsb]] of Object.entries(d.fields ?? {})) out.set(`${base}_${f}`, fieldMask(msb, lsb));
  }
  return out;
}

/** Field definitions of a register (for the debugger's decoded views), or undefined. */
export function sysregFields(name: string): Readonly<Record<string, readonly [number, number]>> | undefined {
  return BY_NAME.get(name.toUpperCase())?.fields;
}
