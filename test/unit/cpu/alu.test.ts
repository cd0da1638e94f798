// Data-processing semantics: moves, shifts, bitfields, extends, multiply/divide, conditional select, PC-relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE, exec } from './harness';

const M64 = (1n << 64n) - 1n;
const x0 = (src: string, regs: Record<number, bigint> = {}): bigint => exec(`${src}\nhvc #0`, regs).cpu.getX(0);

test('movz/movk/movn build 64-bit constants; W forms zero-extend', () => {
  assert.equal(x0('movz x0, #0x1234, lsl #48\nmovk x0, #0x5678, lsl #16\nmovk x0, #0x9abc'), 0x1234_0000_5678_9abcn);
  assert.equal(x0('movn x0, #0'), M64);
  assert.equal(x0('movn w0, #0'), 0xffffffffn);
  assert.equal(x0('movn x0, #0xffff, lsl #32'), 0xffff_0000_ffff_ffffn);
  assert.equal(x0('movk w0, #0xbeef, lsl #16', { 0: M64 }), 0xbeef_ffffn);
});

test('W-form results are zero-extended into X', () => {
  assert.equal(x0('add w0, w1, w2', { 1: 0xffff_ffff_ffff_ffffn, 2: 2n }), 1n);
  assert.equal(x0('orr w0, w1, w2', { 1: 0xffff_0000_0000_0000n, 2: 0x1n }), 1n);
  assert.equal(x0('mov w0, w1', { 1: M64 }), 0xffffffffn);
  assert.equal(x0('sub w0, w1, #1', { 1: 0n }), 0xffffffffn);
});

test('shifted-register operands: shifts by 0, 31, 63 and ror', () => {
  assert.equal(x0('add x0, xzr, x1, lsl #63', { 1: 3n }), 0x8000000000000000n);
  assert.equal(x0('add x0, xzr, x1, lsr #63', { 1: M64 }), 1n);
  assert.equal(x0('add x0, xzr, x1, asr #63', { 1: 0x8000000000000000n }), M64);
  assert.equal(x0('add w0, wzr, w1, lsl #31', { 1: 3n }), 0x80000000n);
  assert.equal(x0('add w0, wzr, w1, asr #31', { 1: 0x80000000n }), 0xffffffffn);
  assert.equal(x0('orr x0, xzr, x1, ror #4', { 1: 0x1fn }), 0xf000_0000_0000_0001n);
  assert.equal(x0('eor x0, x1, x2, lsl #0', { 1: 0xf0n, 2: 0xffn }), 0x0fn);
  assert.equal(x0('bic x0, x1, x2', { 1: 0xffn, 2: 0x0fn }), 0xf0n);
  assert.equal(x0('mvn x0, x1', { 1: 0n }), M64);
  assert.equal(x0('orn w0, wzr, w1', { 1: 0n }), 0xffffffffn);
});

test('variable shifts take the amount modulo the register size', () => {
  assert.equal(x0('lsl x0, x1, x2', { 1: 1n, 2: 65n }), 2n);
  assert.equal(x0('lsr w0, w1, w2', { 1: 0x80000000n, 2: 63n }), 1n);
  assert.equal(x0('asr x0, x1, x2', { 1: 0x8000000000000000n, 2: 32n }), 0xffff_ffff_8000_0000n);
  assert.equal(x0('ror x0, x1, x2', { 1: 1n, 2: 1n }), 0x8000000000000000n);
});

test('bitfield aliases: lsl/lsr/asr immediate, ubfx, sbfx, bfi, sxtw, uxtb', () => {
  assert.equal(x0('lsl x0, x1, #12', { 1: 0xabcn }), 0xabc000n);
  assert.equal(x0('lsr x0, x1, #60', { 1: 0xf000000000000000n }), 0xfn);
  assert.equal(x0('asr x0, x1, #4', { 1: 0x8000000000000000n }), 0xf800000000000000n);
  assert.equal(x0('lsl w0, w1, #31', { 1: 3n }), 0x80000000n);
  assert.equal(x0('ubfx x0, x1, #8, #8', { 1: 0x12345678n }), 0x56n);
  assert.equal(x0('sbfx x0, x1, #4, #4', { 1: 0x80n }), M64 - 7n); // 0b1000 -> -8
  assert.equal(x0('sbfx w0, w1, #0, #1', { 1: 1n }), 0xffffffffn);
  assert.equal(x0('bfi x0, x1, #32, #16', { 0: M64, 1: 0x1234n }), 0xffff_1234_ffff_ffffn);
  assert.equal(x0('bfxil w0, w1, #4, #8', { 0: 0n, 1: 0xabcn }), 0xabn);
  assert.equal(x0('sxtw x0, w1', { 1: 0x80000000n }), 0xffff_ffff_8000_0000n);
  assert.equal(x0('sxtb x0, w1', { 1: 0x7fn }), 0x7fn);
  assert.equal(x0('uxtb w0, w1', { 1: 0x1ffn }), 0xffn);
  assert.equal(x0('extr x0, x1, x2, #8', { 1: 0xabn, 2: 0x1122334455667788n }), 0xab11223344556677n);
  assert.equal(x0('ror w0, w1, #8', { 1: 0x12345678n }), 0x78123456n);
});

test('extended-register add/sub with SP and sign extension', () => {
  assert.equal(x0('add x0, x1, w2, sxtw #2', { 1: 100n, 2: 0xffffffffn }), 96n);
  assert.equal(x0('add x0, x1, w2, uxtb', { 1: 1n, 2: 0x1ffn }), 0x100n);
  const r = exec('mov x3, sp\nadd sp, sp, #0x10\nmov x0, sp\nsub x4, sp, x1, uxtx #1\nhvc #0', { 1: 8n });
  assert.equal(r.cpu.getX(0) - r.cpu.getX(3), 0x10n);
  assert.equal(r.cpu.getX(4), r.cpu.getX(0) - 16n);
});

