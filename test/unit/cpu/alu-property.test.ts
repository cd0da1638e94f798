// Property tests: the lo/hi 32-bit-halves ALU against a bigint reference of the Arm ARM pseudocode
// (AddWithCarry, ShiftReg, DecodeBitMasks/UBFM/SBFM/BFM), on random operands and encodings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CODE, rig } from './harness';

const M64 = (1n << 64n) - 1n;
const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

function shiftRef(v: bigint, type: number, amt: number, bits: number): bigint {
  const m = mask(bits);
  v &= m;
  const a = BigInt(amt);
  switch (type) {
    case 0: return (v << a) & m;
    case 1: return v >> a;
    case 2: return BigInt.asUintN(bits, BigInt.asIntN(bits, v) >> a);
    default: return amt === 0 ? v : ((v >> a) | (v << BigInt(bits - amt))) & m;
  }
}

function addWithCarry(x: bigint, y: bigint, cin: bigint, bits: number): { r: bigint; nzcv: number } {
  const m = mask(bits);
  const u = (x & m) + (y & m) + cin;
  const s = BigInt.asIntN(bits, x) + BigInt.asIntN(bits, y) + cin;
  const r = u & m;
  const n = Number(r >> BigInt(bits - 1));
  const z = r === 0n ? 1 : 0;
  const c = u === r ? 0 : 1;
  const v = BigInt.asIntN(bits, r) === s ? 0 : 1;
  return { r, nzcv: (n << 3) | (z << 2) | (c << 1) | v };
}

const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: M64 }),
  fc.constantFrom(0n, 1n, M64, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n),
);

function runOne(r: ReturnType<typeof rig>, word: number, x1: bigint, x2: bigint, x0 = 0n): { x0: bigint; nzcv: number } {
  r.mem.write32(CODE, word);
  r.cpu.setPc(BigInt(CODE));
  r.cpu.setPstate(0x3c5n);
  r.cpu.setX(0, x0); r.cpu.setX(1, x1); r.cpu.setX(2, x2);
  r.cpu.execute(1);
  return { x0: r.cpu.getX(0), nzcv: Number(r.cpu.getPstate() >> 28n) };
}

test('property: add/sub (shifted register, W and X, with and without flags) match AddWithCarry', () => {
  const r = rig();
  fc.assert(fc.property(u64, u64, fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 63 }),
    (a, b, sf, sub, S, shift, amt) => {
      const bits = sf ? 64 : 32;
      const imm6 = amt % bits;
      const word = ((sf ? 1 : 0) << 31 | (sub ? 1 : 0) << 30 | (S ? 1 : 0) << 29 | 0b01011 << 24 | shift << 22 | 2 << 16 | imm6 << 10 | 1 << 5) >>> 0;
      const op2 = shiftRef(b, shift, imm6, bits);
      const ref = sub ? addWithCarry(a, ~op2 & mask(bits), 1n, bits) : addWithCarry(a, op2, 0n, bits);
      const got = runOne(r, word, a, b);
      assert.equal(got.x0, ref.r);
      if (S) assert.equal(got.nzcv, ref.nzcv);
    }), { numRuns: 3000 });
});

test('property: add/sub immediate (with SP-free registers) match AddWithCarry', () => {
  const r = rig();
  fc.assert(fc.property(u64, fc.integer({ min: 0, max: 4095 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(),
    (a, imm12, sh, sf, sub, S) => {
      const bits = sf ? 64 : 32;
      const word = ((sf ? 1 : 0) << 31 | (sub ? 1 : 0) << 30 | (S ? 1 : 0) << 29 | 0b100010 << 23 | (sh ? 1 : 0) << 22 | imm12 << 10 | 1 << 5) >>> 0;
      const imm = BigInt(imm12) << (sh ? 12n : 0n);
      const ref = sub ? addWithCarry(a, ~imm & mask(bits), 1n, bits) : addWithCarry(a, imm, 0n, bits);
      const got = runOne(r, word, a, 0n);
      assert.equal(got.x0, ref.r);
      if (S) assert.equal(got.nzcv, ref.nzcv);
    }), { numRuns: 2000 });
});

test('property: logical (shifted register) and/orr/eor/ands with inversion', () => {
  const r = rig();
  fc.assert(fc.property(u64, u64, fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 63 }),
    (a, b, sf, opc, shift, inv, amt) => {
      const bits = sf ? 64 : 32;
      const imm6 = amt % bits;
      const word = ((sf ? 1 : 0) << 31 | opc << 29 | 0b01010 << 24 | shift << 22 | (inv ? 1 : 0) << 21 | 2 << 16 | imm6 << 10 | 1 << 5) >>> 0;
      let op2 = shiftRef(b, shift, imm6, bits);
      if (inv) op2 = ~op2 & mask(bits);
      const x = a & mask(bits);
      const res = opc === 1 ? x | op2 : opc === 2 ? x ^ op2 : x & op2;
      const got = runOne(r, word, a, b);
      assert.equal(got.x0, res);
      if (opc === 3) assert.equal(got.nzcv, (Number(res >> BigInt(bits - 1)) << 3) | ((res === 0n ? 1 : 0) << 2));
    }), { numRuns: 3000 });
});

