// Random A64 test cases for the QEMU differential test (qemu-diff.test.ts): each case is a short instruction
// sequence from LANGUAGE.md "guest blocks" (plus the few neighbours the interpreter also implements), with all of
// x0..x30 and NZCV preset. Values mix edge cases (0, 1, -1, INT_MIN/INT_MAX in 32 and 64 bits) with random ones.
// Memory operands always land inside the 256-byte scratch buffer `buf`; base registers are written as `buf+K`
// (the linker resolves them), so the same image runs unchanged under qemu-aarch64 and in the emulator.
//
// Forms left out on purpose (each would make the two runs differ for a reason that is not an emulator bug):
// - SP-based accesses with a misaligned SP (see spForms).
// - CONSTRAINED UNPREDICTABLE register overlaps (Arm ARM K1.2): writeback with Rt == Rn, LDP with Rt == Rt2,
//   STXR with Rs == Rt or Rs == Rn; hardware and QEMU may pick any of the allowed behaviours.
// - misaligned exclusives/atomics: an alignment fault in both, but that ends the QEMU process (SIGBUS), so it
//   cannot be batched; the emulator's alignment faults are covered by loadstore.test.ts / mmu.test.ts.
// - every other fault (translation, permission, alignment on Device memory): a fault ends the QEMU process
//   (SIGSEGV/SIGBUS), and user mode shows no ESR/FAR; exceptions.test.ts, mmu.test.ts and syndrome.test.ts cover them.
// - system instructions (hvc smc svc eret brk msr/mrs of EL1 registers, dc/ic/at/tlbi, wfi, msr daifset): EL0 in
//   Linux user mode traps or kills the process; they are EL1 behaviour that QEMU user mode cannot show.
// - an exclusive store of another size than its LDXR, or a plain store to the monitored address between them:
//   whether the STXR succeeds is CONSTRAINED UNPREDICTABLE / IMPLEMENTATION DEFINED (Arm ARM B2.9).
// - LDXP/STXP, CASP, LDAPR and SIMD/FP: outside LANGUAGE.md's instruction set, UNDEFINED in our interpreter
//   (interp.ts header), while QEMU's default `max` CPU implements them.

export const BUF_SIZE = 256;

/** xorshift128 over four 32-bit words: deterministic from the seed, no Math.random */
export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number) {
    this.a = seed >>> 0 || 1; this.b = 0x9e3779b9; this.c = 0x243f6a88; this.d = 0xb7e15162;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    let t = this.d;
    const s = this.a;
    this.d = this.c; this.c = this.b; this.b = s;
    t ^= t << 11; t ^= t >>> 8;
    this.a = (t ^ s ^ (s >>> 19)) >>> 0;
    return this.a;
  }
  /** integer in [0, n) */
  int(n: number): number { return Math.floor((this.u32() / 4294967296) * n); }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  bool(p = 0.5): boolean { return this.u32() / 4294967296 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
}

const M64 = (1n << 64n) - 1n;
export const EDGE: readonly bigint[] = [
  0n, 1n, M64, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn,
  0x8000_0000_0000_0000n, 0xffff_ffff_8000_0000n, 0x0000_0000_ffff_fffen, 2n, 0x80n, 0xffn, 0x8000n, 0xffffn,
];

/** an interesting 64-bit value: edge, random, small, or an edge with random upper half */
export function value(r: Rng): bigint {
  switch (r.int(5)) {
    case 0: case 1: return r.pick(EDGE);
    case 2: return BigInt(r.int(70)) - 3n & M64;
    case 3: return (r.u64() & 0xffff_ffff_0000_0000n) | (r.pick(EDGE) & 0xffff_ffffn);
    default: return r.u64();
  }
}

export interface Case {
  /** assembly lines of the sequence under test (local labels `1:` allowed) */
  lines: string[];
  /** x0..x30 before the sequence: a number (bigint) or `buf+K` for a pointer into the scratch buffer */
  regs: (bigint | { buf: number })[];
  /** NZCV in bits [3:0] */
  nzcv: number;
  /** the form family, for the coverage report (chains: the families joined by ' ; ') */
  form: string;
  /** some access is not naturally aligned (such a case cannot run with the MMU off: Device memory) */
  misaligned?: boolean;
  /** registers whose preset values a memory form at the start of a chain needs (base, index, compare value) */
  pinned?: Set<number>;
  /** SP before the sequence (SP forms only; the harness then reports SP in x28) */
  sp?: bigint | { buf: number };
}

const COND = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'] as const;

/** register name; 31 is the zero register */
export const reg = (sf: boolean, n: number): string => (n === 31 ? (sf ? 'xzr' : 'wzr') : `${sf ? 'x' : 'w'}${n}`);

/** distinct registers from 0..30 (never SP / 31) */
function regs(r: Rng, k: number, avoid: number[] = []): number[] {
  const out: number[] = [];
  while (out.length < k) {
    const n = r.int(31);
    if (!out.includes(n) && !avoid.includes(n)) out.push(n);
  }
  return out;
}
/**
 * registers for a register-only form: usually distinct, but one time in four drawn with repeats, so that forms
 * like `add x3, x3, x3` or `madd x1, x1, x2, x1` check that every source is read before the destination is written
 */
