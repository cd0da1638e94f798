// A64 instruction word -> execution closure. The decode runs once per (PA, word) (cpu.ts caches the closure per
// code page); the closure does only the work of that exact encoding on the lo/hi register halves (regs.ts).
// Bigint appears only in rare instructions (64-bit multiply/divide, EXTR, CLZ/RBIT/REV on X, LSE min/max).
// Encodings follow the Arm ARM A64 encoding index (C4); anything unallocated or unimplemented (SIMD/FP, pairs of
// exclusives, PAC, MTE) is UNDEFINED: an EC 0x00 exception in the guest.

import { decodeBitMask } from './bitmask-imm';
import type { Cpu } from './cpu';
import { ACC_ALIGN, ACC_AR, ACC_ISV, ACC_SAS_SHIFT, ACC_SF, ACC_SSE, ACC_UNPRIV } from './exceptions';
import { hiOf, loOf, rdSp, rdZr, toBig, wrSp, wrZr } from './regs';
import * as regSlots from './regs';
import { sysOpByEncoding, sysregByEncoding } from '../arch/sysregs';

export type Exec = (c: Cpu) => void;

const TWO32 = 4294967296;
/** a module-level copy (imported bindings may compile to getters under CommonJS interop) */
const SP = regSlots.SP;
const MASK64 = (1n << 64n) - 1n;

// 64-bit result scratch (module-level so helpers return two halves without allocating)
let RL = 0;
let RH = 0;

const UNDEF: Exec = (c) => c.undefined();
const NOP: Exec = () => { /* nothing */ };

const sext = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

// ------------------------------------------------------------------------------------------------
// 64-bit helpers on halves
// ------------------------------------------------------------------------------------------------

function shl64(lo: number, hi: number, s: number): void {
  if (s === 0) { RL = lo; RH = hi; } else if (s < 32) { RH = ((hi << s) | (lo >>> (32 - s))) >>> 0; RL = (lo << s) >>> 0; } else { RH = (lo << (s - 32)) >>> 0; RL = 0; }
}
function lsr64(lo: number, hi: number, s: number): void {
  if (s === 0) { RL = lo; RH = hi; } else if (s < 32) { RL = ((lo >>> s) | (hi << (32 - s))) >>> 0; RH = hi >>> s; } else { RL = hi >>> (s - 32); RH = 0; }
}
function asr64(lo: number, hi: number, s: number): void {
  if (s === 0) { RL = lo; RH = hi; } else if (s < 32) { RL = ((lo >>> s) | (hi << (32 - s))) >>> 0; RH = ((hi | 0) >> s) >>> 0; } else { RL = ((hi | 0) >> (s - 32)) >>> 0; RH = ((hi | 0) >> 31) >>> 0; }
}
function ror64(lo: number, hi: number, s: number): void {
  if (s === 0) { RL = lo; RH = hi; } else if (s < 32) { RL = ((lo >>> s) | (hi << (32 - s))) >>> 0; RH = ((hi >>> s) | (lo << (32 - s))) >>> 0; } else if (s === 32) { RL = hi; RH = lo; } else { const t = s - 32; RL = ((hi >>> t) | (lo << (32 - t))) >>> 0; RH = ((lo >>> t) | (hi << (32 - t))) >>> 0; }
}
function shift64(lo: number, hi: number, type: number, s: number): void {
  switch (type) {
    case 0: shl64(lo, hi, s); break;
    case 1: lsr64(lo, hi, s); break;
    case 2: asr64(lo, hi, s); break;
    default: ror64(lo, hi, s);
  }
}
function shift32(v: number, type: number, s: number): number {
  switch (type) {
    case 0: return (v << s) >>> 0;
    case 1: return v >>> s;
    case 2: return ((v | 0) >> s) >>> 0;
    default: return s === 0 ? v : ((v >>> s) | (v << (32 - s))) >>> 0;
  }
}
/** hi:lo + off for any integer |off| < 2^52 */
function addOff(lo: number, hi: number, off: number): void {
  const l = lo + off;
  if (l >= 0 && l < TWO32) { RL = l; RH = hi; return; }
  const carry = Math.floor(l / TWO32);
  RL = l - carry * TWO32;
  RH = (hi + carry) >>> 0;
}

/** 64-bit add with carry in; sets NZCV when `flags` */
function addc64(c: Cpu, alo: number, ahi: number, blo: number, bhi: number, cin: number, flags: boolean): void {
  const l = alo + blo + cin;
  const lc = l >= TWO32 ? 1 : 0;
  const h = ahi + bhi + lc;
  const rl = l >>> 0, rh = h >>> 0;
  if (flags) {
    c.nf = rh >>> 31;
    c.zf = (rl | rh) === 0 ? 1 : 0;
    c.cf = h >= TWO32 ? 1 : 0;
    c.vf = (~(ahi ^ bhi) & (ahi ^ rh)) >>> 31;
  }
  RL = rl; RH = rh;
}
function addc32(c: Cpu, a: number, b: number, cin: number, flags: boolean): number {
  const r = a + b + cin;
  const rr = r >>> 0;
  if (flags) {
    c.nf = rr >>> 31;
    c.zf = rr === 0 ? 1 : 0;
    c.cf = r >= TWO32 ? 1 : 0;
    c.vf = (~(a ^ b) & (a ^ rr)) >>> 31;
  }
  return rr;
}
/** Rd := Rn ± operand2 (W or X), optionally setting flags */
function arith(c: Cpu, d: number, sf: boolean, sub: boolean, flags: boolean, alo: number, ahi: number, blo: number, bhi: number): void {
  if (sub) { blo = ~blo >>> 0; bhi = ~bhi >>> 0; }
  if (sf) { addc64(c, alo, ahi, blo, bhi, sub ? 1 : 0, flags); c.lo[d] = RL; c.hi[d] = RH; } else { c.lo[d] = addc32(c, alo, blo, sub ? 1 : 0, flags); c.hi[d] = 0; }
}
function logicFlags(c: Cpu, lo: number, hi: number, sf: boolean): void {
  c.nf = sf ? hi >>> 31 : lo >>> 31;
  c.zf = (sf ? (lo | hi) : lo) === 0 ? 1 : 0;
  c.cf = 0; c.vf = 0;
}

export function condHolds(c: Cpu, cond: number): boolean {
  let r: boolean;
  switch (cond >> 1) {
    case 0: r = c.zf === 1; break;
    case 1: r = c.cf === 1; break;
    case 2: r = c.nf === 1; break;
    case 3: r = c.vf === 1; break;
    case 4: r = c.cf === 1 && c.zf === 0; break;
    case 5: r = c.nf === c.vf; break;
    case 6: r = c.nf === c.vf && c.zf === 0; break;
    default: return true;
  }
  return (cond & 1) !== 0 ? !r : r;
}

const gx = (c: Cpu, n: number): bigint => toBig(c.lo[n], c.hi[n]);
const sx = (c: Cpu, d: number, v: bigint): void => { c.lo[d] = loOf(v); c.hi[d] = hiOf(v); };
const sw = (c: Cpu, d: number, v: number): void => { c.lo[d] = v; c.hi[d] = 0; };

