// Property test (spec B.5–B.7): `map` of a single page whose tables exist takes Stage2PageTable's fast path
// (32-bit descriptor halves, no walker); a twin table with the fast path off runs the general walker. On random
// sequences of single-page maps (aligned or not, at the IPA limit, with SW prot bits, PROT_NONE, noDcacheCmo) mixed
// with block maps, unmaps, wrprotect, relax and set_owner, both must return the same results, write the same
// descriptors, keep the same refcounts, emit the same events in the same order and tell TLBI listeners the same
// (the twin's events go through EventLog.emit, the fast table's are records: LANGUAGE.md trace events).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_NONE, KVM_PGTABLE_PROT_SW0, KVM_PGTABLE_PROT_SW3, KVM_PGTABLE_PROT_X,
  granuleSize, minBlockLevel,
} from '../../../emulator/arch/stage2';
import type { ProtValue } from '../../../emulator/arch/stage2';
import { toJson } from '../../../emulator/events';
import type { FlavourName } from '../../../emulator/kvm/flavours';
import type { Stage2PageTable } from '../../../emulator/kvm/pgtable/stage2-pgtable';
import { makeTable } from './pgtable-fixture.test';

type Op =
  | { kind: 'page'; page: number; offset: number; pa: number; prot: ProtValue; noDcacheCmo: boolean; forcePte: boolean }
  | { kind: 'map'; page: number; pages: number; pa: number; prot: number }
  | { kind: 'unmap'; page: number; pages: number }
  | { kind: 'wrprotect'; page: number; pages: number }
  | { kind: 'relax'; page: number; prot: number }
  | { kind: 'owner'; page: number; id: number }
  | { kind: 'edge'; back: number; prot: number };

function opArb(windowPages: number, blockPages: number, flavour: FlavourName): fc.Arbitrary<Op> {
  const page = fc.oneof(
    fc.integer({ min: 0, max: windowPages - 1 }),
    fc.integer({ min: 0, max: windowPages / blockPages - 1 }).map((b) => b * blockPages),
  );
  const protBits = fc.integer({ min: 0, max: 15 }).filter((p) => !((p & KVM_PGTABLE_PROT_DEVICE) && (p & KVM_PGTABLE_PROT_X)));
  const prot = flavour === 'pkvm-v3' ? fc.oneof(protBits, fc.constant(KVM_PGTABLE_PROT_NONE)) : protBits;
  // SW bits land in the descriptor's upper half (bits 55..58)
  const pageProt: fc.Arbitrary<ProtValue> = fc.oneof(
    { weight: 4, arbitrary: prot },
    { weight: 1, arbitrary: fc.tuple(protBits, fc.constantFrom(KVM_PGTABLE_PROT_SW0, KVM_PGTABLE_PROT_SW3)).map(([p, sw]) => BigInt(p) | sw) },
  );
  // PAs: a page inside a 64 GiB host range (the descriptor's upper half holds PA[47:32])
  const pa = fc.integer({ min: 0, max: 16 * 2 ** 20 - 1 });
  const arbs: fc.WeightedArbitrary<Op>[] = [
    {
      weight: 8,
      arbitrary: fc.record({
        page, offset: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xfff }) }),
        pa, prot: pageProt, noDcacheCmo: fc.boolean(), forcePte: fc.boolean(),
      }).map((r) => ({ kind: 'page' as const, ...r })),
    },
    {
      weight: 2,
      arbitrary: fc.record({ page, pages: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(blockPages)), pa, prot })
        .map((r) => ({ kind: 'map' as const, ...r })),
    },
    { weight: 2, arbitrary: fc.record({ page, pages: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(blockPages)) }).map((r) => ({ kind: 'unmap' as const, ...r })) },
    { weight: 1, arbitrary: fc.record({ page, pages: fc.integer({ min: 1, max: 8 }) }).map((r) => ({ kind: 'wrprotect' as const, ...r })) },
    { weight: 1, arbitrary: fc.record({ page, prot: fc.integer({ min: 0, max: 7 }) }).map((r) => ({ kind: 'relax' as const, ...r })) },
    { weight: 1, arbitrary: fc.record({ back: fc.integer({ min: 0, max: 2 }), prot: protBits }).map((r) => ({ kind: 'edge' as const, ...r })) },
  ];
  if (flavour !== 'pkvm-v3') {
    arbs.push({ weight: 1, arbitrary: fc.record({ page, id: fc.integer({ min: 0, max: 1 }) }).map((r) => ({ kind: 'owner' as const, ...r })) });
  }
  return fc.oneof(...arbs);
}

function apply(pt: Stage2PageTable, op: Op, base: number, pageSize: number, ipaBits: number): string {
  switch (op.kind) {
    case 'page':
      return pt.map(base + op.page * pageSize + op.offset, pageSize, op.pa * pageSize, op.prot,
        { noDcacheCmo: op.noDcacheCmo, forcePte: op.forcePte });
    case 'map':
      return pt.map(base + op.page * pageSize, op.pages * pageSize, op.pa * pageSize, op.prot);
    case 'unmap':
      return pt.unmap(base + op.page * pageSize, op.pages * pageSize);
    case 'wrprotect':
      return pt.wrprotect(base + op.page * pageSize, op.pages * pageSize);
    case 'relax':
      return pt.relaxPerms(base + op.page * pageSize, op.prot);
    case 'owner':
      return pt.setOwner(base + op.page * pageSize, pageSize, op.id);
    case 'edge':
      // the last page below the IPA limit (back 1), or one beyond it (back 0: ERANGE from the walker)
      return pt.map(2 ** ipaBits - op.back * pageSize, pageSize, 0x4000_0000, op.prot);
  }
}

