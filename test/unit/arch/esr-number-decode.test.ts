// The syndrome decoders work on ESR[31:0] as a number (one BigInt operation per call): they must agree with the
// field-by-field BigInt definitions of spec C.1 / C.3 for every 64-bit value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeAbortIss, esrEc, fscKind, fscLevel, fscName, hpfarToIpa, ESR_ELx_AR, ESR_ELx_CM, ESR_ELx_EA, ESR_ELx_FnV,
  ESR_ELx_ISV, ESR_ELx_S1PTW, ESR_ELx_SF, ESR_ELx_SSE, ESR_ELx_VNCR, ESR_ELx_WNR,
} from '../../../emulator/arch/esr';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const bit = (v: bigint, m: bigint): boolean => (v & m) !== 0n;

test('C.1 decodeAbortIss agrees with the BigInt field extraction', () => {
  fc.assert(fc.property(u64, fc.constantFrom(0x20n, 0x21n, 0x24n, 0x25n), (raw, ec) => {
    const esr = (raw & ~(0x3fn << 26n)) | (ec << 26n);
    const dabt = ec === 0x24n || ec === 0x25n;
    const fsc = Number(esr & 0x3fn);
    const sas = dabt ? Number((esr >> 22n) & 3n) : 0;
    assert.equal(esrEc(esr), Number(ec));
    assert.deepEqual(decodeAbortIss(esr), {
      fsc, fscName: fscName(fsc), kind: fscKind(fsc), level: fscLevel(fsc),
      s1ptw: bit(esr, ESR_ELx_S1PTW), ea: bit(esr, ESR_ELx_EA), fnv: bit(esr, ESR_ELx_FnV),
      set: Number((esr >> 11n) & 3n), isv: dabt && bit(esr, ESR_ELx_ISV), sas, len: 1 << sas,
      sse: dabt && bit(esr, ESR_ELx_SSE), srt: dabt ? Number((esr >> 16n) & 0x1fn) : 0,
      sf: dabt && bit(esr, ESR_ELx_SF), ar: dabt && bit(esr, ESR_ELx_AR), vncr: dabt && bit(esr, ESR_ELx_VNCR),
      cm: dabt && bit(esr, ESR_ELx_CM), wnr: dabt && bit(esr, ESR_ELx_WNR),
    });
  }));
});

test('C.3 hpfarToIpa = (HPFAR & FIPA[43:4]) << 8 for any 64-bit HPFAR', () => {
  fc.assert(fc.property(u64, (h) => {
    assert.equal(hpfarToIpa(h), Number((h & (((1n << 44n) - 1n) & ~0xfn)) << 8n));
  }));
});
