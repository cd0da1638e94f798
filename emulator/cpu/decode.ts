// A64 decoder for the guest instruction set of LANGUAGE.md "guest blocks": word -> Insn (see insn.ts).
// Encoding groups follow the Arm ARM top-level decode (op0 = bits[28:25]); field layouts cross-checked against
// QEMU target/arm/tcg/a64.decode and binutils opcodes/aarch64-tbl.h. Everything outside the set, and every
// unallocated encoding, is op 'UNDEFINED'.

import { decodeBitMask } from './bitmask-imm';
import { EXTEND_NAMES, Insn, makeInsn, Op, SHIFT_NAMES } from './insn';
import { sysOpByEncoding, sysregName } from '../arch/sysregs';

const bits = (w: number, hi: number, lo: number): number => (w >>> lo) & ((1 << (hi - lo + 1)) - 1) >>> 0;
const bit = (w: number, b: number): number => (w >>> b) & 1;
/** Sign-extend the low `n` bits of v. */
const sext = (v: number, n: number): number => (v << (32 - n)) >> (32 - n);

function undef(w: number): Insn {
  return makeInsn('UNDEFINED', w);
}

export function decode(word: number): Insn {
  const w = word >>> 0;
  const op0 = bits(w, 28, 25);
  if ((op0 & 0b1110) === 0b1000) return decodeDpImm(w);
  if ((op0 & 0b1110) === 0b1010) return decodeBranchSys(w);
  if ((op0 & 0b0101) === 0b0100) return decodeLoadStore(w);
  if ((op0 & 0b0111) === 0b0101) return decodeDpReg(w);
  return undef(w);
}

// ---------------------------------------------------------------- data processing, immediate

function decodeDpImm(w: number): Insn {
  const sf = bit(w, 31) === 1;
  const rd = bits(w, 4, 0);
  const rn = bits(w, 9, 5);
  switch (bits(w, 25, 23)) {
    case 0b000:
    case 0b001: {
      const isAdrp = bit(w, 31) === 1;
      const imm21 = sext((bits(w, 23, 5) << 2) | bits(w, 30, 29), 21);
      const i = makeInsn(isAdrp ? 'ADRP' : 'ADR', w);
      i.sf = true;
      i.rd = rd;
      i.imm = isAdrp ? imm21 * 4096 : imm21;
      return i;
    }
    case 0b010: {
      const i = makeInsn(bit(w, 30) ? 'SUB_IMM' : 'ADD_IMM', w);
      i.sf = sf;
      i.setFlags = bit(w, 29) === 1;
      i.rd = rd;
      i.rn = rn;
      i.shiftAmount = bit(w, 22) ? 12 : 0;
      i.imm = bits(w, 21, 10) * (bit(w, 22) ? 4096 : 1);
      return i;
    }
    case 0b100: {
      const n = bit(w, 22);
      const immr = bits(w, 21, 16);
      const imms = bits(w, 15, 10);
      const v = decodeBitMask(n, immr, imms, sf ? 64 : 32);
      if (v === undefined) return undef(w);
      const opc = bits(w, 30, 29);
      const i = makeInsn((['AND_IMM', 'ORR_IMM', 'EOR_IMM', 'AND_IMM'] as const)[opc]!, w);
      i.setFlags = opc === 3;
      i.sf = sf;
      i.rd = rd;
      i.rn = rn;
      i.bimm = v;
      i.immN = n;
      i.immr = immr;
      i.imms = imms;
      return i;
    }
    case 0b101: {
      const opc = bits(w, 30, 29);
      const hw = bits(w, 22, 21);
      if (opc === 1 || (!sf && hw >= 2)) return undef(w);
      const i = makeInsn((['MOVN', 'UNDEFINED', 'MOVZ', 'MOVK'] as const)[opc]!, w);
      i.sf = sf;
      i.rd = rd;
      i.imm = bits(w, 20, 5);
      i.shiftAmount = hw * 16;
      return i;
    }
    case 0b110: {
      const opc = bits(w, 30, 29);
      const n = bit(w, 22);
      const immr = bits(w, 21, 16);
      const imms = bits(w, 15, 10);
      if (opc === 3 || n !== bit(w, 31) || (!sf && (immr >= 32 || imms >= 32))) return undef(w);
      const i = makeInsn((['SBFM', 'BFM', 'UBFM'] as const)[opc]!, w);
      i.sf = sf;
      i.rd = rd;
      i.rn = rn;
      i.immN = n;
      i.immr = immr;
      i.imms = imms;
      return i;
    }
    case 0b111: {
      const imms = bits(w, 15, 10);
      if (bits(w, 30, 29) !== 0 || bit(w, 22) !== bit(w, 31) || bit(w, 21) !== 0 || (!sf && imms >= 32)) return undef(w);
      const i = makeInsn('EXTR', w);
      i.sf = sf;
      i.rd = rd;
      i.rn = rn;
      i.rm = bits(w, 20, 16);
      i.imm = imms;
      i.immN = bit(w, 22);
      i.imms = imms;
      return i;
    }
  }
  return undef(w);
}