function runTwins(flavour: FlavourName, pageSize: 4096 | 16384 | 65536, ipaBits: number, fwb: boolean, cmos: boolean, runs: number): void {
  const blockLevel = Math.max(2, minBlockLevel(pageSize));
  const blockPages = granuleSize(blockLevel, pageSize) / pageSize;
  const windowPages = 4 * blockPages > 8192 ? 2 * blockPages : 4 * blockPages;
  const base = 2 ** (ipaBits - 2) - (windowPages / 2) * pageSize;
  fc.assert(fc.property(fc.array(opArb(windowPages, blockPages, flavour), { minLength: 1, maxLength: 40 }), (ops) => {
    const fast = makeTable({ flavour, pageSize, ipaBits, fwb, cmos, poolBytes: 64 * 2 ** 20 });
    const slow = makeTable({ flavour, pageSize, ipaBits, fwb, cmos, poolBytes: 64 * 2 ** 20 });
    slow.pt.singlePageFastPath = false;
    // the twin's log has a listener, so its events go through emit (field objects); the fast table's are records
    slow.log.onEvent(() => undefined);
    const tlbis: string[][] = [[], []];
    fast.pt.onTlbi((s, ipa, level) => tlbis[0].push(`${s} ${ipa} ${level}`));
    slow.pt.onTlbi((s, ipa, level) => tlbis[1].push(`${s} ${ipa} ${level}`));
    for (const op of ops) {
      const what = JSON.stringify(op, (_k, v) => typeof v === 'bigint' ? v.toString(16) : v);
      assert.equal(apply(fast.pt, op, base, pageSize, ipaBits), apply(slow.pt, op, base, pageSize, ipaBits), `result of ${what}`);
      assert.deepEqual(fast.take().map(toJson), slow.take().map(toJson), `events of ${what}`);
      assert.deepEqual(tlbis[0], tlbis[1], `TLBI listener calls of ${what}`);
      assert.deepEqual(fast.pt.checkInvariants(), [], `fast-path table after ${what}`);
      assert.deepEqual(slow.pt.checkInvariants(), [], `walker table after ${what}`);
      assert.deepEqual(fast.pt.snapshot().tables, slow.pt.snapshot().tables, `refcounts after ${what}`);
    }
    // same descriptors: every table page, byte for byte
    for (const pa of fast.pt.snapshot().tables.keys()) {
      assert.deepEqual(fast.mem.readBytes(pa, pageSize), slow.mem.readBytes(pa, pageSize), `table page 0x${pa.toString(16)}`);
    }
  }), { numRuns: runs, seed: 0xfa57 });
}

test('B.5 fast path property: 4K/40-bit mainline-5.15 single-page maps equal the walker (descriptors, refcounts, events)', () => {
  runTwins('mainline-5.15', 4096, 40, false, true, 150);
});

test('B.5/B.7 fast path property: 4K/48-bit with FWB (no D-cache CMOs) equals the walker', () => {
  runTwins('spe-rfc-v5', 4096, 48, true, true, 60);
});

test('B.5 fast path property: host stage 2 without CMO hooks (cmos=false) equals the walker', () => {
  runTwins('mmio-guard-v2', 4096, 40, false, false, 50);
});

test('B.5 fast path property: 16K/40-bit concatenated root (spe-rfc-v4) equals the walker', () => {
  runTwins('spe-rfc-v4', 16384, 40, false, true, 40);
});

test('B.8 fast path property: 64K/44-bit pkvm-v3 PROT_NONE leaves equal the walker', () => {
  runTwins('pkvm-v3', 65536, 44, false, true, 25);
});

test('B.5 fault-in shape: a page under existing tables is mapped without the walker (cmo dcache, pte 0->leaf)', () => {
  const f = makeTable({ flavour: 'mainline-5.15', pageSize: 4096, ipaBits: 40 });
  assert.equal(f.pt.map(0x8000_0000, 4096, 0x1_0000_0000, 7), 'ok');   // allocates the tables: the walker
  f.take();
  const internals = f.pt as unknown as { mapWalk: (...a: unknown[]) => unknown };
  const walker = internals.mapWalk;
  let walks = 0;
  internals.mapWalk = function (this: unknown, ...a: unknown[]) { walks++; return walker.apply(this, a); };
  assert.equal(f.pt.map(0x8000_1000, 4096, 0x1_0000_1000, 6), 'ok');
  assert.equal(walks, 0, 'the single-page fast path took the fault');
  assert.deepEqual(f.take().map((e) => [e.event, e.fields.op ?? e.fields.level]), [
    ['cmo', 'dcache_clean_inval_poc'], ['pte', 3],
  ]);
  const t = f.pt.translate(0x8000_1000);
  assert.ok(t.valid && t.pa === 0x1_0000_1000);
  assert.equal(f.pt.map(0x8000_1000, 4096, 0x1_0000_1000, 6), 'EAGAIN');
  assert.deepEqual(f.pt.checkInvariants(), []);
  assert.equal(walks, 0);
});
