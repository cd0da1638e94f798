// Stage 1 translation (EL1&0 regime, 4K granule) with every table access translated through the VM's stage 2,
// then stage 2 for the output IPA (spec C.1–C.3; ARCHITECTURE.md: no FEAT_HAFDBS, so AF=0 gives an Access flag
// fault). This is the slow path: it runs on a TLB miss, for AT, for the debugger's `translate`, and for the SPE
// unit's buffer writes; bigint is fine here. The result carries permissions for every access type at EL0 and EL1
// so one TLB entry serves loads, stores and fetches.

import type { PhysMem } from '../memory/physmem';
import type { S2Translation, Stage2Lookup } from '../kvm/guest';
import type { FaultKind } from './exceptions';

/** TLB permission bits (stage 1 ∧ stage 2) */
export const P_R1 = 1, P_W1 = 2, P_X1 = 4, P_R0 = 8, P_W0 = 16, P_X0 = 32;
/** stage 1 memory type is Device (or MMU off for data): unaligned accesses and DC ZVA fault */
export const P_DEV = 64;
/** stage 2 maps Device memory (pfnmap: reads 0, writes ignored; LANGUAGE.md "Host memory model") */
export const P_S2DEV = 128;

export type Access = 'read' | 'write' | 'exec';

export interface Regime {
  readonly sctlr: bigint;
  readonly tcr: bigint;
  readonly ttbr0: bigint;
  readonly ttbr1: bigint;
  readonly mair: bigint;
}

export interface WalkStep {
  /** stage 1 level of this table access */
  readonly level: number;
  /** IPA of the descriptor */
  readonly descIpa: number;
  /** stage 2 result for that IPA */
  readonly s2: S2Translation;
  /** the descriptor, when stage 2 let the walk read it */
  readonly descriptor?: bigint;
}

export interface Fault {
  readonly stage: 1 | 2;
  readonly kind: FaultKind;
  readonly level: number;
  /** stage 2 fault on a stage 1 table access */
  readonly s1ptw: boolean;
  /** the IPA stage 2 faulted on (the table's IPA for S1PTW) */
  readonly ipa?: number;
}

export interface Stage1Ok {
  readonly ok: true;
  /** output IPA of the access (with the page offset) */
  readonly ipa: number;
  /** P_* stage 1 permissions (+ P_DEV) */
  readonly perms: number;
  /** MAIR attribute byte */
  readonly attr: number;
  /** shareability SH[1:0] of the leaf */
  readonly sh: number;
  readonly level: number;
}

export type Stage1Result = Stage1Ok | { readonly ok: false; readonly fault: Fault };

export interface FullOk {
  readonly ok: true;
  readonly ipa: number;
  readonly pa: number;
  /** stage 1 ∧ stage 2 permissions plus P_DEV / P_S2DEV */
  readonly perms: number;
  readonly s1: Stage1Ok;
  readonly s2: S2Translation & { valid: true };
}

export type FullResult = FullOk | { readonly ok: false; readonly fault: Fault; readonly ipa?: number };

const PA_BITS = 48; // ID_AA64MMFR0_EL1.PARange = 48 bits (ARCHITECTURE.md)
const IPS_BITS = [32, 36, 40, 42, 44, 48, 52, 52];
const OA_MASK = 0x0000_ffff_ffff_f000n;

const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;
const field = (v: bigint, hi: number, lo: number): number => Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));

export function mmuEnabled(r: Regime): boolean {
  return (r.sctlr & 1n) === 1n;
}

