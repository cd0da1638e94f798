// encode(): inverse of decode() for the guest set, and its range checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../emulator/cpu/decode';
import { encode, EncodeError } from '../../../emulator/cpu/encode';
import { makeInsn } from '../../../emulator/cpu/insn';
import { decodeBitMask, encodeBitMask } from '../../../emulator/cpu/bitmask-imm';
import { guestWords } from './guest-words';

test('guest blocks: encode(decode(w)) === w for 300k random words of the guest encoding groups', () => {
  let n = 0;
  for (const w of guestWords(99, 300_000)) {
    const i = decode(w);
    if (i.op === 'UNDEFINED') continue;
    n++;
    const e = encode(i);
    if (e !== w) {
      // should-be-one fields (Rs/Rt2) of exclusives are ignored by decode and re-encoded as ones
      assert.ok(['LDXR', 'STXR', 'STLR'].includes(i.op), `${w.toString(16)} -> ${e.toString(16)} (${i.op})`);
      assert.deepEqual({ ...decode(e), raw: 0 }, { ...i, raw: 0 });
    }
  }
  assert.ok(n > 100_000);
});

test('guest blocks: bitmask immediates: every valid N:immr:imms round-trips through its value', () => {
  const distinct = { 32: new Set<bigint>(), 64: new Set<bigint>() };
  for (const width of [32, 64] as const) {
    for (let n = 0; n < (width === 64 ? 2 : 1); n++)
      for (let immr = 0; immr < width; immr++)
        for (let imms = 0; imms < 64; imms++) {
          const v = decodeBitMask(n, immr, imms, width);
          if (v === undefined) continue;
          distinct[width].add(v);
          const f = encodeBitMask(v, width);
          assert.ok(f, `${width} ${n} ${immr} ${imms}`);
          assert.equal(decodeBitMask(f.n, f.immr, f.imms, width), v);
        }
  }
  // the well-known counts of distinct A64 logical immediates
  assert.equal(distinct[64].size, 5334);
  assert.equal(distinct[32].size, 1302);
  assert.equal(encodeBitMask(0n, 64), undefined);
  assert.equal(encodeBitMask((1n << 64n) - 1n, 64), undefined);
  assert.equal(encodeBitMask(0x1234n, 64), undefined);
});

test('guest blocks: out-of-range fields throw EncodeError with the allowed range', () => {
  const ldr = Object.assign(makeInsn('LDR'), { sf: true, size: 8, mode: 'offset' as const, imm: 12 });
  assert.throws(() => encode(ldr), (e: unknown) => e instanceof EncodeError && /multiple of 8/.test(e.message));
  const b = Object.assign(makeInsn('B'), { imm: 1 << 28 });
  assert.throws(() => encode(b), EncodeError);
  const add = Object.assign(makeInsn('ADD_IMM'), { sf: true, imm: 4096 });
  assert.throws(() => encode(add), /out of range \[0, 4095\]/);
});

test('guest blocks: decode and disassemble never throw; encode(decode(w)) === w over 500k fully random words', async () => {
  const { disassemble } = await import('../../../emulator/cpu/disasm');
  let seed = 1;
  for (let k = 0; k < 500_000; k++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const w = (seed ^ (seed << 7)) >>> 0;
    const i = decode(w);
    disassemble(w, 0x4000_0000n);
    if (i.op !== 'UNDEFINED' && !['LDXR', 'STXR', 'STLR'].includes(i.op)) assert.equal(encode(i), w, w.toString(16));
  }
});
