// GNU-as-syntax assembler for `guest` blocks (LANGUAGE.md "guest blocks"): the instruction set of insn.ts, labels
// global across blocks (two passes), `#expr` immediates, `ldr xN, =expr` literal pools, and the directives
// `.quad .word .hword .byte .asciz .align .space` (plus `.balign .p2align .ascii .string .inst .short .long
// .xword .dword .ltorg`-free GAS spellings that cost nothing).
//
// Layout decisions are GAS's (binutils 2.40, `-march=armv8.2-a+lse+profile`), checked by the test suite:
//  - the literal pool of a block goes after the block's last byte (GAS dumps pending pools at the end of the
//    section): 4-byte entries first (4-aligned), then 8-byte entries (8-aligned), zero padding, duplicates merged
//    when value and GAS signedness match (or the same label expression); `ldr x0, =1` stays a literal load;
//  - an instruction after unaligned data is aligned to 4 with zero bytes; `.align`/`.balign` in code fill with
//    zero bytes up to 4-byte alignment and then NOP words;
//  - `ldr xN, [xM, #imm]` that does not fit the scaled form uses LDUR; `add/sub #-imm` flips to sub/add;
//    `mov #imm` picks MOVZ, then MOVN, then ORR (bitmask);
//  - `add/sub` with SP or a W index register use the extended-register form.

import { AsmError, evalExpr, ExprValue, NameResolver, Token, tokenize, UndefinedName } from './asm-expr';
import { encodeBitMask } from './bitmask-imm';
import { encode, EncodeError } from './encode';
import { CONDITION_NAMES, Extend, EXTEND_NAMES, Insn, makeInsn, Op, Shift } from './insn';
import { lookupSysreg, sysOpByName } from '../arch/sysregs';

export interface AsmBlockInput {
  base: bigint;
  source: string;
  /** 1-based line of the block's first source line in the .kvms file. */
  line: number;
  /** 1-based column of source[0] in that first line (default 1). Later lines start at column 1. */
  col?: number;
}

export interface AsmDiagnostic {
  /** 1-based line in the .kvms file. */
  line: number;
  /** 1-based start column; endCol is exclusive (1-based). */
  col: number;
  endCol: number;
  message: string;
}

export interface AsmLine {
  /** 1-based .kvms line of the statement. */
  line: number;
  addr: bigint;
  /** Bytes the statement emitted (instructions 4; data directives their size). */
  size: number;
  /** Index of the block in the input. */
  block: number;
}

export interface AsmResult {
  ok: boolean;
  blocks: { base: bigint; bytes: Uint8Array }[];
  labels: Map<string, bigint>;
  lines: AsmLine[];
  diagnostics: AsmDiagnostic[];
  /** Literal-pool ranges (data, not code; including the alignment padding before entries), per block: for the
   *  disassembly view, which prints them as `.word` like objdump does for GAS pools. */
  pools: { block: number; addr: bigint; size: number }[];
}

const MASK64 = (1n << 64n) - 1n;
const NOP = 0xd503201f;

interface Stmt {
  block: number;
  line: number; // .kvms line
  colBase: number; // 0-based column of the line's char 0 in the .kvms line
  /** The line's text (comments blanked), for quoting operands in messages. */
  text: string;
  tokens: Token[];
  mnemonic: Token;
  operands: Token[][];
  offset: number; // byte offset within the block (after any alignment padding)
  pad: number; // zero bytes inserted before (instruction alignment)
  size: number;
  kind: 'insn' | 'data' | 'align';
}

interface PoolRef {
  stmt: Stmt;
  insnOffset: number;
  size: 4 | 8;
  key: string;
  value: bigint;
}

/** Assemble every guest block of a scenario. `symbols` resolves predefined symbols and scenario constants. */
export function assembleProgram(
  blocks: readonly AsmBlockInput[],
  symbols: (name: string) => bigint | undefined,
): AsmResult {
  const diagnostics: AsmDiagnostic[] = [];
  const labels = new Map<string, bigint>();
  const stmts: Stmt[][] = [];
  const blockSizes: number[] = [];

  const report = (line: number, colBase: number, e: AsmError): void => {
    diagnostics.push({ line, col: colBase + e.start + 1, endCol: colBase + Math.max(e.end, e.start + 1) + 1, message: e.message });
  };

  // ---- pass 1: split statements, define labels, size everything
  const resolvePass1: NameResolver = (name) => {
    const l = labels.get(name);
    if (l !== undefined) return { value: l, isLabel: true };
    const s = symbols(name);
    return s === undefined ? undefined : { value: s, isLabel: false };
  };
  blocks.forEach((blk, bi) => {
    const list: Stmt[] = [];
    const text = blankComments(blk.source);
    const lines = text.split('\n');
    let offset = 0;
    lines.forEach((raw, li) => {
      const line = blk.line + li;
      const colBase = li === 0 ? (blk.col ?? 1) - 1 : 0;
      const numeric = /^(\s*)([0-9]+:)/.exec(raw);
      if (numeric) {
        const at = numeric[1]!.length;
        report(line, colBase, new AsmError('numeric local labels are not supported: use a named label', at, at + numeric[2]!.length));
        return;
      }
      let tokens: Token[];
      try {
        tokens = tokenize(raw);
      } catch (e) {
        if (e instanceof AsmError) report(line, colBase, e);
        else throw e;
        return;
      }
      let p = 0;
      // labels: `name:` (several allowed)
      while (p + 1 < tokens.length && tokens[p]!.kind === 'ident' && tokens[p + 1]!.text === ':') {
        const t = tokens[p]!;
        if (labels.has(t.text) || symbols(t.text) !== undefined) {
          report(line, colBase, new AsmError(`'${t.text}' is already defined`, t.start, t.end));
        } else labels.set(t.text, (blk.base + BigInt(offset)) & MASK64);
        p += 2;
      }
      if (p >= tokens.length) return;
      const mn = tokens[p]!;
      if (mn.kind !== 'ident') {
        report(line, colBase, new AsmError(`expected a mnemonic or directive, got '${mn.text}'`, mn.start, mn.end));
        return;
      }
      const operands = splitOperands(tokens, p + 1);
      const st: Stmt = { block: bi, line, colBase, text: raw, tokens, mnemonic: mn, operands, offset, pad: 0, size: 0, kind: 'insn' };
      const here = (blk.base + BigInt(offset)) & MASK64;
      try {
        sizeStatement(st, (n) => (n === '.' ? { value: here, isLabel: true } : resolvePass1(n)), offset, Number(blk.base & 0xffffn));
      } catch (e) {
        if (e instanceof AsmError) report(line, colBase, e);
        else throw e;
        return;
      }
      offset = st.offset + st.size;
      list.push(st);
    });
    stmts.push(list);
    blockSizes.push(offset);
  });

  // ---- pass 2: encode
  const resolve: NameResolver = resolvePass1;
  const outBlocks: AsmResult['blocks'] = [];
  const outLines: AsmLine[] = [];
  const pools: AsmResult['pools'] = [];
  blocks.forEach((blk, bi) => {
    const codeSize = blockSizes[bi]!;
    const poolRefs: PoolRef[] = [];
    const chunks: { offset: number; bytes: number[] }[] = [];
    for (const st of stmts[bi]!) {
      const pc = (blk.base + BigInt(st.offset)) & MASK64;
      const ctx: Ctx = { st, pc, resolve: (n) => (n === '.' ? { value: pc, isLabel: true } : resolve(n)), poolRefs };
      try {
        const bytes = emitStatement(ctx);
        chunks.push({ offset: st.offset, bytes });
        if (st.size > 0) outLines.push({ line: st.line, addr: ctx.pc, size: st.size, block: bi });
      } catch (e) {
        if (e instanceof AsmError) report(st.line, st.colBase, e);
        else if (e instanceof EncodeError) report(st.line, st.colBase, new AsmError(e.message, st.mnemonic.start, lastEnd(st)));
        else throw e;
      }
    }
    // literal pool after the block: 4-byte entries, then 8-byte entries (GAS order and alignment)
    let end = codeSize;
    const slots = new Map<string, number>();
    const poolBytes: { offset: number; bytes: number[] }[] = [];
    const baseMod = Number(blk.base & 0xffffn); // alignment is of addresses, not of block offsets
    const poolStart = poolRefs.length ? alignUp(end, 4, baseMod) : end;
    for (const size of [4, 8] as const) {
      for (const ref of poolRefs.filter((r) => r.size === size)) {
        const k = `${size}:${ref.key}`;
        let at = slots.get(k);
        if (at === undefined) {
          end = alignUp(end, size, baseMod);
          at = end;
          slots.set(k, at);
          poolBytes.push({ offset: at, bytes: le(ref.value, size) });
          end += size;
        }
        const word = chunksWord(chunks, ref.insnOffset);
        const delta = at - ref.insnOffset;
        const patched = (word & 0xff00001f) | (((delta / 4) & 0x7ffff) << 5);
        if (delta / 4 > 0x3ffff) {
          report(ref.stmt.line, ref.stmt.colBase, new AsmError('literal pool out of range of the load', ref.stmt.mnemonic.start, lastEnd(ref.stmt)));
        }
        setChunkWord(chunks, ref.insnOffset, patched >>> 0);
      }
    }
    if (poolRefs.length) pools.push({ block: bi, addr: (blk.base + BigInt(poolStart)) & MASK64, size: end - poolStart });
    const bytes = new Uint8Array(end);
    for (const c of chunks) bytes.set(c.bytes, c.offset);
    for (const c of poolBytes) bytes.set(c.bytes, c.offset);
    outBlocks.push({ base: blk.base, bytes });
  });

  diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
  return { ok: diagnostics.length === 0, blocks: outBlocks, labels, lines: outLines, diagnostics, pools };
}