/** extend Rm per option (UXTB..SXTX) then shift left by amt, into RL/RH */
function extendReg(c: Cpu, m: number, option: number, amt: number): void {
  let lo = c.lo[m], hi = c.hi[m];
  switch (option) {
    case 0: lo &= 0xff; hi = 0; break;
    case 1: lo &= 0xffff; hi = 0; break;
    case 2: hi = 0; break;
    case 3: break;
    case 4: lo = sext(lo & 0xff, 8); hi = lo < 0 ? 0xffffffff : 0; lo >>>= 0; break;
    case 5: lo = sext(lo & 0xffff, 16); hi = lo < 0 ? 0xffffffff : 0; lo >>>= 0; break;
    case 6: hi = (lo | 0) < 0 ? 0xffffffff : 0; break;
    default: break;
  }
  shl64(lo, hi, amt);
}

// ------------------------------------------------------------------------------------------------
// top level
// ------------------------------------------------------------------------------------------------

export function decodeExec(word: number): Exec {
  const w = word >>> 0;
  const op0 = (w >>> 25) & 0xf;
  if ((op0 & 0b1110) === 0b1000) return dpImm(w);
  if ((op0 & 0b1110) === 0b1010) return branchSys(w);
  if ((op0 & 0b0101) === 0b0100) return loadStore(w);
  if ((op0 & 0b0111) === 0b0101) return dpReg(w);
  return UNDEF;
}

// ------------------------------------------------------------------------------------------------
// data processing, immediate
// ------------------------------------------------------------------------------------------------

function dpImm(w: number): Exec {
  const sf = (w >>> 31) === 1;
  const rd = w & 31, rn = (w >>> 5) & 31;
  switch ((w >>> 23) & 7) {
    case 0: case 1: { // ADR / ADRP
      const imm = sext((((w >>> 5) & 0x7ffff) << 2) | ((w >>> 29) & 3), 21);
      const d = wrZr(rd);
      if ((w >>> 31) === 0) return (c) => { addOff(c.pcLo, c.pcHi, imm); c.lo[d] = RL; c.hi[d] = RH; };
      const off = imm * 4096;
      return (c) => { addOff((c.pcLo & ~0xfff) >>> 0, c.pcHi, off); c.lo[d] = RL; c.hi[d] = RH; };
    }
    case 2: { // ADD/ADDS/SUB/SUBS (immediate)
      const sub = ((w >>> 30) & 1) === 1, flags = ((w >>> 29) & 1) === 1;
      const imm = ((w >>> 10) & 0xfff) * (((w >>> 22) & 1) === 1 ? 4096 : 1);
      const n = rdSp(rn), d = flags ? wrZr(rd) : wrSp(rd);
      if (!flags) {
        if (sf) {
          if (!sub) return (c) => { const l = c.lo[n] + imm; c.hi[d] = c.hi[n] + (l >= TWO32 ? 1 : 0); c.lo[d] = l; };
          return (c) => { const l = c.lo[n] - imm; c.hi[d] = c.hi[n] - (l < 0 ? 1 : 0); c.lo[d] = l; };
        }
        if (!sub) return (c) => { c.lo[d] = c.lo[n] + imm; c.hi[d] = 0; };
        return (c) => { c.lo[d] = c.lo[n] - imm; c.hi[d] = 0; };
      }
      const blo = sub ? ~imm >>> 0 : imm, bhi = sub ? 0xffffffff : 0, cin = sub ? 1 : 0;
      if (sf) return (c) => { addc64(c, c.lo[n], c.hi[n], blo, bhi, cin, true); c.lo[d] = RL; c.hi[d] = RH; };
      return (c) => { c.lo[d] = addc32(c, c.lo[n], blo, cin, true); c.hi[d] = 0; };
    }
    case 4: { // logical (immediate)
      const opc = (w >>> 29) & 3, N = (w >>> 22) & 1;
      const mask = decodeBitMask(N, (w >>> 16) & 63, (w >>> 10) & 63, sf ? 64 : 32);
      if (mask === undefined) return UNDEF;
      const ml = loOf(mask), mh = hiOf(mask);
      const n = rdZr(rn), d = opc === 3 ? wrZr(rd) : wrSp(rd);
      switch (opc) {
        case 0: return (c) => { c.lo[d] = c.lo[n] & ml; c.hi[d] = c.hi[n] & mh; };
        case 1: return (c) => { c.lo[d] = c.lo[n] | ml; c.hi[d] = sf ? c.hi[n] | mh : 0; };
        case 2: return (c) => { c.lo[d] = c.lo[n] ^ ml; c.hi[d] = sf ? c.hi[n] ^ mh : 0; };
        default: return (c) => { const l = (c.lo[n] & ml) >>> 0, h = (c.hi[n] & mh) >>> 0; logicFlags(c, l, h, sf); c.lo[d] = l; c.hi[d] = h; };
      }
    }
    case 5: { // MOVN / MOVZ / MOVK
      const opc = (w >>> 29) & 3, hw = (w >>> 21) & 3, imm = (w >>> 5) & 0xffff;
      if (opc === 1 || (!sf && hw >= 2)) return UNDEF;
      const d = wrZr(rd);
      const pos = hw * 16;
      const vlo = pos < 32 ? (imm << pos) >>> 0 : 0, vhi = pos >= 32 ? (imm << (pos - 32)) >>> 0 : 0;
      if (opc === 2) return (c) => { c.lo[d] = vlo; c.hi[d] = vhi; };
      if (opc === 0) {
        const nl = ~vlo >>> 0, nh = sf ? ~vhi >>> 0 : 0;
        return (c) => { c.lo[d] = nl; c.hi[d] = nh; };
      }
      const kl = pos < 32 ? ~(0xffff << pos) >>> 0 : 0xffffffff, kh = pos >= 32 ? ~(0xffff << (pos - 32)) >>> 0 : 0xffffffff;
      return (c) => { c.lo[d] = (c.lo[d] & kl) | vlo; c.hi[d] = sf ? (c.hi[d] & kh) | vhi : 0; };
    }
    case 6: return bitfield(w);
    case 7: { // EXTR
      const N = (w >>> 22) & 1, lsb = (w >>> 10) & 63, rm = (w >>> 16) & 31;
      if (((w >>> 29) & 3) !== 0 || ((w >>> 21) & 1) !== 0 || N !== (sf ? 1 : 0) || (!sf && lsb >= 32)) return UNDEF;
      const n = rdZr(rn), m = rdZr(rm), d = wrZr(rd);
      if (sf) {
        const sh = BigInt(lsb);
        return (c) => { sx(c, d, (((gx(c, n) << 64n) | gx(c, m)) >> sh) & MASK64); };
      }
      return (c) => { const v = lsb === 0 ? c.lo[m] : ((c.lo[m] >>> lsb) | (c.lo[n] << (32 - lsb))) >>> 0; sw(c, d, v); };
    }
    default: return UNDEF;
  }
}