test('property: lslv/lsrv/asrv/rorv use the amount modulo the size', () => {
  const r = rig();
  fc.assert(fc.property(u64, u64, fc.boolean(), fc.integer({ min: 0, max: 3 }), (a, b, sf, type) => {
    const bits = sf ? 64 : 32;
    const word = ((sf ? 1 : 0) << 31 | 0b0011010110 << 21 | 2 << 16 | (8 + type) << 10 | 1 << 5) >>> 0;
    const got = runOne(r, word, a, b);
    assert.equal(got.x0, shiftRef(a, type, Number(b % BigInt(bits)), bits));
  }), { numRuns: 2000 });
});

function bitMasks(immr: number, imms: number, bits: number): { w: bigint; t: bigint } {
  const S = imms, R = immr;
  const d = (S - R) & (bits - 1);
  const welem = mask(S + 1);
  const w = R === 0 ? welem : ((welem >> BigInt(R)) | (welem << BigInt(bits - R))) & mask(bits);
  return { w, t: mask(d + 1) };
}

test('property: SBFM/BFM/UBFM (all bitfield aliases) match the pseudocode', () => {
  const r = rig();
  fc.assert(fc.property(u64, u64, fc.boolean(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 63 }),
    (src, dst, sf, opc, immrIn, immsIn) => {
      const bits = sf ? 64 : 32;
      const immr = immrIn % bits, imms = immsIn % bits;
      const N = sf ? 1 : 0;
      const word = ((sf ? 1 : 0) << 31 | opc << 29 | 0b100110 << 23 | N << 22 | immr << 16 | imms << 10 | 1 << 5) >>> 0;
      const { w, t } = bitMasks(immr, imms, bits);
      const s = src & mask(bits), dd = dst & mask(bits);
      const ror = immr === 0 ? s : ((s >> BigInt(immr)) | (s << BigInt(bits - immr))) & mask(bits);
      let res: bigint;
      if (opc === 1) {
        const bot = (dd & ~w) | (ror & w);
        res = ((dd & ~t) | (bot & t)) & mask(bits);
      } else {
        const bot = ror & w;
        const top = opc === 0 && ((s >> BigInt(imms)) & 1n) === 1n ? mask(bits) : 0n;
        res = ((top & ~t) | (bot & t)) & mask(bits);
      }
      const got = runOne(r, word, src, 0n, dst);
      assert.equal(got.x0, res);
    }), { numRuns: 3000 });
});

test('property: udiv/sdiv/madd/umulh against bigint arithmetic', () => {
  const r = rig();
  fc.assert(fc.property(u64, u64, fc.boolean(), (a, b, sf) => {
    const bits = sf ? 64 : 32;
    const m = mask(bits);
    const x = a & m, y = b & m;
    const sfb = (sf ? 1 : 0) << 31;
    let got = runOne(r, (sfb | 0b0011010110 << 21 | 2 << 16 | 2 << 10 | 1 << 5) >>> 0, a, b);
    assert.equal(got.x0, y === 0n ? 0n : x / y, 'udiv');
    got = runOne(r, (sfb | 0b0011010110 << 21 | 2 << 16 | 3 << 10 | 1 << 5) >>> 0, a, b);
    const sx = BigInt.asIntN(bits, x), sy = BigInt.asIntN(bits, y);
    assert.equal(got.x0, sy === 0n ? 0n : BigInt.asUintN(bits, sx / sy), 'sdiv');
    // madd x0, x1, x2, x0 (Ra = x0 = 5)
    got = runOne(r, (sfb | 0b0011011 << 24 | 2 << 16 | 0 << 10 | 1 << 5) >>> 0, a, b, 5n);
    assert.equal(got.x0, (x * y + 5n) & m, 'madd');
  }), { numRuns: 2000 });
});