function lastEnd(st: Stmt): number {
  return st.tokens[st.tokens.length - 1]?.end ?? st.mnemonic.end;
}

function chunksWord(chunks: { offset: number; bytes: number[] }[], off: number): number {
  const c = chunks.find((x) => x.offset === off)!;
  const b = c.bytes;
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

function setChunkWord(chunks: { offset: number; bytes: number[] }[], off: number, w: number): void {
  const c = chunks.find((x) => x.offset === off)!;
  c.bytes = le(BigInt(w), 4);
}

/** Smallest offset >= v whose address (block base + offset) is a multiple of a (a <= 2^16; baseMod = base mod 2^16). */
function alignUp(v: number, a: number, baseMod = 0): number {
  const r = (baseMod + v) % a;
  return r === 0 ? v : v + (a - r);
}

function le(v: bigint, size: number): number[] {
  const out: number[] = [];
  let x = v & MASK64;
  for (let i = 0; i < size; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
}

/** Replace `//` and `/* … *\/` comments with spaces, keeping newlines and columns. */
function blankComments(src: string): string {
  let out = '';
  let i = 0;
  let inStr = false;
  while (i < src.length) {
    const c = src[i]!;
    if (inStr) {
      out += c;
      if (c === '\\' && i + 1 < src.length) {
        out += src[i + 1];
        i += 2;
        continue;
      }
      if (c === '"' || c === '\n') inStr = false;
      i++;
      continue;
    }
    if (c === '"') {
      inStr = true;
      out += c;
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') {
        out += ' ';
        i++;
      }
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      out += '  ';
      i += 2;
      while (i < src.length && !(src[i] === '*' && src[i + 1] === '/')) {
        out += src[i] === '\n' ? '\n' : ' ';
        i++;
      }
      if (i < src.length) {
        out += '  ';
        i += 2;
      }
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Split tokens[from..] into comma-separated operands, commas inside [] or () do not split. */
function splitOperands(tokens: Token[], from: number): Token[][] {
  const ops: Token[][] = [];
  if (from >= tokens.length) return ops;
  let cur: Token[] = [];
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '[' || t.text === '(') depth++;
    if (t.text === ']' || t.text === ')') depth--;
    if (t.text === ',' && depth === 0 && t.kind === 'punct') {
      ops.push(cur);
      cur = [];
      continue;
    }
    cur.push(t);
  }
  ops.push(cur);
  return ops;
}

// ---------------------------------------------------------------- directives and sizes

const DATA_SIZES: Record<string, number> = {
  '.byte': 1,
  '.hword': 2,
  '.short': 2,
  '.2byte': 2,
  '.word': 4,
  '.long': 4,
  '.int': 4,
  '.4byte': 4,
  '.inst': 4,
  '.quad': 8,
  '.xword': 8,
  '.dword': 8,
  '.8byte': 8,
};

function sizeStatement(st: Stmt, resolve: NameResolver, offset: number, baseMod: number): void {
  const name = st.mnemonic.text.toLowerCase();
  if (!name.startsWith('.')) {
    st.kind = 'insn';
    st.offset = alignUp(offset, 4, baseMod);
    st.pad = st.offset - offset;
    st.size = 4;
    return;
  }
  st.offset = offset;
  if (DATA_SIZES[name] !== undefined) {
    st.kind = 'data';
    const n = st.operands.filter((o) => o.length > 0).length;
    if (n === 0) throw new AsmError(`${name} needs at least one value`, st.mnemonic.start, st.mnemonic.end);
    st.size = n * DATA_SIZES[name]!;
    return;
  }
  if (name === '.asciz' || name === '.string' || name === '.ascii') {
    st.kind = 'data';
    let size = 0;
    for (const op of st.operands) {
      if (op.length !== 1 || op[0]!.kind !== 'str') throw opError(op, st, 'a string');
      size += utf8(op[0]!.str!).length + (name === '.ascii' ? 0 : 1);
    }
    st.size = size;
    return;
  }
  if (name === '.space' || name === '.skip' || name === '.zero') {
    st.kind = 'data';
    const v = constOperand(st, 0, resolve, 'a size');
    if (v > 1n << 32n) throw opError(st.operands[0]!, st, 'a size below 4G');
    st.size = Number(v);
    return;
  }
  if (name === '.align' || name === '.p2align' || name === '.balign') {
    st.kind = 'align';
    const v = constOperand(st, 0, resolve, 'an alignment');
    let align: number;
    if (name === '.balign') {
      if (v === 0n || (v & (v - 1n)) !== 0n || v > 1n << 16n) throw opError(st.operands[0]!, st, 'a power of 2 alignment');
      align = Number(v);
    } else {
      if (v > 16n) throw opError(st.operands[0]!, st, 'an alignment exponent in [0, 16]');
      align = 2 ** Number(v);
    }
    st.size = alignUp(offset, align, baseMod) - offset;
    return;
  }
  throw new AsmError(`unknown directive '${st.mnemonic.text}'`, st.mnemonic.start, st.mnemonic.end);
}

function utf8(s: string): number[] {
  // strings are byte strings in GAS; \xNN escapes produce single bytes, other text is UTF-8
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x100 && (c < 0x80 || ch.length === 1)) {
      if (c < 0x80) out.push(c);
      else out.push(...new TextEncoderLite(ch).bytes());
    } else out.push(...new TextEncoderLite(ch).bytes());
  }
  return out;
}

