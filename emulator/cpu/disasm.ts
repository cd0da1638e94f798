// GNU objdump-style disassembly of one A64 instruction (binutils 2.40 text, aliases and comments included), for the
// debugger's disassembly view and `kvms disasm`. Only the guest instruction set is known (LANGUAGE.md "guest
// blocks"); other encodings print as objdump prints undefined words (`udf #n` / `.inst 0x… ; undefined`).
//
// Alias preferences follow the Arm ARM "preferred disassembly" rules as binutils implements them (mov/cmp/cmn/tst/
// neg/mvn/mul/lsl/lsr/asr/ror/ubfx/sbfx/…/cset/cinc/stadd); the test suite compares against objdump line by line.

import { decode } from './decode';
import { CONDITION_NAMES, Insn } from './insn';
import { sysOpByEncoding } from '../arch/sysregs';

/** Maps an absolute address to the text objdump shows inside `<…>` (e.g. 'loop', 'loop+0x8'), or undefined. */
export type Symbolizer = (addr: bigint) => string | undefined;

const MASK64 = (1n << 64n) - 1n;

function xreg(n: number, sf: boolean, sp: boolean): string {
  if (n === 31) return sp ? (sf ? 'sp' : 'wsp') : sf ? 'xzr' : 'wzr';
  return (sf ? 'x' : 'w') + n;
}
const gpr = (n: number, sf: boolean): string => xreg(n, sf, false);
const gprSp = (n: number, sf: boolean): string => xreg(n, sf, true);
const hex = (v: number | bigint): string => '0x' + v.toString(16);

/** Other names of each condition (binutils aarch64_conds), printed as a comment. */
const COND_ALIASES: readonly string[][] = [
  ['none'], ['any'], ['hs', 'nlast'], ['lo', 'ul', 'last'], ['first'], ['nfrst'], [], [], ['pmore'], ['plast'],
  ['tcont'], ['tstop'], [], [], [], [],
];

/** `cond\t// cond = alias, …` for conditional-select operands. */
function condOperand(c: number): { text: string; comment: string } {
  const name = CONDITION_NAMES[c]!;
  const al = COND_ALIASES[c]!;
  return { text: name, comment: al.length ? `${name} = ${al.join(', ')}` : '' };
}

function target(pc: bigint, off: number, sym?: Symbolizer): string {
  const t = (pc + BigInt(off)) & MASK64;
  const s = sym?.(t);
  return t.toString(16) + (s !== undefined ? ` <${s}>` : '');
}

/** MOV (wide / bitmask) operand: `#0x%-20x` then `\t// #signed` (binutils AARCH64_OPND_IMM_MOV). */
function movImm(rd: string, value: bigint, sf: boolean): string {
  const v = sf ? value & MASK64 : value & 0xffffffffn;
  const signed = sf ? BigInt.asIntN(64, v) : BigInt.asIntN(32, v);
  return `mov\t${rd}, #0x${v.toString(16).padEnd(20, ' ')}\t// #${signed}`;
}

/** Can a MOVZ or MOVN of this width produce `v`? (ORR-immediate `mov` alias is used only when neither can.) */
function isWideMovable(v: bigint, sf: boolean): boolean {
  const width = sf ? 64 : 32;
  const mask = sf ? MASK64 : 0xffffffffn;
  const fits = (x: bigint): boolean => {
    for (let s = 0; s < width; s += 16) if ((x & ~(0xffffn << BigInt(s)) & mask) === 0n) return true;
    return false;
  };
  return fits(v & mask) || fits(~v & mask);
}

const SHIFT_TEXT = { LSL: 'lsl', LSR: 'lsr', ASR: 'asr', ROR: 'ror' } as const;

function shiftSuffix(i: Insn): string {
  if (i.shift === 'LSL' && i.shiftAmount === 0) return '';
  return `, ${SHIFT_TEXT[i.shift]} #${i.shiftAmount}`;
}

const BARRIER_NAMES: Record<number, string> = {
  1: 'oshld', 2: 'oshst', 3: 'osh', 5: 'nshld', 6: 'nshst', 7: 'nsh', 9: 'ishld', 10: 'ishst', 11: 'ish', 13: 'ld',
  14: 'st', 15: 'sy',
};