/** Stage 1 of the EL1&0 regime. Table accesses go through stage 2; their faults come back with s1ptw=true. */
export function walkStage1(
  r: Regime, va: bigint, access: Access, mem: PhysMem, s2: Stage2Lookup, steps?: WalkStep[],
): Stage1Result {
  va = BigInt.asUintN(64, va);
  if (!mmuEnabled(r)) {
    // MMU off: flat mapping; data is Device-nGnRnE, instruction fetches are Normal (LANGUAGE.md "Execution model")
    if (va >= 1n << BigInt(PA_BITS)) return { ok: false, fault: { stage: 1, kind: 'address-size', level: 0, s1ptw: false } };
    // P_DEV for every access kind: the TLB entry an instruction fetch fills is shared with later data accesses to
    // the page, which must still get Device alignment checks (fetches ignore P_DEV)
    const perms = P_R1 | P_W1 | P_X1 | P_R0 | P_W0 | P_X0 | P_DEV;
    return { ok: true, ipa: Number(va), perms, attr: access === 'exec' ? 0xff : 0x00, sh: 0, level: 0 };
  }
  const upper = bit(va, 55);
  const tsz = upper ? field(r.tcr, 21, 16) : field(r.tcr, 5, 0);
  const epd = upper ? bit(r.tcr, 23) : bit(r.tcr, 7);
  const ttbr = upper ? r.ttbr1 : r.ttbr0;
  const inputSize = 64 - Math.min(39, Math.max(16, tsz));
  // the VA must be inside the selected half (bits above inputSize all 0 for TTBR0, all 1 for TTBR1)
  const top = va >> BigInt(inputSize);
  const topOk = upper ? top === (1n << BigInt(64 - inputSize)) - 1n : top === 0n;
  if (!topOk || epd) return { ok: false, fault: { stage: 1, kind: 'translation', level: 0, s1ptw: false } };
  const oaBits = Math.min(IPS_BITS[field(r.tcr, 34, 32)], PA_BITS);
  const levels = Math.ceil((inputSize - 12) / 9);
  let level = 4 - levels;
  let table = ttbr & OA_MASK & ~((1n << 12n) - 1n);
  if (table >= 1n << BigInt(oaBits)) return { ok: false, fault: { stage: 1, kind: 'address-size', level, s1ptw: false } };
  let apTableNoEl0 = false, apTableRo = false, pxnTable = false, uxnTable = false;
  for (;;) {
    const shift = 12 + 9 * (3 - level);
    const idxBits = level === 4 - levels ? inputSize - shift : 9;
    const index = Number((va >> BigInt(shift)) & ((1n << BigInt(idxBits)) - 1n));
    const descIpa = Number(table) + index * 8;
    const t = s2.translate(descIpa);
    if (!t.valid) {
      steps?.push({ level, descIpa, s2: t });
      return { ok: false, fault: { stage: 2, kind: t.reason === 'address-size' ? 'address-size' : 'translation', level: t.level, s1ptw: true, ipa: descIpa } };
    }
    if (!t.af) {
      steps?.push({ level, descIpa, s2: t });
      return { ok: false, fault: { stage: 2, kind: 'access-flag', level: t.level, s1ptw: true, ipa: descIpa } };
    }
    if (!t.read) {
      steps?.push({ level, descIpa, s2: t });
      return { ok: false, fault: { stage: 2, kind: 'permission', level: t.level, s1ptw: true, ipa: descIpa } };
    }
    const desc = t.device ? 0n : mem.read64(t.pa);
    steps?.push({ level, descIpa, s2: t, descriptor: desc });
    if ((desc & 1n) === 0n) return { ok: false, fault: { stage: 1, kind: 'translation', level, s1ptw: false } };
    const isTable = (desc & 2n) === 2n;
    if (level < 3 && isTable) {
      const next = desc & OA_MASK;
      if (next >= 1n << BigInt(oaBits)) return { ok: false, fault: { stage: 1, kind: 'address-size', level, s1ptw: false } };
      pxnTable ||= bit(desc, 59);
      uxnTable ||= bit(desc, 60);
      apTableNoEl0 ||= bit(desc, 61);
      apTableRo ||= bit(desc, 62);
      table = next;
      level++;
      continue;
    }
    // a block at level 0 (4K granule) and a "block" encoding at level 3 are invalid: translation fault
    if ((level === 3 && !isTable) || level === 0) return { ok: false, fault: { stage: 1, kind: 'translation', level, s1ptw: false } };
    const leafMask = (1n << BigInt(shift)) - 1n;
    const oa = (desc & OA_MASK & ~leafMask) | (va & leafMask);
    if (oa >= 1n << BigInt(oaBits)) return { ok: false, fault: { stage: 1, kind: 'address-size', level, s1ptw: false } };
    if (!bit(desc, 10)) return { ok: false, fault: { stage: 1, kind: 'access-flag', level, s1ptw: false } };
    const attrIdx = field(desc, 4, 2);
    const attr = Number((r.mair >> BigInt(attrIdx * 8)) & 0xffn);
    const ro = bit(desc, 7) || apTableRo;
    const el0 = bit(desc, 6) && !apTableNoEl0;
    const r1 = true, w1 = !ro, r0 = el0, w0 = el0 && !ro;
    const wxn = bit(r.sctlr, 19);
    // EL1 never executes EL0-writable memory (implicit PXN); WXN makes writable memory execute-never
    const x1 = !bit(desc, 53) && !pxnTable && !w0 && !(wxn && w1);
    const x0 = !bit(desc, 54) && !uxnTable && !(wxn && w0);
    let perms = (r1 ? P_R1 : 0) | (w1 ? P_W1 : 0) | (x1 ? P_X1 : 0) | (r0 ? P_R0 : 0) | (w0 ? P_W0 : 0) | (x0 ? P_X0 : 0);
    if ((attr & 0xf0) === 0) perms |= P_DEV;
    return { ok: true, ipa: Number(oa), perms, attr, sh: field(desc, 9, 8), level };
  }
}

