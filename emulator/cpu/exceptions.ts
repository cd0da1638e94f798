// Exception classes, fault status codes and syndrome (ESR) builders (spec C.1, C.2, C.6).
// Every value here is the architectural encoding; the CPU builds ESR_EL1 (exceptions to the guest kernel) and
// ESR_EL2 (exits to KVM) with these helpers so both follow one table.

export const EC_UNKNOWN = 0x00;
export const EC_SVC64 = 0x15;
export const EC_HVC64 = 0x16;
export const EC_SMC64 = 0x17;
export const EC_IABT_LOW = 0x20;
export const EC_IABT_CUR = 0x21;
export const EC_PC_ALIGN = 0x22;
export const EC_DABT_LOW = 0x24;
export const EC_DABT_CUR = 0x25;
export const EC_SP_ALIGN = 0x26;
export const EC_BRK64 = 0x3c;

export const IL = 1 << 25;

/** spec C.2 fault status codes */
export const fscAddressSize = (level: number): number => level & 3;
export const fscTranslation = (level: number): number => 0x04 | (level & 3);
export const fscAccessFlag = (level: number): number => 0x08 | (level & 3);
export const fscPermission = (level: number): number => 0x0c | (level & 3);
export const FSC_SEA = 0x10;
export const FSC_ALIGNMENT = 0x21;

export type FaultKind = 'translation' | 'access-flag' | 'permission' | 'address-size' | 'alignment';

export function fscFor(kind: FaultKind, level: number): number {
  switch (kind) {
    case 'translation': return fscTranslation(level);
    case 'access-flag': return fscAccessFlag(level);
    case 'permission': return fscPermission(level);
    case 'address-size': return fscAddressSize(level);
    case 'alignment': return FSC_ALIGNMENT;
  }
}

/** Instruction-specific syndrome of a single-register GPR load/store (spec C.1 ISV..AR), packed at decode time. */
export interface AccessSyndrome {
  /** ISV may be 1: single GPR load/store without writeback (not pair, not exclusive, not atomic) */
  readonly isv: boolean;
  /** log2 of the access size */
  readonly sas: number;
  readonly sse: boolean;
  readonly srt: number;
  readonly sf: boolean;
  readonly ar: boolean;
}

export interface AbortFields {
  readonly ec: number;
  readonly fsc: number;
  readonly wnr?: boolean;
  readonly s1ptw?: boolean;
  readonly cm?: boolean;
  /** only honoured for stage 2 data aborts (C.1: ISV is never set for stage-1 faults or S1PTW faults) */
  readonly iss?: AccessSyndrome;
}

/** ESR for an instruction or data abort (C.1 layout). */
export function abortEsr(f: AbortFields): bigint {
  let v = (f.ec << 26) | IL | (f.fsc & 0x3f);
  const isData = f.ec === EC_DABT_LOW || f.ec === EC_DABT_CUR;
  if (f.s1ptw) v |= 1 << 7;
  if (isData) {
    if (f.wnr) v |= 1 << 6;
    if (f.cm) v |= 1 << 8;
    if (f.iss && f.iss.isv) {
      v |= (1 << 24) | ((f.iss.sas & 3) << 22) | ((f.iss.srt & 31) << 16);
      if (f.iss.sse) v |= 1 << 21;
      if (f.iss.sf) v |= 1 << 15;
      if (f.iss.ar) v |= 1 << 14;
    }
  }
  return BigInt(v >>> 0);
}

/**
 * ESR_EL2 of a stage 2 abort from the guest (EC 0x20 / 0x24, "lower EL"), with the instruction-specific syndrome
 * taken straight from the access descriptor `acc` (ACC_* bits: ISV, SAS, SSE, SRT, SF, AR; pass 0 for none).
 * The same bits `abortEsr` builds, without the AbortFields / AccessSyndrome objects: this runs on every fault-in.
 */
export function stage2AbortEsr(iabt: boolean, fsc: number, wnr: boolean, s1ptw: boolean, cm: boolean, acc: number): bigint {
  let v = ((iabt ? EC_IABT_LOW : EC_DABT_LOW) << 26) | IL | (fsc & 0x3f);
  if (s1ptw) v |= 1 << 7;
  if (!iabt) {
    if (wnr) v |= 1 << 6;
    if (cm) v |= 1 << 8;
    if ((acc & ACC_ISV) !== 0) {
      v |= (1 << 24) | (((acc >>> ACC_SAS_SHIFT) & 3) << 22) | ((acc & ACC_SRT) << 16);
      if ((acc & ACC_SSE) !== 0) v |= 1 << 21;
      if ((acc & ACC_SF) !== 0) v |= 1 << 15;
      if ((acc & ACC_AR) !== 0) v |= 1 << 14;
    }
  }
  return BigInt(v >>> 0);
}

/** ESR for an exception class with a 16-bit immediate (SVC/HVC/SMC/BRK) or none (UNDEFINED: EC 0, ISS 0). */
export function immEsr(ec: number, imm16 = 0): bigint {
  return BigInt((((ec << 26) | IL | (imm16 & 0xffff)) >>> 0));
}

/** HPFAR_EL2 from a faulting IPA: FIPA[39:4] = IPA[47:12] (spec C.3). */
export function hpfarFor(ipa: number): bigint {
  // number arithmetic (exact: 36 bits << 4 < 2^53) and one BigInt conversion, as this runs on every fault-in
  return BigInt((Math.floor(ipa / 4096) % 2 ** 36) * 16);
}

/** Vector offsets from VBAR_EL1 (C.6) */
export const VEC_CUR_SP0 = 0x000;
export const VEC_CUR_SPX = 0x200;
export const VEC_LOWER_A64 = 0x400;
export const VEC_SYNC = 0x000;
export const VEC_IRQ = 0x080;
export const VEC_FIQ = 0x100;
export const VEC_SERROR = 0x180;

export function vectorName(kindOffset: number): 'sync' | 'irq' | 'fiq' | 'serror' {
  return kindOffset === VEC_IRQ ? 'irq' : kindOffset === VEC_FIQ ? 'fiq' : kindOffset === VEC_SERROR ? 'serror' : 'sync';
}

// access descriptor bits, packed at decode time (interp.ts) and read by the memory path
export const ACC_SRT = 0x1f;
export const ACC_SSE = 1 << 5;
export const ACC_SF = 1 << 6;
export const ACC_AR = 1 << 7;
/** ISV may be 1 (single GPR load/store without writeback; spec C.1) */
export const ACC_ISV = 1 << 8;
/** exclusive / atomic / acquire-release: must be naturally aligned even on Normal memory */
export const ACC_ALIGN = 1 << 9;
/** cache maintenance / AT: CM=1 in the syndrome */
export const ACC_CM = 1 << 10;
/** SAS (log2 of the access size) at bits [12:11] */
export const ACC_SAS_SHIFT = 11;
/** LDTR/STTR: checked with EL0 permissions when executed at EL1 */
export const ACC_UNPRIV = 1 << 13;
