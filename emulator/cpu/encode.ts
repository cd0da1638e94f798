// A64 encoder: Insn -> 32-bit word, the inverse of decode() for the guest instruction set (LANGUAGE.md "guest
// blocks"). It reads the semantic fields of an Insn (byte offsets, the logical-immediate value `bimm`, …), so the
// assembler can build an Insn with makeInsn() and fill only what the op documents in insn.ts.
// Out-of-range fields throw EncodeError with a message meant for the user ("offset must be a multiple of 8 in
// [0, 32760]").

import { decodeBitMask, encodeBitMask } from './bitmask-imm';
import { EXTEND_NAMES, Insn, SHIFT_NAMES } from './insn';

export class EncodeError extends Error {}

function fail(msg: string): never {
  throw new EncodeError(msg);
}

function reg(n: number, what = 'register'): number {
  if (!Number.isInteger(n) || n < 0 || n > 31) fail(`${what} number ${n} out of range`);
  return n;
}

function checkRange(v: number, lo: number, hi: number, what: string): number {
  if (!Number.isInteger(v) || v < lo || v > hi) fail(`${what} ${v} out of range [${lo}, ${hi}]`);
  return v;
}

/** Signed field of `bitsN` bits holding v / scale. */
function signedField(v: number, bitsN: number, scale: number, what: string): number {
  if (v % scale !== 0) fail(`${what} ${v} is not a multiple of ${scale}`);
  const q = v / scale;
  const lo = -(2 ** (bitsN - 1));
  const hi = 2 ** (bitsN - 1) - 1;
  if (q < lo || q > hi) fail(`${what} ${v} out of range [${lo * scale}, ${hi * scale}]`);
  return q & (2 ** bitsN - 1);
}

const u = (v: number): number => v >>> 0;

