import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysMem, CHUNK_SIZE } from '../../../emulator/memory/physmem';

test('untouched memory reads zero and costs nothing', () => {
  const m = new PhysMem();
  assert.equal(m.read64(0x40_0000_0000), 0n);
  assert.equal(m.read32(2 ** 40 - 4), 0);
  assert.equal(m.touchedChunks, 0);
  m.fill(0, 4 * 2 ** 30, 0); // zero-filling 4 GiB allocates nothing
  assert.equal(m.touchedChunks, 0);
});

test('little-endian accesses, including across a chunk boundary', () => {
  const m = new PhysMem();
  m.write64(0x1000, 0x1122_3344_5566_7788n);
  assert.equal(m.read8(0x1000), 0x88);
  assert.equal(m.read32(0x1004), 0x1122_3344);
  const edge = CHUNK_SIZE * 5 - 3;
  m.write64(edge, 0xdead_beef_cafe_f00dn);
  assert.equal(m.read64(edge), 0xdead_beef_cafe_f00dn);
  assert.equal(m.read16(edge + 1), 0xfef0);
  m.write32(CHUNK_SIZE - 2, 0xa1b2c3d4);
  assert.equal(m.read32(CHUNK_SIZE - 2), 0xa1b2c3d4);
  assert.deepEqual([...m.readBytes(CHUNK_SIZE - 2, 4)], [0xd4, 0xc3, 0xb2, 0xa1]);
});

test('snapshots are copy-on-write and restorable more than once', () => {
  const m = new PhysMem();
  m.write32(0x2000, 1);
  const s = m.snapshot();
  const e0 = m.epoch;
  m.write32(0x2000, 2);
  assert.ok(m.epoch > e0, 'a copy-on-write copy bumps the epoch');
  m.write32(0x9000, 3);
  assert.equal(m.read32(0x2000), 2);
  m.restore(s);
  assert.equal(m.read32(0x2000), 1);
  assert.equal(m.read32(0x9000), 0);
  m.write32(0x2000, 5);
  m.restore(s);
  assert.equal(m.read32(0x2000), 1, 'the snapshot survives writes after a restore');
});