function regsAliased(r: Rng, k: number, avoid: number[] = []): number[] {
  if (!r.bool(0.25)) return regs(r, k, avoid);
  const pool = regs(r, Math.max(1, k - 1 - r.int(k)), avoid);
  return Array.from({ length: k }, () => r.pick(pool));
}
/** set a register's value before the sequence, unless an earlier memory form of the chain depends on it */
function preset(c: Case, k: number, v: bigint | { buf: number }): void {
  if (!c.pinned?.has(k)) c.regs[k] = v;
}
/** a register operand that is sometimes the zero register */
const rz = (r: Rng, n: number): number => (r.bool(0.08) ? 31 : n);

/** a valid logical (bitmask) immediate for the given width, as a bigint (Arm ARM DecodeBitMasks) */
export function bitmaskImm(r: Rng, sf: boolean): bigint {
  const sizes = sf ? [2, 4, 8, 16, 32, 64] : [2, 4, 8, 16, 32];
  const e = r.pick(sizes);
  const ones = r.range(1, e - 1), rot = r.int(e);
  const em = (1n << BigInt(e)) - 1n;
  let el = (1n << BigInt(ones)) - 1n;
  el = ((el >> BigInt(rot)) | (el << BigInt(e - rot))) & em;
  let v = 0n;
  const w = sf ? 64 : 32;
  for (let i = 0; i < w; i += e) v |= el << BigInt(i);
  return v;
}

const hx = (v: bigint): string => '0x' + v.toString(16);

/** the scratch buffer's contents at the start of every case */
export function bufferPattern(r: Rng): Uint8Array {
  const b = new Uint8Array(BUF_SIZE);
  for (let i = 0; i < BUF_SIZE; i++) b[i] = r.bool(0.25) ? r.pick([0, 0x7f, 0x80, 0xff]) : r.int(256);
  return b;
}

const readLe = (b: Uint8Array, off: number, size: number): bigint => {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]!);
  return v;
};

type Gen = (r: Rng, c: Case, pattern: Uint8Array) => void;

const sfOf = (r: Rng): boolean => r.bool(0.6);

// ---------------------------------------------------------------------------------------------- data processing

const addSubImm: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['add', 'adds', 'sub', 'subs']);
  const [d, n] = regsAliased(r, 2);
  const imm = r.pick([0, 1, 4095, r.int(4096)]), sh = r.bool(0.3) ? ', lsl #12' : '';
  const flags = op.endsWith('s');
  const dd = flags && r.bool(0.2) ? 31 : d!;
  c.lines.push(`${op} ${reg(sf, dd)}, ${reg(sf, n!)}, #${imm}${sh}`);
  c.form = `${op} (immediate)`;
};

const SHIFTS = ['lsl', 'lsr', 'asr'] as const;
const addSubShifted: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['add', 'adds', 'sub', 'subs', 'neg', 'negs']);
  const [d, n, m] = regsAliased(r, 3);
  const amt = r.bool(0.3) ? 0 : r.int(sf ? 64 : 32), sh = r.pick(SHIFTS);
  const shift = amt === 0 && r.bool(0.5) ? '' : `, ${sh} #${amt}`;
  if (op.startsWith('neg')) c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, rz(r, m!))}${shift}`);
  else c.lines.push(`${op} ${reg(sf, rz(r, d!))}, ${reg(sf, rz(r, n!))}, ${reg(sf, rz(r, m!))}${shift}`);
  c.form = `${op} (shifted register)`;
};

const EXT = ['uxtb', 'uxth', 'uxtw', 'uxtx', 'sxtb', 'sxth', 'sxtw', 'sxtx'] as const;
const addSubExtended: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['add', 'adds', 'sub', 'subs']);
  const [d, n, m] = regsAliased(r, 3);
  const ext = r.pick(EXT), amt = r.int(5);
  const mIsX = sf && (ext === 'uxtx' || ext === 'sxtx');
  const flags = op.endsWith('s');
  c.lines.push(`${op} ${reg(sf, flags ? rz(r, d!) : d!)}, ${reg(sf, n!)}, ${reg(mIsX, rz(r, m!))}, ${ext} #${amt}`);
  c.form = `${op} (extended register)`;
};

const adcSbc: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['adc', 'adcs', 'sbc', 'sbcs', 'ngc', 'ngcs']);
  const [d, n, m] = regsAliased(r, 3);
  if (op.startsWith('ngc')) c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, m!)}`);
  else c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, rz(r, n!))}, ${reg(sf, m!)}`);
  c.form = op;
};

const logicalImm: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['and', 'orr', 'eor', 'ands', 'tst']);
  const [d, n] = regsAliased(r, 2);
  const imm = hx(bitmaskImm(r, sf));
  if (op === 'tst') c.lines.push(`tst ${reg(sf, n!)}, #${imm}`);
  else c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, rz(r, n!))}, #${imm}`);
  c.form = `${op} (immediate)`;
};

