// The fault path's number shortcuts in esr.ts must agree with the BigInt definitions for every 64-bit value: ESR_EL2
// (EC = ESR[31:26], the ISS fields from ESR[31:0]; upper ISS2 bits ignored) and HPFAR_EL2.FIPA (IPA[51:12] in
// HPFAR[43:4], spec C.4), including values at and above 2^53 where a double is no longer exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAbortIss, esrEc, hpfarToIpa } from '../../../emulator/arch/esr';

const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
  fc.integer({ min: -2, max: 2 }).map((d) => (1n << 53n) + BigInt(d)),
  fc.integer({ min: -2, max: 2 }).map((d) => (1n << 44n) + BigInt(d)),
);

test('C.4 ESR_EL2: esrEc and decodeAbortIss read ESR[31:0] exactly for any 64-bit syndrome', () => {
  fc.assert(fc.property(u64, (esr) => {
    const low = BigInt.asUintN(32, esr);
    assert.equal(esrEc(esr), Number(low >> 26n));
    assert.deepEqual(decodeAbortIss(esr), decodeAbortIss(low));
    // the one-entry cache must not hand back another syndrome's decoding
    assert.equal(decodeAbortIss(esr).fsc, Number(low & 0x3fn));
  }), { numRuns: 400, seed: 0xe5e5 });
});

test('C.4 HPFAR_EL2: hpfarToIpa = (HPFAR & GENMASK(43,4)) << 8 for any 64-bit value', () => {
  fc.assert(fc.property(u64, (hpfar) => {
    assert.equal(hpfarToIpa(hpfar), Number((hpfar & (((1n << 44n) - 1n) & ~0xfn)) << 8n));
  }), { numRuns: 400, seed: 0x4fa5 });
});