/** Encode one instruction. Throws EncodeError when a field does not fit. */
export function encode(i: Insn): number {
  const sf = i.sf ? 1 : 0;
  const S = i.setFlags ? 1 : 0;
  switch (i.op) {
    case 'UNDEFINED':
      return u(i.raw);
    case 'ADR':
    case 'ADRP': {
      const imm = i.op === 'ADRP' ? signedField(i.imm, 21, 4096, 'page offset') : signedField(i.imm, 21, 1, 'offset');
      return u(((i.op === 'ADRP' ? 1 : 0) << 31) | ((imm & 3) << 29) | (0b10000 << 24) | ((imm >>> 2) << 5) | reg(i.rd));
    }
    case 'ADD_IMM':
    case 'SUB_IMM': {
      let imm12: number;
      let sh: number;
      if (i.shiftAmount === 12) {
        if (i.imm % 4096 !== 0) fail(`immediate ${i.imm} is not a multiple of 4096`);
        imm12 = i.imm / 4096;
        sh = 1;
      } else {
        imm12 = i.imm;
        sh = 0;
      }
      checkRange(imm12, 0, 4095, 'immediate');
      const op = i.op === 'SUB_IMM' ? 1 : 0;
      return u((sf << 31) | (op << 30) | (S << 29) | (0b100010 << 23) | (sh << 22) | (imm12 << 10) | (reg(i.rn) << 5) | reg(i.rd));
    }
    case 'AND_IMM':
    case 'ORR_IMM':
    case 'EOR_IMM': {
      // Keep the decoded N:immr:imms when they denote bimm (immr may carry don't-care high bits), else canonical.
      const width = i.sf ? 64 : 32;
      const f = decodeBitMask(i.immN, i.immr, i.imms, width) === BigInt.asUintN(width, i.bimm)
        ? { n: i.immN, immr: i.immr, imms: i.imms }
        : encodeBitMask(i.bimm, width);
      if (!f) fail(`0x${BigInt.asUintN(i.sf ? 64 : 32, i.bimm).toString(16)} is not a valid logical immediate`);
      const opc = i.op === 'AND_IMM' ? (i.setFlags ? 3 : 0) : i.op === 'ORR_IMM' ? 1 : 2;
      return u((sf << 31) | (opc << 29) | (0b100100 << 23) | (f.n << 22) | (f.immr << 16) | (f.imms << 10) | (reg(i.rn) << 5) | reg(i.rd));
    }
    case 'MOVZ':
    case 'MOVN':
    case 'MOVK': {
      const opc = i.op === 'MOVN' ? 0 : i.op === 'MOVZ' ? 2 : 3;
      checkRange(i.imm, 0, 0xffff, 'immediate');
      if (i.shiftAmount % 16 !== 0) fail(`shift ${i.shiftAmount} must be 0, 16, 32 or 48`);
      const hw = checkRange(i.shiftAmount / 16, 0, i.sf ? 3 : 1, 'shift/16');
      return u((sf << 31) | (opc << 29) | (0b100101 << 23) | (hw << 21) | (i.imm << 5) | reg(i.rd));
    }
    case 'SBFM':
    case 'BFM':
    case 'UBFM': {
      const opc = i.op === 'SBFM' ? 0 : i.op === 'BFM' ? 1 : 2;
      const max = i.sf ? 63 : 31;
      checkRange(i.immr, 0, max, 'immr');
      checkRange(i.imms, 0, max, 'imms');
      return u((sf << 31) | (opc << 29) | (0b100110 << 23) | (sf << 22) | (i.immr << 16) | (i.imms << 10) | (reg(i.rn) << 5) | reg(i.rd));
    }
    case 'EXTR':
      checkRange(i.imm, 0, i.sf ? 63 : 31, 'shift');
      return u((sf << 31) | (0b100111 << 23) | (sf << 22) | (reg(i.rm) << 16) | (i.imm << 10) | (reg(i.rn) << 5) | reg(i.rd));
    case 'ADD_SREG':
    case 'SUB_SREG': {
      const op = i.op === 'SUB_SREG' ? 1 : 0;
      const shift = SHIFT_NAMES.indexOf(i.shift);
      if (shift === 3) fail('ROR is not allowed for add/sub');
      checkRange(i.shiftAmount, 0, i.sf ? 63 : 31, 'shift amount');
      return u((sf << 31) | (op << 30) | (S << 29) | (0b01011 << 24) | (shift << 22) | (reg(i.rm) << 16) | (i.shiftAmount << 10) | (reg(i.rn) << 5) | reg(i.rd));
    }
    case 'ADD_EREG':
    case 'SUB_EREG': {
      const op = i.op === 'SUB_EREG' ? 1 : 0;
      checkRange(i.shiftAmount, 0, 4, 'extend shift amount');
      const option = EXTEND_NAMES.indexOf(i.extend);
      return u((sf << 31) | (op << 30) | (S << 29) | (0b01011001 << 21) | (reg(i.rm) << 16) | (option << 13) | (i.shiftAmount << 10) | (reg(i.rn) << 5) | reg(i.rd));
    }
    case 'AND_SREG':
    case 'BIC_SREG':
    case 'ORR_SREG':
    case 'ORN_SREG':
    case 'EOR_SREG':
    case 'EON_SREG': {
      const base = i.op.slice(0, 3);
      const n = base === 'BIC' || base === 'ORN' || base === 'EON' ? 1 : 0;
      const opc = base === 'AND' || base === 'BIC' ? (i.setFlags ? 3 : 0) : base === 'ORR' || base === 'ORN' ? 1 : 2;
      checkRange(i.shiftAmount, 0, i.sf ? 63 : 31, 'shift amount');
      const shift = SHIFT_NAMES.indexOf(i.shift);
      return u((sf << 31) | (opc << 29) | (0b01010 << 24) | (shift << 22) | (n << 21) | (reg(i.rm) << 16) | (i.shiftAmount << 10) | (reg(i.rn) << 5) | reg(i.rd));
    }
    case 'LSLV':
    case 'LSRV':
    case 'ASRV':
    case 'RORV':
    case 'UDIV':
    case 'SDIV': {
      const opcode = { UDIV: 2, SDIV: 3, LSLV: 8, LSRV: 9, ASRV: 10, RORV: 11 }[i.op];
      return u((sf << 31) | (0b11010110 << 21) | (reg(i.rm) << 16) | (opcode << 10) | (reg(i.rn) << 5) | reg(i.rd));
    }
    case 'MADD':
    case 'MSUB': {
      const o0 = i.op === 'MSUB' ? 1 : 0;
      return u((sf << 31) | (0b11011 << 24) | (reg(i.rm) << 16) | (o0 << 15) | (reg(i.ra) << 10) | (reg(i.rn) << 5) | reg(i.rd));
    }
    case 'CSEL':
    case 'CSINC':
    case 'CSINV':
    case 'CSNEG': {
      const op = i.op === 'CSINV' || i.op === 'CSNEG' ? 1 : 0;
      const o2 = i.op === 'CSINC' || i.op === 'CSNEG' ? 1 : 0;
      checkRange(i.cond, 0, 15, 'condition');
      return u((sf << 31) | (op << 30) | (0b11010100 << 21) | (reg(i.rm) << 16) | (i.cond << 12) | (o2 << 10) | (reg(i.rn) << 5) | reg(i.rd));
    }
    case 'LDR':
    case 'STR':
      return encodeLoadStore(i);
    case 'LDP':
    case 'STP': {
      const opc = i.signed ? 1 : i.size === 8 ? 2 : i.size === 4 ? 0 : fail('pair size must be 4 or 8');
      const mode = i.mode === 'post' ? 1 : i.mode === 'offset' ? 2 : i.mode === 'pre' ? 3 : fail(`bad addressing mode ${i.mode}`);
      const L = i.op === 'LDP' ? 1 : 0;
      const imm7 = signedField(i.imm, 7, i.size, 'offset');
      return u((opc << 30) | (0b101 << 27) | (mode << 23) | (L << 22) | (imm7 << 15) | (reg(i.rt2) << 10) | (reg(i.rn) << 5) | reg(i.rt));
    }
    case 'LDXR':
    case 'STXR':
    case 'LDAR':
    case 'STLR':
    case 'CAS': {
      const size = sizeField(i.size);
      let o2 = 0;
      let L = 0;
      let o1 = 0;
      let o0 = 0;
      let rs = 31;
      if (i.op === 'LDXR') {
        L = 1;
        o0 = i.acquire ? 1 : 0;
      } else if (i.op === 'STXR') {
        o0 = i.release ? 1 : 0;
        rs = reg(i.rs);
      } else if (i.op === 'LDAR') {
        o2 = 1;
        L = 1;
        o0 = 1;
      } else if (i.op === 'STLR') {
        o2 = 1;
        o0 = 1;
      } else {
        o2 = 1;
        o1 = 1;
        L = i.acquire ? 1 : 0;
        o0 = i.release ? 1 : 0;
        rs = reg(i.rs);
      }
      return u((size << 30) | (0b001000 << 24) | (o2 << 23) | (L << 22) | (o1 << 21) | (rs << 16) | (o0 << 15) | (31 << 10) | (reg(i.rn) << 5) | reg(i.rt));
    }
    case 'LDADD':
    case 'SWP': {
      const size = sizeField(i.size);
      const o3 = i.op === 'SWP' ? 1 : 0;
      const A = i.acquire ? 1 : 0;
      const R = i.release ? 1 : 0;
      return u((size << 30) | (0b111 << 27) | (A << 23) | (R << 22) | (1 << 21) | (reg(i.rs) << 16) | (o3 << 15) | (reg(i.rn) << 5) | reg(i.rt));
    }
    case 'B':
    case 'BL':
      return u(((i.op === 'BL' ? 1 : 0) << 31) | (0b00101 << 26) | signedField(i.imm, 26, 4, 'branch offset'));
    case 'B_COND':
      checkRange(i.cond, 0, 15, 'condition');
      return u((0b01010100 << 24) | (signedField(i.imm, 19, 4, 'branch offset') << 5) | i.cond);
    case 'CBZ':
    case 'CBNZ':
      return u((sf << 31) | (0b011010 << 25) | ((i.op === 'CBNZ' ? 1 : 0) << 24) | (signedField(i.imm, 19, 4, 'branch offset') << 5) | reg(i.rt));
    case 'TBZ':
    case 'TBNZ': {
      checkRange(i.bit, 0, 63, 'bit number');
      const b5 = i.bit >> 5;
      return u((b5 << 31) | (0b011011 << 25) | ((i.op === 'TBNZ' ? 1 : 0) << 24) | ((i.bit & 31) << 19) | (signedField(i.imm, 14, 4, 'branch offset') << 5) | reg(i.rt));
    }
    case 'BR':
    case 'BLR':
    case 'RET': {
      const opc = i.op === 'BR' ? 0 : i.op === 'BLR' ? 1 : 2;
      return u((0b1101011 << 25) | (opc << 21) | (0x1f << 16) | (reg(i.rn) << 5));
    }
    case 'ERET':
      return 0xd69f03e0;
    case 'SVC':
    case 'HVC':
    case 'SMC':
    case 'BRK': {
      checkRange(i.imm, 0, 0xffff, 'immediate');
      const [opc, ll] = i.op === 'BRK' ? [1, 0] : [0, i.op === 'SVC' ? 1 : i.op === 'HVC' ? 2 : 3];
      return u((0xd4 << 24) | (opc << 21) | (i.imm << 5) | ll);
    }
    case 'NOP':
    case 'YIELD':
    case 'WFE':
    case 'WFI':
    case 'SEV':
    case 'SEVL':
    case 'PSB_CSYNC':
    case 'HINT': {
      const fixed: Record<string, number> = { NOP: 0, YIELD: 1, WFE: 2, WFI: 3, SEV: 4, SEVL: 5, PSB_CSYNC: 17 };
      const hint = i.op === 'HINT' ? checkRange(i.imm, 0, 127, 'hint number') : fixed[i.op]!;
      return u(0xd503201f | (hint << 5));
    }
    case 'CLREX':
    case 'DSB':
    case 'DMB':
    case 'ISB': {
      const op2 = { CLREX: 2, DSB: 4, DMB: 5, ISB: 6 }[i.op];
      checkRange(i.imm, 0, 15, 'barrier option');
      return u(0xd503301f | (i.imm << 8) | (op2 << 5));
    }
    case 'MSR_IMM': {
      const f = PSTATE_ENCODING[i.pstate] ?? fail(`unknown PSTATE field ${i.pstate}`);
      checkRange(i.imm, 0, 15, 'immediate');
      return u(0xd500401f | (f[0] << 16) | (i.imm << 8) | (f[1] << 5));
    }
    case 'MSR_REG':
    case 'MRS':
    case 'SYS': {
      const s = i.sys ?? fail('missing system register');
      const L = i.op === 'MRS' ? 1 : 0;
      const op0 = i.op === 'SYS' ? 1 : s.op0;
      if (i.op !== 'SYS' && op0 !== 2 && op0 !== 3) fail('system register op0 must be 2 or 3');
      return u((0b1101010100 << 22) | (L << 21) | (op0 << 19) | (s.op1 << 16) | (s.crn << 12) | (s.crm << 8) | (s.op2 << 5) | reg(i.rt));
    }
  }
}