/** Hint numbers binutils prints by name (CRm:op2). */
const HINT_NAMES: Record<number, string> = {
  0: 'nop', 1: 'yield', 2: 'wfe', 3: 'wfi', 4: 'sev', 5: 'sevl', 7: 'xpaclri', 8: 'pacia1716', 10: 'pacib1716',
  12: 'autia1716', 14: 'autib1716', 16: 'esb', 17: 'psb\tcsync', 18: 'tsb\tcsync', 20: 'csdb', 24: 'paciaz',
  25: 'paciasp', 26: 'pacibz', 27: 'pacibsp', 28: 'autiaz', 29: 'autiasp', 30: 'autibz', 31: 'autibsp', 32: 'bti',
  34: 'bti\tc', 36: 'bti\tj', 38: 'bti\tjc',
};

function sizeSuffix(size: number): string {
  return size === 1 ? 'b' : size === 2 ? 'h' : '';
}

function memOperand(i: Insn): string {
  const base = gprSp(i.rn, true);
  switch (i.mode) {
    case 'offset':
      return i.imm === 0 ? `[${base}]` : `[${base}, #${i.imm}]`;
    case 'pre':
      return `[${base}, #${i.imm}]!`; // objdump keeps `#0` here
    case 'post':
      return `[${base}], #${i.imm}`;
    case 'reg': {
      const ext = i.extend;
      const xm = ext === 'UXTX' || ext === 'SXTX';
      const rm = gpr(i.rm, xm);
      const amount = i.immN ? ` #${i.shiftAmount}` : '';
      if (ext === 'UXTX') return i.immN ? `[${base}, ${rm}, lsl #${i.shiftAmount}]` : `[${base}, ${rm}]`;
      return `[${base}, ${rm}, ${ext.toLowerCase()}${amount}]`;
    }
    default:
      return `[${base}]`;
  }
}

function loadStoreMnemonic(i: Insn): string {
  const ld = i.op === 'LDR';
  const u = i.unscaled ? 'u' : '';
  if (i.signed) return `ld${u}rs${i.size === 4 ? 'w' : sizeSuffix(i.size)}`;
  return `${ld ? 'ld' : 'st'}${u}r${sizeSuffix(i.size)}`;
}

function addSubExtended(i: Insn, mnemonic: string, rdText: string | undefined): string {
  const sf = i.sf;
  const rmX = sf && (i.extend === 'UXTX' || i.extend === 'SXTX');
  // With SP as Rd (non-flag-setting) or Rn, UXTX/UXTW is written LSL (omitted when the amount is 0).
  const spInvolved = (!i.setFlags && i.rd === 31) || i.rn === 31;
  const lslExt = sf ? 'UXTX' : 'UXTW';
  let ext: string;
  if (spInvolved && i.extend === lslExt) ext = i.shiftAmount === 0 ? '' : `, lsl #${i.shiftAmount}`;
  else ext = `, ${i.extend.toLowerCase()}` + (i.shiftAmount ? ` #${i.shiftAmount}` : '');
  const ops = [rdText, gprSp(i.rn, sf), gpr(i.rm, rmX)].filter((x) => x !== undefined).join(', ');
  return `${mnemonic}\t${ops}${ext}`;
}

/**
 * objdump text for `word` at `pc`: mnemonic, a tab, operands (and `\t// …` comments where objdump prints them).
 * Branch targets print as `<hex address> <sym>` when `symbolize` returns a name.
 */
export function disassemble(word: number, pc: bigint, symbolize?: Symbolizer): string {
  return formatInsn(decode(word), pc, symbolize);
}

/** objdump's text for a data word in a literal pool / `.word` directive. */
export function disassembleDataWord(word: number): string {
  return `.word\t0x${(word >>> 0).toString(16).padStart(8, '0')}`;
}