const logicalShifted: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['and', 'bic', 'orr', 'orn', 'eor', 'eon', 'ands', 'bics', 'mvn', 'tst', 'mov']);
  const [d, n, m] = regsAliased(r, 3);
  const amt = r.bool(0.3) ? 0 : r.int(sf ? 64 : 32), sh = r.pick(['lsl', 'lsr', 'asr', 'ror']);
  const shift = op === 'mov' ? '' : `, ${sh} #${amt}`;
  if (op === 'mvn' || op === 'mov') c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, rz(r, m!))}${shift}`);
  else if (op === 'tst') c.lines.push(`tst ${reg(sf, n!)}, ${reg(sf, m!)}${shift}`);
  else c.lines.push(`${op} ${reg(sf, rz(r, d!))}, ${reg(sf, rz(r, n!))}, ${reg(sf, rz(r, m!))}${shift}`);
  c.form = `${op} (shifted register)`;
};

const moveWide: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['movz', 'movn', 'movk']);
  const [d] = regs(r, 1);
  const hw = r.int(sf ? 4 : 2), imm = r.pick([0, 0xffff, 0x8000, r.int(0x10000)]);
  c.lines.push(`${op} ${reg(sf, d!)}, #${imm}, lsl #${hw * 16}`);
  c.form = op;
};

const bitfield: Gen = (r, c) => {
  const sf = sfOf(r), w = sf ? 64 : 32;
  const [d, n] = regsAliased(r, 2);
  const k = r.int(3);
  if (k === 0) {
    const op = r.pick(['sbfm', 'bfm', 'ubfm']);
    c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, rz(r, n!))}, #${r.int(w)}, #${r.int(w)}`);
    c.form = op;
  } else if (k === 1) {
    const op = r.pick(['ubfx', 'sbfx', 'bfxil', 'bfi', 'ubfiz', 'sbfiz']);
    const lsb = r.int(w), width = r.range(1, w - lsb);
    c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, n!)}, #${lsb}, #${width}`);
    c.form = op;
  } else {
    const op = r.pick(['lsl', 'lsr', 'asr', 'ror', 'sxtb', 'sxth', 'sxtw', 'uxtb', 'uxth']);
    if (op === 'sxtw' && !sf) { c.lines.push(`sxtw x${d}, w${n}`); c.form = op; return; }
    if (op.startsWith('sxt')) c.lines.push(`${op} ${reg(sf, d!)}, w${n}`);
    else if (op.startsWith('uxt')) c.lines.push(`${op} w${d}, w${n}`);
    else c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, n!)}, #${r.int(w)}`);
    c.form = `${op} (immediate)`;
  }
};

const extr: Gen = (r, c) => {
  const sf = sfOf(r);
  const [d, n, m] = regsAliased(r, 3);
  c.lines.push(`extr ${reg(sf, d!)}, ${reg(sf, rz(r, n!))}, ${reg(sf, rz(r, m!))}, #${r.int(sf ? 64 : 32)}`);
  c.form = 'extr';
};

const shiftVar: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['lsl', 'lsr', 'asr', 'ror']);
  const [d, n, m] = regsAliased(r, 3);
  if (r.bool(0.5)) preset(c, m!, BigInt(r.int(200)) | (r.bool(0.3) ? r.u64() & ~0xffn : 0n));
  c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, n!)}, ${reg(sf, m!)}`);
  c.form = `${op}v`;
};

const mulAcc: Gen = (r, c) => {
  const sf = sfOf(r);
  const [d, n, m, a] = regsAliased(r, 4);
  const k = r.int(3);
  if (k === 0) {
    const op = r.pick(['mul', 'mneg']);
    c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, n!)}, ${reg(sf, m!)}`);
    c.form = op;
  } else if (k === 1) {
    const op = r.pick(['madd', 'msub']);
    c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, n!)}, ${reg(sf, m!)}, ${reg(sf, rz(r, a!))}`);
    c.form = op;
  } else {
    const op = r.pick(['smaddl', 'smsubl', 'umaddl', 'umsubl', 'smull', 'umull', 'smulh', 'umulh']);
    if (op.endsWith('mulh')) c.lines.push(`${op} x${d}, x${n}, x${m}`);
    else if (op.endsWith('ll')) c.lines.push(`${op} x${d}, w${n}, w${m}`);
    else c.lines.push(`${op} x${d}, w${n}, w${m}, x${a}`);
    c.form = op;
  }
};

const divide: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['udiv', 'sdiv']);
  const [d, n, m] = regsAliased(r, 3);
  const min = sf ? 0x8000_0000_0000_0000n : 0x8000_0000n;
  switch (r.int(4)) {
    case 0: preset(c, m!, r.bool(0.5) ? 0n : r.u64() & 0xffff_ffff_0000_0000n); break; // divisor zero (W: upper half ignored)
    case 1: preset(c, n!, min | (sf ? 0n : r.u64() & 0xffff_ffff_0000_0000n)); preset(c, m!, M64); break; // INT_MIN / -1
    case 2: preset(c, m!, BigInt(r.range(1, 20)) * (r.bool() ? 1n : M64) & M64); break;
    default: break;
  }
  c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, n!)}, ${reg(sf, m!)}`);
  c.form = op;
};