test('madd/msub/mul and the long multiplies', () => {
  assert.equal(x0('madd x0, x1, x2, x3', { 1: 0x1_0000_0001n, 2: 0x1_0000_0001n, 3: 1n }), 0x2_0000_0002n);
  assert.equal(x0('msub x0, x1, x2, x3', { 1: 3n, 2: 4n, 3: 10n }), M64 - 1n);
  assert.equal(x0('mul w0, w1, w2', { 1: 0x10000n, 2: 0x10001n }), 0x10000n);
  assert.equal(x0('mul x0, x1, x2', { 1: M64, 2: M64 }), 1n);
  assert.equal(x0('umulh x0, x1, x2', { 1: M64, 2: M64 }), M64 - 1n);
  assert.equal(x0('smulh x0, x1, x2', { 1: M64, 2: M64 }), 0n);
  assert.equal(x0('smull x0, w1, w2', { 1: 0xffffffffn, 2: 2n }), M64 - 1n);
  assert.equal(x0('umull x0, w1, w2', { 1: 0xffffffffn, 2: 2n }), 0x1_ffff_fffen);
});

test('udiv/sdiv: division by zero gives 0, INT_MIN / -1 gives INT_MIN', () => {
  assert.equal(x0('udiv x0, x1, x2', { 1: 100n, 2: 0n }), 0n);
  assert.equal(x0('sdiv w0, w1, w2', { 1: 100n, 2: 0n }), 0n);
  assert.equal(x0('sdiv x0, x1, x2', { 1: 0x8000000000000000n, 2: M64 }), 0x8000000000000000n);
  assert.equal(x0('sdiv w0, w1, w2', { 1: 0x80000000n, 2: 0xffffffffn }), 0x80000000n);
  assert.equal(x0('sdiv x0, x1, x2', { 1: M64 - 6n, 2: 2n }), M64 - 2n); // -7 / 2 = -3 (truncates)
  assert.equal(x0('udiv w0, w1, w2', { 1: 0xffffffffn, 2: 2n }), 0x7fffffffn);
  assert.equal(x0('udiv x0, x1, x2', { 1: M64, 2: 3n }), M64 / 3n);
});

test('csel/csinc/csinv/csneg and cset', () => {
  assert.equal(x0('cmp x1, x2\ncsel x0, x1, x2, lt', { 1: 1n, 2: 2n }), 1n);
  assert.equal(x0('cmp x1, x2\ncsinc x0, x1, x2, gt', { 1: 1n, 2: 2n }), 3n);
  assert.equal(x0('cmp x1, x2\ncset w0, eq', { 1: 2n, 2: 2n }), 1n);
  assert.equal(x0('cmp x1, x2\ncsinv x0, x1, x2, eq', { 1: 1n, 2: 0n }), M64);
  assert.equal(x0('cmp x1, x2\ncsneg w0, w1, w2, eq', { 1: 1n, 2: 5n }), 0xfffffffbn);
  assert.equal(x0('cmp x1, x2\ncinc x0, x1, hi', { 1: M64, 2: 0n }), 0n);
});

test('clz/cls/rbit/rev', () => {
  assert.equal(x0('clz x0, x1', { 1: 1n }), 63n);
  assert.equal(x0('clz x0, x1', { 1: 0n }), 64n);
  assert.equal(x0('clz w0, w1', { 1: 0x8000n }), 16n);
  assert.equal(x0('cls x0, x1', { 1: M64 }), 63n);
  assert.equal(x0('cls w0, w1', { 1: 0x0fffffffn }), 3n);
  assert.equal(x0('rbit x0, x1', { 1: 1n }), 0x8000000000000000n);
  assert.equal(x0('rev x0, x1', { 1: 0x0102030405060708n }), 0x0807060504030201n);
  assert.equal(x0('rev w0, w1', { 1: 0x01020304n }), 0x04030201n);
  assert.equal(x0('rev16 w0, w1', { 1: 0x01020304n }), 0x02010403n);
});

test('adr/adrp are PC-relative (adrp clears the low 12 bits)', () => {
  assert.equal(x0('adr x0, .+0x10'), BigInt(CODE + 0x10));
  assert.equal(x0('nop\nadr x0, .-4'), BigInt(CODE));
  // GNU as leaves adrp to a label for the linker (relocation), so these are raw encodings: adrp x0, #+3 / #-1 pages
  assert.equal(x0('nop\n.inst 0xf0000000'), BigInt((CODE & ~0xfff) + 0x3000));
  assert.equal(x0('nop\n.inst 0xf0ffffe0'), BigInt((CODE & ~0xfff) - 0x1000));
});

test('logical immediates: and/orr/eor with bitmask immediates and ands flags', () => {
  assert.equal(x0('and x0, x1, #0xff00ff00ff00ff00', { 1: M64 }), 0xff00ff00ff00ff00n);
  assert.equal(x0('orr w0, wzr, #0x80000001'), 0x80000001n);
  assert.equal(x0('eor x0, x1, #0x5555555555555555', { 1: M64 }), 0xaaaaaaaaaaaaaaaan);
  const r = exec('ands x0, x1, #1\nhvc #0', { 1: 2n });
  assert.equal(r.cpu.getX(0), 0n);
  assert.equal((r.cpu.getPstate() >> 30n) & 1n, 1n);
});