export function formatInsn(i: Insn, pc: bigint, sym?: Symbolizer): string {
  const sf = i.sf;
  switch (i.op) {
    case 'UNDEFINED':
      if (i.raw >>> 16 === 0) return `udf\t#${i.raw & 0xffff}`;
      return `.inst\t0x${i.raw.toString(16).padStart(8, '0')} ; undefined`;
    case 'ADD_IMM':
    case 'SUB_IMM': {
      const add = i.op === 'ADD_IMM';
      const imm12 = i.shiftAmount ? i.imm / 4096 : i.imm;
      const immText = `#${hex(imm12)}` + (i.shiftAmount ? ', lsl #12' : '');
      if (add && !i.setFlags && i.imm === 0 && i.shiftAmount === 0 && (i.rd === 31 || i.rn === 31))
        return `mov\t${gprSp(i.rd, sf)}, ${gprSp(i.rn, sf)}`;
      if (i.setFlags && i.rd === 31) return `${add ? 'cmn' : 'cmp'}\t${gprSp(i.rn, sf)}, ${immText}`;
      const rd = i.setFlags ? gpr(i.rd, sf) : gprSp(i.rd, sf);
      return `${add ? 'add' : 'sub'}${i.setFlags ? 's' : ''}\t${rd}, ${gprSp(i.rn, sf)}, ${immText}`;
    }
    case 'ADD_SREG':
    case 'SUB_SREG': {
      const add = i.op === 'ADD_SREG';
      const s = i.setFlags ? 's' : '';
      if (i.setFlags && i.rd === 31) return `${add ? 'cmn' : 'cmp'}\t${gpr(i.rn, sf)}, ${gpr(i.rm, sf)}${shiftSuffix(i)}`;
      if (!add && i.rn === 31) return `neg${s}\t${gpr(i.rd, sf)}, ${gpr(i.rm, sf)}${shiftSuffix(i)}`;
      return `${add ? 'add' : 'sub'}${s}\t${gpr(i.rd, sf)}, ${gpr(i.rn, sf)}, ${gpr(i.rm, sf)}${shiftSuffix(i)}`;
    }
    case 'ADD_EREG':
    case 'SUB_EREG': {
      const add = i.op === 'ADD_EREG';
      if (i.setFlags && i.rd === 31) return addSubExtended(i, add ? 'cmn' : 'cmp', undefined);
      const rd = i.setFlags ? gpr(i.rd, sf) : gprSp(i.rd, sf);
      return addSubExtended(i, (add ? 'add' : 'sub') + (i.setFlags ? 's' : ''), rd);
    }
    case 'AND_IMM':
    case 'ORR_IMM':
    case 'EOR_IMM': {
      const v = `#${hex(i.bimm)}`;
      if (i.op === 'AND_IMM' && i.setFlags && i.rd === 31) return `tst\t${gpr(i.rn, sf)}, ${v}`;
      // `mov` unless MOVZ/MOVN could do it (those cannot write SP, so `mov sp, #imm` is always this form)
      if (i.op === 'ORR_IMM' && i.rn === 31 && !i.setFlags && (i.rd === 31 || !isWideMovable(i.bimm, sf)))
        return movImm(gprSp(i.rd, sf), i.bimm, sf);
      const mn = i.op === 'AND_IMM' ? (i.setFlags ? 'ands' : 'and') : i.op === 'ORR_IMM' ? 'orr' : 'eor';
      const rd = i.setFlags ? gpr(i.rd, sf) : gprSp(i.rd, sf);
      return `${mn}\t${rd}, ${gpr(i.rn, sf)}, ${v}`;
    }
    case 'MOVZ':
    case 'MOVN': {
      const rd = gpr(i.rd, sf);
      const wide = BigInt(i.imm) << BigInt(i.shiftAmount);
      const preferMov =
        !(i.imm === 0 && i.shiftAmount !== 0) && (i.op === 'MOVZ' || sf || i.imm !== 0xffff);
      if (preferMov) return movImm(rd, i.op === 'MOVZ' ? wide : ~wide, sf);
      return `${i.op.toLowerCase()}\t${rd}, #${hex(i.imm)}` + (i.shiftAmount ? `, lsl #${i.shiftAmount}` : '');
    }
    case 'MOVK':
      return `movk\t${gpr(i.rd, sf)}, #${hex(i.imm)}` + (i.shiftAmount ? `, lsl #${i.shiftAmount}` : '');
    case 'SBFM':
    case 'UBFM':
    case 'BFM':
      return formatBitfield(i);
    case 'EXTR':
      if (i.rn === i.rm) return `ror\t${gpr(i.rd, sf)}, ${gpr(i.rn, sf)}, #${i.imm}`;
      return `extr\t${gpr(i.rd, sf)}, ${gpr(i.rn, sf)}, ${gpr(i.rm, sf)}, #${i.imm}`;
    case 'ADR':
    case 'ADRP': {
      const base = i.op === 'ADRP' ? pc & ~0xfffn : pc;
      return `${i.op.toLowerCase()}\t${gpr(i.rd, true)}, ${target(base, i.imm, sym)}`;
    }
    case 'AND_SREG':
    case 'BIC_SREG':
    case 'ORR_SREG':
    case 'ORN_SREG':
    case 'EOR_SREG':
    case 'EON_SREG': {
      if (i.op === 'AND_SREG' && i.setFlags && i.rd === 31)
        return `tst\t${gpr(i.rn, sf)}, ${gpr(i.rm, sf)}${shiftSuffix(i)}`;
      if (i.op === 'ORR_SREG' && i.rn === 31 && i.shift === 'LSL' && i.shiftAmount === 0)
        return `mov\t${gpr(i.rd, sf)}, ${gpr(i.rm, sf)}`;
      if (i.op === 'ORN_SREG' && i.rn === 31) return `mvn\t${gpr(i.rd, sf)}, ${gpr(i.rm, sf)}${shiftSuffix(i)}`;
      const base = i.op.slice(0, 3).toLowerCase();
      const mn = i.setFlags ? base + 's' : base;
      return `${mn}\t${gpr(i.rd, sf)}, ${gpr(i.rn, sf)}, ${gpr(i.rm, sf)}${shiftSuffix(i)}`;
    }
    case 'LSLV':
    case 'LSRV':
    case 'ASRV':
    case 'RORV':
    case 'UDIV':
    case 'SDIV': {
      const mn = i.op === 'UDIV' || i.op === 'SDIV' ? i.op.toLowerCase() : i.op.slice(0, 3).toLowerCase();
      return `${mn}\t${gpr(i.rd, sf)}, ${gpr(i.rn, sf)}, ${gpr(i.rm, sf)}`;
    }
    case 'MADD':
    case 'MSUB': {
      const ops = `${gpr(i.rd, sf)}, ${gpr(i.rn, sf)}, ${gpr(i.rm, sf)}`;
      if (i.ra === 31) return `${i.op === 'MADD' ? 'mul' : 'mneg'}\t${ops}`;
      return `${i.op.toLowerCase()}\t${ops}, ${gpr(i.ra, sf)}`;
    }
    case 'CSEL':
    case 'CSINC':
    case 'CSINV':
    case 'CSNEG': {
      const rd = gpr(i.rd, sf);
      const invertible = (i.cond & 0xe) !== 0xe;
      let text: string;
      let c: { text: string; comment: string };
      if (i.op !== 'CSEL' && invertible && i.rn === i.rm) {
        c = condOperand(i.cond ^ 1);
        if (i.op !== 'CSNEG' && i.rn === 31) text = `${i.op === 'CSINC' ? 'cset' : 'csetm'}\t${rd}, ${c.text}`;
        else text = `${i.op === 'CSINC' ? 'cinc' : i.op === 'CSINV' ? 'cinv' : 'cneg'}\t${rd}, ${gpr(i.rn, sf)}, ${c.text}`;
      } else {
        c = condOperand(i.cond);
        text = `${i.op.toLowerCase()}\t${rd}, ${gpr(i.rn, sf)}, ${gpr(i.rm, sf)}, ${c.text}`;
      }
      return c.comment ? `${text}\t// ${c.comment}` : text;
    }
    case 'LDR':
    case 'STR': {
      const rt = gpr(i.rt, i.sf);
      if (i.mode === 'literal') return `${i.signed ? 'ldrsw' : 'ldr'}\t${rt}, ${target(pc, i.imm, sym)}`;
      return `${loadStoreMnemonic(i)}\t${rt}, ${memOperand(i)}`;
    }
    case 'LDP':
    case 'STP': {
      const mn = i.op === 'LDP' ? (i.signed ? 'ldpsw' : 'ldp') : 'stp';
      return `${mn}\t${gpr(i.rt, i.sf)}, ${gpr(i.rt2, i.sf)}, ${memOperand(i)}`;
    }
    case 'LDXR':
      return `ld${i.acquire ? 'a' : ''}xr${sizeSuffix(i.size)}\t${gpr(i.rt, i.sf)}, [${gprSp(i.rn, true)}]`;
    case 'STXR':
      return `st${i.release ? 'l' : ''}xr${sizeSuffix(i.size)}\t${gpr(i.rs, false)}, ${gpr(i.rt, i.sf)}, [${gprSp(i.rn, true)}]`;
    case 'LDAR':
      return `ldar${sizeSuffix(i.size)}\t${gpr(i.rt, i.sf)}, [${gprSp(i.rn, true)}]`;
    case 'STLR':
      return `stlr${sizeSuffix(i.size)}\t${gpr(i.rt, i.sf)}, [${gprSp(i.rn, true)}]`;
    case 'CAS':
    case 'LDADD':
    case 'SWP': {
      const ord = (i.acquire ? 'a' : '') + (i.release ? 'l' : '');
      const mem = `[${gprSp(i.rn, true)}]`;
      if (i.op === 'LDADD' && i.rt === 31 && !i.acquire)
        return `stadd${ord}${sizeSuffix(i.size)}\t${gpr(i.rs, i.sf)}, ${mem}`;
      return `${i.op.toLowerCase()}${ord}${sizeSuffix(i.size)}\t${gpr(i.rs, i.sf)}, ${gpr(i.rt, i.sf)}, ${mem}`;
    }
    case 'B':
    case 'BL':
      return `${i.op.toLowerCase()}\t${target(pc, i.imm, sym)}`;
    case 'B_COND': {
      const al = COND_ALIASES[i.cond]!;
      const text = `b.${CONDITION_NAMES[i.cond]}\t${target(pc, i.imm, sym)}`;
      return al.length ? `${text}  // ${al.map((a) => 'b.' + a).join(', ')}` : text;
    }
    case 'CBZ':
    case 'CBNZ':
      return `${i.op.toLowerCase()}\t${gpr(i.rt, sf)}, ${target(pc, i.imm, sym)}`;
    case 'TBZ':
    case 'TBNZ':
      return `${i.op.toLowerCase()}\t${gpr(i.rt, i.bit >= 32)}, #${i.bit}, ${target(pc, i.imm, sym)}`;
    case 'BR':
    case 'BLR':
      return `${i.op.toLowerCase()}\t${gpr(i.rn, true)}`;
    case 'RET':
      return i.rn === 30 ? 'ret' : `ret\t${gpr(i.rn, true)}`;
    case 'ERET':
      return 'eret';
    case 'SVC':
    case 'HVC':
    case 'SMC':
    case 'BRK':
      return `${i.op.toLowerCase()}\t#${hex(i.imm)}`;
    case 'NOP':
    case 'YIELD':
    case 'WFE':
    case 'WFI':
    case 'SEV':
    case 'SEVL':
    case 'PSB_CSYNC':
    case 'HINT':
      return HINT_NAMES[i.imm] ?? `hint\t#${hex(i.imm)}`;
    case 'CLREX':
      return i.imm === 15 ? 'clrex' : `clrex\t#${i.imm}`;
    case 'ISB':
      return i.imm === 15 ? 'isb' : `isb\t#${hex(i.imm)}`;
    case 'DSB':
    case 'DMB': {
      if (i.op === 'DSB' && i.imm === 0) return 'ssbb';
      if (i.op === 'DSB' && i.imm === 4) return 'pssbb';
      const name = BARRIER_NAMES[i.imm];
      return `${i.op.toLowerCase()}\t${name ?? '#0x' + i.imm.toString(16).padStart(2, '0')}`;
    }
    case 'MSR_IMM':
      return `msr\t${i.pstate.toLowerCase()}, #${hex(i.imm)}`;
    case 'MRS':
      return `mrs\t${gpr(i.rt, true)}, ${i.sys!.name.toLowerCase()}`;
    case 'MSR_REG':
      return `msr\t${i.sys!.name.toLowerCase()}, ${gpr(i.rt, true)}`;
    case 'SYS': {
      const s = i.sys!;
      const def = sysOpByEncoding(s.op1, s.crn, s.crm, s.op2);
      if (def && (def.hasRt || i.rt === 31)) {
        const [group, op] = def.name.toLowerCase().split(' ');
        return `${group}\t${op}` + (def.hasRt ? `, ${gpr(i.rt, true)}` : '');
      }
      return `sys\t#${s.op1}, C${s.crn}, C${s.crm}, #${s.op2}` + (i.rt !== 31 ? `, ${gpr(i.rt, true)}` : '');
    }
  }
}

