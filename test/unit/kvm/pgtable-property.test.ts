// Property test (spec B.5 refcount rule and mapping semantics): random map / unmap / set_owner / annotate /
// wrprotect / relax sequences keep the tree's bookkeeping consistent, and every valid leaf translates to the PA the
// last successful map gave that page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_NONE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W, KVM_PGTABLE_PROT_X,
  granuleSize, minBlockLevel,
} from '../../../emulator/arch/stage2';
import type { FlavourName } from '../../../emulator/kvm/flavours';
import { makeTable } from './pgtable-fixture.test';

type Op =
  | { kind: 'map'; page: number; pages: number; pa: number; prot: number; forcePte: boolean }
  | { kind: 'unmap'; page: number; pages: number }
  | { kind: 'owner'; page: number; pages: number; id: number }
  | { kind: 'annotate'; page: number; pages: number; value: bigint }
  | { kind: 'wrprotect'; page: number; pages: number }
  | { kind: 'relax'; page: number; prot: number };

function opArb(windowPages: number, blockPages: number, flavour: FlavourName): fc.Arbitrary<Op> {
  const page = fc.oneof(
    fc.integer({ min: 0, max: windowPages - 1 }),
    // block-aligned starts make block mappings likely
    fc.integer({ min: 0, max: windowPages / blockPages - 1 }).map((b) => b * blockPages),
  );
  const pages = fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constant(blockPages), fc.constant(2 * blockPages), fc.integer({ min: 1, max: 3 * blockPages }));
  // PAs: block-aligned bases (+ optional page offset) inside a 64 GiB host range
  const pa = fc.tuple(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 3 })).map(([b, off]) => ({ b, off }));
  const protBits = fc.integer({ min: 0, max: 15 }).filter((p) => !((p & KVM_PGTABLE_PROT_DEVICE) && (p & KVM_PGTABLE_PROT_X)));
  const prot = flavour === 'pkvm-v3' ? fc.oneof(protBits, fc.constant(KVM_PGTABLE_PROT_NONE)) : protBits;
  const arbs: fc.Arbitrary<Op>[] = [
    fc.record({ page, pages, pa, prot, forcePte: fc.boolean() }).map((r) => ({
      kind: 'map' as const, page: r.page, pages: r.pages, pa: r.pa.b * blockPages * 8 + r.pa.off, prot: r.prot, forcePte: r.forcePte,
    })),
    fc.record({ page, pages }).map((r) => ({ kind: 'unmap' as const, ...r })),
    fc.record({ page, pages }).map((r) => ({ kind: 'wrprotect' as const, ...r })),
    fc.record({ page, prot: fc.integer({ min: 0, max: 7 }) }).map((r) => ({ kind: 'relax' as const, ...r })),
  ];
  if (flavour !== 'pkvm-v3') {
    arbs.push(fc.record({ page, pages: fc.integer({ min: 1, max: 4 }), id: fc.integer({ min: 0, max: 1 }) }).map((r) => ({ kind: 'owner' as const, ...r })));
  }
  if (flavour === 'mmio-guard-v2') {
    arbs.push(fc.record({ page, pages: fc.integer({ min: 1, max: 4 }), value: fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }).map((v) => v << 1n) })
      .map((r) => ({ kind: 'annotate' as const, ...r })));
  }
  return fc.oneof(...arbs);
}