function bitfield(w: number): Exec {
  const sf = (w >>> 31) === 1;
  const opc = (w >>> 29) & 3, N = (w >>> 22) & 1, immr = (w >>> 16) & 63, imms = (w >>> 10) & 63;
  if (opc === 3 || N !== (sf ? 1 : 0) || (!sf && (immr >= 32 || imms >= 32))) return UNDEF;
  const esize = sf ? 64 : 32;
  const R = immr, S = imms;
  const diff = (S - R) & (esize - 1);
  const E = BigInt(esize);
  const emask = (1n << E) - 1n;
  const welem = (1n << BigInt(S + 1)) - 1n;
  const wmask = R === 0 ? welem : ((welem >> BigInt(R)) | (welem << (E - BigInt(R)))) & emask;
  const tmask = (1n << BigInt(diff + 1)) - 1n;
  const wl = loOf(wmask), wh = hiOf(wmask), tl = loOf(tmask), th = hiOf(tmask);
  const n = rdZr((w >>> 5) & 31), d = wrZr(w & 31);
  if (!sf) {
    if (opc === 2) return (c) => { const v = c.lo[n]; const r = R === 0 ? v : ((v >>> R) | (v << (32 - R))) >>> 0; sw(c, d, (r & wl & tl) >>> 0); };
    if (opc === 0) {
      return (c) => {
        const v = c.lo[n];
        const r = R === 0 ? v : ((v >>> R) | (v << (32 - R))) >>> 0;
        const top = ((v >>> S) & 1) === 1 ? 0xffffffff : 0;
        sw(c, d, ((top & ~tl) | (r & wl & tl)) >>> 0);
      };
    }
    return (c) => {
      const v = c.lo[n];
      const r = R === 0 ? v : ((v >>> R) | (v << (32 - R))) >>> 0;
      const bot = (c.lo[d] & ~wl) | (r & wl);
      sw(c, d, ((c.lo[d] & ~tl) | (bot & tl)) >>> 0);
    };
  }
  if (opc === 2) return (c) => { ror64(c.lo[n], c.hi[n], R); c.lo[d] = RL & wl & tl; c.hi[d] = RH & wh & th; };
  if (opc === 0) {
    return (c) => {
      const sbit = S < 32 ? (c.lo[n] >>> S) & 1 : (c.hi[n] >>> (S - 32)) & 1;
      const top = sbit === 1 ? 0xffffffff : 0;
      ror64(c.lo[n], c.hi[n], R);
      c.lo[d] = (top & ~tl) | (RL & wl & tl);
      c.hi[d] = (top & ~th) | (RH & wh & th);
    };
  }
  return (c) => {
    ror64(c.lo[n], c.hi[n], R);
    const bl = (c.lo[d] & ~wl) | (RL & wl), bh = (c.hi[d] & ~wh) | (RH & wh);
    c.lo[d] = (c.lo[d] & ~tl) | (bl & tl);
    c.hi[d] = (c.hi[d] & ~th) | (bh & th);
  };
}

// ------------------------------------------------------------------------------------------------
// branches, exception generation, system
// ------------------------------------------------------------------------------------------------

function jumpRel(c: Cpu, off: number): void {
  addOff(c.pcLo, c.pcHi, off);
  c.pcLo = RL; c.pcHi = RH;
  c.jumped = true;
}

function branchSys(w: number): Exec {
  if (((w & 0x7c000000) >>> 0) === 0x14000000) { // B / BL
    const off = sext(w & 0x3ffffff, 26) * 4;
    if ((w >>> 31) === 0) return (c) => jumpRel(c, off);
    return (c) => {
      addOff(c.pcLo, c.pcHi, 4);
      const rl = RL, rh = RH;
      c.lo[30] = rl; c.hi[30] = rh;
      c.pushCall(rl, rh);
      jumpRel(c, off);
    };
  }
  if (((w & 0x7e000000) >>> 0) === 0x34000000) { // CBZ / CBNZ
    const sf = (w >>> 31) === 1, nz = ((w >>> 24) & 1) === 1, t = w & 31;
    const off = sext((w >>> 5) & 0x7ffff, 19) * 4;
    if (sf) return nz ? (c) => { if ((c.lo[t] | c.hi[t]) !== 0) jumpRel(c, off); } : (c) => { if ((c.lo[t] | c.hi[t]) === 0) jumpRel(c, off); };
    return nz ? (c) => { if (c.lo[t] !== 0) jumpRel(c, off); } : (c) => { if (c.lo[t] === 0) jumpRel(c, off); };
  }
  if (((w & 0x7e000000) >>> 0) === 0x36000000) { // TBZ / TBNZ
    const b = (((w >>> 31) & 1) << 5) | ((w >>> 19) & 31), nz = ((w >>> 24) & 1) === 1, t = w & 31;
    const off = sext((w >>> 5) & 0x3fff, 14) * 4;
    const want = nz ? 1 : 0;
    if (b < 32) return (c) => { if (((c.lo[t] >>> b) & 1) === want) jumpRel(c, off); };
    const bb = b - 32;
    return (c) => { if (((c.hi[t] >>> bb) & 1) === want) jumpRel(c, off); };
  }
  if (((w & 0xff000010) >>> 0) === 0x54000000) { // B.cond
    const cond = w & 15;
    const off = sext((w >>> 5) & 0x7ffff, 19) * 4;
    switch (cond) {
      case 0: return (c) => { if (c.zf === 1) jumpRel(c, off); };
      case 1: return (c) => { if (c.zf === 0) jumpRel(c, off); };
      case 10: return (c) => { if (c.nf === c.vf) jumpRel(c, off); };
      case 11: return (c) => { if (c.nf !== c.vf) jumpRel(c, off); };
      case 14: case 15: return (c) => jumpRel(c, off);
      default: return (c) => { if (condHolds(c, cond)) jumpRel(c, off); };
    }
  }
  if (((w & 0xff000000) >>> 0) === 0xd4000000) { // exception generation
    const opc = (w >>> 21) & 7, imm = (w >>> 5) & 0xffff, op2 = (w >>> 2) & 7, ll = w & 3;
    if (op2 !== 0) return UNDEF;
    if (opc === 0 && ll === 1) return (c) => c.svc(imm);
    if (opc === 0 && ll === 2) return (c) => c.hvc(imm);
    if (opc === 0 && ll === 3) return (c) => c.smc(imm);
    if (opc === 1 && ll === 0) return (c) => c.brk(imm);
    return UNDEF;
  }
  if (((w & 0xffc00000) >>> 0) === 0xd5000000) return system(w);
  if (((w & 0xfe000000) >>> 0) === 0xd6000000) { // branch (register)
    const opc = (w >>> 21) & 15, op2 = (w >>> 16) & 31, op3 = (w >>> 10) & 63, rn = (w >>> 5) & 31, op4 = w & 31;
    if (op2 !== 31 || op3 !== 0 || op4 !== 0) return UNDEF;
    const n = rdZr(rn);
    switch (opc) {
      case 0: return (c) => { c.pcLo = c.lo[n]; c.pcHi = c.hi[n]; c.jumped = true; };
      case 1: return (c) => {
        const tl = c.lo[n], th = c.hi[n];
        addOff(c.pcLo, c.pcHi, 4);
        const rl = RL, rh = RH;
        c.lo[30] = rl; c.hi[30] = rh;
        c.pushCall(rl, rh);
        c.pcLo = tl; c.pcHi = th; c.jumped = true;
      };
      case 2: return (c) => { const tl = c.lo[n], th = c.hi[n]; c.popCall(tl, th); c.pcLo = tl; c.pcHi = th; c.jumped = true; };
      case 4: return rn === 31 ? (c) => c.eret() : UNDEF;
      default: return UNDEF;
    }
  }
  return UNDEF;
}