// ---------------------------------------------------------------- branches, exceptions, system

function decodeBranchSys(w: number): Insn {
  const hi8 = bits(w, 31, 24);
  if ((hi8 & 0xfe) === 0x54) {
    // B.cond: o1 (bit 24) and o0 (bit 4) must be 0 (bit 4 = 1 is BC.cond, FEAT_HBC: not in the set)
    if (bit(w, 24) !== 0 || bit(w, 4) !== 0) return undef(w);
    const i = makeInsn('B_COND', w);
    i.cond = bits(w, 3, 0);
    i.imm = sext(bits(w, 23, 5), 19) * 4;
    return i;
  }
  if (hi8 === 0xd4) {
    const opc = bits(w, 23, 21);
    const ll = bits(w, 1, 0);
    if (bits(w, 4, 2) !== 0) return undef(w);
    let op: Op = 'UNDEFINED';
    if (opc === 0 && ll === 1) op = 'SVC';
    else if (opc === 0 && ll === 2) op = 'HVC';
    else if (opc === 0 && ll === 3) op = 'SMC';
    else if (opc === 1 && ll === 0) op = 'BRK';
    if (op === 'UNDEFINED') return undef(w);
    const i = makeInsn(op, w);
    i.imm = bits(w, 20, 5);
    return i;
  }
  if (bits(w, 31, 22) === 0b1101010100) return decodeSystem(w);
  const hi7 = bits(w, 30, 25);
  if (hi7 === 0b011010) {
    const i = makeInsn(bit(w, 24) ? 'CBNZ' : 'CBZ', w);
    i.sf = bit(w, 31) === 1;
    i.rt = bits(w, 4, 0);
    i.imm = sext(bits(w, 23, 5), 19) * 4;
    return i;
  }
  if (hi7 === 0b011011) {
    const i = makeInsn(bit(w, 24) ? 'TBNZ' : 'TBZ', w);
    i.bit = (bit(w, 31) << 5) | bits(w, 23, 19);
    i.sf = bit(w, 31) === 1;
    i.rt = bits(w, 4, 0);
    i.imm = sext(bits(w, 18, 5), 14) * 4;
    return i;
  }
  if (bits(w, 30, 26) === 0b00101) {
    const i = makeInsn(bit(w, 31) ? 'BL' : 'B', w);
    i.imm = sext(bits(w, 25, 0), 26) * 4;
    return i;
  }
  if (bits(w, 31, 25) === 0b1101011) {
    const opc = bits(w, 24, 21);
    if (bits(w, 20, 16) !== 0x1f || bits(w, 15, 10) !== 0 || bits(w, 4, 0) !== 0) return undef(w);
    const rn = bits(w, 9, 5);
    let op: Op = 'UNDEFINED';
    if (opc === 0) op = 'BR';
    else if (opc === 1) op = 'BLR';
    else if (opc === 2) op = 'RET';
    else if (opc === 4 && rn === 31) op = 'ERET';
    if (op === 'UNDEFINED') return undef(w);
    const i = makeInsn(op, w);
    i.sf = true;
    i.rn = rn;
    return i;
  }
  return undef(w);
}

const PSTATE_FIELDS: Record<string, string> = {
  '0,3': 'UAO',
  '0,4': 'PAN',
  '0,5': 'SPSEL',
  '3,6': 'DAIFSET',
  '3,7': 'DAIFCLR',
};

