import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePte, describePte } from '../../../emulator/kvm/pgtable/pte-decode';
import { getFlavour } from '../../../emulator/kvm/flavours';

const v5 = getFlavour('spe-rfc-v5');         // owner-9-2
const v4 = getFlavour('spe-rfc-v4');         // owner-63-56
const mg = getFlavour('mmio-guard-v2');      // annotate
const pkvm = getFlavour('pkvm-v3');          // prot-none

test('B.3 decode: table entry (levels < 3, TYPE=1)', () => {
  assert.deepEqual(decodePte(0x1_2345_6003n, 1, 4096, v5), { kind: 'table', nextPa: 0x1_2345_6000 });
});

test('B.3 decode: page at L3 with every field', () => {
  const raw = 0x0040_0000_0000_5000n | 0x7ffn;
  assert.deepEqual(decodePte(raw & ~0x80n, 3, 4096, v5), {
    kind: 'page', oa: 0x5000, s2ap: 'r', xn: true, xnx: 2, memAttr: 0xf, device: false, af: true, sh: 3, sw: 0,
    contiguous: false, dbm: false,
  });
});

test('B.3 decode: block at L2, W-only, executable, Device, SW bits, contiguous, DBM', () => {
  const raw = (0b1010n << 55n) | (1n << 52n) | (1n << 51n) | 0x4020_0000n | 0x80n | 0x300n | 0x400n | (1n << 2n) | 1n;
  const d = decodePte(raw, 2, 4096, v5);
  assert.deepEqual(d, {
    kind: 'block', oa: 0x4020_0000, s2ap: 'w', xn: false, xnx: 0, memAttr: 1, device: true, af: true, sh: 3, sw: 0b1010,
    contiguous: true, dbm: true,
  });
});

test('B.3 decode: FWB MemAttr 6 is Normal, not Device', () => {
  const raw = 0x5000n | (6n << 2n) | 0x7c3n;
  const d = decodePte(raw, 3, 4096, v5, true);
  assert.ok(d.kind === 'page' && !d.device && d.memAttr === 6);
});

test('B.3 decode: reserved encodings are invalid-other (L3 TYPE=0; a 4K L0 block; a 16K L1 block)', () => {
  assert.equal(decodePte(0x5001n, 3, 4096, v5).kind, 'invalid-other');
  assert.equal(decodePte(0x4000_0001n, 0, 4096, v5).kind, 'invalid-other');
  assert.equal(decodePte(0x4000_0001n, 1, 16384, v5).kind, 'invalid-other');
  assert.equal(decodePte(0x4000_0001n, 1, 4096, v5).kind, 'block');
});

test('B.8 decode: zero is unmapped in every flavour', () => {
  for (const f of [v5, v4, mg, pkvm]) assert.deepEqual(decodePte(0n, 3, 4096, f), { kind: 'unmapped' });
});

test('B.8#1 decode: PROT_NONE is BIT(55) on an invalid entry (pkvm-v3)', () => {
  const raw = (1n << 55n) | 0x5000n | 0x700n | (0xfn << 2n) | 2n;
  assert.deepEqual(decodePte(raw, 3, 4096, pkvm), { kind: 'prot-none', oa: 0x5000 });
});

test("B.8#1 Will Deacon's rule: a valid entry with BIT(55) is never PROT_NONE", () => {
  const raw = (1n << 55n) | 0x5000n | 0x7ffn;
  const d = decodePte(raw, 3, 4096, pkvm);
  assert.equal(d.kind, 'page');
  assert.ok(d.kind === 'page' && d.sw === 1);
  assert.equal(decodePte((1n << 55n) | 0x5003n, 2, 4096, pkvm).kind, 'table');
});

test('B.8#1 BIT(55) on an invalid entry is not PROT_NONE in flavours without it', () => {
  assert.equal(decodePte((1n << 55n) | 0x5000n, 3, 4096, v5).kind, 'invalid-other');
});

test('B.8#2 decode: owner id in GENMASK(63,56) (spe-rfc-v4)', () => {
  assert.deepEqual(decodePte(1n << 56n, 3, 4096, v4), { kind: 'owner', owner: 1 });
  assert.equal(decodePte(4n, 3, 4096, v4).kind, 'invalid-other');
});

test('B.8#3 decode: owner id in GENMASK(9,2) (mainline / spe-rfc-v5)', () => {
  assert.deepEqual(decodePte(4n, 3, 4096, v5), { kind: 'owner', owner: 1 });
  assert.equal(decodePte(1n << 56n, 3, 4096, v5).kind, 'invalid-other');
});

test('B.8#4 decode: annotations (mmio-guard-v2); MMIO_NOTE is the MMIO guard; GENMASK(9,2)-only values are owners', () => {
  assert.deepEqual(decodePte(0x9a9a929en, 3, 4096, mg), { kind: 'annotation', value: 0x9a9a929en, mmioGuard: true });
  assert.deepEqual(decodePte(0x1234_0000n, 3, 4096, mg), { kind: 'annotation', value: 0x1234_0000n, mmioGuard: false });
  assert.deepEqual(decodePte(0x14n, 3, 4096, mg), { kind: 'owner', owner: 5 });
});

test('B.8#5 decode: LOCKED is BIT(10) alone on an invalid entry', () => {
  assert.deepEqual(decodePte(1n << 10n, 3, 4096, v5), { kind: 'locked' });
  assert.deepEqual(decodePte(1n << 10n, 3, 4096, pkvm), { kind: 'locked' });
});

test('describePte names every kind', () => {
  assert.equal(describePte({ kind: 'unmapped' }), 'unmapped');
  assert.equal(describePte(decodePte(0x9a9a929en, 3, 4096, mg)), 'annotation mmio_guard');
  assert.equal(describePte(decodePte((1n << 54n) | 0x4000_0000n | 0x7fdn, 2, 4096, v5)), 'block oa=0x40000000 rw');
  assert.equal(describePte({ kind: 'owner', owner: 1 }), 'owner=1');
  assert.equal(describePte({ kind: 'locked' }), 'locked');
});