const PSTATE_ENCODING: Record<string, [number, number]> = {
  UAO: [0, 3],
  PAN: [0, 4],
  SPSEL: [0, 5],
  DAIFSET: [3, 6],
  DAIFCLR: [3, 7],
};

function sizeField(size: number): number {
  const f = [1, 2, 4, 8].indexOf(size);
  if (f < 0) fail(`access size ${size} must be 1, 2, 4 or 8`);
  return f;
}

function encodeLoadStore(i: Insn): number {
  const size = sizeField(i.size);
  const isLoad = i.op === 'LDR';
  if (i.mode === 'literal') {
    if (!isLoad) fail('store cannot use a literal address');
    const opc = i.signed ? 2 : i.size === 8 ? 1 : i.size === 4 ? 0 : fail('literal loads are 4 or 8 bytes');
    return u((opc << 30) | (0b011 << 27) | (signedField(i.imm, 19, 4, 'literal offset') << 5) | reg(i.rt));
  }
  // opc: 00 store, 01 load, 10 signed load to 64 bits, 11 signed load to 32 bits
  let opc: number;
  if (!isLoad) opc = 0;
  else if (!i.signed) opc = 1;
  else {
    if (i.size === 8) fail('there is no sign-extending 64-bit load');
    if (i.size === 4 && !i.sf) fail('ldrsw needs an X destination');
    opc = i.sf ? 2 : 3;
  }
  const base = (size << 30) | (0b111 << 27) | (opc << 22) | (reg(i.rn) << 5) | reg(i.rt);
  switch (i.mode) {
    case 'offset':
      if (!i.unscaled) {
        if (i.imm % i.size !== 0 || i.imm < 0 || i.imm / i.size > 4095)
          fail(`offset ${i.imm} must be a multiple of ${i.size} in [0, ${4095 * i.size}]`);
        return u(base | (1 << 24) | ((i.imm / i.size) << 10));
      }
      return u(base | (signedField(i.imm, 9, 1, 'offset') << 12));
    case 'post':
      return u(base | (signedField(i.imm, 9, 1, 'offset') << 12) | (1 << 10));
    case 'pre':
      return u(base | (signedField(i.imm, 9, 1, 'offset') << 12) | (3 << 10));
    case 'reg': {
      const option = EXTEND_NAMES.indexOf(i.extend);
      if ((option & 2) === 0) fail('register offset extend must be lsl, uxtw, sxtw or sxtx');
      if (i.shiftAmount !== 0 && i.shiftAmount !== size) fail(`shift amount must be 0 or ${size}`);
      const S = i.shiftAmount !== 0 || i.immN === 1 ? 1 : 0;
      return u(base | (1 << 21) | (reg(i.rm) << 16) | (option << 13) | (S << 12) | (2 << 10));
    }
    default:
      return fail(`bad addressing mode ${i.mode}`);
  }
}