function decodeSystem(w: number): Insn {
  const l = bit(w, 21);
  const op0 = bits(w, 20, 19);
  const op1 = bits(w, 18, 16);
  const crn = bits(w, 15, 12);
  const crm = bits(w, 11, 8);
  const op2 = bits(w, 7, 5);
  const rt = bits(w, 4, 0);
  if (op0 === 0) {
    if (l !== 0 || rt !== 31) return undef(w);
    if (crn === 4) {
      const field = PSTATE_FIELDS[`${op1},${op2}`];
      if (!field) return undef(w);
      const i = makeInsn('MSR_IMM', w);
      i.pstate = field;
      i.imm = crm;
      return i;
    }
    if (crn === 2 && op1 === 3) {
      const hint = (crm << 3) | op2;
      const named: Record<number, Op> = { 0: 'NOP', 1: 'YIELD', 2: 'WFE', 3: 'WFI', 4: 'SEV', 5: 'SEVL', 17: 'PSB_CSYNC' };
      const i = makeInsn(named[hint] ?? 'HINT', w);
      i.imm = hint;
      return i;
    }
    if (crn === 3 && op1 === 3) {
      const ops: Record<number, Op> = { 2: 'CLREX', 4: 'DSB', 5: 'DMB', 6: 'ISB' };
      const op = ops[op2];
      if (!op) return undef(w);
      const i = makeInsn(op, w);
      i.imm = crm;
      return i;
    }
    return undef(w);
  }
  if (op0 === 1) {
    if (l !== 0) return undef(w); // SYSL: not in the set
    const def = sysOpByEncoding(op1, crn, crm, op2);
    const i = makeInsn('SYS', w);
    i.sf = true;
    i.rt = rt;
    i.sys = {
      op0: 1,
      op1,
      crn,
      crm,
      op2,
      name: def?.name ?? `SYS #${op1}, C${crn}, C${crm}, #${op2}`,
    };
    return i;
  }
  const i = makeInsn(l ? 'MRS' : 'MSR_REG', w);
  i.sf = true;
  i.rt = rt;
  i.sys = { op0, op1, crn, crm, op2, name: sysregName(op0, op1, crn, crm, op2) };
  return i;
}

// ---------------------------------------------------------------- loads and stores