const condSelect: Gen = (r, c) => {
  const sf = sfOf(r);
  const [d, n, m] = regsAliased(r, 3);
  const cond = r.pick(COND);
  const k = r.int(3);
  if (k === 0) {
    const op = r.pick(['csel', 'csinc', 'csinv', 'csneg']);
    c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, rz(r, n!))}, ${reg(sf, rz(r, m!))}, ${cond}`);
    c.form = op;
  } else if (k === 1) {
    const cc = COND[r.int(14)]!; // the aliases reject al/nv
    const op = r.pick(['cset', 'csetm', 'cinc', 'cinv', 'cneg']);
    if (op.startsWith('cset')) c.lines.push(`${op} ${reg(sf, d!)}, ${cc}`);
    else c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, n!)}, ${cc}`);
    c.form = op;
  } else {
    const op = r.pick(['ccmp', 'ccmn']);
    const src = r.bool() ? `#${r.int(32)}` : reg(sf, m!);
    c.lines.push(`${op} ${reg(sf, n!)}, ${src}, #${r.int(16)}, ${cond}`);
    c.form = `${op} (${src.startsWith('#') ? 'immediate' : 'register'})`;
  }
};

const dp1: Gen = (r, c) => {
  const sf = sfOf(r), op = r.pick(['clz', 'cls', 'rbit', 'rev', 'rev16', ...(sf ? ['rev32'] : [])]);
  const [d, n] = regsAliased(r, 2);
  c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, n!)}`);
  c.form = op;
};

const adr: Gen = (r, c) => {
  const [d] = regs(r, 1);
  const op = r.pick(['adr', 'adrp']);
  const target = r.pick(['1f', 'buf', '_start', 'pattern']);
  c.lines.push(`${op} x${d}, ${target}`, 'nop', '1:');
  c.form = op;
};

// ---------------------------------------------------------------------------------------------- loads and stores

interface SizeOp { ld: string; st?: string; size: number; sf: boolean }
const SINGLE: SizeOp[] = [
  { ld: 'ldrb', st: 'strb', size: 1, sf: false }, { ld: 'ldrh', st: 'strh', size: 2, sf: false },
  { ld: 'ldr', st: 'str', size: 4, sf: false }, { ld: 'ldr', st: 'str', size: 8, sf: true },
  { ld: 'ldrsb', size: 1, sf: false }, { ld: 'ldrsb', size: 1, sf: true }, { ld: 'ldrsh', size: 2, sf: false },
  { ld: 'ldrsh', size: 2, sf: true }, { ld: 'ldrsw', size: 4, sf: true },
];
const unscaled = (op: string): string => op.replace(/^ldr/, 'ldur').replace(/^str/, 'stur');

/** a byte offset in the buffer where `len` bytes fit; aligned to `align` */
const target = (r: Rng, len: number, align = 1): number => Math.floor(r.int(BUF_SIZE - len + 1) / align) * align;
/** note an access of `size` bytes at buffer offset `off` (buf is 16-byte aligned) */
const access = (c: Case, off: number, size: number): void => { if (off % size !== 0) c.misaligned = true; };

const loadStoreSingle: Gen = (r, c) => {
  const so = r.pick(SINGLE);
  const store = so.st !== undefined && r.bool(0.45);
  const op = store ? so.st! : so.ld;
  const [t, n, m] = regs(r, 3);
  // loads: sometimes into the zero register, or (offset forms, no writeback) into the base register itself
  let tt = store ? rz(r, t!) : r.bool(0.05) ? 31 : t!;
  const mode = r.int(6);
  if (!store && (mode === 0 || mode === 1) && r.bool(0.15)) tt = n!;
  const rt = reg(so.sf, tt);
  if (mode === 0) { // unsigned offset
    const k = r.bool(0.2) ? r.int(4096) : r.int(16);
    const off = k * so.size, tg = target(r, so.size, so.size);
    c.regs[n!] = { buf: tg - off };
    access(c, tg, so.size);
    c.lines.push(`${op} ${rt}, [x${n}, #${off}]`);
    c.form = `${op} ${so.sf ? 'X' : 'W'} (unsigned offset)`;
  } else if (mode === 1) { // unscaled
    const off = r.range(-256, 255), tg = target(r, so.size);
    c.regs[n!] = { buf: tg - off };
    access(c, tg, so.size);
    c.lines.push(`${unscaled(op)} ${rt}, [x${n}, #${off}]`);
    c.form = `${unscaled(op)} ${so.sf ? 'X' : 'W'}`;
  } else if (mode === 2 || mode === 3) { // pre / post index (Rt != Rn: chosen distinct)
    const off = r.range(-256, 255), tg = target(r, so.size);
    const pre = mode === 2;
    c.regs[n!] = { buf: pre ? tg - off : tg };
    access(c, tg, so.size);
    c.lines.push(pre ? `${op} ${rt}, [x${n}, #${off}]!` : `${op} ${rt}, [x${n}], #${off}`);
    c.form = `${op} ${so.sf ? 'X' : 'W'} (${pre ? 'pre' : 'post'}-index)`;
  } else { // register offset
    const lg = Math.log2(so.size);
    const ext = r.pick(['lsl', 'uxtw', 'sxtw', 'sxtx']);
    const sh = r.bool() ? lg : 0;
    const shownShift = sh === lg && r.bool() ? ` #${sh}` : sh === 0 && r.bool() ? '' : ` #${sh}`;
    const tg = target(r, so.size);
    let idx: bigint, eff: number;
    if (ext === 'uxtw') { const v = r.int(BUF_SIZE); idx = (r.u64() & 0xffff_ffff_0000_0000n) | BigInt(v); eff = v; }
    else if (ext === 'sxtw') { const v = r.range(-64, 64); idx = (r.u64() & 0xffff_ffff_0000_0000n) | (BigInt(v) & 0xffff_ffffn); eff = v; }
    else { const v = r.range(-64, 64); idx = BigInt(v) & M64; eff = v; }
    c.regs[m!] = idx;
    access(c, tg, so.size);
    c.regs[n!] = { buf: tg - eff * (1 << sh) };
    const idxReg = ext === 'uxtw' || ext === 'sxtw' ? `w${m}` : `x${m}`;
    const amount = ext === 'lsl' ? (sh === 0 ? '' : `, lsl #${sh}`) : `, ${ext}${sh === 0 ? (r.bool() ? '' : ' #0') : shownShift}`;
    c.lines.push(`${op} ${rt}, [x${n}, ${idxReg}${amount}]`);
    c.form = `${op} ${so.sf ? 'X' : 'W'} (register, ${ext})`;
  }
};

