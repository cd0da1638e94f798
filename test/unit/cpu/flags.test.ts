// NZCV after adds/subs/cmp/cmn/ands/tst in W and X forms, at the edge values (Arm ARM AddWithCarry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, nzcv } from './harness';

const M64 = (1n << 64n) - 1n;

const cases: [string, bigint, bigint, string, bigint][] = [
  // insn, x1, x2, flags, x0
  ['adds w0, w1, w2', 0x7fffffffn, 1n, 'N--V', 0x80000000n],
  ['adds w0, w1, w2', 0xffffffffn, 1n, '-ZC-', 0n],
  ['adds x0, x1, x2', 0x7fffffffffffffffn, 1n, 'N--V', 0x8000000000000000n],
  ['adds x0, x1, x2', M64, 1n, '-ZC-', 0n],
  ['adds x0, x1, x2', 0x8000000000000000n, 0x8000000000000000n, '-ZCV', 0n],
  ['subs x0, x1, x2', 0x8000000000000000n, 1n, '--CV', 0x7fffffffffffffffn],
  ['subs x0, x1, x2', 0n, 1n, 'N---', M64],
  ['subs x0, x1, x2', 5n, 5n, '-ZC-', 0n],
  ['subs w0, w1, w2', 0x80000000n, 1n, '--CV', 0x7fffffffn],
  ['subs w0, w1, w2', 1n, 2n, 'N---', 0xffffffffn],
  ['subs w0, w1, w2', 0x1_0000_0005n, 5n, '-ZC-', 0n], // W form ignores the upper half
  ['ands x0, x1, x2', 0x8000000000000000n, M64, 'N---', 0x8000000000000000n],
  ['ands w0, w1, w2', 0xffff_ffff_0000_0000n, M64, '-Z--', 0n],
];

for (const [insn, a, b, flags, res] of cases) {
  test(`flags: ${insn} with ${a.toString(16)}, ${b.toString(16)} -> ${flags}`, () => {
    const r = exec(`${insn}\nhvc #0`, { 1: a, 2: b });
    assert.equal(nzcv(r.cpu), flags);
    assert.equal(r.cpu.getX(0), res);
  });
}

test('flags: cmp/cmn/tst alias forms set flags and write nothing', () => {
  let r = exec('cmp x1, #1\nhvc #0', { 1: 0n });
  assert.equal(nzcv(r.cpu), 'N---');
  r = exec('cmn w1, #1\nhvc #0', { 1: 0xffffffffn });
  assert.equal(nzcv(r.cpu), '-ZC-');
  r = exec('tst x1, #0x8000000000000000\nhvc #0', { 1: 0x8000000000000000n });
  assert.equal(nzcv(r.cpu), 'N---');
  r = exec('cmp x1, x2, lsl #63\nhvc #0', { 1: 0n, 2: 1n });
  assert.equal(nzcv(r.cpu), 'N--V'); // 0 - 0x8000.. = 0x8000..: N, borrow (C=0), signed overflow
});

test('flags: sbc with borrow and adc with carry in', () => {
  let r = exec('subs x3, x3, x3\nsbcs x0, x1, x2\nhvc #0', { 1: 5n, 2: 5n }); // C=1 after subs: no borrow
  assert.equal(r.cpu.getX(0), 0n);
  assert.equal(nzcv(r.cpu), '-ZC-');
  r = exec('cmp x3, #1\nsbc x0, x1, x2\nhvc #0', { 1: 5n, 2: 5n, 3: 0n }); // C=0: borrow 1
  assert.equal(r.cpu.getX(0), M64);
  r = exec('cmn x3, #1\nadc x0, x1, x2\nhvc #0', { 1: 1n, 2: 2n, 3: M64 }); // C=1
  assert.equal(r.cpu.getX(0), 4n);
});

test('flags: ccmp takes the compare when the condition holds, else the immediate flags', () => {
  let r = exec('cmp x1, #0\nccmp x2, #3, #0b0010, eq\nhvc #0', { 1: 0n, 2: 3n });
  assert.equal(nzcv(r.cpu), '-ZC-');
  r = exec('cmp x1, #0\nccmp x2, #3, #0b1001, ne\nhvc #0', { 1: 0n, 2: 3n });
  assert.equal(nzcv(r.cpu), 'N--V');
});