function decodeLoadStore(w: number): Insn {
  if (bit(w, 26) !== 0) return undef(w); // SIMD&FP loads/stores: not in the set
  const size = bits(w, 31, 30);
  const rt = bits(w, 4, 0);
  const rn = bits(w, 9, 5);
  const b2927 = bits(w, 29, 27);
  if (b2927 === 0b001 && bits(w, 25, 24) === 0) {
    // exclusive / ordered / CAS (bits[29:24] = 001000)
    const o2 = bit(w, 23);
    const ld = bit(w, 22);
    const o1 = bit(w, 21);
    const rs = bits(w, 20, 16);
    const o0 = bit(w, 15);
    const rt2 = bits(w, 14, 10);
    // Rs/Rt2 are should-be-one fields where unused. binutils 2.40 (the reference) insists on them only for LDAR
    // (Rs and Rt2) and CAS (Rt2); elsewhere it ignores them, and so do we.
    let i: Insn;
    if (o2 === 0 && o1 === 0) {
      if (ld) {
        i = makeInsn('LDXR', w);
        i.acquire = o0 === 1;
      } else {
        i = makeInsn('STXR', w);
        i.release = o0 === 1;
        i.rs = rs;
      }
    } else if (o2 === 1 && o1 === 0) {
      if (o0 !== 1) return undef(w); // LDLAR/STLLR (FEAT_LOR) not in the set
      if (ld && (rs !== 31 || rt2 !== 31)) return undef(w);
      i = makeInsn(ld ? 'LDAR' : 'STLR', w);
      i.acquire = ld === 1;
      i.release = ld === 0;
    } else if (o2 === 1 && o1 === 1) {
      if (rt2 !== 31) return undef(w);
      i = makeInsn('CAS', w);
      i.acquire = ld === 1;
      i.release = o0 === 1;
      i.rs = rs;
    } else return undef(w);
    i.size = 1 << size;
    i.sf = size === 3;
    i.rt = rt;
    i.rn = rn;
    return i;
  }
  if (b2927 === 0b011 && bits(w, 25, 24) === 0) {
    // LDR (literal)
    const opc = size;
    if (opc === 3) return undef(w); // PRFM (literal): not in the set
    const i = makeInsn('LDR', w);
    i.mode = 'literal';
    i.rt = rt;
    i.size = opc === 0 ? 4 : opc === 1 ? 8 : 4;
    i.signed = opc === 2;
    i.sf = opc !== 0;
    i.imm = sext(bits(w, 23, 5), 19) * 4;
    return i;
  }
  if (b2927 === 0b101) {
    // load/store pair
    const opc = size;
    const mode = bits(w, 25, 23);
    const ld = bit(w, 22);
    if (opc === 3 || mode === 0 || (opc === 1 && !ld)) return undef(w);
    if (opc === 1) {
      // LDPSW: binutils treats the CONSTRAINED UNPREDICTABLE register overlaps as undefined (LDP it accepts)
      const t = bits(w, 4, 0);
      const t2 = bits(w, 14, 10);
      const n = bits(w, 9, 5);
      if (t === t2 || (mode !== 2 && n !== 31 && (n === t || n === t2))) return undef(w);
    }
    const i = makeInsn(ld ? 'LDP' : 'STP', w);
    const scale = opc === 2 ? 8 : 4;
    i.size = scale;
    i.signed = opc === 1;
    i.sf = opc !== 0;
    i.rt = rt;
    i.rt2 = bits(w, 14, 10);
    i.rn = rn;
    i.imm = sext(bits(w, 21, 15), 7) * scale;
    i.mode = mode === 1 ? 'post' : mode === 2 ? 'offset' : 'pre';
    return i;
  }
  if (b2927 !== 0b111) return undef(w);
  const opc = bits(w, 23, 22);
  const isAtomic = bit(w, 24) === 0 && bit(w, 21) === 1 && bits(w, 11, 10) === 0;
  if (isAtomic) {
    const o3 = bit(w, 15);
    const aop = bits(w, 14, 12);
    let op: Op = 'UNDEFINED';
    if (o3 === 0 && aop === 0) op = 'LDADD';
    else if (o3 === 1 && aop === 0) op = 'SWP';
    if (op === 'UNDEFINED') return undef(w);
    const i = makeInsn(op, w);
    i.acquire = bit(w, 23) === 1;
    i.release = bit(w, 22) === 1;
    i.size = 1 << size;
    i.sf = size === 3;
    i.rs = bits(w, 20, 16);
    i.rt = rt;
    i.rn = rn;
    return i;
  }
  // register-class: work out load/store, sign extension and destination width from size:opc
  let op: Op;
  let signed = false;
  let sf: boolean;
  if (opc === 0) {
    op = 'STR';
    sf = size === 3;
  } else if (opc === 1) {
    op = 'LDR';
    sf = size === 3;
  } else {
    if (size === 3) return undef(w); // PRFM / unallocated
    if (size === 2 && opc === 3) return undef(w);
    op = 'LDR';
    signed = true;
    sf = opc === 2;
  }
  const i = makeInsn(op, w);
  i.size = 1 << size;
  i.signed = signed;
  i.sf = sf;
  i.rt = rt;
  i.rn = rn;
  if (bit(w, 24) === 1) {
    i.mode = 'offset';
    i.imm = bits(w, 21, 10) * i.size;
    return i;
  }
  if (bit(w, 21) === 0) {
    const imm9 = sext(bits(w, 20, 12), 9);
    switch (bits(w, 11, 10)) {
      case 0:
        i.mode = 'offset';
        i.unscaled = true;
        break;
      case 1:
        i.mode = 'post';
        break;
      case 3:
        i.mode = 'pre';
        break;
      default:
        return undef(w); // LDTR/STTR: not in the set
    }
    i.imm = imm9;
    return i;
  }
  if (bits(w, 11, 10) !== 2) return undef(w);
  const option = bits(w, 15, 13);
  if ((option & 2) === 0) return undef(w); // only UXTW(010) LSL/UXTX(011) SXTW(110) SXTX(111)
  i.mode = 'reg';
  i.rm = bits(w, 20, 16);
  i.extend = EXTEND_NAMES[option]!;
  i.shiftAmount = bit(w, 12) ? size : 0;
  i.unscaled = false;
  // S bit kept in immN for the encoder when the shift amount is 0 but S=1 (LDRB "lsl #0" form)
  i.immN = bit(w, 12);
  return i;
}