/**
 * `walkStage1` with the MMU off, for a VA already known to be below 2^PA_BITS, as a number: the same flat result
 * without BigInt. The CPU's TLB-miss path uses it until the guest turns its MMU on (every fault-in of such a guest).
 */
export function flatStage1(va: number, access: Access): Stage1Ok {
  const perms = P_R1 | P_W1 | P_X1 | P_R0 | P_W0 | P_X0 | P_DEV; // see walkStage1: shared TLB entries
  return { ok: true, ipa: va, perms, attr: access === 'exec' ? 0xff : 0x00, sh: 0, level: 0 };
}

export function needBit(access: Access, el: number): number {
  const b = access === 'read' ? P_R1 : access === 'write' ? P_W1 : P_X1;
  return el === 0 ? b << 3 : b;
}

/** stage 2 permissions as P_* bits */
export function s2Perms(t: S2Translation & { valid: true }): number {
  let p = 0;
  if (t.read) p |= P_R1 | P_R0;
  if (t.write) p |= P_W1 | P_W0;
  if (t.execEl1) p |= P_X1;
  if (t.execEl0) p |= P_X0;
  if (t.device) p |= P_S2DEV;
  return p;
}

/**
 * Full translation of one access: stage 1 (faults to EL1), then stage 2 of the output IPA (faults to EL2).
 * `checkPerms=false` skips the access's permission checks (the debugger wants the mapping).
 */
export function translateFull(
  r: Regime, va: bigint, access: Access, el: number, mem: PhysMem, s2: Stage2Lookup, steps?: WalkStep[],
): FullResult {
  const s1 = walkStage1(r, va, access, mem, s2, steps);
  if (!s1.ok) return s1;
  return translateStage2(s1, access, el, s2);
}

/** The stage 2 half of `translateFull`: permission check of the stage 1 result, then stage 2 of its output IPA. */
export function translateStage2(s1: Stage1Ok, access: Access, el: number, s2: Stage2Lookup): FullResult {
  const need = needBit(access, el);
  if ((s1.perms & need) === 0) return { ok: false, fault: { stage: 1, kind: 'permission', level: s1.level, s1ptw: false } };
  const t = s2.translate(s1.ipa);
  if (!t.valid) {
    return { ok: false, ipa: s1.ipa, fault: { stage: 2, kind: t.reason === 'address-size' ? 'address-size' : 'translation', level: t.level, s1ptw: false, ipa: s1.ipa } };
  }
  if (!t.af) return { ok: false, ipa: s1.ipa, fault: { stage: 2, kind: 'access-flag', level: t.level, s1ptw: false, ipa: s1.ipa } };
  const p2 = s2Perms(t);
  if ((p2 & need) === 0) return { ok: false, ipa: s1.ipa, fault: { stage: 2, kind: 'permission', level: t.level, s1ptw: false, ipa: s1.ipa } };
  const perms = (s1.perms & p2 & 63) | (s1.perms & P_DEV) | (p2 & P_S2DEV);
  return { ok: true, ipa: s1.ipa, pa: t.pa, perms, s1, s2: t };
}