/** UTF-8 of one code point (no TextEncoder dependency in emulator/). */
class TextEncoderLite {
  constructor(private readonly ch: string) {}
  bytes(): number[] {
    const c = this.ch.codePointAt(0)!;
    if (c < 0x80) return [c];
    if (c < 0x800) return [0xc0 | (c >> 6), 0x80 | (c & 63)];
    if (c < 0x10000) return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
    return [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
  }
}

function constOperand(st: Stmt, idx: number, resolve: NameResolver, what: string): bigint {
  const op = st.operands[idx];
  if (!op || op.length === 0) throw new AsmError(`expected ${what}`, st.mnemonic.end, st.mnemonic.end + 1);
  const toks = op[0]!.text === '#' ? op.slice(1) : op;
  try {
    return evalExpr(toks, resolve).value;
  } catch (e) {
    if (e instanceof UndefinedName) throw new AsmError(`${e.message} (${what} must be known at this point)`, e.start, e.end);
    throw e;
  }
}

/** Evaluate an immediate expression, with GAS's `:lo12:expr` (low 12 bits, for adrp + add/ldr pairs). */
function evalImm(toks: Token[], resolve: NameResolver): ExprValue {
  if (toks.length >= 3 && toks[0]!.text === ':' && toks[2]!.text === ':' && toks[1]!.kind === 'ident') {
    const reloc = toks[1]!.text.toLowerCase();
    if (reloc !== 'lo12') throw new AsmError(`unsupported relocation ':${toks[1]!.text}:' (only :lo12:)`, toks[0]!.start, toks[2]!.end);
    const v = evalExpr(toks, resolve, 3);
    return { ...v, value: v.value & 0xfffn };
  }
  return evalExpr(toks, resolve);
}

function opError(op: Token[], st: Stmt, expected: string): AsmError {
  if (op.length === 0) return new AsmError(`expected ${expected}`, st.mnemonic.end, st.mnemonic.end + 1);
  const text = st.text.slice(op[0]!.start, op[op.length - 1]!.end);
  return new AsmError(`expected ${expected}, got '${text}'`, op[0]!.start, op[op.length - 1]!.end);
}

// ---------------------------------------------------------------- pass 2: emit

interface Ctx {
  st: Stmt;
  pc: bigint;
  resolve: NameResolver;
  poolRefs: PoolRef[];
}

function emitStatement(ctx: Ctx): number[] {
  const st = ctx.st;
  const name = st.mnemonic.text.toLowerCase();
  if (st.kind === 'insn') {
    const w = assembleInsn(ctx, name);
    return le(BigInt(w), 4);
  }
  if (st.kind === 'align') {
    // zero bytes up to 4-byte alignment, then NOP words (GAS aarch64 code alignment)
    const out: number[] = [];
    let off = Number(ctx.pc & 0xffffn); // the address matters, not the block offset
    const end = off + st.size;
    while (off < end && off % 4 !== 0) {
      out.push(0);
      off++;
    }
    while (off + 4 <= end) {
      out.push(...le(BigInt(NOP), 4));
      off += 4;
    }
    while (off < end) {
      out.push(0);
      off++;
    }
    return out;
  }
  if (name === '.asciz' || name === '.string' || name === '.ascii') {
    const out: number[] = [];
    for (const op of st.operands) {
      out.push(...utf8(op[0]!.str!));
      if (name !== '.ascii') out.push(0);
    }
    return out;
  }
  if (name === '.space' || name === '.skip' || name === '.zero') {
    const fill = st.operands.length > 1 ? Number(constOperand(st, 1, ctx.resolve, 'a fill byte') & 0xffn) : 0;
    return new Array<number>(st.size).fill(fill);
  }
  const size = DATA_SIZES[name]!;
  const out: number[] = [];
  let itemPc = ctx.pc;
  for (const op of st.operands) {
    const toks = op[0]?.text === '#' ? op.slice(1) : op;
    // `.` is the address of each item (GAS), not of the directive
    const here = itemPc;
    const v = evalExpr(toks, (n) => (n === '.' ? { value: here, isLabel: true } : ctx.resolve(n)));
    itemPc = (itemPc + BigInt(size)) & MASK64;
    if (size < 8) {
      const s = BigInt.asIntN(64, v.value);
      if (s < -(1n << BigInt(size * 8 - 1)) || s >= 1n << BigInt(size * 8))
        throw new AsmError(`value 0x${v.value.toString(16)} does not fit in ${size} byte${size > 1 ? 's' : ''}`, op[0]!.start, op[op.length - 1]!.end);
    }
    out.push(...le(v.value, size));
  }
  return out;
}

// ---------------------------------------------------------------- operands

interface RegOp {
  n: number; // 0..31
  x: boolean; // X (64-bit) name
  sp: boolean; // named sp / wsp
  zr: boolean; // named xzr / wzr
}

function parseReg(t: Token | undefined): RegOp | undefined {
  if (!t || t.kind !== 'ident') return undefined;
  const s = t.text.toLowerCase();
  if (s === 'sp') return { n: 31, x: true, sp: true, zr: false };
  if (s === 'wsp') return { n: 31, x: false, sp: true, zr: false };
  if (s === 'xzr') return { n: 31, x: true, sp: false, zr: true };
  if (s === 'wzr') return { n: 31, x: false, sp: false, zr: true };
  if (s === 'lr') return { n: 30, x: true, sp: false, zr: false };
  const m = /^([xw])([0-9]|[12][0-9]|30)$/.exec(s);
  if (!m) return undefined;
  return { n: +m[2]!, x: m[1] === 'x', sp: false, zr: false };
}

const SHIFTS: Record<string, Shift> = { lsl: 'LSL', lsr: 'LSR', asr: 'ASR', ror: 'ROR' };
const EXTENDS: Record<string, Extend> = {
  uxtb: 'UXTB', uxth: 'UXTH', uxtw: 'UXTW', uxtx: 'UXTX', sxtb: 'SXTB', sxth: 'SXTH', sxtw: 'SXTW', sxtx: 'SXTX',
};

class Operands {
  constructor(
    readonly ctx: Ctx,
    readonly ops: Token[][],
  ) {}

  get st(): Stmt {
    return this.ctx.st;
  }

  count(n: number | number[]): void {
    const ok = Array.isArray(n) ? n.includes(this.ops.length) : this.ops.length === n;
    if (ok) return;
    const want = Array.isArray(n) ? n.join(' or ') : String(n);
    if (this.ops.length > (Array.isArray(n) ? Math.max(...n) : n)) {
      const extra = this.ops[Array.isArray(n) ? Math.max(...n) : n]!;
      const start = extra[0]?.start ?? this.st.mnemonic.end;
      throw new AsmError(`too many operands for '${this.st.mnemonic.text}' (expected ${want})`, start, lastEnd(this.st));
    }
    throw new AsmError(`'${this.st.mnemonic.text}' expects ${want} operand${want === '1' ? '' : 's'}`, this.st.mnemonic.start, lastEnd(this.st));
  }

  op(i: number): Token[] {
    const o = this.ops[i];
    if (!o || o.length === 0) {
      const at = o === undefined ? lastEnd(this.st) : this.st.mnemonic.end;
      throw new AsmError(`missing operand ${i + 1}`, at, at + 1);
    }
    return o;
  }

  isReg(i: number): boolean {
    const o = this.ops[i];
    return !!o && o.length === 1 && parseReg(o[0]) !== undefined;
  }

  /** A general register in a ZR slot (or an SP slot with `sp`); width from `x` if given (must match). */
  reg(i: number, opts: { sp?: boolean; x?: boolean } = {}): RegOp {
    const o = this.op(i);
    const r = o.length === 1 ? parseReg(o[0]) : undefined;
    if (!r) throw opError(o, this.st, 'a register');
    if (r.sp && !opts.sp) throw opError(o, this.st, `a ${r.x ? 'x' : 'w'} register or ${r.x ? 'xzr' : 'wzr'} (sp is not allowed here)`);
    if (r.zr && opts.sp) throw opError(o, this.st, `a register or ${r.x ? 'sp' : 'wsp'} (${r.x ? 'xzr' : 'wzr'} is not allowed here)`);
    if (opts.x !== undefined && r.x !== opts.x) throw opError(o, this.st, `a ${opts.x ? '64-bit x' : '32-bit w'} register`);
    return r;
  }

  /** `#expr` or a bare expression. */
  immExpr(i: number, from = 0): { v: ExprValue; toks: Token[] } {
    const o = this.op(i).slice(from);
    if (o.length === 0) throw opError(this.op(i), this.st, 'an immediate');
    const first = o[0]!;
    if (parseReg(first) && o.length === 1) throw opError(o, this.st, 'an immediate');
    const toks = first.text === '#' ? o.slice(1) : o;
    if (toks.length === 0) throw new AsmError("expected an expression after '#'", first.start, first.end);
    return { v: evalImm(toks, this.ctx.resolve), toks: o };
  }

  imm(i: number): bigint {
    return this.immExpr(i).v.value;
  }

  /** Immediate as a JS number in [lo, hi] (signed interpretation). */
  immRange(i: number, lo: number, hi: number, what = 'immediate'): number {
    const { v, toks } = this.immExpr(i);
    const s = BigInt.asIntN(64, v.value);
    if (s < BigInt(lo) || s > BigInt(hi))
      throw new AsmError(`${what} ${s} out of range [${lo}, ${hi}]`, toks[0]!.start, toks[toks.length - 1]!.end);
    return Number(s);
  }

  /** Identifier operand (condition, option name, …), lower-cased. */
  ident(i: number, expected: string): string {
    const o = this.op(i);
    if (o.length !== 1 || o[0]!.kind !== 'ident') throw opError(o, this.st, expected);
    return o[0]!.text.toLowerCase();
  }

  /** `lsl #n` etc.; returns undefined if operand i is absent. */
  shift(i: number, allowed: Shift[]): { shift: Shift; amount: number } | undefined {
    const o = this.ops[i];
    if (!o) return undefined;
    const name = o[0]?.kind === 'ident' ? SHIFTS[o[0].text.toLowerCase()] : undefined;
    if (!name || !allowed.includes(name)) throw opError(o, this.st, `a shift (${allowed.map((s) => s.toLowerCase()).join(', ')})`);
    if (o.length < 2) throw new AsmError(`expected a shift amount after '${o[0]!.text}'`, o[0]!.start, o[0]!.end);
    const toks = o[1]!.text === '#' ? o.slice(2) : o.slice(1);
    const v = evalExpr(toks, this.ctx.resolve).value;
    if (v > 63n) throw new AsmError(`shift amount ${v} out of range`, o[1]!.start, o[o.length - 1]!.end);
    return { shift: name, amount: Number(v) };
  }

