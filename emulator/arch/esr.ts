// ESR_ELx syndromes as a codec: exception classes, the abort ISS fields (spec C.1), the fault status codes with
// their names and kinds (C.2), and the HPFAR_EL2 <-> IPA conversion (C.3). Used by the CPU (to build what the
// hardware reports), by KVM (to decode it as kvm_emulate.h does) and by the debugger (to show it).
//
// Syndromes are `bigint` (ESR_ELx is a 64-bit register; bits [63:32] are RES0 / ISS2 and always 0 here).
// Field values come back as JS numbers and booleans.

// ---------------------------------------------------------------------------------------------------------------
// Exception classes, ESR[31:26] (spec C.1; arch/arm64/include/asm/esr.h)

export const ESR_ELx_EC_UNKNOWN = 0x00;
export const ESR_ELx_EC_WFx = 0x01;
export const ESR_ELx_EC_FP_ASIMD = 0x07;
export const ESR_ELx_EC_ILL = 0x0e;
export const ESR_ELx_EC_SVC32 = 0x11;
export const ESR_ELx_EC_HVC32 = 0x12;
export const ESR_ELx_EC_SMC32 = 0x13;
export const ESR_ELx_EC_SVC64 = 0x15;
export const ESR_ELx_EC_HVC64 = 0x16;
export const ESR_ELx_EC_SMC64 = 0x17;
export const ESR_ELx_EC_SYS64 = 0x18;
export const ESR_ELx_EC_IABT_LOW = 0x20;
export const ESR_ELx_EC_IABT_CUR = 0x21;
export const ESR_ELx_EC_PC_ALIGN = 0x22;
export const ESR_ELx_EC_DABT_LOW = 0x24;
export const ESR_ELx_EC_DABT_CUR = 0x25;
export const ESR_ELx_EC_SP_ALIGN = 0x26;
export const ESR_ELx_EC_SERROR = 0x2f;
export const ESR_ELx_EC_BREAKPT_LOW = 0x30;
export const ESR_ELx_EC_BREAKPT_CUR = 0x31;
export const ESR_ELx_EC_SOFTSTP_LOW = 0x32;
export const ESR_ELx_EC_SOFTSTP_CUR = 0x33;
export const ESR_ELx_EC_WATCHPT_LOW = 0x34;
export const ESR_ELx_EC_WATCHPT_CUR = 0x35;
export const ESR_ELx_EC_BRK64 = 0x3c;

const EC_NAMES: { readonly [ec: number]: string } = {
  [ESR_ELx_EC_UNKNOWN]: 'UNKNOWN', [ESR_ELx_EC_WFx]: 'WFx', [ESR_ELx_EC_FP_ASIMD]: 'FP_ASIMD',
  [ESR_ELx_EC_ILL]: 'ILL', [ESR_ELx_EC_SVC32]: 'SVC32', [ESR_ELx_EC_HVC32]: 'HVC32', [ESR_ELx_EC_SMC32]: 'SMC32',
  [ESR_ELx_EC_SVC64]: 'SVC64', [ESR_ELx_EC_HVC64]: 'HVC64', [ESR_ELx_EC_SMC64]: 'SMC64', [ESR_ELx_EC_SYS64]: 'SYS64',
  [ESR_ELx_EC_IABT_LOW]: 'IABT_LOW', [ESR_ELx_EC_IABT_CUR]: 'IABT_CUR', [ESR_ELx_EC_PC_ALIGN]: 'PC_ALIGN',
  [ESR_ELx_EC_DABT_LOW]: 'DABT_LOW', [ESR_ELx_EC_DABT_CUR]: 'DABT_CUR', [ESR_ELx_EC_SP_ALIGN]: 'SP_ALIGN',
  [ESR_ELx_EC_SERROR]: 'SERROR', [ESR_ELx_EC_BREAKPT_LOW]: 'BREAKPT_LOW', [ESR_ELx_EC_BREAKPT_CUR]: 'BREAKPT_CUR',
  [ESR_ELx_EC_SOFTSTP_LOW]: 'SOFTSTP_LOW', [ESR_ELx_EC_SOFTSTP_CUR]: 'SOFTSTP_CUR',
  [ESR_ELx_EC_WATCHPT_LOW]: 'WATCHPT_LOW', [ESR_ELx_EC_WATCHPT_CUR]: 'WATCHPT_CUR', [ESR_ELx_EC_BRK64]: 'BRK64',
};