function system(w: number): Exec {
  const L = (w >>> 21) & 1, op0 = (w >>> 19) & 3, op1 = (w >>> 16) & 7, crn = (w >>> 12) & 15, crm = (w >>> 8) & 15, op2 = (w >>> 5) & 7, rt = w & 31;
  if (op0 === 0) {
    if (L !== 0) return UNDEF;
    if (crn === 2 && rt === 31) { // hints
      const h = (crm << 3) | op2;
      if (h === 3) return (c) => c.wfi();
      // WFE is a NOP: the machine models no event register (a WFE spin loop just spins; documented)
      if (h === 0x11) return (c) => c.psbCsync();
      return NOP;
    }
    if (crn === 3 && rt === 31) { // barriers
      if (op2 === 2) return (c) => { c.exclPa = -1; }; // CLREX
      if (op2 === 4 || op2 === 5 || op2 === 6 || op2 === 7) return NOP; // DSB DMB ISB SB
      return UNDEF;
    }
    if (crn === 4 && rt === 31) { // MSR (immediate) to PSTATE fields
      if (op1 === 3 && (op2 === 6 || op2 === 7)) {
        const set = op2 === 6;
        return (c) => {
          // EL0 needs SCTLR_EL1.UMA (bit 9)
          if (c.el === 0 && (c.sys.get('SCTLR_EL1') & 0x200n) === 0n) c.undefined();
          c.daif = set ? c.daif | crm : c.daif & ~crm;
        };
      }
      if (op1 === 0 && op2 === 5) return (c) => { if (c.el === 0) c.undefined(); c.switchMode(1, crm & 1); };
      return UNDEF;
    }
    return UNDEF;
  }
  if (op0 === 1) { // SYS: DC / IC / AT / TLBI
    if (L !== 0) return UNDEF;
    const op = sysOpByEncoding(op1, crn, crm, op2);
    if (op === undefined) return UNDEF;
    const t = rdZr(rt);
    const el1Only = (f: Exec): Exec => (c) => { if (c.el === 0) c.undefined(); f(c); };
    switch (op.name) {
      case 'DC ZVA': return (c) => {
        if (c.el === 0 && (c.sys.get('SCTLR_EL1') & 0x4000n) === 0n) c.undefined(); // SCTLR_EL1.DZE
        c.dcZva(c.lo[t], c.hi[t]);
      };
      case 'DC CIVAC': case 'DC CVAC': case 'DC CVAU': case 'DC CVAP': return (c) => {
        if (c.el === 0 && (c.sys.get('SCTLR_EL1') & (1n << 26n)) === 0n) c.undefined(); // SCTLR_EL1.UCI
        c.dcByVa(c.lo[t], c.hi[t]);
      };
      case 'DC IVAC': return el1Only((c) => c.dcByVa(c.lo[t], c.hi[t]));
      case 'DC ISW': case 'DC CSW': case 'DC CISW': return el1Only(NOP);
      // the decoded-instruction cache revalidates each word on fetch, so IC needs no work
      case 'IC IALLU': case 'IC IALLUIS': return el1Only(NOP);
      case 'IC IVAU': return (c) => { if (c.el === 0 && (c.sys.get('SCTLR_EL1') & (1n << 26n)) === 0n) c.undefined(); };
      case 'AT S1E1R': return el1Only((c) => c.at(c.lo[t], c.hi[t], false, false));
      case 'AT S1E1W': return el1Only((c) => c.at(c.lo[t], c.hi[t], true, false));
      case 'AT S1E0R': return el1Only((c) => c.at(c.lo[t], c.hi[t], false, true));
      case 'AT S1E0W': return el1Only((c) => c.at(c.lo[t], c.hi[t], true, true));
      default:
        if (op.name.startsWith('TLBI ')) return el1Only((c) => c.tlbFlush());
        return UNDEF;
    }
  }
  // MRS / MSR (register)
  const def = sysregByEncoding(op0, op1, crn, crm, op2);
  if (def === undefined) {
    // unallocated encodings in the ID register space (op0=3, op1=0, CRn=0, CRm=1..7) read as zero
    if (L === 1 && op0 === 3 && op1 === 0 && crn === 0 && crm >= 1) {
      const d = wrZr(rt);
      return (c) => { if (c.el === 0) c.undefined(); c.lo[d] = 0; c.hi[d] = 0; };
    }
    return UNDEF;
  }
  const name = def.name;
  if (L === 1) {
    if (def.access === 'w') return UNDEF;
    const d = wrZr(rt);
    return (c) => { const v = c.mrs(name); sx(c, d, v); };
  }
  if (def.access === 'r') return UNDEF;
  const t = rdZr(rt);
  return (c) => c.msr(name, gx(c, t));
}

// ------------------------------------------------------------------------------------------------
// loads and stores
// ------------------------------------------------------------------------------------------------

/** kinds of single-register transfers */
const K_STORE = 0, K_LOAD = 1, K_LOADS64 = 2, K_LOADS32 = 3;

/**
 * One single-register load/store. Returns false when it took a stage 2 fault (cpu.ts `tryLoad`): the caller must
 * return at once, with no register or writeback update. These are the accesses that fault memory in, so they use
 * the non-throwing path; the rarer pair/exclusive/atomic forms keep the unwinding `load`/`store`.
 */
function transfer(c: Cpu, kind: number, size: number, t: number, alo: number, ahi: number, acc: number): boolean {
  if (kind === K_STORE) return c.tryStore(alo, ahi, size, c.lo[t], c.hi[t], acc);
  if (!c.tryLoad(alo, ahi, size, acc)) return false;
  let l = c.mlo, h = c.mhi;
  if (kind === K_LOADS64) {
    if (size === 1) l = sext(l, 8); else if (size === 2) l = sext(l, 16); else l = l | 0;
    h = l < 0 ? 0xffffffff : 0;
    l >>>= 0;
  } else if (kind === K_LOADS32) {
    l = (size === 1 ? sext(l, 8) : sext(l, 16)) >>> 0;
    h = 0;
  }
  c.lo[t] = l; c.hi[t] = h;
  return true;
}