function formatBitfield(i: Insn): string {
  const sf = i.sf;
  const width = sf ? 64 : 32;
  const rd = gpr(i.rd, sf);
  const rn = gpr(i.rn, sf);
  const { immr, imms } = i;
  const allOnes = width - 1;
  if (i.op === 'BFM') {
    if (imms < immr) {
      const lsb = (width - immr) & (width - 1);
      if (i.rn === 31) return `bfc\t${rd}, #${lsb}, #${imms + 1}`;
      return `bfi\t${rd}, ${rn}, #${lsb}, #${imms + 1}`;
    }
    return `bfxil\t${rd}, ${rn}, #${immr}, #${imms - immr + 1}`;
  }
  const uns = i.op === 'UBFM';
  if (uns && imms !== allOnes && imms + 1 === immr) return `lsl\t${rd}, ${rn}, #${allOnes - imms}`;
  if (imms === allOnes) return `${uns ? 'lsr' : 'asr'}\t${rd}, ${rn}, #${immr}`;
  if (imms < immr) return `${uns ? 'ubfiz' : 'sbfiz'}\t${rd}, ${rn}, #${(width - immr) & (width - 1)}, #${imms + 1}`;
  if (bfxPreferred(sf, uns, imms, immr)) return `${uns ? 'ubfx' : 'sbfx'}\t${rd}, ${rn}, #${immr}, #${imms - immr + 1}`;
  // immr == 0 and imms is 7/15/31: the extend aliases
  const ext = imms === 7 ? 'b' : imms === 15 ? 'h' : 'w';
  return `${uns ? 'uxt' : 'sxt'}${ext}\t${rd}, ${gpr(i.rn, false)}`;
}

