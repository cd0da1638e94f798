// The Stage 2 view's descriptor decoding and the IPA map model (pure parts of extension/, no vscode).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeStage2Leaf, invalidAnnotation } from '../../../extension/stage2Descriptor';
import { buildIpaMap } from '../../../extension/ipaMapModel';
import { formatSize } from '../../../extension/kvmProtocol';

const field = (raw: bigint, name: string): string => decodeStage2Leaf(raw).find((f) => f.name === name)!.value;

test('B.3 S2AP bits [7:6]: bit 6 read, bit 7 write', () => {
  assert.equal(field(0b01n << 6n, 'S2AP'), '01 (read-only)');
  assert.equal(field(0b10n << 6n, 'S2AP'), '10 (write-only)');
  assert.equal(field(0b11n << 6n, 'S2AP'), '11 (read/write)');
  assert.equal(field(0n, 'S2AP'), '00 (none)');
});

test('B.3 XN[54:53] (FEAT_XNX): 00 executable, 10 XN, 01 PXN, 11 UXN', () => {
  assert.match(field(0n, 'XN'), /^00 \(executable\)/);
  assert.match(field(0b10n << 53n, 'XN'), /^10 \(execute-never\)/);
  assert.match(field(0b01n << 53n, 'XN'), /^01 \(EL1 XN only\)/);
  assert.match(field(0b11n << 53n, 'XN'), /^11 \(EL0 XN only\)/);
});

test('B.3 MemAttr[5:2] without FWB: 0xF Normal WB, 0x5 Normal-NC, 0x1 Device-nGnRE', () => {
  assert.match(field(0xfn << 2n, 'MemAttr'), /^1111 \(Normal \(outer write-back, inner write-back\)\)/);
  assert.match(field(0x5n << 2n, 'MemAttr'), /^0101 \(Normal \(outer non-cacheable, inner non-cacheable\)\)/);
  assert.match(field(0x1n << 2n, 'MemAttr'), /^0001 \(Device-nGnRE\)/);
});

test('B.3 output address [47:12], AF bit 10, SH [9:8], SW bits [58:55]', () => {
  // what KVM writes for a 2M RW Normal block at PA 0x8000_0000_0200_000 (spec B.4: SH=0b11, AF=1, XN)
  const raw = 0x0040_0000_8020_07fdn | (1n << 55n);
  assert.equal(field(raw, 'output address'), '0x80200000');
  assert.equal(field(raw, 'AF'), '1 (accessed)');
  assert.equal(field(raw, 'SH'), 'inner shareable');
  assert.equal(field(raw, 'SW bits [58:55]'), '0b0001');
  assert.equal(field(raw & ~(1n << 10n), 'AF'), '0 (access flag fault on use)');
});

test('B.8 invalid-entry annotations: PROT_NONE, owner, MMIO guard, LOCKED; unmapped has none', () => {
  assert.match(invalidAnnotation('prot-none', 'prot_none oa=0x1000')!, /^PROT_NONE/);
  assert.match(invalidAnnotation('owner', 'owner=1')!, /^owner annotation/);
  assert.equal(invalidAnnotation('annotation', 'annotation mmio_guard'), 'MMIO guard page (MMIO_NOTE)');
  assert.equal(invalidAnnotation('locked', 'locked'), 'LOCKED');
  assert.equal(invalidAnnotation('unmapped', 'unmapped'), undefined);
});

test('IPA map: a 2M block in a 4M memslot marks half its cells mapped; entries outside memslots are listed', () => {
  const memslots = {
    memslots: [{ id: 1, gpa: 0x8000_0000, size: 4 << 20, hva: 0, readonly: false, dirtyLog: false, lock: { read: true, write: false }, pinnedPages: 0, dirtyPages: 0 }],
    lockedVm: 0, pendingOps: [],
  };
  const model = buildIpaMap(memslots, [
    { ipa: 0x8000_0000, size: 2 << 20, kind: 'block', decoded: 'block' },
    { ipa: 0x0900_0000, size: 4096, kind: 'annotation', decoded: 'annotation mmio_guard' },
  ], 'exception');
  const s = model.slots[0];
  assert.equal(s.cells.length * s.cellSize, 4 << 20);
  assert.ok(s.cells.length <= 256);
  assert.equal(s.cells.filter((c) => c === 'mapped').length * s.cellSize, 2 << 20);
  assert.equal(s.cells[s.cells.length - 1], 'unmapped');
  assert.equal(s.lock, 'locked r');
  assert.deepEqual(model.outside.map((r) => r.ipa), [0x0900_0000]);
});

test('sizes print in the unit the scenario language uses', () => {
  assert.equal(formatSize(2 << 20), '2M');
  assert.equal(formatSize(4096), '4K');
  assert.equal(formatSize(1 << 30), '1G');
  assert.equal(formatSize(12345), '12345');
});