function runProperty(flavour: FlavourName, pageSize: 4096 | 16384 | 65536, ipaBits: number, runs: number): void {
  const blockLevel = Math.max(2, minBlockLevel(pageSize));
  const blockPages = granuleSize(blockLevel, pageSize) / pageSize;
  const windowPages = 4 * blockPages > 8192 ? 2 * blockPages : 4 * blockPages;
  // the window straddles a boundary of the level above the blocks, so it spans two tables at the block level
  const base = 2 ** (ipaBits - 2) - (windowPages / 2) * pageSize;
  fc.assert(fc.property(fc.array(opArb(windowPages, blockPages, flavour), { minLength: 1, maxLength: 25 }), (ops) => {
    const { pt, pool } = makeTable({ flavour, pageSize, ipaBits, poolBytes: 256 * 2 ** 20 });
    // model: page -> PA it must translate to if valid; 'any' after an EAGAIN (walk stopped part-way)
    const model = new Map<number, number | 'any'>();
    for (const op of ops) {
      const ipa = base + op.page * pageSize;
      const end = Math.min(op.page + ('pages' in op ? op.pages : 1), windowPages);
      const size = (end - op.page) * pageSize;
      switch (op.kind) {
        case 'map': {
          const pa = op.pa * pageSize;
          const r = pt.map(ipa, size, pa, op.prot, { forcePte: op.forcePte });
          assert.ok(r === 'ok' || r === 'EAGAIN', `map -> ${r}`);
          for (let p = op.page; p < end; p++) {
            if (r === 'ok') {
              if (op.prot === KVM_PGTABLE_PROT_NONE) model.delete(p);
              else model.set(p, pa + (p - op.page) * pageSize);
            } else model.set(p, 'any');
          }
          if (r === 'ok' && op.prot !== KVM_PGTABLE_PROT_NONE) {
            for (let p = op.page; p < end; p++) {
              const t = pt.translate(base + p * pageSize);
              assert.ok(t.valid, `page ${p} just mapped must be valid`);
              assert.equal(t.pa, pa + (p - op.page) * pageSize);
              assert.equal(t.read, (op.prot & KVM_PGTABLE_PROT_R) !== 0);
              assert.equal(t.write, (op.prot & KVM_PGTABLE_PROT_W) !== 0);
            }
          }
          break;
        }
        case 'unmap':
          assert.equal(pt.unmap(ipa, size), 'ok');
          for (let p = op.page; p < end; p++) model.delete(p);
          for (let p = op.page; p < end; p++) assert.equal(pt.translate(base + p * pageSize).valid, false);
          break;
        case 'owner':
          assert.equal(pt.setOwner(ipa, size, op.id), 'ok');
          for (let p = op.page; p < end; p++) model.delete(p);
          break;
        case 'annotate':
          assert.equal(pt.annotate(ipa, size, op.value), 'ok');
          for (let p = op.page; p < end; p++) model.delete(p);
          break;
        case 'wrprotect':
          pt.wrprotect(ipa, size);
          for (let p = op.page; p < end; p++) {
            const t = pt.translate(base + p * pageSize);
            if (t.valid) assert.equal(t.write, false);
          }
          break;
        case 'relax': {
          const r = pt.relaxPerms(ipa, op.prot);
          assert.ok(r === 'ok' || r === 'EAGAIN');
          break;
        }
      }
      assert.deepEqual(pt.checkInvariants(), [], `after ${JSON.stringify(op, (_k, v) => typeof v === 'bigint' ? v.toString(16) : v)}`);
      assert.equal(pool.usedBytes, pt.tableBytes, 'pool holds exactly this table\'s pages');
      for (let p = 0; p < windowPages; p++) {
        const t = pt.translate(base + p * pageSize);
        if (!t.valid) continue;
        const m = model.get(p);
        assert.ok(m !== undefined, `page ${p} translates but was never mapped (or was unmapped)`);
        if (m !== 'any') assert.equal(t.pa, m, `page ${p}`);
      }
    }
    // tearing everything down returns every non-root page
    pt.unmap(0, 2 ** ipaBits);
    assert.equal(pt.tablePages, pt.rootPages);
    assert.deepEqual(pt.checkInvariants(), []);
    pt.destroy();
    assert.equal(pool.usedBytes, 0);
  }), { numRuns: runs, seed: 0x5eed });
}

test('B.5 property: 4K/40-bit (mainline-5.15 owners) random ops keep refcounts and translations right', () => {
  runProperty('mainline-5.15', 4096, 40, 120);
});

test('B.5 property: 4K/48-bit (mmio-guard-v2 annotations) random ops keep refcounts and translations right', () => {
  runProperty('mmio-guard-v2', 4096, 48, 80);
});

test('B.5 property: 16K/40-bit concatenated root (spe-rfc-v4 owners 63:56) random ops', () => {
  runProperty('spe-rfc-v4', 16384, 40, 40);
});

test('B.5 property: 64K/44-bit (pkvm-v3 PROT_NONE) random ops', () => {
  runProperty('pkvm-v3', 65536, 44, 25);
});