/** ISS of a single-register access: SAS, SSE, SRT, SF, AR, ISV */
function accFor(kind: number, sz: number, rt: number, isv: boolean, ar: boolean): number {
  const sse = kind === K_LOADS64 || kind === K_LOADS32;
  const sf = kind === K_LOADS64 || (kind !== K_LOADS32 && sz === 3);
  return (rt & 31) | (sse ? ACC_SSE : 0) | (sf ? ACC_SF : 0) | (ar ? ACC_AR | ACC_ALIGN : 0) | (isv ? ACC_ISV : 0) | (sz << ACC_SAS_SHIFT);
}

function singleKind(sz: number, opc: number): number {
  if (opc === 0) return K_STORE;
  if (opc === 1) return K_LOAD;
  if (opc === 2) return sz === 3 ? -1 /* PRFM */ : K_LOADS64;
  return sz >= 2 ? -2 /* unallocated */ : K_LOADS32;
}

/** SP as the base register: with SCTLR_EL1.SA (EL1) / SA0 (EL0) a misaligned SP is an SP alignment fault */
function loadStore(w: number): Exec {
  const f = loadStoreOp(w);
  const literal = ((w & 0x3b000000) >>> 0) === 0x18000000;
  if (f === UNDEF || f === NOP || literal || ((w >>> 5) & 31) !== 31) return f;
  return (c) => {
    if ((c.lo[SP] & 15) !== 0 && c.spAlignChecked()) c.spAlignmentFault();
    f(c);
  };
}

function loadStoreOp(w: number): Exec {
  const V = (w >>> 26) & 1;
  if (((w & 0x3f000000) >>> 0) === 0x08000000) return exclusive(w);
  if (V === 1) return UNDEF; // no SIMD/FP registers
  const rt = w & 31, rn = (w >>> 5) & 31;
  if (((w & 0x3b000000) >>> 0) === 0x18000000) { // load literal
    const opc = w >>> 30;
    const off = sext((w >>> 5) & 0x7ffff, 19) * 4;
    if (opc === 3) return NOP; // PRFM literal
    // LDRSW (literal) reads a word (Arm ARM C6.2 LDRSW (literal): datasize 32), sign-extended to 64 bits
    const size = opc === 1 ? 8 : 4, kind = opc === 2 ? K_LOADS64 : K_LOAD;
    const sz = opc === 0 ? 2 : opc === 1 ? 3 : 2;
    const t = wrZr(rt), acc = accFor(kind, sz, rt, true, false);
    return (c) => { addOff(c.pcLo, c.pcHi, off); transfer(c, kind, size, t, RL, RH, acc); };
  }
  if (((w & 0x3a000000) >>> 0) === 0x28000000) return pair(w);
  if (((w & 0x38000000) >>> 0) !== 0x38000000) return UNDEF;
  const sz = w >>> 30, opc = (w >>> 22) & 3, size = 1 << sz;
  const n = rdSp(rn);
  if (((w & 0x3b000000) >>> 0) === 0x39000000) { // unsigned immediate offset
    const kind = singleKind(sz, opc);
    if (kind === -1) return NOP;
    if (kind === -2) return UNDEF;
    const off = ((w >>> 10) & 0xfff) << sz;
    const t = kind === K_STORE ? rdZr(rt) : wrZr(rt), acc = accFor(kind, sz, rt, true, false);
    if (kind === K_LOAD && sz === 3) {
      return (c) => { addOff(c.lo[n], c.hi[n], off); if (c.tryLoad(RL, RH, 8, acc)) { c.lo[t] = c.mlo; c.hi[t] = c.mhi; } };
    }
    if (kind === K_LOAD && sz === 2) {
      return (c) => { addOff(c.lo[n], c.hi[n], off); if (c.tryLoad(RL, RH, 4, acc)) { c.lo[t] = c.mlo; c.hi[t] = 0; } };
    }
    return (c) => { addOff(c.lo[n], c.hi[n], off); transfer(c, kind, size, t, RL, RH, acc); };
  }
  if (((w & 0x3b200000) >>> 0) === 0x38000000) { // imm9: unscaled, post-index, unprivileged, pre-index
    const kind = singleKind(sz, opc);
    const type = (w >>> 10) & 3;
    if (kind === -1) return type === 0 ? NOP : UNDEF; // PRFUM
    if (kind === -2) return UNDEF;
    const imm = sext((w >>> 12) & 0x1ff, 9);
    const t = kind === K_STORE ? rdZr(rt) : wrZr(rt);
    if (type === 0 || type === 2) { // LDUR/STUR; LDTR/STTR (type 2) use EL0 permissions
      const acc = accFor(kind, sz, rt, true, false) | (type === 2 ? ACC_UNPRIV : 0);
      return (c) => { addOff(c.lo[n], c.hi[n], imm); transfer(c, kind, size, t, RL, RH, acc); };
    }
    const acc = accFor(kind, sz, rt, false, false); // writeback: ISV=0 (spec C.1)
    if (type === 1) { // post-index
      return (c) => {
        const bl = c.lo[n], bh = c.hi[n];
        if (!transfer(c, kind, size, t, bl, bh, acc)) return;
        addOff(bl, bh, imm); c.lo[n] = RL; c.hi[n] = RH;
      };
    }
    return (c) => { // pre-index
      addOff(c.lo[n], c.hi[n], imm);
      const al = RL, ah = RH;
      if (!transfer(c, kind, size, t, al, ah, acc)) return;
      c.lo[n] = al; c.hi[n] = ah;
    };
  }
  if (((w & 0x3b200c00) >>> 0) === 0x38200800) { // register offset
    const kind = singleKind(sz, opc);
    const option = (w >>> 13) & 7, S = (w >>> 12) & 1, rm = (w >>> 16) & 31;
    if ((option & 2) === 0) return UNDEF;
    if (kind === -1) return NOP;
    if (kind === -2) return UNDEF;
    const m = rdZr(rm), amt = S === 1 ? sz : 0;
    const t = kind === K_STORE ? rdZr(rt) : wrZr(rt), acc = accFor(kind, sz, rt, true, false);
    return (c) => {
      extendReg(c, m, option, amt);
      addc64(c, c.lo[n], c.hi[n], RL, RH, 0, false);
      transfer(c, kind, size, t, RL, RH, acc);
    };
  }
  if (((w & 0x3b200c00) >>> 0) === 0x38200000) return atomic(w);
  return UNDEF;
}