/** LDTR/STTR (unprivileged: EL0 permissions; the data pages are EL0-accessible in every mode of the harness) */
const unprivileged: Gen = (r, c) => {
  const so = r.pick(SINGLE);
  const store = so.st !== undefined && r.bool(0.4);
  const op = (store ? so.st! : so.ld).replace(/^ldr/, 'ldtr').replace(/^str/, 'sttr');
  const [t, n] = regs(r, 2);
  const off = r.range(-256, 255), tg = target(r, so.size);
  c.regs[n!] = { buf: tg - off };
  access(c, tg, so.size);
  c.lines.push(`${op} ${reg(so.sf, store ? rz(r, t!) : t!)}, [x${n}, #${off}]`);
  c.form = `${op} ${so.sf ? 'X' : 'W'}`;
};

/** PRFM is a hint: no register or memory changes, any address (it never faults) */
const prefetch: Gen = (r, c) => {
  const [n, m] = regs(r, 2);
  const op = r.pick(['pldl1keep', 'pldl2strm', 'pstl1keep', 'plil3strm']);
  const k = r.int(3);
  if (k === 0) c.lines.push(`prfm ${op}, [x${n}, #${r.int(4096) * 8}]`);
  else if (k === 1) c.lines.push(`prfum ${op}, [x${n}, #${r.range(-256, 255)}]`);
  else c.lines.push(`prfm ${op}, [x${n}, x${m}, lsl #3]`);
  c.form = k === 1 ? 'prfum' : 'prfm';
};

const loadStorePair: Gen = (r, c) => {
  const kind = r.pick(['ldp w', 'ldp x', 'stp w', 'stp x', 'ldpsw']);
  const sf = kind.endsWith('x') || kind === 'ldpsw', size = kind === 'ldpsw' ? 4 : sf ? 8 : 4;
  const op = kind.split(' ')[0]!, store = op === 'stp';
  const [t1, t2, n] = regs(r, 3);
  const rs = (t: number): string => reg(sf, store ? rz(r, t) : t);
  const off = r.range(-64, 63) * size, tg = target(r, 2 * size, r.bool(0.7) ? size : 1);
  const mode = r.int(3);
  c.regs[n!] = { buf: mode === 2 ? tg : tg - off };
  access(c, tg, size);
  const addr = mode === 0 ? `[x${n}, #${off}]` : mode === 1 ? `[x${n}, #${off}]!` : `[x${n}], #${off}`;
  c.lines.push(`${op} ${rs(t1!)}, ${rs(t2!)}, ${addr}`);
  c.form = `${kind} (${['offset', 'pre-index', 'post-index'][mode]})`;
};

const loadLiteral: Gen = (r, c) => {
  const [t] = regs(r, 1);
  const op = r.pick(['ldr x', 'ldr w', 'ldrsw x']);
  const [mn, rr] = op.split(' ');
  if (r.bool(0.3)) { // far, in the data segment (pattern follows buf: 16-byte aligned)
    const off = r.int(BUF_SIZE / 4 - 2) * 4;
    access(c, off, rr === 'x' && mn === 'ldr' ? 8 : 4);
    c.lines.push(`${mn} ${rr}${t}, pattern + ${off}`);
  }
  else if (r.bool(0.3)) c.lines.push('b 1f', '.balign 8', `2: .quad ${hx(value(r))}`, `1: ${mn} ${rr}${t}, 2b`); // backwards
  else c.lines.push(`${mn} ${rr}${t}, 2f`, 'b 1f', '.balign 8', `2: .quad ${hx(value(r))}`, '1:');
  c.form = `${op.trim()} (literal)`;
};