/** Arm ARM BFXPreferred(). */
function bfxPreferred(sf: boolean, uns: boolean, imms: number, immr: number): boolean {
  if (imms < immr) return false;
  if (imms === (sf ? 63 : 31)) return false;
  if (immr === 0) {
    if (!sf && (imms === 7 || imms === 15)) return false;
    if (sf && !uns && (imms === 7 || imms === 15 || imms === 31)) return false;
  }
  return true;
}

/**
 * objdump's symbolization from assembler labels: the nearest label at or below the address within the same guest
 * block (objdump works per section), `name` or `name+0x…`; among labels at one address the smallest name (ASCII
 * order, as objdump picks). Addresses outside every block, or before the block's first label, get no symbol.
 */
export function labelSymbolizer(
  labels: ReadonlyMap<string, bigint>,
  blocks: readonly { base: bigint; bytes: { length: number } }[],
): Symbolizer {
  const ranges = blocks.map((b) => ({ lo: b.base, hi: b.base + BigInt(b.bytes.length) }));
  const blockOf = (a: bigint): number => ranges.findIndex((r) => a >= r.lo && a < r.hi);
  const perBlock: { addr: bigint; name: string }[][] = ranges.map(() => []);
  for (const [name, addr] of labels) {
    const b = blockOf(addr);
    if (b >= 0) perBlock[b]!.push({ addr, name });
  }
  for (const list of perBlock)
    list.sort((x, y) => (x.addr < y.addr ? -1 : x.addr > y.addr ? 1 : x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return (addr) => {
    const b = blockOf(addr);
    if (b < 0) return undefined;
    const list = perBlock[b]!;
    let best: { addr: bigint; name: string } | undefined;
    for (const l of list) {
      if (l.addr > addr) break;
      if (!best || l.addr > best.addr) best = l;
    }
    if (!best) return undefined;
    return best.addr === addr ? best.name : `${best.name}+0x${(addr - best.addr).toString(16)}`;
  };
}