function pair(w: number): Exec {
  const opc = w >>> 30, L = (w >>> 22) & 1, mode = (w >>> 23) & 3;
  if (opc === 3 || (opc === 1 && (L === 0 || mode === 0))) return UNDEF; // no STGP, no signed LDNP
  const sz = opc === 2 ? 3 : 2, size = 1 << sz;
  const kind = L === 0 ? K_STORE : opc === 1 ? K_LOADS64 : K_LOAD;
  const imm = sext((w >>> 15) & 0x7f, 7) * size;
  const rt = w & 31, rt2 = (w >>> 10) & 31, n = rdSp((w >>> 5) & 31);
  const t1 = kind === K_STORE ? rdZr(rt) : wrZr(rt), t2 = kind === K_STORE ? rdZr(rt2) : wrZr(rt2);
  const acc = sz << ACC_SAS_SHIFT; // pairs: ISV=0
  const both = (c: Cpu, al: number, ah: number): void => {
    if (kind === K_STORE) {
      c.store(al, ah, size, c.lo[t1], c.hi[t1], acc);
      addOff(al, ah, size);
      c.store(RL, RH, size, c.lo[t2], c.hi[t2], acc);
      return;
    }
    // both loads complete before either register is written (a fault on the second leaves Rt unchanged)
    c.load(al, ah, size, acc);
    const l1 = c.mlo, h1 = c.mhi;
    addOff(al, ah, size);
    c.load(RL, RH, size, acc);
    const l2 = c.mlo, h2 = c.mhi;
    if (kind === K_LOADS64) {
      c.lo[t1] = l1; c.hi[t1] = (l1 | 0) < 0 ? 0xffffffff : 0;
      c.lo[t2] = l2; c.hi[t2] = (l2 | 0) < 0 ? 0xffffffff : 0;
    } else {
      c.lo[t1] = l1; c.hi[t1] = h1; c.lo[t2] = l2; c.hi[t2] = h2;
    }
  };
  switch (mode) {
    case 0: case 2: return (c) => { addOff(c.lo[n], c.hi[n], imm); both(c, RL, RH); };
    case 1: return (c) => { const bl = c.lo[n], bh = c.hi[n]; both(c, bl, bh); addOff(bl, bh, imm); c.lo[n] = RL; c.hi[n] = RH; };
    default: return (c) => { addOff(c.lo[n], c.hi[n], imm); const al = RL, ah = RH; both(c, al, ah); c.lo[n] = al; c.hi[n] = ah; };
  }
}

/** read `size` bytes at a PA (monitor compare) */
function peek(c: Cpu, pa: number, size: number): void {
  const m = c.mem;
  switch (size) {
    case 1: c.mlo = m.read8(pa); c.mhi = 0; break;
    case 2: c.mlo = m.read16(pa); c.mhi = 0; break;
    case 4: c.mlo = m.read32(pa); c.mhi = 0; break;
    default: c.mlo = m.read32(pa); c.mhi = m.read32(pa + 4);
  }
}

const sizeMaskLo = (size: number): number => (size >= 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff);

function exclusive(w: number): Exec {
  const sz = w >>> 30, size = 1 << sz;
  // o0 (bit 15) selects acquire/release ordering, which a sequential interpreter gets for free
  const o2 = (w >>> 23) & 1, L = (w >>> 22) & 1, o1 = (w >>> 21) & 1;
  const rs = (w >>> 16) & 31, rt2 = (w >>> 10) & 31, rn = (w >>> 5) & 31, rt = w & 31;
  const n = rdSp(rn);
  if (o2 === 0 && o1 === 0) {
    // LDXR/LDAXR/STXR/STLXR: exclusives report ISV=0 (QEMU gen_load_exclusive/gen_store_exclusive set no ISS)
    const acc = ACC_ALIGN | (sz << ACC_SAS_SHIFT);
    if (L === 1) {
      const t = wrZr(rt);
      return (c) => {
        c.load(c.lo[n], c.hi[n], size, acc);
        c.exclPa = c.accPa; c.exclSize = size; c.exclLo = c.mlo; c.exclHi = c.mhi;
        c.lo[t] = c.mlo; c.hi[t] = c.mhi;
      };
    }
    const s = wrZr(rs), t = rdZr(rt);
    return (c) => {
      const al = c.lo[n], ah = c.hi[n];
      const pa = c.xlate(al, ah, 1, size, acc);
      let ok = c.exclPa === pa && c.exclSize === size;
      if (ok) {
        // the value must be unchanged since the LDXR (QEMU-style cmpxchg monitor; catches other vcpus' stores)
        peek(c, pa, size);
        ok = c.mlo === c.exclLo && c.mhi === c.exclHi;
      }
      c.exclPa = -1;
      if (ok) c.store(al, ah, size, c.lo[t], c.hi[t], acc);
      c.lo[s] = ok ? 0 : 1; c.hi[s] = 0;
    };
  }
  if (o2 === 1 && o1 === 0) { // LDAR/LDLAR/STLR/STLLR: single register, ISV=1 with AR=1 (Rs/Rt2 should-be-one, ignored)
    const kind = L === 1 ? K_LOAD : K_STORE;
    const t = kind === K_STORE ? rdZr(rt) : wrZr(rt), acc = accFor(kind, sz, rt, true, true);
    return (c) => transfer(c, kind, size, t, c.lo[n], c.hi[n], acc);
  }
  if (o2 === 1 && o1 === 1) { // CAS, CASA, CASL, CASAL
    if (rt2 !== 31) return UNDEF;
    const s = rs, t = rdZr(rt);
    const acc = ACC_ALIGN | (sz << ACC_SAS_SHIFT);
    const ml = sizeMaskLo(size);
    return (c) => {
      const al = c.lo[n], ah = c.hi[n];
      c.xlate(al, ah, 1, size, acc); // an atomic needs write permission: faults report WnR=1
      c.load(al, ah, size, acc);
      const ol = c.mlo, oh = c.mhi;
      const cl = c.lo[s] & ml, ch = size === 8 ? c.hi[s] : 0;
      if (ol === (cl >>> 0) && oh === ch) c.store(al, ah, size, c.lo[t], c.hi[t], acc);
      if (s !== 31) { c.lo[s] = ol; c.hi[s] = oh; }
    };
  }
  return UNDEF; // LDXP/STXP/CASP not provided
}

function atomic(w: number): Exec {
  const sz = w >>> 30, size = 1 << sz;
  const rs = (w >>> 16) & 31, o3 = (w >>> 15) & 1, opc = (w >>> 12) & 7, n = rdSp((w >>> 5) & 31), rt = w & 31;
  if (o3 === 1 && opc !== 0) return UNDEF; // LDAPR etc. not provided
  const s = rdZr(rs), t = wrZr(rt);
  const acc = ACC_ALIGN | (sz << ACC_SAS_SHIFT); // LSE atomics: ISV=0
  const ml = sizeMaskLo(size);
  const bits = size * 8;
  const signedOf = (l: number, h: number): bigint => BigInt.asIntN(bits, toBig(l, h));
  const unsignedOf = (l: number, h: number): bigint => BigInt.asUintN(bits, toBig(l, h));
  return (c) => {
    const al = c.lo[n], ah = c.hi[n];
    c.xlate(al, ah, 1, size, acc);
    c.load(al, ah, size, acc);
    const ol = c.mlo, oh = c.mhi;
    const vl = c.lo[s], vh = c.hi[s];
    let nl: number, nh: number;
    if (o3 === 1) { nl = vl; nh = vh; } else {
      switch (opc) {
        case 0: addc64(c, ol, oh, vl, vh, 0, false); nl = RL; nh = RH; break;
        case 1: nl = ol & ~vl; nh = oh & ~vh; break;
        case 2: nl = ol ^ vl; nh = oh ^ vh; break;
        case 3: nl = ol | vl; nh = oh | vh; break;
        default: {
          const signed = opc === 4 || opc === 5, max = opc === 4 || opc === 6;
          const a = signed ? signedOf(ol, oh) : unsignedOf(ol, oh), b = signed ? signedOf(vl, vh) : unsignedOf(vl, vh);
          const pick = max ? (a >= b ? a : b) : (a <= b ? a : b);
          const u = BigInt.asUintN(64, pick);
          nl = loOf(u); nh = hiOf(u);
        }
      }
    }
    c.store(al, ah, size, (nl & ml) >>> 0, size === 8 ? nh >>> 0 : 0, acc);
    c.lo[t] = ol; c.hi[t] = oh;
  };
}