const EXCL = [
  { sfx: 'b', size: 1 }, { sfx: 'h', size: 2 }, { sfx: '', size: 4 }, { sfx: '', size: 8 },
] as const;
const exclusive: Gen = (r, c) => {
  const e = r.pick(EXCL), sf = e.size === 8;
  const [t, s, v, n, u] = regs(r, 5);
  const tg = target(r, 2 * e.size, e.size);
  c.regs[n!] = { buf: tg };
  const acq = r.bool() ? 'a' : '', rel = r.bool() ? 'l' : '';
  const ldx = `ld${acq}xr${e.sfx}`, stx = `st${rel}xr${e.sfx}`;
  const k = r.int(5);
  const st = (off: number): string => (off === 0 ? `${stx} w${s}, ${reg(sf, v!)}, [x${n}]` : `${stx} w${s}, ${reg(sf, v!)}, [x${u}]`);
  if (k === 0 || k === 1) { // a pair: succeeds (status 0)
    c.lines.push(`${ldx} ${reg(sf, t!)}, [x${n}]`);
    if (k === 1) c.lines.push(`add ${reg(sf, v!)}, ${reg(sf, t!)}, #1`);
    c.lines.push(st(0));
    c.form = `${ldx}/${stx} pair`;
  } else if (k === 2) { // no LDXR before (CLREX at the case start): fails (status 1), memory unchanged
    c.lines.push(st(0));
    c.form = `${stx} without monitor`;
  } else if (k === 3) { // a store to another address than the monitored one: fails
    c.regs[u!] = { buf: tg + e.size };
    c.lines.push(`${ldx} ${reg(sf, t!)}, [x${n}]`, st(1));
    c.form = `${ldx}/${stx} other address`;
  } else { // load-acquire / store-release
    const op = r.pick([`ldar${e.sfx}`, `stlr${e.sfx}`]);
    c.lines.push(`${op} ${reg(sf, op.startsWith('st') ? rz(r, t!) : t!)}, [x${n}]`);
    c.form = op;
  }
};

const ORD = ['', 'a', 'al', 'l'] as const;
const lse: Gen = (r, c, pattern) => {
  const e = r.pick(EXCL), sf = e.size === 8;
  const [s, t0, n] = regs(r, 3);
  const t = r.bool(0.15) ? s : t0; // Rs == Rt: the old value must win over the operand
  const tg = target(r, e.size, e.size);
  c.regs[n!] = { buf: tg };
  const ord = r.pick(ORD);
  const k = r.int(3);
  if (k === 0) {
    const op = `cas${ord}${e.sfx}`;
    // compare value: the buffer's current contents (a successful swap) half of the time
    // (the bits above the access size are ignored: fill them with noise)
    if (r.bool(0.6)) c.regs[s!] = readLe(pattern, tg, e.size) | (e.size === 8 ? 0n : r.u64() & (M64 << BigInt(8 * e.size)) & M64);
    c.lines.push(`${op} ${reg(sf, rz(r, s!))}, ${reg(sf, rz(r, t!))}, [x${n}]`);
    c.form = `cas${ord}${e.sfx}`;
  } else {
    const base = r.pick(['ldadd', 'ldclr', 'ldeor', 'ldset', 'ldsmax', 'ldsmin', 'ldumax', 'ldumin', 'swp']);
    const op = `${base}${ord}${e.sfx}`;
    const dst = r.bool(0.1) ? 31 : t!;
    c.lines.push(`${op} ${reg(sf, rz(r, s!))}, ${reg(sf, dst)}, [x${n}]`);
    c.form = `${base}${ord}`;
  }
};

// ---------------------------------------------------------------------------------------------- branches

const FLAG_OPS = ['cmp', 'cmn', 'adds', 'subs', 'ands', 'tst', 'negs', 'bics'] as const;
const branchCond: Gen = (r, c) => {
  const sf = sfOf(r);
  const [d, n, m, x] = regs(r, 4);
  const cond = r.pick(COND);
  if (r.bool(0.7)) {
    const op = r.pick(FLAG_OPS);
    const src = r.bool(0.3) && op !== 'negs' && op !== 'bics' ? (op === 'ands' || op === 'tst' ? `#${hx(bitmaskImm(r, sf))}` : `#${r.int(4096)}`) : reg(sf, m!);
    if (op === 'cmp' || op === 'cmn' || op === 'tst') c.lines.push(`${op} ${reg(sf, n!)}, ${src}`);
    else if (op === 'negs') c.lines.push(`negs ${reg(sf, d!)}, ${reg(sf, m!)}`);
    else c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, n!)}, ${src}`);
    if (r.bool(0.5)) preset(c, m!, c.regs[n!]!); // equal operands: Z and C edges
  }
  c.lines.push(`b.${cond} 1f`, `movz x${x}, #0x1111`, '1:');
  c.form = `b.${cond}`;
};

const compareBranch: Gen = (r, c) => {
  const sf = sfOf(r);
  const [t, x] = regs(r, 2);
  if (r.bool(0.4)) preset(c, t!, r.bool() ? 0n : r.u64() & 0xffff_ffff_0000_0000n); // zero (in W form: only the W half)
  const k = r.int(2);
  if (k === 0) {
    const op = r.pick(['cbz', 'cbnz']);
    c.lines.push(`${op} ${reg(sf, t!)}, 1f`);
    c.form = op;
  } else {
    const op = r.pick(['tbz', 'tbnz']);
    const bit = r.int(sf ? 64 : 32);
    c.lines.push(`${op} ${reg(sf, t!)}, #${bit}, 1f`);
    c.form = op;
  }
  c.lines.push(`movz x${x}, #0x2222`, '1:');
};