// ---------------------------------------------------------------- data processing, register

function decodeDpReg(w: number): Insn {
  const sf = bit(w, 31) === 1;
  const rd = bits(w, 4, 0);
  const rn = bits(w, 9, 5);
  const rm = bits(w, 20, 16);
  if (bit(w, 28) === 0) {
    if (bit(w, 24) === 0) {
      // logical (shifted register)
      const imm6 = bits(w, 15, 10);
      if (!sf && imm6 >= 32) return undef(w);
      const opc = bits(w, 30, 29);
      const n = bit(w, 21);
      const ops: readonly Op[] = n ? ['BIC_SREG', 'ORN_SREG', 'EON_SREG', 'BIC_SREG'] : ['AND_SREG', 'ORR_SREG', 'EOR_SREG', 'AND_SREG'];
      const i = makeInsn(ops[opc]!, w);
      i.setFlags = opc === 3;
      i.sf = sf;
      i.rd = rd;
      i.rn = rn;
      i.rm = rm;
      i.shift = SHIFT_NAMES[bits(w, 23, 22)]!;
      i.shiftAmount = imm6;
      return i;
    }
    const sub = bit(w, 30) === 1;
    if (bit(w, 21) === 0) {
      const shift = bits(w, 23, 22);
      const imm6 = bits(w, 15, 10);
      if (shift === 3 || (!sf && imm6 >= 32)) return undef(w);
      const i = makeInsn(sub ? 'SUB_SREG' : 'ADD_SREG', w);
      i.setFlags = bit(w, 29) === 1;
      i.sf = sf;
      i.rd = rd;
      i.rn = rn;
      i.rm = rm;
      i.shift = SHIFT_NAMES[shift]!;
      i.shiftAmount = imm6;
      return i;
    }
    const imm3 = bits(w, 12, 10);
    if (bits(w, 23, 22) !== 0 || imm3 > 4) return undef(w);
    const i = makeInsn(sub ? 'SUB_EREG' : 'ADD_EREG', w);
    i.setFlags = bit(w, 29) === 1;
    i.sf = sf;
    i.rd = rd;
    i.rn = rn;
    i.rm = rm;
    i.extend = EXTEND_NAMES[bits(w, 15, 13)]!;
    i.shiftAmount = imm3;
    return i;
  }
  const op2 = bits(w, 24, 21);
  if (op2 === 0b0100) {
    if (bit(w, 29) !== 0 || bit(w, 11) !== 0) return undef(w);
    const ops: readonly Op[] = bit(w, 30) ? ['CSINV', 'CSNEG'] : ['CSEL', 'CSINC'];
    const i = makeInsn(ops[bit(w, 10)]!, w);
    i.sf = sf;
    i.rd = rd;
    i.rn = rn;
    i.rm = rm;
    i.cond = bits(w, 15, 12);
    return i;
  }
  if (op2 === 0b0110 && bit(w, 30) === 0) {
    if (bit(w, 29) !== 0) return undef(w);
    const ops: Record<number, Op> = { 2: 'UDIV', 3: 'SDIV', 8: 'LSLV', 9: 'LSRV', 10: 'ASRV', 11: 'RORV' };
    const op = ops[bits(w, 15, 10)];
    if (!op) return undef(w);
    const i = makeInsn(op, w);
    i.sf = sf;
    i.rd = rd;
    i.rn = rn;
    i.rm = rm;
    return i;
  }
  if ((op2 & 0b1000) !== 0) {
    if (bits(w, 30, 29) !== 0 || bits(w, 23, 21) !== 0) return undef(w);
    const i = makeInsn(bit(w, 15) ? 'MSUB' : 'MADD', w);
    i.sf = sf;
    i.rd = rd;
    i.rn = rn;
    i.rm = rm;
    i.ra = bits(w, 14, 10);
    return i;
  }
  return undef(w);
}
