// PhysMem's fast paths (slab-carved chunks, the last-chunk lookup cache, one-lookup read64) must not change what
// memory holds across copy-on-write snapshots, restores, zero-fills and first writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PhysMem } from '../../../emulator/memory/physmem';

type Op =
  | { op: 'w64'; pa: number; v: bigint }
  | { op: 'w8'; pa: number; v: number }
  | { op: 'r'; pa: number }
  | { op: 'fill0'; page: number }
  | { op: 'snap' }
  | { op: 'restore'; k: number };

const PAGES = 2;
const pa = fc.integer({ min: 0, max: PAGES * 4096 - 8 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('w64' as const), pa, v: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
  fc.record({ op: fc.constant('w8' as const), pa, v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('r' as const), pa }),
  fc.record({ op: fc.constant('fill0' as const), page: fc.integer({ min: 0, max: PAGES - 1 }) }),
  fc.constant({ op: 'snap' as const }),
  fc.record({ op: fc.constant('restore' as const), k: fc.nat() }),
);

test('physmem: reads after writes, snapshots, restores and zero-fills match a flat byte model', () => {
  fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
    const mem = new PhysMem();
    let model = new Uint8Array(PAGES * 4096);
    const snaps: { s: ReturnType<PhysMem['snapshot']>; m: Uint8Array }[] = [];
    for (const o of ops) {
      switch (o.op) {
        case 'w64': {
          mem.write64(o.pa, o.v);
          for (let i = 0; i < 8; i++) model[o.pa + i] = Number((o.v >> BigInt(8 * i)) & 0xffn);
          break;
        }
        case 'w8': mem.write8(o.pa, o.v); model[o.pa] = o.v; break;
        case 'r': {
          let want = 0n;
          for (let i = 7; i >= 0; i--) want = (want << 8n) | BigInt(model[o.pa + i]);
          assert.equal(mem.read64(o.pa), want);
          assert.equal(mem.chunkForRead(Math.floor(o.pa / 4096))[o.pa % 4096], model[o.pa]);
          break;
        }
        case 'fill0': mem.fill(o.page * 4096, 4096, 0); model.fill(0, o.page * 4096, o.page * 4096 + 4096); break;
        case 'snap': snaps.push({ s: mem.snapshot(), m: model.slice() }); break;
        case 'restore': {
          if (snaps.length === 0) break;
          const s = snaps[o.k % snaps.length];
          mem.restore(s.s);
          model = s.m.slice();
          break;
        }
      }
    }
    assert.deepEqual(mem.readBytes(0, PAGES * 4096), model);
  }), { numRuns: 500 });
});