const branchOther: Gen = (r, c) => {
  const [t, x] = regs(r, 2, [30]);
  switch (r.int(4)) {
    case 0: c.lines.push('b 1f', `movz x${x}, #0x3333`, '1:'); c.form = 'b'; break;
    case 1: c.lines.push('bl 1f', `movz x${x}, #0x3333`, '1:'); c.form = 'bl'; break;
    case 2: c.lines.push(`adr x${t}, 1f`, `br x${t}`, `movz x${x}, #0x3333`, '1:'); c.form = 'br'; break;
    default: c.lines.push(`adr x${t}, 1f`, `blr x${t}`, `movz x${x}, #0x3333`, '1:'); c.form = 'blr'; break;
  }
};

// ---------------------------------------------------------------------------------------------- SP forms

/**
 * SP as an operand. The harness gives the case its own SP (`Case.sp`) and, after the sequence, copies SP into x28
 * (so it is compared) and restores its record pointer through x29 (the same value in both runs); these cases never
 * name x28/x29. SP-based memory accesses keep SP 16-byte aligned: KVM resets SCTLR_EL1.SA=1, so a misaligned SP
 * base takes an SP alignment fault (EC 0x26) in our machine, while qemu-aarch64 (user mode) does not check SA0 at
 * all (seen with this test: `str x26, [sp, #56]` with SP = 8 mod 16 runs under QEMU); exceptions.test.ts covers
 * the SP alignment fault instead.
 */
const spForms: Gen = (r, c) => {
  const [d, n, m, t2] = regs(r, 4, [28, 29]);
  const sf = sfOf(r);
  const k = r.int(6);
  c.sp = value(r) & ~0xfn;
  if (k === 0) { // add/sub (immediate) reading or writing SP
    const op = r.pick(['add', 'sub', 'adds', 'subs', 'cmp', 'cmn', 'mov']);
    const imm = r.int(4096), sh = r.bool(0.3) ? ', lsl #12' : '';
    const rsp = sf ? 'sp' : 'wsp';
    if (op === 'mov') c.lines.push(r.bool() ? `mov ${rsp}, ${reg(sf, n!)}` : `mov ${reg(sf, d!)}, ${rsp}`);
    else if (op === 'cmp' || op === 'cmn') c.lines.push(`${op} ${rsp}, #${imm}${sh}`);
    else if (op.endsWith('s')) c.lines.push(`${op} ${reg(sf, rz(r, d!))}, ${rsp}, #${imm}${sh}`);
    else c.lines.push(`${op} ${r.bool() ? rsp : reg(sf, d!)}, ${r.bool() ? rsp : reg(sf, n!)}, #${imm}${sh}`);
    c.form = `${op} (immediate) with SP`;
  } else if (k === 1) { // add/sub (extended register) with SP
    const op = r.pick(['add', 'sub', 'adds', 'subs', 'cmp']);
    const ext = r.pick(EXT), amt = r.int(5);
    const mIsX = sf && (ext === 'uxtx' || ext === 'sxtx');
    const rsp = sf ? 'sp' : 'wsp';
    const src = `${reg(mIsX, m!)}, ${ext} #${amt}`;
    if (op === 'cmp') c.lines.push(`cmp ${rsp}, ${src}`);
    else if (op.endsWith('s')) c.lines.push(`${op} ${reg(sf, d!)}, ${rsp}, ${src}`);
    else c.lines.push(`${op} ${r.bool() ? rsp : reg(sf, d!)}, ${r.bool() ? rsp : reg(sf, n!)}, ${src}`);
    c.form = `${op} (extended register) with SP`;
  } else if (k === 2) { // logical (immediate) writing SP
    const op = r.pick(['and', 'orr', 'eor']);
    c.lines.push(`${op} ${sf ? 'sp' : 'wsp'}, ${reg(sf, n!)}, #${hx(bitmaskImm(r, sf))}`);
    c.form = `${op} (immediate) to SP`;
  } else { // loads/stores with SP as the base
    // 16-byte aligned offsets chosen so every access (incl. the imm9 / pair offsets below) stays inside buf
    const tg = 16 + (target(r, 48, 16) & ~15);
    const so = r.pick(SINGLE.filter((x) => x.st !== undefined));
    if (k === 3) {
      const store = r.bool();
      const off = r.int(8) * 16, mode = r.int(4); // SP itself stays 16-byte aligned
      const op = store ? so.st! : so.ld;
      const rt = reg(so.sf, store ? rz(r, d!) : d!);
      const imm9 = r.range(-16, 16);
      if (mode === 0) { c.sp = { buf: tg - off }; c.lines.push(`${op} ${rt}, [sp, #${off}]`); }
      else if (mode === 1) { c.sp = { buf: tg }; access(c, tg + imm9, so.size); c.lines.push(`${unscaled(op)} ${rt}, [sp, #${imm9}]`); }
      else if (mode === 2) { c.sp = { buf: tg }; access(c, tg + imm9, so.size); c.lines.push(`${op} ${rt}, [sp, #${imm9}]!`); }
      else { c.sp = { buf: tg }; c.lines.push(`${op} ${rt}, [sp], #${imm9}`); }
      c.form = `${op} with SP base`;
    } else if (k === 4) {
      const sz = sf ? 8 : 4, off = r.range(-4, 4) * sz;
      c.sp = { buf: 32 + (target(r, 192, 16) & ~15) };
      const op = r.pick(['ldp', 'stp']);
      const mode = r.int(3);
      const addr = mode === 0 ? `[sp, #${off}]` : mode === 1 ? `[sp, #${off}]!` : `[sp], #${off}`;
      c.lines.push(`${op} ${reg(sf, d!)}, ${reg(sf, t2!)}, ${addr}`);
      c.form = `${op} with SP base`;
    } else { // a push/pop pair
      c.sp = { buf: 16 + (target(r, 32, 16) & ~15) };
      c.lines.push(`stp x${d}, x${n}, [sp, #-16]!`, `ldp x${m}, x${t2}, [sp], #16`);
      c.form = 'stp/ldp push-pop';
    }
  }
};

