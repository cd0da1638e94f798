import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  abortEsr, dabtIss, decodeEsr, describeEsr, ecName, fscKind, fscLevel, fscName, hpfarToIpa, hvcEsr, iabtIss,
  ipaToHpfar, isSeaFsc, nisvSanitizedIss, smcEsr,
} from '../../../emulator/arch/esr';

test('C.1 decode a DABT_LOW syndrome with ISV: SAS/SSE/SRT/SF/AR/WnR/FSC', () => {
  // LDRSH w3, [x1] -> ISV, SAS=1, SSE, SRT=3, SF=0, translation fault L3
  const esr = 0x9360_0007n | (3n << 16n);
  const d = decodeEsr(esr);
  assert.equal(d.ec, 0x24);
  assert.equal(d.ecName, 'DABT_LOW');
  assert.equal(d.il, true);
  const a = d.abort!;
  assert.deepEqual([a.isv, a.sas, a.len, a.sse, a.srt, a.sf, a.ar, a.wnr, a.cm, a.s1ptw], [true, 1, 2, true, 3, false, false, false, false, false]);
  assert.deepEqual([a.fsc, a.kind, a.level], [7, 'translation', 3]);
});

test('C.1 build and decode round trip for data and instruction aborts', () => {
  const esr = abortEsr({ ec: 0x24, fsc: 0x0e, isv: true, sas: 3, srt: 30, sf: true, ar: true, wnr: true, ea: true, fnv: true, set: 2 });
  const a = decodeEsr(esr).abort!;
  assert.deepEqual([a.sas, a.srt, a.sf, a.ar, a.wnr, a.ea, a.fnv, a.set, a.kind, a.level], [3, 30, true, true, true, true, true, 2, 'permission', 2]);
  const i = abortEsr({ ec: 0x20, fsc: 0x05, s1ptw: true });
  assert.equal(i, 0x8200_0085n);
  const di = decodeEsr(i).abort!;
  assert.deepEqual([di.s1ptw, di.isv, di.wnr, di.level], [true, false, false, 1]);
});

test('C.1 syndrome-only fields are dropped without ISV; CM and WnR stay', () => {
  assert.equal(dabtIss({ fsc: 7, sas: 3, srt: 5, sf: true, cm: true, wnr: true }), 0x147n);
  assert.equal(iabtIss({ fsc: 0x10, ea: true }), 0x210n);
});

test('C.2 FSC kinds, levels and names', () => {
  const rows: [number, string, number | null][] = [
    [0x00, 'address-size', 0], [0x03, 'address-size', 3], [0x04, 'translation', 0], [0x07, 'translation', 3],
    [0x09, 'access-flag', 1], [0x0f, 'permission', 3], [0x10, 'external', null], [0x15, 'external', 1],
    [0x18, 'external', null], [0x1f, 'external', 3], [0x11, 'other', null], [0x21, 'other', null], [0x30, 'other', null],
    [0x35, 'other', null], [0x2b, 'translation', -1],
  ];
  for (const [fsc, kind, level] of rows) {
    assert.equal(fscKind(fsc), kind, `kind 0x${fsc.toString(16)}`);
    assert.equal(fscLevel(fsc), level, `level 0x${fsc.toString(16)}`);
  }
  assert.equal(fscName(0x06), 'Translation fault, level 2');
  assert.equal(fscName(0x10), 'Synchronous external abort');
  assert.equal(fscName(0x21), 'Alignment fault');
  assert.equal(isSeaFsc(0x14) && isSeaFsc(0x1c) && !isSeaFsc(0x11), true);
});

test('C.3 HPFAR <-> IPA: FIPA = IPA[51:12] in [43:4]; low bits and NS dropped', () => {
  assert.equal(ipaToHpfar(0x4000_1234), 0x40_0010n);
  assert.equal(hpfarToIpa(0x40_0010n), 0x4000_1000);
  assert.equal(hpfarToIpa(0x8000_0000_0040_001fn), 0x4000_1000, 'NS bit 63 and bits [3:0] ignored');
  assert.equal(hpfarToIpa(ipaToHpfar(2 ** 51 + 0x5000)), 2 ** 51 + 0x5000, '52-bit IPA');
});

test('C.5 NISV sanitised ISS keeps CM, WnR, FSC only', () => {
  assert.equal(nisvSanitizedIss(0x9300_03c7n), 0x1c7n & 0x17fn);
});

test('HVC/SMC syndromes carry imm16; names and the text form', () => {
  assert.equal(hvcEsr(0x1234), 0x5a00_1234n);
  assert.equal(smcEsr(0), 0x5e00_0000n);
  assert.equal(decodeEsr(hvcEsr(7)).imm16, 7);
  assert.equal(ecName(0x16), 'HVC64');
  assert.equal(ecName(0x3b), 'EC_0x3b');
  assert.equal(describeEsr(0x9340_0046n | (4n << 16n)), 'DABT_LOW IL ISV SAS=1 SRT=4 WnR FSC=0x06 (Translation fault, level 2)');
});