  /** Branch/literal target: label expression -> byte offset from pc. */
  target(i: number): { offset: number; toks: Token[] } {
    const o = this.op(i);
    if (o.length === 1 && parseReg(o[0])) throw opError(o, this.st, 'a label or address');
    const toks = o[0]!.text === '#' ? o.slice(1) : o;
    const v = evalExpr(toks, this.ctx.resolve).value;
    const off = BigInt.asIntN(64, (v - this.ctx.pc) & MASK64);
    if (off > 1n << 40n || off < -(1n << 40n)) throw new AsmError('branch target out of range', o[0]!.start, o[o.length - 1]!.end);
    return { offset: Number(off), toks: o };
  }
}

function fmtSigned(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

// ---------------------------------------------------------------- instructions

function build(op: Op, fields: Partial<Insn>): Insn {
  return Object.assign(makeInsn(op), fields);
}

const COND_INDEX: Record<string, number> = Object.fromEntries([
  ...CONDITION_NAMES.map((c, i) => [c, i] as const),
  ['hs', 2],
  ['lo', 3],
]);

function condition(o: Operands, i: number): number {
  const c = o.ident(i, 'a condition (eq, ne, cs, cc, mi, pl, vs, vc, hi, ls, ge, lt, gt, le, al, nv)');
  const v = COND_INDEX[c];
  if (v === undefined) throw opError(o.op(i), o.st, 'a condition (eq, ne, cs, cc, mi, pl, vs, vc, hi, ls, ge, lt, gt, le, al, nv)');
  return v;
}

const BARRIER_OPTIONS: Record<string, number> = {
  oshld: 1, oshst: 2, osh: 3, nshld: 5, nshst: 6, nsh: 7, ishld: 9, ishst: 10, ish: 11, ld: 13, st: 14, sy: 15,
};

function assembleInsn(ctx: Ctx, name: string): number {
  const o = new Operands(ctx, ctx.st.operands);
  const insn = buildInsn(o, name, ctx);
  return encode(insn);
}

function movImmediate(rd: RegOp, value: bigint): Insn {
  const sf = rd.x;
  const width = sf ? 64 : 32;
  const mask = sf ? MASK64 : 0xffffffffn;
  const v = value & mask;
  const wide = (x: bigint): { imm: number; shift: number } | undefined => {
    for (let s = 0; s < width; s += 16) if ((x & ~(0xffffn << BigInt(s)) & mask) === 0n) return { imm: Number((x >> BigInt(s)) & 0xffffn), shift: s };
    return undefined;
  };
  if (!rd.sp) {
    const z = wide(v);
    if (z) return build('MOVZ', { sf, rd: rd.n, imm: z.imm, shiftAmount: z.shift });
    const n = wide(~v & mask);
    if (n) return build('MOVN', { sf, rd: rd.n, imm: n.imm, shiftAmount: n.shift });
  }
  // ORR writes SP for register 31, so `mov xzr, #bitmask` has no encoding
  if (!rd.zr && encodeBitMask(v, width)) return build('ORR_IMM', { sf, rd: rd.n, rn: 31, bimm: v });
  throw new EncodeError(`cannot move 0x${v.toString(16)} in one instruction (use movz/movk or ldr =)`);
}

/** Value of a W/X immediate: must fit the register width (signed or unsigned). */
function fitWidth(o: Operands, i: number, sf: boolean): bigint {
  const { v, toks } = o.immExpr(i);
  if (!sf) {
    const s = BigInt.asIntN(64, v.value);
    if (s < -(1n << 31n) || s > 0xffffffffn)
      throw new AsmError(`immediate 0x${v.value.toString(16)} does not fit in 32 bits`, toks[0]!.start, toks[toks.length - 1]!.end);
    return v.value & 0xffffffffn;
  }
  return v.value;
}

/** A register operand parsed without slot checks (callers decide whether SP or ZR fits the slot). */
function rawReg(o: Operands, i: number): RegOp {
  const t = o.op(i);
  const r = t.length === 1 ? parseReg(t[0]) : undefined;
  if (!r) throw opError(t, o.st, 'a register');
  return r;
}

function slotCheck(o: Operands, i: number, r: RegOp, spSlot: boolean): void {
  if (spSlot && r.zr) throw opError(o.op(i), o.st, `a register or ${r.x ? 'sp' : 'wsp'} (${r.x ? 'xzr' : 'wzr'} is not allowed here)`);
  if (!spSlot && r.sp) throw opError(o.op(i), o.st, `a register or ${r.x ? 'xzr' : 'wzr'} (${r.x ? 'sp' : 'wsp'} is not allowed here)`);
}

/** add/adds/sub/subs, and cmp/cmn (compare = true: no Rd operand, Rd = ZR). */
function addSub(o: Operands, name: string, sub: boolean, setFlags: boolean, compare = false): Insn {
  const first = compare ? 0 : 1;
  const rd: RegOp = compare ? { n: 31, x: true, sp: false, zr: true } : rawReg(o, 0);
  const rn = rawReg(o, first);
  const sf = compare ? rn.x : rd.x;
  if (rn.x !== sf) throw opError(o.op(first), o.st, `a ${sf ? 'x' : 'w'} register`);
  const third = first + 1;
  if (!o.isReg(third)) {
    o.count([third + 1, third + 2]);
    if (!compare) slotCheck(o, 0, rd, !setFlags);
    slotCheck(o, first, rn, true);
    const { v, toks } = o.immExpr(third);
    let imm = BigInt.asIntN(64, v.value);
    let isSub = sub;
    let shiftAmount = 0;
    if (o.ops.length > third + 1) {
      const s = o.shift(third + 1, ['LSL'])!;
      if (s.amount !== 0 && s.amount !== 12) throw opError(o.op(third + 1), o.st, "'lsl #0' or 'lsl #12'");
      shiftAmount = s.amount;
      imm <<= BigInt(shiftAmount);
    }
    // GAS flips add/sub for a negative immediate
    if (imm < 0n && imm > -(1n << 24n)) {
      imm = -imm;
      isSub = !isSub;
    }
    const explicitShift = o.ops.length > third + 1;
    if (!explicitShift && imm > 4095n && (imm & 0xfffn) === 0n && imm <= 0xfff000n) shiftAmount = 12;
    const lim = shiftAmount === 12 ? 0xfff000n : 4095n;
    if (imm < 0n || imm > lim || (shiftAmount === 12 && (imm & 0xfffn) !== 0n))
      throw new AsmError(`immediate ${fmtSigned(imm)} out of range for ${name} (0..4095, optionally shifted left by 12)`, toks[0]!.start, lastOf(toks).end);
    return build(isSub ? 'SUB_IMM' : 'ADD_IMM', { sf, setFlags, rd: rd.n, rn: rn.n, imm: Number(imm), shiftAmount });
  }
  const rm = rawReg(o, third);
  if (rm.sp) throw opError(o.op(third), o.st, 'a register (sp is not allowed here)');
  const extOp = o.ops[third + 1];
  const extName = extOp?.[0]?.kind === 'ident' ? extOp[0].text.toLowerCase() : undefined;
  const rdSp = !compare && !setFlags && rd.sp;
  const useExtended = (extName !== undefined && EXTENDS[extName] !== undefined) || rn.sp || rdSp || (sf && !rm.x);
  o.count([third + 1, third + 2]);
  if (useExtended) {
    if (!compare) slotCheck(o, 0, rd, !setFlags);
    slotCheck(o, first, rn, true);
    let extend: Extend;
    let amount = 0;
    if (extName !== undefined && EXTENDS[extName]) {
      extend = EXTENDS[extName]!;
      if (extOp!.length > 1) {
        const toks = extOp![1]!.text === '#' ? extOp!.slice(2) : extOp!.slice(1);
        amount = Number(evalExpr(toks, o.ctx.resolve).value);
      }
    } else if (extOp) {
      if (!(rn.sp || rdSp)) throw opError(extOp, o.st, 'an extend (uxtb, uxth, uxtw, uxtx, sxtb, sxth, sxtw, sxtx)');
      amount = o.shift(third + 1, ['LSL'])!.amount;
      extend = sf && rm.x ? 'UXTX' : 'UXTW'; // GAS: `lsl` with a W index means uxtw
    } else {
      // a W index on a 64-bit add needs an explicit extend unless SP is involved (GAS "missing extend operator")
      if (sf && !rm.x && !(rn.sp || rdSp)) throw opError(o.op(third), o.st, `an x register, or an extend after the w register`);
      extend = sf ? (rm.x ? 'UXTX' : 'UXTW') : 'UXTW';
    }
    if (amount > 4) throw opError(extOp!, o.st, 'an extend shift amount in [0, 4]');
    // GAS takes either register width with an explicit extend (the field is just the register number)
    if (!sf && rm.x) throw opError(o.op(third), o.st, 'a w register');
    return build(sub ? 'SUB_EREG' : 'ADD_EREG', { sf, setFlags, rd: rd.n, rn: rn.n, rm: rm.n, extend, shiftAmount: amount });
  }
  if (rm.x !== sf) throw opError(o.op(third), o.st, `a ${sf ? 'x' : 'w'} register`);
  if (!compare) slotCheck(o, 0, rd, false);
  slotCheck(o, first, rn, false);
  const s = o.shift(third + 1, ['LSL', 'LSR', 'ASR']) ?? { shift: 'LSL' as Shift, amount: 0 };
  if (s.amount >= (sf ? 64 : 32)) throw opError(o.op(third + 1), o.st, `a shift amount below ${sf ? 64 : 32}`);
  return build(sub ? 'SUB_SREG' : 'ADD_SREG', { sf, setFlags, rd: rd.n, rn: rn.n, rm: rm.n, shift: s.shift, shiftAmount: s.amount });
}

function logical(o: Operands, op: 'AND' | 'ORR' | 'EOR' | 'BIC' | 'ORN' | 'EON', setFlags: boolean, rd: RegOp, rnIdx: number): Insn {
  const sf = rd.x;
  const rn = o.reg(rnIdx, { x: sf });
  const third = rnIdx + 1;
  if (!o.isReg(third)) {
    o.count(third + 1);
    if (op === 'ORN' || op === 'EON') throw opError(o.op(third), o.st, 'a register');
    let v = fitWidth(o, third, sf);
    const width = sf ? 64 : 32;
    if (op === 'BIC') v = ~v & (sf ? MASK64 : 0xffffffffn);
    if (!encodeBitMask(v, width)) {
      const toks = o.op(third);
      throw new AsmError(`0x${v.toString(16)} is not a valid logical immediate for a ${width}-bit operation`, toks[0]!.start, toks[toks.length - 1]!.end);
    }
    const iop: Op = op === 'ORR' ? 'ORR_IMM' : op === 'EOR' ? 'EOR_IMM' : 'AND_IMM';
    return build(iop, { sf, setFlags, rd: rd.n, rn: rn.n, bimm: v });
  }
  const rm = o.reg(third, { x: sf });
  o.count([third + 1, third + 2]);
  const s = o.shift(third + 1, ['LSL', 'LSR', 'ASR', 'ROR']) ?? { shift: 'LSL' as Shift, amount: 0 };
  if (s.amount >= (sf ? 64 : 32)) throw opError(o.op(third + 1), o.st, `a shift amount below ${sf ? 64 : 32}`);
  return build(`${op}_SREG` as Op, { sf, setFlags, rd: rd.n, rn: rn.n, rm: rm.n, shift: s.shift, shiftAmount: s.amount });
}

function buildInsn(o: Operands, name: string, ctx: Ctx): Insn {
  const zr = (x: boolean): RegOp => ({ n: 31, x, sp: false, zr: true });
  switch (name) {
    // ---------------- arithmetic
    case 'add':
    case 'sub':
      return addSub(o, name, name === 'sub', false);
    case 'adds':
    case 'subs':
      return addSub(o, name, name === 'subs', true);
    case 'cmp':
    case 'cmn':
      return addSub(o, name, name === 'cmp', true, true);
    case 'neg':
    case 'negs': {
      const rd = o.reg(0);
      o.count([2, 3]);
      const rm = o.reg(1, { x: rd.x });
      const s = o.shift(2, ['LSL', 'LSR', 'ASR']) ?? { shift: 'LSL' as Shift, amount: 0 };
      return build('SUB_SREG', { sf: rd.x, setFlags: name === 'negs', rd: rd.n, rn: 31, rm: rm.n, shift: s.shift, shiftAmount: s.amount });
    }
    case 'mov': {
      o.count(2);
      const rdTok = o.op(0)[0];
      const rd = parseReg(rdTok);
      if (!rd || o.op(0).length !== 1) throw opError(o.op(0), o.st, 'a register');
      if (o.isReg(1)) {
        const rm = parseReg(o.op(1)[0])!;
        if (rm.x !== rd.x) throw opError(o.op(1), o.st, `a ${rd.x ? 'x' : 'w'} register`);
        if (rd.sp || rm.sp) {
          // `mov sp, xzr` has no encoding (31 would mean SP in ADD): GAS refuses it too
          if (rd.zr || rm.zr) throw opError(o.op(rd.zr ? 0 : 1), o.st, `a register other than ${rd.x ? 'xzr' : 'wzr'} when moving to or from sp`);
          return build('ADD_IMM', { sf: rd.x, rd: rd.n, rn: rm.n, imm: 0 });
        }
        return build('ORR_SREG', { sf: rd.x, rd: rd.n, rn: 31, rm: rm.n });
      }
      return movImmediate(rd, fitWidth(o, 1, rd.x));
    }
    case 'movz':
    case 'movn':
    case 'movk': {
      const rd = o.reg(0);
      o.count([2, 3]);
      let imm = o.imm(1);
      let shiftAmount = 0;
      if (o.ops.length === 3) shiftAmount = o.shift(2, ['LSL'])!.amount;
      else if (imm > 0xffffn && name !== 'movk') {
        // GAS accepts `movz x0, #0x10000` as a shifted imm16
        for (let s = 16; s < (rd.x ? 64 : 32); s += 16)
          if ((imm & ~(0xffffn << BigInt(s))) === 0n) {
            shiftAmount = s;
            imm >>= BigInt(s);
            break;
          }
      }
      if (imm > 0xffffn) throw opError(o.op(1), o.st, 'a 16-bit immediate');
      const op = name.toUpperCase() as Op;
      return build(op, { sf: rd.x, rd: rd.n, imm: Number(imm), shiftAmount });
    }
    // ---------------- logical
    case 'and':
    case 'orr':
    case 'eor':
    case 'ands':
    case 'bic':
    case 'bics':
    case 'orn':
    case 'eon': {
      const setFlags = name === 'ands' || name === 'bics';
      const rd = rawReg(o, 0);
      slotCheck(o, 0, rd, !setFlags && !o.isReg(2));
      const base = name.slice(0, 3).toUpperCase() as 'AND' | 'ORR' | 'EOR' | 'BIC' | 'ORN' | 'EON';
      return logical(o, base, setFlags, rd, 1);
    }
    case 'tst': {
      const rn = o.reg(0);
      return logical(o, 'AND', true, zr(rn.x), 0);
    }
    case 'mvn': {
      const rd = o.reg(0);
      o.count([2, 3]);
      const rm = o.reg(1, { x: rd.x });
      const s = o.shift(2, ['LSL', 'LSR', 'ASR', 'ROR']) ?? { shift: 'LSL' as Shift, amount: 0 };
      return build('ORN_SREG', { sf: rd.x, rd: rd.n, rn: 31, rm: rm.n, shift: s.shift, shiftAmount: s.amount });
    }
    // ---------------- shifts and bitfields
    case 'lsl':
    case 'lsr':
    case 'asr':
    case 'ror': {
      o.count(3);
      const rd = o.reg(0);
      const rn = o.reg(1, { x: rd.x });
      const sf = rd.x;
      const width = sf ? 64 : 32;
      if (o.isReg(2)) {
        const rm = o.reg(2, { x: sf });
        return build(`${name.toUpperCase()}V` as Op, { sf, rd: rd.n, rn: rn.n, rm: rm.n });
      }
      const sh = o.immRange(2, 0, width - 1, 'shift amount');
      if (name === 'lsl') return build('UBFM', { sf, rd: rd.n, rn: rn.n, immr: (width - sh) % width, imms: width - 1 - sh });
      if (name === 'lsr') return build('UBFM', { sf, rd: rd.n, rn: rn.n, immr: sh, imms: width - 1 });
      if (name === 'asr') return build('SBFM', { sf, rd: rd.n, rn: rn.n, immr: sh, imms: width - 1 });
      return build('EXTR', { sf, rd: rd.n, rn: rn.n, rm: rn.n, imm: sh });
    }
    case 'lslv':
    case 'lsrv':
    case 'asrv':
    case 'rorv':
    case 'udiv':
    case 'sdiv': {
      o.count(3);
      const rd = o.reg(0);
      const rn = o.reg(1, { x: rd.x });
      const rm = o.reg(2, { x: rd.x });
      return build(name.toUpperCase() as Op, { sf: rd.x, rd: rd.n, rn: rn.n, rm: rm.n });
    }
    case 'ubfx':
    case 'sbfx':
    case 'ubfiz':
    case 'sbfiz':
    case 'bfi':
    case 'bfxil': {
      o.count(4);
      const rd = o.reg(0);
      const rn = o.reg(1, { x: rd.x });
      const width = rd.x ? 64 : 32;
      const lsb = o.immRange(2, 0, width - 1, 'lsb');
      const w = o.immRange(3, 1, width - lsb, 'width');
      const op: Op = name.startsWith('u') ? 'UBFM' : name.startsWith('s') ? 'SBFM' : 'BFM';
      const extract = name.endsWith('x') || name === 'bfxil';
      const immr = extract ? lsb : (width - lsb) % width;
      const imms = extract ? lsb + w - 1 : w - 1;
      return build(op, { sf: rd.x, rd: rd.n, rn: rn.n, immr, imms });
    }
    case 'bfc': {
      o.count(3);
      const rd = o.reg(0);
      const width = rd.x ? 64 : 32;
      const lsb = o.immRange(1, 0, width - 1, 'lsb');
      const w = o.immRange(2, 1, width - lsb, 'width');
      return build('BFM', { sf: rd.x, rd: rd.n, rn: 31, immr: (width - lsb) % width, imms: w - 1 });
    }
    case 'ubfm':
    case 'sbfm':
    case 'bfm': {
      o.count(4);
      const rd = o.reg(0);
      const rn = o.reg(1, { x: rd.x });
      const width = rd.x ? 64 : 32;
      return build(name.toUpperCase() as Op, { sf: rd.x, rd: rd.n, rn: rn.n, immr: o.immRange(2, 0, width - 1, 'immr'), imms: o.immRange(3, 0, width - 1, 'imms') });
    }
    case 'sxtb':
    case 'sxth':
    case 'sxtw':
    case 'uxtb':
    case 'uxth': {
      o.count(2);
      const rd = o.reg(0, name === 'sxtw' ? { x: true } : {});
      if (name.startsWith('u')) rd.x = false; // GAS assembles `uxth x0, w1` as the W form (the same result)
      const rn = o.reg(1, { x: false });
      const imms = name.endsWith('b') ? 7 : name.endsWith('h') ? 15 : 31;
      return build(name.startsWith('s') ? 'SBFM' : 'UBFM', { sf: rd.x, rd: rd.n, rn: rn.n, immr: 0, imms });
    }
    case 'extr': {
      o.count(4);
      const rd = o.reg(0);
      const rn = o.reg(1, { x: rd.x });
      const rm = o.reg(2, { x: rd.x });
      return build('EXTR', { sf: rd.x, rd: rd.n, rn: rn.n, rm: rm.n, imm: o.immRange(3, 0, rd.x ? 63 : 31, 'lsb') });
    }
    case 'madd':
    case 'msub':
    case 'mul':
    case 'mneg': {
      const three = name === 'mul' || name === 'mneg';
      o.count(three ? 3 : 4);
      const rd = o.reg(0);
      const rn = o.reg(1, { x: rd.x });
      const rm = o.reg(2, { x: rd.x });
      const ra = three ? 31 : o.reg(3, { x: rd.x }).n;
      return build(name === 'madd' || name === 'mul' ? 'MADD' : 'MSUB', { sf: rd.x, rd: rd.n, rn: rn.n, rm: rm.n, ra });
    }
    case 'adr':
    case 'adrp': {
      o.count(2);
      const rd = o.reg(0, { x: true });
      if (name === 'adr') {
        const t = o.target(1);
        if (t.offset < -(1 << 20) || t.offset >= 1 << 20) throw new AsmError('adr target out of range (±1MB)', t.toks[0]!.start, t.toks[t.toks.length - 1]!.end);
        return build('ADR', { sf: true, rd: rd.n, imm: t.offset });
      }
      const toks = o.op(1)[0]!.text === '#' ? o.op(1).slice(1) : o.op(1);
      const v = evalExpr(toks, ctx.resolve).value;
      const off = BigInt.asIntN(64, ((v & ~0xfffn) - (ctx.pc & ~0xfffn)) & MASK64);
      if (off < -(1n << 32n) || off >= 1n << 32n) throw opError(o.op(1), o.st, 'a target within ±4GB');
      return build('ADRP', { sf: true, rd: rd.n, imm: Number(off) });
    }
    case 'csel':
    case 'csinc':
    case 'csinv':
    case 'csneg': {
      o.count(4);
      const rd = o.reg(0);
      const rn = o.reg(1, { x: rd.x });
      const rm = o.reg(2, { x: rd.x });
      return build(name.toUpperCase() as Op, { sf: rd.x, rd: rd.n, rn: rn.n, rm: rm.n, cond: condition(o, 3) });
    }
    case 'cset':
    case 'csetm': {
      o.count(2);
      const rd = o.reg(0);
      const c = condition(o, 1);
      if (c >= 14) throw opError(o.op(1), o.st, 'a condition other than al/nv');
      return build(name === 'cset' ? 'CSINC' : 'CSINV', { sf: rd.x, rd: rd.n, rn: 31, rm: 31, cond: c ^ 1 });
    }
    case 'cinc':
    case 'cinv':
    case 'cneg': {
      o.count(3);
      const rd = o.reg(0);
      const rn = o.reg(1, { x: rd.x });
      const c = condition(o, 2);
      if (c >= 14) throw opError(o.op(2), o.st, 'a condition other than al/nv');
      const op: Op = name === 'cinc' ? 'CSINC' : name === 'cinv' ? 'CSINV' : 'CSNEG';
      return build(op, { sf: rd.x, rd: rd.n, rn: rn.n, rm: rn.n, cond: c ^ 1 });
    }
    // ---------------- branches
    case 'b':
    case 'bl': {
      o.count(1);
      const t = o.target(0);
      if (t.offset < -(1 << 27) || t.offset >= 1 << 27) throw new AsmError('branch target out of range (±128MB)', t.toks[0]!.start, t.toks[t.toks.length - 1]!.end);
      if (t.offset % 4 !== 0) throw new AsmError('branch target is not 4-byte aligned', t.toks[0]!.start, t.toks[t.toks.length - 1]!.end);
      return build(name === 'b' ? 'B' : 'BL', { imm: t.offset });
    }
    case 'cbz':
    case 'cbnz': {
      o.count(2);
      const rt = o.reg(0);
      const t = branch19(o, 1);
      return build(name === 'cbz' ? 'CBZ' : 'CBNZ', { sf: rt.x, rt: rt.n, imm: t });
    }
    case 'tbz':
    case 'tbnz': {
      o.count(3);
      const rt = o.reg(0);
      const bit = o.immRange(1, 0, rt.x ? 63 : 31, 'bit number');
      const t = o.target(2);
      if (t.offset < -(1 << 15) || t.offset >= 1 << 15) throw new AsmError('branch target out of range (±32KB)', t.toks[0]!.start, t.toks[t.toks.length - 1]!.end);
      if (t.offset % 4 !== 0) throw new AsmError('branch target is not 4-byte aligned', t.toks[0]!.start, t.toks[t.toks.length - 1]!.end);
      return build(name === 'tbz' ? 'TBZ' : 'TBNZ', { sf: rt.x, rt: rt.n, bit, imm: t.offset });
    }
    case 'br':
    case 'blr':
    case 'ret': {
      if (name === 'ret' && o.ops.length === 0) return build('RET', { sf: true, rn: 30 });
      o.count(1);
      const rn = o.reg(0, { x: true });
      return build(name.toUpperCase() as Op, { sf: true, rn: rn.n });
    }
    case 'eret':
    case 'nop':
    case 'wfi':
    case 'wfe':
    case 'yield':
    case 'sev':
    case 'sevl':
      o.count(0);
      return build(name.toUpperCase() as Op, {});
    case 'svc':
    case 'hvc':
    case 'smc':
    case 'brk': {
      o.count(1);
      return build(name.toUpperCase() as Op, { imm: o.immRange(0, 0, 0xffff) });
    }
    case 'udf': {
      o.count(1);
      return build('UNDEFINED', { raw: o.immRange(0, 0, 0xffff) });
    }
    case 'hint': {
      o.count(1);
      return build('HINT', { imm: o.immRange(0, 0, 127, 'hint number') });
    }
    case 'psb': {
      o.count(1);
      if (o.ident(0, 'csync') !== 'csync') throw opError(o.op(0), o.st, 'csync');
      return build('PSB_CSYNC', {});
    }
    case 'isb':
    case 'clrex':
    case 'dsb':
    case 'dmb': {
      let imm = 15;
      if (o.ops.length > 0 || name === 'dsb' || name === 'dmb') {
        o.count(1);
        const t = o.op(0);
        if (t.length === 1 && t[0]!.kind === 'ident' && !t[0]!.text.startsWith('#')) {
          const v = BARRIER_OPTIONS[t[0]!.text.toLowerCase()];
          if (v === undefined || (name === 'isb' && v !== 15)) throw opError(t, o.st, name === 'isb' ? "'sy' or '#imm'" : 'a barrier option (sy, ish, ishld, ishst, nsh, osh, ld, st, …)');
          imm = v;
        } else imm = o.immRange(0, 0, 15, 'barrier option');
      }
      return build(name.toUpperCase() as Op, { imm });
    }
    case 'ssbb':
      o.count(0);
      return build('DSB', { imm: 0 });
    case 'pssbb':
      o.count(0);
      return build('DSB', { imm: 4 });
    case 'msr': {
      o.count(2);
      const target = o.ident(0, 'a system register or PSTATE field');
      const pstate = { daifset: 'DAIFSET', daifclr: 'DAIFCLR', spsel: 'SPSEL', uao: 'UAO', pan: 'PAN' }[target];
      if (pstate && !o.isReg(1)) return build('MSR_IMM', { pstate, imm: o.immRange(1, 0, pstate.startsWith('DAIF') ? 15 : 1) });
      const sys = lookupSysreg(target);
      if (!sys) throw new AsmError(`unknown system register '${o.op(0)[0]!.text}'`, o.op(0)[0]!.start, o.op(0)[0]!.end);
      const rt = o.reg(1, { x: true });
      return build('MSR_REG', { sf: true, rt: rt.n, sys: { op0: sys.op0, op1: sys.op1, crn: sys.crn, crm: sys.crm, op2: sys.op2, name: sys.name } });
    }
    case 'mrs': {
      o.count(2);
      const rt = o.reg(0, { x: true });
      const target = o.ident(1, 'a system register');
      const sys = lookupSysreg(target);
      if (!sys) throw new AsmError(`unknown system register '${o.op(1)[0]!.text}'`, o.op(1)[0]!.start, o.op(1)[0]!.end);
      return build('MRS', { sf: true, rt: rt.n, sys: { op0: sys.op0, op1: sys.op1, crn: sys.crn, crm: sys.crm, op2: sys.op2, name: sys.name } });
    }
    case 'dc':
    case 'ic':
    case 'at':
    case 'tlbi': {
      if (o.ops.length < 1) o.count([1, 2]);
      const opName = o.ident(0, `a ${name} operation`);
      const def = sysOpByName(`${name} ${opName}`);
      if (!def) throw new AsmError(`unknown ${name} operation '${o.op(0)[0]!.text}'`, o.op(0)[0]!.start, o.op(0)[0]!.end);
      let rt = 31;
      if (def.hasRt) {
        o.count(2);
        rt = o.reg(1, { x: true }).n;
      } else o.count(1);
      return build('SYS', { sf: true, rt, sys: { op0: 1, op1: def.op1, crn: def.crn, crm: def.crm, op2: def.op2, name: def.name } });
    }
    case 'sys': {
      o.count([4, 5]);
      const op1 = o.immRange(0, 0, 7, 'op1');
      const crn = crField(o, 1);
      const crm = crField(o, 2);
      const op2 = o.immRange(3, 0, 7, 'op2');
      const rt = o.ops.length === 5 ? o.reg(4, { x: true }).n : 31;
      return build('SYS', { sf: true, rt, sys: { op0: 1, op1, crn, crm, op2, name: `SYS #${op1}, C${crn}, C${crm}, #${op2}` } });
    }
  }
  const ls = loadStoreInsn(o, name, ctx);
  if (ls) return ls;
  const bc = /^b\.([a-z]+)$/.exec(name);
  if (bc) {
    const c = COND_INDEX[bc[1]!];
    if (c === undefined) throw new AsmError(`unknown condition '${bc[1]}'`, o.st.mnemonic.start + 2, o.st.mnemonic.end);
    o.count(1);
    return build('B_COND', { cond: c, imm: branch19(o, 0) });
  }
  throw new AsmError(`unknown instruction '${o.st.mnemonic.text}'`, o.st.mnemonic.start, o.st.mnemonic.end);
}

function crField(o: Operands, i: number): number {
  const t = o.ident(i, 'a Cn register (c0..c15)');
  const m = /^c([0-9]|1[0-5])$/.exec(t);
  if (!m) throw opError(o.op(i), o.st, 'a Cn register (c0..c15)');
  return +m[1]!;
}

function branch19(o: Operands, i: number): number {
  const t = o.target(i);
  if (t.offset < -(1 << 20) || t.offset >= 1 << 20) throw new AsmError('branch target out of range (±1MB)', t.toks[0]!.start, t.toks[t.toks.length - 1]!.end);
  if (t.offset % 4 !== 0) throw new AsmError('branch target is not 4-byte aligned', t.toks[0]!.start, t.toks[t.toks.length - 1]!.end);
  return t.offset;
}

// ---------------------------------------------------------------- loads and stores

interface MemOperand {
  base: RegOp;
  mode: 'offset' | 'pre' | 'post' | 'reg';
  imm: number;
  immToks?: Token[];
  rm?: RegOp;
  extend?: Extend;
  amount?: number;
  explicitAmount?: boolean;
}

function parseMem(o: Operands, i: number, allowPost: boolean): MemOperand {
  const t = o.op(i);
  if (t[0]!.text !== '[') throw opError(t, o.st, "a memory operand '[xN, …]'");
  const close = t.findIndex((x) => x.text === ']');
  if (close < 0) throw new AsmError("missing ']'", t[t.length - 1]!.start, t[t.length - 1]!.end);
  const inner = t.slice(1, close);
  const after = t.slice(close + 1);
  // inner: base [, offset...]
  const parts: Token[][] = [[]];
  for (const x of inner) {
    if (x.text === ',') parts.push([]);
    else parts[parts.length - 1]!.push(x);
  }
  const baseTok = parts[0]!;
  const base = baseTok.length === 1 ? parseReg(baseTok[0]) : undefined;
  if (!base || !base.x || base.zr) throw opError(baseTok.length ? baseTok : t, o.st, 'a base register (x0..x30 or sp)');
  const writeback = after.length === 1 && after[0]!.text === '!';
  if (after.length > 0 && !writeback) throw new AsmError(`unexpected '${after[0]!.text}' after ']'`, after[0]!.start, after[after.length - 1]!.end);
  if (parts.length === 1) {
    if (writeback) throw new AsmError('pre-index needs an offset', after[0]!.start, after[0]!.end);
    if (allowPost && o.ops.length > i + 1) {
      const post = o.immExpr(i + 1);
      const s = BigInt.asIntN(64, post.v.value);
      return { base, mode: 'post', imm: Number(s), immToks: post.toks };
    }
    return { base, mode: 'offset', imm: 0 };
  }
  const off = parts[1]!;
  const rm = off.length === 1 ? parseReg(off[0]) : undefined;
  if (rm) {
    if (writeback) throw new AsmError('register offset cannot be pre-indexed', after[0]!.start, after[0]!.end);
    if (rm.sp) throw opError(off, o.st, 'an index register (sp is not allowed)');
    let extend: Extend = 'UXTX';
    let amount = 0;
    let explicitAmount = false;
    if (parts.length > 2) {
      const e = parts[2]!;
      const en = e[0]?.kind === 'ident' ? e[0].text.toLowerCase() : '';
      if (en === 'lsl') extend = 'UXTX';
      else if (en === 'uxtw' || en === 'sxtw' || en === 'sxtx') extend = EXTENDS[en]!;
      else throw opError(e, o.st, 'lsl, uxtw, sxtw or sxtx');
      if (e.length > 1) {
        const toks = e[1]!.text === '#' ? e.slice(2) : e.slice(1);
        amount = Number(evalExpr(toks, o.ctx.resolve).value);
        explicitAmount = true;
      } else if (en === 'lsl') throw new AsmError("expected a shift amount after 'lsl'", e[0]!.start, e[0]!.end);
      if (parts.length > 3) throw opError(parts[3]!, o.st, "']'");
    }
    const wantX = extend === 'UXTX' || extend === 'SXTX';
    if (rm.x !== wantX) throw opError(off, o.st, wantX ? 'an x index register' : 'a w index register');
    return { base, mode: 'reg', imm: 0, rm, extend, amount, explicitAmount };
  }
  if (parts.length > 2) throw opError(parts[2]!, o.st, "']'");
  const toks = off[0]?.text === '#' ? off.slice(1) : off;
  const v = BigInt.asIntN(64, evalImm(toks, o.ctx.resolve).value);
  if (v > 1n << 40n || v < -(1n << 40n)) throw new AsmError('offset out of range', off[0]!.start, off[off.length - 1]!.end);
  if (writeback && o.ops.length > i + 1) throw opError(o.op(i + 1), o.st, 'end of the instruction');
  return { base, mode: writeback ? 'pre' : 'offset', imm: Number(v), immToks: off };
}

const LS_FORMS: Record<string, { load: boolean; size: number; signed: boolean; unscaled: boolean }> = {};
for (const u of [false, true]) {
  const x = u ? 'u' : '';
  LS_FORMS[`ld${x}r`] = { load: true, size: 0, signed: false, unscaled: u };
  LS_FORMS[`st${x}r`] = { load: false, size: 0, signed: false, unscaled: u };
  LS_FORMS[`ld${x}rb`] = { load: true, size: 1, signed: false, unscaled: u };
  LS_FORMS[`st${x}rb`] = { load: false, size: 1, signed: false, unscaled: u };
  LS_FORMS[`ld${x}rh`] = { load: true, size: 2, signed: false, unscaled: u };
  LS_FORMS[`st${x}rh`] = { load: false, size: 2, signed: false, unscaled: u };
  LS_FORMS[`ld${x}rsb`] = { load: true, size: 1, signed: true, unscaled: u };
  LS_FORMS[`ld${x}rsh`] = { load: true, size: 2, signed: true, unscaled: u };
  LS_FORMS[`ld${x}rsw`] = { load: true, size: 4, signed: true, unscaled: u };
}

function loadStoreInsn(o: Operands, name: string, ctx: Ctx): Insn | undefined {
  const form = LS_FORMS[name];
  if (form) return singleLoadStore(o, name, form, ctx);
  if (name === 'ldp' || name === 'stp' || name === 'ldpsw') {
    o.count([3, 4]);
    const rt = o.reg(0, name === 'ldpsw' ? { x: true } : {});
    const rt2 = o.reg(1, { x: rt.x });
    const size = name === 'ldpsw' ? 4 : rt.x ? 8 : 4;
    const m = parseMem(o, 2, true);
    if (m.mode === 'reg') throw opError(o.op(2), o.st, 'an immediate offset (register offsets are not allowed for pairs)');
    if (m.imm % size !== 0 || m.imm < -64 * size || m.imm > 63 * size)
      throw new AsmError(`offset ${m.imm} must be a multiple of ${size} in [${-64 * size}, ${63 * size}]`, (m.immToks ?? o.op(2))[0]!.start, lastOf(m.immToks ?? o.op(2)).end);
    return build(name === 'stp' ? 'STP' : 'LDP', { sf: rt.x, rt: rt.n, rt2: rt2.n, rn: m.base.n, imm: m.imm, mode: m.mode, size, signed: name === 'ldpsw' });
  }
  const ex = /^(ldxr|ldaxr|stxr|stlxr|ldar|stlr)(b|h)?$/.exec(name);
  if (ex) {
    const kind = ex[1]!;
    const size = ex[2] === 'b' ? 1 : ex[2] === 'h' ? 2 : 0;
    let i = 0;
    let rs = 31;
    if (kind === 'stxr' || kind === 'stlxr') {
      o.count(3);
      rs = o.reg(0, { x: false }).n;
      i = 1;
    } else o.count(2);
    const rt = o.reg(i, size ? { x: false } : {});
    const m = parseMem(o, i + 1, false);
    if (m.mode !== 'offset' || m.imm !== 0) throw opError(o.op(i + 1), o.st, "'[xN]' or '[xN, #0]'");
    const sz = size || (rt.x ? 8 : 4);
    const op: Op = kind === 'ldxr' || kind === 'ldaxr' ? 'LDXR' : kind === 'stxr' || kind === 'stlxr' ? 'STXR' : kind === 'ldar' ? 'LDAR' : 'STLR';
    return build(op, {
      sf: sz === 8, size: sz, rt: rt.n, rn: m.base.n, rs,
      acquire: kind === 'ldaxr' || kind === 'ldar', release: kind === 'stlxr' || kind === 'stlr',
    });
  }
  const at = /^(cas|ldadd|swp|stadd)(a?)(l?)(b|h)?$/.exec(name);
  if (at) {
    const kind = at[1]!;
    const acquire = at[2] === 'a';
    const release = at[3] === 'l';
    if (kind === 'stadd' && acquire) return undefined;
    const size = at[4] === 'b' ? 1 : at[4] === 'h' ? 2 : 0;
    const isSt = kind === 'stadd';
    o.count(isSt ? 2 : 3);
    const rs = o.reg(0, size ? { x: false } : {});
    const rt = isSt ? { n: 31, x: rs.x } : o.reg(1, { x: rs.x });
    const m = parseMem(o, isSt ? 1 : 2, false);
    if (m.mode !== 'offset' || m.imm !== 0) throw opError(o.op(isSt ? 1 : 2), o.st, "'[xN]'");
    const sz = size || (rs.x ? 8 : 4);
    const op: Op = kind === 'cas' ? 'CAS' : kind === 'swp' ? 'SWP' : 'LDADD';
    return build(op, { sf: sz === 8, size: sz, rs: rs.n, rt: rt.n, rn: m.base.n, acquire, release });
  }
  return undefined;
}

function lastOf<T>(a: T[]): T {
  return a[a.length - 1]!;
}

function singleLoadStore(o: Operands, name: string, form: (typeof LS_FORMS)[string], ctx: Ctx): Insn {
  o.count([2, 3]);
  const rtOpts = form.size === 4 && form.signed ? { x: true } : form.size && !form.signed ? { x: false } : {};
  const rt = o.reg(0, rtOpts);
  const size = form.size || (rt.x ? 8 : 4);
  const op: Op = form.load ? 'LDR' : 'STR';
  const second = o.op(1);
  // literal forms: `ldr xN, =expr` and `ldr xN, label`
  if (second[0]!.text === '=') {
    if (!form.load || form.unscaled || (form.size !== 0 && !(form.signed && form.size === 4)))
      throw opError(second, o.st, 'a memory operand');
    o.count(2);
    const v = evalExpr(second.slice(1), ctx.resolve);
    const psize: 4 | 8 = form.signed ? 4 : rt.x ? 8 : 4;
    let value = v.value;
    if (psize === 4) {
      const s = BigInt.asIntN(64, value);
      if (s < -(1n << 31n) || s > 0xffffffffn)
        throw new AsmError(`value 0x${value.toString(16)} does not fit in 32 bits (use an x register)`, second[1]!.start, lastOf(second).end);
      value &= 0xffffffffn;
    }
    const key = v.hasLabel ? `sym:${second.slice(1).map((t) => t.text).join('')}:${value}` : `c:${value}:${v.unsigned}`;
    ctx.poolRefs.push({ stmt: o.st, insnOffset: o.st.offset, size: psize, key, value });
    return build('LDR', { sf: rt.x, rt: rt.n, size: psize === 8 ? 8 : 4, signed: form.signed, mode: 'literal', imm: 0 });
  }
  if (second[0]!.text !== '[') {
    if (!form.load || form.unscaled || (form.size !== 0 && !(form.signed && form.size === 4))) throw opError(second, o.st, 'a memory operand');
    o.count(2);
    const t = o.target(1);
    if (t.offset < -(1 << 20) || t.offset >= 1 << 20 || t.offset % 4 !== 0)
      throw new AsmError('literal out of range (±1MB, 4-byte aligned)', t.toks[0]!.start, lastOf(t.toks).end);
    return build('LDR', { sf: rt.x, rt: rt.n, size: form.signed ? 4 : size, signed: form.signed, mode: 'literal', imm: t.offset });
  }
  const m = parseMem(o, 1, true);
  if (m.mode !== 'post' && o.ops.length > 2) throw opError(o.op(2), o.st, 'end of the instruction');
  const common = { sf: rt.x, rt: rt.n, rn: m.base.n, size, signed: form.signed };
  const log2 = Math.log2(size);
  const immLoc = (): [number, number] => [(m.immToks ?? o.op(1))[0]!.start, lastOf(m.immToks ?? o.op(1)).end];
  if (m.mode === 'reg') {
    if (form.unscaled) throw opError(o.op(1), o.st, 'an immediate offset');
    const amount = m.amount ?? 0;
    if (m.explicitAmount && amount !== 0 && amount !== log2) throw opError(o.op(1), o.st, `a shift amount of 0 or ${log2}`);
    if (m.explicitAmount && amount === 0 && size !== 1) {
      // `lsl #0` on a non-byte access: S=0 (GAS)
    }
    const S = m.explicitAmount && (amount === log2 || size === 1) ? 1 : 0;
    return build(op, { ...common, mode: 'reg', rm: m.rm!.n, extend: m.extend!, shiftAmount: S && size !== 1 ? log2 : 0, immN: S });
  }
  if (m.mode === 'pre' || m.mode === 'post') {
    if (form.unscaled) throw opError(o.op(1), o.st, 'an offset without writeback');
    if (m.imm < -256 || m.imm > 255) throw new AsmError(`offset ${m.imm} out of range [-256, 255]`, ...immLoc());
    return build(op, { ...common, mode: m.mode, imm: m.imm });
  }
  if (!form.unscaled && m.imm >= 0 && m.imm % size === 0 && m.imm / size <= 4095) return build(op, { ...common, mode: 'offset', imm: m.imm });
  if (m.imm >= -256 && m.imm <= 255) return build(op, { ...common, mode: 'offset', imm: m.imm, unscaled: true });
  if (form.unscaled) throw new AsmError(`offset ${m.imm} out of range [-256, 255]`, ...immLoc());
  throw new AsmError(`offset ${m.imm} out of range: a multiple of ${size} in [0, ${4095 * size}] or any value in [-256, 255]`, ...immLoc());
}

export { EXTEND_NAMES };