// ------------------------------------------------------------------------------------------------
// data processing, register
// ------------------------------------------------------------------------------------------------

function dpReg(w: number): Exec {
  const sf = (w >>> 31) === 1;
  const rd = w & 31, rn = (w >>> 5) & 31, rm = (w >>> 16) & 31;
  if (((w & 0x1f000000) >>> 0) === 0x0a000000) { // logical (shifted register)
    const opc = (w >>> 29) & 3, type = (w >>> 22) & 3, inv = ((w >>> 21) & 1) === 1, amt = (w >>> 10) & 63;
    if (!sf && amt >= 32) return UNDEF;
    const n = rdZr(rn), m = rdZr(rm), d = wrZr(rd);
    if (opc === 1 && !inv && amt === 0 && rn === 31) {
      return sf ? (c) => { c.lo[d] = c.lo[m]; c.hi[d] = c.hi[m]; } : (c) => { c.lo[d] = c.lo[m]; c.hi[d] = 0; }; // MOV
    }
    if (sf) {
      return (c) => {
        shift64(c.lo[m], c.hi[m], type, amt);
        let bl = RL, bh = RH;
        if (inv) { bl = ~bl; bh = ~bh; }
        let l: number, h: number;
        switch (opc) {
          case 0: case 3: l = c.lo[n] & bl; h = c.hi[n] & bh; break;
          case 1: l = c.lo[n] | bl; h = c.hi[n] | bh; break;
          default: l = c.lo[n] ^ bl; h = c.hi[n] ^ bh;
        }
        l >>>= 0; h >>>= 0;
        if (opc === 3) logicFlags(c, l, h, true);
        c.lo[d] = l; c.hi[d] = h;
      };
    }
    return (c) => {
      let b = shift32(c.lo[m], type, amt);
      if (inv) b = ~b;
      let r: number;
      switch (opc) {
        case 0: case 3: r = c.lo[n] & b; break;
        case 1: r = c.lo[n] | b; break;
        default: r = c.lo[n] ^ b;
      }
      r >>>= 0;
      if (opc === 3) logicFlags(c, r, 0, false);
      c.lo[d] = r; c.hi[d] = 0;
    };
  }
  if (((w & 0x1f200000) >>> 0) === 0x0b000000) { // add/sub (shifted register)
    const sub = ((w >>> 30) & 1) === 1, flags = ((w >>> 29) & 1) === 1, type = (w >>> 22) & 3, amt = (w >>> 10) & 63;
    if (type === 3 || (!sf && amt >= 32)) return UNDEF;
    const n = rdZr(rn), m = rdZr(rm), d = wrZr(rd);
    if (sf) {
      if (amt === 0) return (c) => arith(c, d, true, sub, flags, c.lo[n], c.hi[n], c.lo[m], c.hi[m]);
      return (c) => { shift64(c.lo[m], c.hi[m], type, amt); arith(c, d, true, sub, flags, c.lo[n], c.hi[n], RL, RH); };
    }
    return (c) => arith(c, d, false, sub, flags, c.lo[n], 0, shift32(c.lo[m], type, amt), 0);
  }
  if (((w & 0x1f200000) >>> 0) === 0x0b200000) { // add/sub (extended register)
    const sub = ((w >>> 30) & 1) === 1, flags = ((w >>> 29) & 1) === 1, option = (w >>> 13) & 7, amt = (w >>> 10) & 7;
    if (((w >>> 22) & 3) !== 0 || amt > 4) return UNDEF;
    const n = rdSp(rn), m = rdZr(rm), d = flags ? wrZr(rd) : wrSp(rd);
    return (c) => { extendReg(c, m, option, amt); arith(c, d, sf, sub, flags, c.lo[n], c.hi[n], RL, RH); };
  }
  if (((w & 0x1fe00000) >>> 0) === 0x1a000000) { // ADC/ADCS/SBC/SBCS
    if (((w >>> 10) & 63) !== 0) return UNDEF;
    const sub = ((w >>> 30) & 1) === 1, flags = ((w >>> 29) & 1) === 1;
    const n = rdZr(rn), m = rdZr(rm), d = wrZr(rd);
    return (c) => {
      let bl = c.lo[m], bh = sf ? c.hi[m] : 0;
      if (sub) { bl = ~bl >>> 0; bh = ~bh >>> 0; }
      if (sf) { addc64(c, c.lo[n], c.hi[n], bl, bh, c.cf, flags); c.lo[d] = RL; c.hi[d] = RH; } else { c.lo[d] = addc32(c, c.lo[n], bl, c.cf, flags); c.hi[d] = 0; }
    };
  }
  if (((w & 0x1fe00000) >>> 0) === 0x1a400000) { // CCMN/CCMP (register / immediate)
    if (((w >>> 29) & 1) !== 1 || ((w >>> 10) & 1) !== 0 || ((w >>> 4) & 1) !== 0) return UNDEF;
    const sub = ((w >>> 30) & 1) === 1, isImm = ((w >>> 11) & 1) === 1, cond = (w >>> 12) & 15, nzcv = w & 15;
    const n = rdZr(rn), m = rdZr(rm), imm5 = rm;
    return (c) => {
      if (condHolds(c, cond)) {
        let bl = isImm ? imm5 : c.lo[m], bh = isImm ? 0 : sf ? c.hi[m] : 0;
        if (sub) { bl = ~bl >>> 0; bh = ~bh >>> 0; }
        if (sf) addc64(c, c.lo[n], c.hi[n], bl, bh, sub ? 1 : 0, true); else addc32(c, c.lo[n], bl, sub ? 1 : 0, true);
      } else {
        c.nf = (nzcv >> 3) & 1; c.zf = (nzcv >> 2) & 1; c.cf = (nzcv >> 1) & 1; c.vf = nzcv & 1;
      }
    };
  }
  if (((w & 0x1fe00000) >>> 0) === 0x1a800000) { // CSEL/CSINC/CSINV/CSNEG
    if (((w >>> 29) & 1) !== 0 || ((w >>> 11) & 1) !== 0) return UNDEF;
    const op = (w >>> 30) & 1, o2 = (w >>> 10) & 1, cond = (w >>> 12) & 15;
    const n = rdZr(rn), m = rdZr(rm), d = wrZr(rd);
    return (c) => {
      if (condHolds(c, cond)) { c.lo[d] = c.lo[n]; c.hi[d] = sf ? c.hi[n] : 0; return; }
      let l = c.lo[m], h = sf ? c.hi[m] : 0;
      if (op === 1) { l = ~l >>> 0; h = sf ? ~h >>> 0 : 0; }
      if (o2 === 1) {
        if (sf) { addc64(c, l, h, 1, 0, 0, false); l = RL; h = RH; } else { l = (l + 1) >>> 0; }
      }
      c.lo[d] = l; c.hi[d] = h;
    };
  }
  if (((w & 0x5fe00000) >>> 0) === 0x1ac00000) return dp2(w, sf, rd, rn, rm);
  if (((w & 0x5fe00000) >>> 0) === 0x5ac00000) return dp1(w, sf, rd, rn);
  if (((w & 0x1f000000) >>> 0) === 0x1b000000) return dp3(w, sf, rd, rn, rm);
  return UNDEF;
}