/** a counted loop: backward B.cond / CBNZ / TBZ, the same decoded instructions run several times */
const loop: Gen = (r, c) => {
  const [k, a, b] = regs(r, 3);
  const sf = sfOf(r);
  c.regs[k!] = BigInt(r.range(1, 7));
  const body = r.pick([`eor ${reg(sf, a!)}, ${reg(sf, a!)}, ${reg(sf, b!)}, ror #${r.int(sf ? 64 : 32)}`,
    `adds ${reg(sf, a!)}, ${reg(sf, a!)}, ${reg(sf, b!)}`, `adc ${reg(sf, a!)}, ${reg(sf, a!)}, ${reg(sf, b!)}`,
    `madd ${reg(sf, a!)}, ${reg(sf, a!)}, ${reg(sf, b!)}, ${reg(sf, b!)}`, `extr ${reg(sf, a!)}, ${reg(sf, a!)}, ${reg(sf, b!)}, #${r.int(sf ? 64 : 32)}`]);
  const kind = r.int(3);
  if (kind === 0) c.lines.push('1:', body, `subs x${k}, x${k}, #1`, 'b.ne 1b');
  else if (kind === 1) c.lines.push('1:', body, `sub x${k}, x${k}, #1`, `cbnz x${k}, 1b`);
  else c.lines.push('1:', body, `sub x${k}, x${k}, #1`, `tbz x${k}, #63, 1b`, `movz x${k}, #0x4444`); // runs until k < 0
  c.form = `loop (${['b.ne', 'cbnz', 'tbz'][kind]} backwards)`;
};

export const GENERATORS: readonly [Gen, number][] = [
  [addSubImm, 3], [addSubShifted, 4], [addSubExtended, 3], [adcSbc, 1], [logicalImm, 3], [logicalShifted, 3],
  [moveWide, 2], [bitfield, 4], [extr, 1], [shiftVar, 1], [mulAcc, 3], [divide, 3], [condSelect, 3], [dp1, 1],
  [adr, 1], [loadStoreSingle, 8], [loadStorePair, 3], [loadLiteral, 1], [prefetch, 1], [unprivileged, 1], [exclusive, 3], [lse, 4],
  [branchCond, 4], [compareBranch, 2], [branchOther, 1], [spForms, 4], [loop, 1],
];

/** memory forms that may start a chain (their registers are then pinned, see `preset`) */
const MEMORY: readonly Gen[] = [loadStoreSingle, loadStorePair, loadLiteral, exclusive, lse];

/** register-only families (no memory, no SP): safe to chain, since a preset base register cannot be clobbered */
const CHAINABLE: readonly Gen[] = [
  addSubImm, addSubShifted, addSubExtended, adcSbc, logicalImm, logicalShifted, moveWide, bitfield, extr, shiftVar,
  mulAcc, divide, condSelect, dp1, branchCond, compareBranch,
];

/** one case: random registers and NZCV, then 1-3 instructions from weighted families */
export function makeCase(r: Rng, pattern: Uint8Array): Case {
  const c: Case = { lines: [], regs: [], nzcv: r.int(16), form: '' };
  for (let i = 0; i < 31; i++) c.regs.push(value(r));
  if (r.bool(0.1)) { // a memory form, then register-only forms that may use what it loaded or wrote back
    r.pick(MEMORY)(r, c, pattern);
    const forms = [c.form];
    const named = c.lines.join(' ').match(/\b[xw]\d+\b/g) ?? [];
    c.pinned = new Set(named.map((x) => Number(x.slice(1))));
    for (let k = r.range(1, 3); k > 0; k--) { r.pick(CHAINABLE)(r, c, pattern); forms.push(c.form); }
    c.form = forms.join(' ; ');
    return c;
  }
  if (r.bool(0.2)) { // a chain: results and flags of one instruction feed the next
    const forms: string[] = [];
    for (let k = r.range(2, 4); k > 0; k--) { r.pick(CHAINABLE)(r, c, pattern); forms.push(c.form); }
    c.form = forms.join(' ; ');
    return c;
  }
  const total = GENERATORS.reduce((a, [, w]) => a + w, 0);
  let p = r.int(total);
  for (const [g, w] of GENERATORS) {
    if (p < w) { g(r, c, pattern); break; }
    p -= w;
  }
  return c;
}