export function ecName(ec: number): string {
  return EC_NAMES[ec] ?? `EC_0x${ec.toString(16)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Field positions (spec C.1)

export const ESR_ELx_EC_SHIFT = 26n;
export const ESR_ELx_IL = 1n << 25n;
export const ESR_ELx_ISS_MASK = (1n << 25n) - 1n;
export const ESR_ELx_ISV = 1n << 24n;
export const ESR_ELx_SAS_SHIFT = 22n;
export const ESR_ELx_SAS = 3n << 22n;
export const ESR_ELx_SSE = 1n << 21n;
export const ESR_ELx_SRT_SHIFT = 16n;
export const ESR_ELx_SRT_MASK = 0x1fn << 16n;
export const ESR_ELx_SF = 1n << 15n;
export const ESR_ELx_AR = 1n << 14n;
export const ESR_ELx_VNCR = 1n << 13n;
export const ESR_ELx_SET_SHIFT = 11n;
export const ESR_ELx_SET_MASK = 3n << 11n;
export const ESR_ELx_FnV = 1n << 10n;
export const ESR_ELx_EA = 1n << 9n;
export const ESR_ELx_CM = 1n << 8n;
export const ESR_ELx_S1PTW = 1n << 7n;
export const ESR_ELx_WNR = 1n << 6n;
export const ESR_ELx_FSC = 0x3fn;
/** KVM's fault_status = ESR & FSC_TYPE (the type without the level), spec C.2 */
export const ESR_ELx_FSC_TYPE = 0x3cn;
export const ESR_ELx_FSC_LEVEL = 0x3n;
/** HVC/SMC: imm16 in ISS[15:0] */
export const ESR_ELx_xVC_IMM_MASK = 0xffffn;

// ---------------------------------------------------------------------------------------------------------------
// Fault status codes (spec C.2)

export const FSC_ADDR_SIZE = 0x00;
export const FSC_FAULT = 0x04;
export const FSC_ACCESS = 0x08;
export const FSC_PERM = 0x0c;
export const FSC_SEA = 0x10;
export const FSC_MTE_TCF = 0x11;
export const FSC_SEA_TTW0 = 0x14;
export const FSC_SECC = 0x18;
export const FSC_SECC_TTW0 = 0x1c;
export const FSC_ALIGN = 0x21;
export const FSC_FAULT_LVL_M1 = 0x2b;
export const FSC_TLB_CONFLICT = 0x30;
export const FSC_IMPDEF_EXCL_ATOMIC = 0x35;
/** what inject_abt64 reports: ESR_ELx_FSC_EXTABT (spec C.6) */
export const ESR_ELx_FSC_EXTABT = FSC_SEA;

export type FscKind = 'translation' | 'permission' | 'access-flag' | 'address-size' | 'external' | 'other';

/** The LANGUAGE.md `kind` of a stage2-fault event. External covers SEA and parity/ECC aborts (KVM's SEA check). */
export function fscKind(fsc: number): FscKind {
  const f = fsc & 0x3f;
  if (f <= 0x03) return 'address-size';
  if (f <= 0x07 || f === FSC_FAULT_LVL_M1) return 'translation';
  if (f <= 0x0b) return 'access-flag';
  if (f <= 0x0f) return 'permission';
  if (isSeaFsc(f)) return 'external';
  return 'other';
}

/** The lookup level a fault status code names, or null when it has none (spec C.2). */
export function fscLevel(fsc: number): number | null {
  const f = fsc & 0x3f;
  if (f <= 0x0f) return f & 3;
  if (f >= 0x14 && f <= 0x17) return f & 3;
  if (f >= 0x1c && f <= 0x1f) return f & 3;
  if (f === FSC_FAULT_LVL_M1) return -1;
  return null;
}

/** kvm_vcpu_abt_issea: SEA / SEA on a walk / parity-ECC / parity-ECC on a walk (spec C.4 step 1). */
export function isSeaFsc(fsc: number): boolean {
  const f = fsc & 0x3f;
  return f === FSC_SEA || (f >= 0x14 && f <= 0x17) || f === FSC_SECC || (f >= 0x1c && f <= 0x1f);
}

/** fscName's strings, built once per code: KVM names the FSC on every fault-in (stage2-fault events). */
const FSC_NAMES: (string | undefined)[] = [];

export function fscName(fsc: number): string {
  const f = fsc & 0x3f;
  return FSC_NAMES[f] ??= fscNameOf(f);
}

function fscNameOf(f: number): string {
  const lvl = fscLevel(f);
  switch (fscKind(f)) {
    case 'address-size': return `Address size fault, level ${lvl}`;
    case 'translation': return `Translation fault, level ${lvl}`;
    case 'access-flag': return `Access flag fault, level ${lvl}`;
    case 'permission': return `Permission fault, level ${lvl}`;
    default: break;
  }
  if (f === FSC_SEA) return 'Synchronous external abort';
  if (f >= 0x14 && f <= 0x17) return `Synchronous external abort on translation table walk, level ${lvl}`;
  if (f === FSC_SECC) return 'Synchronous parity or ECC error';
  if (f >= 0x1c && f <= 0x1f) return `Synchronous parity or ECC error on translation table walk, level ${lvl}`;
  if (f === FSC_MTE_TCF) return 'Tag check fault';
  if (f === FSC_ALIGN) return 'Alignment fault';
  if (f === FSC_TLB_CONFLICT) return 'TLB conflict abort';
  if (f === FSC_IMPDEF_EXCL_ATOMIC) return 'Unsupported exclusive or atomic access';
  return `Unknown fault status 0x${f.toString(16)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

export interface AbortIss {
  readonly fsc: number;
  readonly fscName: string;
  readonly kind: FscKind;
  readonly level: number | null;
  readonly s1ptw: boolean;
  readonly ea: boolean;
  readonly fnv: boolean;
  readonly set: number;
  /** data aborts only (0 / false for instruction aborts) */
  readonly isv: boolean;
  readonly sas: number;
  /** 1 << SAS (meaningful when isv) */
  readonly len: number;
  readonly sse: boolean;
  readonly srt: number;
  readonly sf: boolean;
  readonly ar: boolean;
  readonly vncr: boolean;
  readonly cm: boolean;
  readonly wnr: boolean;
}

export interface DecodedEsr {
  readonly esr: bigint;
  readonly ec: number;
  readonly ecName: string;
  /** IL: 32-bit instruction */
  readonly il: boolean;
  readonly iss: number;
  /** present for EC 0x20/0x21/0x24/0x25 */
  readonly abort?: AbortIss;
  /** present for HVC/SMC (EC 0x12, 0x13, 0x16, 0x17) */
  readonly imm16?: number;
}

/**
 * ESR bits [31:0] as a number. Every field decoded here lives there (bits [63:32] are RES0 / ISS2, 0 here), so one
 * BigInt operation replaces one per field: KVM decodes the syndrome on every fault-in.
 */
function low32(esr: bigint): number {
  // a syndrome below 2^53 converts exactly without a BigInt.asUintN temporary (runs on every abort)
  const n = Number(esr);
  if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) return n % 4294967296;
  return Number(BigInt.asUintN(32, esr));
}

export function esrEc(esr: bigint): number { return low32(esr) >>> 26; }
export function isDabtEc(ec: number): boolean { return ec === ESR_ELx_EC_DABT_LOW || ec === ESR_ELx_EC_DABT_CUR; }
export function isIabtEc(ec: number): boolean { return ec === ESR_ELx_EC_IABT_LOW || ec === ESR_ELx_EC_IABT_CUR; }

const bit = (esr: bigint, m: bigint): boolean => (esr & m) !== 0n;

// the last syndrome decoded and its (frozen) decoding: a fault-in loop takes the same abort over and over, and both
// kvm_handle_guest_abort and io_mem_abort decode it
let lastAbortEsr = -1n;
let lastAbortIss: AbortIss | undefined;

export function decodeAbortIss(esr: bigint): AbortIss {
  if (esr === lastAbortEsr && lastAbortIss !== undefined) return lastAbortIss;
  const iss = Object.freeze(decodeAbortIssOf(low32(esr)));
  lastAbortEsr = esr;
  lastAbortIss = iss;
  return iss;
}

function decodeAbortIssOf(v: number): AbortIss {
  // number arithmetic on ESR[31:0] (see low32); the bit positions are the ESR_ELx_* constants above
  const dabt = isDabtEc(v >>> 26);
  const fsc = v & 0x3f;
  const sas = dabt ? (v >>> 22) & 3 : 0;
  return {
    fsc, fscName: fscName(fsc), kind: fscKind(fsc), level: fscLevel(fsc),
    s1ptw: (v & (1 << 7)) !== 0, ea: (v & (1 << 9)) !== 0, fnv: (v & (1 << 10)) !== 0,
    set: (v >>> 11) & 3,
    isv: dabt && (v & (1 << 24)) !== 0, sas, len: 1 << sas,
    sse: dabt && (v & (1 << 21)) !== 0, srt: dabt ? (v >>> 16) & 0x1f : 0,
    sf: dabt && (v & (1 << 15)) !== 0, ar: dabt && (v & (1 << 14)) !== 0, vncr: dabt && (v & (1 << 13)) !== 0,
    cm: dabt && (v & (1 << 8)) !== 0, wnr: dabt && (v & (1 << 6)) !== 0,
  };
}

export function decodeEsr(esr: bigint): DecodedEsr {
  const ec = esrEc(esr);
  const base = { esr, ec, ecName: ecName(ec), il: bit(esr, ESR_ELx_IL), iss: Number(esr & ESR_ELx_ISS_MASK) };
  if (isDabtEc(ec) || isIabtEc(ec)) return { ...base, abort: decodeAbortIss(esr) };
  if (ec === ESR_ELx_EC_HVC32 || ec === ESR_ELx_EC_HVC64 || ec === ESR_ELx_EC_SMC32 || ec === ESR_ELx_EC_SMC64) {
    return { ...base, imm16: Number(esr & ESR_ELx_xVC_IMM_MASK) };
  }
  return base;
}

/** One-line text for views: "DABT_LOW IL ISV SAS=2 SRT=3 WnR FSC=0x06 (Translation fault, level 2)". */
export function describeEsr(esr: bigint): string {
  const d = decodeEsr(esr);
  const parts = [d.ecName];
  if (d.il) parts.push('IL');
  if (d.abort) {
    const a = d.abort;
    if (a.isv) parts.push('ISV', `SAS=${a.sas}`, ...(a.sse ? ['SSE'] : []), `SRT=${a.srt}`, ...(a.sf ? ['SF'] : []), ...(a.ar ? ['AR'] : []));
    if (a.fnv) parts.push('FnV');
    if (a.ea) parts.push('EA');
    if (a.cm) parts.push('CM');
    if (a.s1ptw) parts.push('S1PTW');
    if (a.wnr) parts.push('WnR');
    parts.push(`FSC=0x${a.fsc.toString(16).padStart(2, '0')} (${a.fscName})`);
  } else if (d.imm16 !== undefined) {
    parts.push(`imm=0x${d.imm16.toString(16)}`);
  } else {
    parts.push(`ISS=0x${d.iss.toString(16)}`);
  }
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Building

export interface AbortSyndrome {
  /** EC (0x20/0x21/0x24/0x25) */
  readonly ec: number;
  /** default true (A64) */
  readonly il?: boolean;
  readonly fsc: number;
  readonly s1ptw?: boolean;
  readonly ea?: boolean;
  readonly fnv?: boolean;
  readonly set?: number;
  // data aborts only
  readonly isv?: boolean;
  /** access size code 0..3 (len = 1 << sas) */
  readonly sas?: number;
  readonly sse?: boolean;
  readonly srt?: number;
  readonly sf?: boolean;
  readonly ar?: boolean;
  readonly cm?: boolean;
  readonly wnr?: boolean;
}

/** ISS of a data abort (spec C.1); the syndrome-only fields are dropped unless `isv` (as the hardware does). */
export function dabtIss(s: Omit<AbortSyndrome, 'ec' | 'il'>): bigint {
  let iss = BigInt(s.fsc & 0x3f);
  if (s.isv) {
    iss |= ESR_ELx_ISV | (BigInt((s.sas ?? 0) & 3) << ESR_ELx_SAS_SHIFT) | (BigInt((s.srt ?? 0) & 0x1f) << ESR_ELx_SRT_SHIFT);
    if (s.sse) iss |= ESR_ELx_SSE;
    if (s.sf) iss |= ESR_ELx_SF;
    if (s.ar) iss |= ESR_ELx_AR;
  }
  if (s.cm) iss |= ESR_ELx_CM;
  if (s.wnr) iss |= ESR_ELx_WNR;
  return iss | commonAbortIss(s);
}

/** ISS of an instruction abort (spec C.1: IFSC, S1PTW, EA, FnV, SET). */
export function iabtIss(s: Omit<AbortSyndrome, 'ec' | 'il'>): bigint {
  return BigInt(s.fsc & 0x3f) | commonAbortIss(s);
}

function commonAbortIss(s: Omit<AbortSyndrome, 'ec' | 'il'>): bigint {
  let iss = 0n;
  if (s.s1ptw) iss |= ESR_ELx_S1PTW;
  if (s.ea) iss |= ESR_ELx_EA;
  if (s.fnv) iss |= ESR_ELx_FnV;
  if (s.set) iss |= BigInt(s.set & 3) << ESR_ELx_SET_SHIFT;
  return iss;
}

export function buildEsr(ec: number, iss: bigint, il = true): bigint {
  return (BigInt(ec & 0x3f) << ESR_ELx_EC_SHIFT) | (il ? ESR_ELx_IL : 0n) | (iss & ESR_ELx_ISS_MASK);
}

export function abortEsr(s: AbortSyndrome): bigint {
  const iss = isDabtEc(s.ec) ? dabtIss(s) : iabtIss(s);
  return buildEsr(s.ec, iss, s.il ?? true);
}

export function hvcEsr(imm16: number): bigint { return buildEsr(ESR_ELx_EC_HVC64, BigInt(imm16 & 0xffff)); }
export function smcEsr(imm16: number): bigint { return buildEsr(ESR_ELx_EC_SMC64, BigInt(imm16 & 0xffff)); }

/** kvm_vcpu_dabt_iss_nisv_sanitized: ESR & (CM | WnR | FSC) (spec C.5 #1) */
export function nisvSanitizedIss(esr: bigint): bigint {
  return esr & (ESR_ELx_CM | ESR_ELx_WNR | ESR_ELx_FSC);
}

// ---------------------------------------------------------------------------------------------------------------
// HPFAR_EL2 (spec C.3): FIPA in [43:4] = IPA[51:12]

const HPFAR_FIPA_MASK = ((1n << 44n) - 1n) & ~0xfn;

/** KVM: fault_ipa = (HPFAR_EL2 & HPFAR_MASK) << 8 — page-aligned IPA (bits below 12 are zero). */
export function hpfarToIpa(hpfar: bigint): number {
  // = Number((hpfar & HPFAR_FIPA_MASK) << 8n) with one BigInt operation (runs on every fault-in); exact: < 2^52
  const n = Number(hpfar);
  const x = n >= 0 && n < 2 ** 44 ? n : Number(BigInt.asUintN(44, hpfar));
  return (x - (x % 16)) * 256;
}

/** What the hardware / QEMU writes: HPFAR = IPA[51:12] << 4. */
export function ipaToHpfar(ipa: number): bigint {
  return ((BigInt(ipa) >> 12n) << 4n) & HPFAR_FIPA_MASK;
}