function dp2(w: number, sf: boolean, rd: number, rn: number, rm: number): Exec {
  if (((w >>> 29) & 1) !== 0) return UNDEF;
  const opcode = (w >>> 10) & 63;
  const n = rdZr(rn), m = rdZr(rm), d = wrZr(rd);
  switch (opcode) {
    case 2: // UDIV (division by zero gives 0)
      if (sf) return (c) => { const b = gx(c, m); sx(c, d, b === 0n ? 0n : gx(c, n) / b); };
      return (c) => { const b = c.lo[m]; sw(c, d, b === 0 ? 0 : Math.floor(c.lo[n] / b) >>> 0); };
    case 3: // SDIV (INT_MIN / -1 = INT_MIN)
      if (sf) return (c) => { const b = BigInt.asIntN(64, gx(c, m)); sx(c, d, b === 0n ? 0n : BigInt.asUintN(64, BigInt.asIntN(64, gx(c, n)) / b)); };
      return (c) => { const b = c.lo[m] | 0; sw(c, d, b === 0 ? 0 : Math.trunc((c.lo[n] | 0) / b) >>> 0); };
    case 8: case 9: case 10: case 11: {
      const type = opcode - 8;
      if (sf) return (c) => { shift64(c.lo[n], c.hi[n], type, c.lo[m] & 63); c.lo[d] = RL; c.hi[d] = RH; };
      return (c) => sw(c, d, shift32(c.lo[n], type, c.lo[m] & 31));
    }
    default: return UNDEF;
  }
}

function rev8(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
function rbit32(v: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++) { r = (r << 1) | (v & 1); v >>>= 1; }
  return r >>> 0;
}

function dp1(w: number, sf: boolean, rd: number, rn: number): Exec {
  if (((w >>> 29) & 1) !== 0 || ((w >>> 16) & 31) !== 0) return UNDEF;
  const opcode = (w >>> 10) & 63;
  const n = rdZr(rn), d = wrZr(rd);
  switch (opcode) {
    case 0: return sf ? (c) => { const l = rbit32(c.hi[n]), h = rbit32(c.lo[n]); c.lo[d] = l; c.hi[d] = h; } : (c) => sw(c, d, rbit32(c.lo[n]));
    case 1: { // REV16
      const r16 = (v: number): number => (((v & 0x00ff00ff) << 8) | ((v >>> 8) & 0x00ff00ff)) >>> 0;
      return sf ? (c) => { c.lo[d] = r16(c.lo[n]); c.hi[d] = r16(c.hi[n]); } : (c) => sw(c, d, r16(c.lo[n]));
    }
    case 2: // REV (W) / REV32 (X)
      return sf ? (c) => { c.lo[d] = rev8(c.lo[n]); c.hi[d] = rev8(c.hi[n]); } : (c) => sw(c, d, rev8(c.lo[n]));
    case 3:
      if (!sf) return UNDEF;
      return (c) => { const l = rev8(c.hi[n]), h = rev8(c.lo[n]); c.lo[d] = l; c.hi[d] = h; };
    case 4: // CLZ
      return sf ? (c) => sw(c, d, c.hi[n] !== 0 ? Math.clz32(c.hi[n]) : 32 + Math.clz32(c.lo[n])) : (c) => sw(c, d, Math.clz32(c.lo[n]));
    case 5: // CLS
      if (sf) {
        return (c) => {
          const v = gx(c, n);
          const x = (v ^ (v >> 1n)) & ((1n << 63n) - 1n);
          sw(c, d, x === 0n ? 63 : 63 - x.toString(2).length);
        };
      }
      return (c) => { const v = c.lo[n]; const x = ((v ^ (v >>> 1)) & 0x7fffffff) >>> 0; sw(c, d, Math.clz32(x) - 1); };
    default: return UNDEF;
  }
}

function dp3(w: number, sf: boolean, rd: number, rn: number, rm: number): Exec {
  const op54 = (w >>> 29) & 3, op31 = (w >>> 21) & 7, o0 = (w >>> 15) & 1, ra = (w >>> 10) & 31;
  if (op54 !== 0) return UNDEF;
  const n = rdZr(rn), m = rdZr(rm), a = rdZr(ra), d = wrZr(rd);
  if (op31 === 0) { // MADD / MSUB
    if (!sf) return o0 === 0 ? (c) => sw(c, d, (c.lo[a] + Math.imul(c.lo[n], c.lo[m])) >>> 0) : (c) => sw(c, d, (c.lo[a] - Math.imul(c.lo[n], c.lo[m])) >>> 0);
    return o0 === 0
      ? (c) => sx(c, d, BigInt.asUintN(64, gx(c, a) + gx(c, n) * gx(c, m)))
      : (c) => sx(c, d, BigInt.asUintN(64, gx(c, a) - gx(c, n) * gx(c, m)));
  }
  if (!sf) return UNDEF;
  const s32 = (c: Cpu, r: number): bigint => BigInt(c.lo[r] | 0);
  const u32 = (c: Cpu, r: number): bigint => BigInt(c.lo[r]);
  switch ((op31 << 1) | o0) {
    case 2: return (c) => sx(c, d, BigInt.asUintN(64, gx(c, a) + s32(c, n) * s32(c, m))); // SMADDL
    case 3: return (c) => sx(c, d, BigInt.asUintN(64, gx(c, a) - s32(c, n) * s32(c, m))); // SMSUBL
    case 4: return (c) => sx(c, d, BigInt.asUintN(64, (BigInt.asIntN(64, gx(c, n)) * BigInt.asIntN(64, gx(c, m))) >> 64n)); // SMULH
    case 10: return (c) => sx(c, d, BigInt.asUintN(64, gx(c, a) + u32(c, n) * u32(c, m))); // UMADDL
    case 11: return (c) => sx(c, d, BigInt.asUintN(64, gx(c, a) - u32(c, n) * u32(c, m))); // UMSUBL
    case 12: return (c) => sx(c, d, (gx(c, n) * gx(c, m)) >> 64n); // UMULH
    default: return UNDEF;
  }
}

/** true when the word decoded to UNDEFINED (used to cross-check against the codec's decoder) */
export function isUndefinedExec(fn: Exec): boolean {
  return fn === UNDEF;
}
