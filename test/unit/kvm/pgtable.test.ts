import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_NONE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_RW, KVM_PGTABLE_PROT_RWX,
  KVM_PGTABLE_PROT_SW0, KVM_PGTABLE_PROT_W, KVM_PGTABLE_PROT_X,
} from '../../../emulator/arch/stage2';
import { PhysMem } from '../../../emulator/memory/physmem';
import { TablePool } from '../../../emulator/memory/table-pool';
import { EventLog } from '../../../emulator/events';
import { getFlavour } from '../../../emulator/kvm/flavours';
import { Stage2PageTable } from '../../../emulator/kvm/pgtable/stage2-pgtable';
import { POOL_BASE, brief, makeTable } from './pgtable-fixture.test';

const K4 = 4096;
const M2 = 2 ** 21;
const G1 = 2 ** 30;

// ---------------------------------------------------------------------------------------------------------------
// block vs page choice (B.3, B.5)

test('B.3 4K granule: a 1 GiB aligned map is one L1 block', () => {
  const { pt } = makeTable();
  assert.equal(pt.map(G1, G1, 2 * G1, KVM_PGTABLE_PROT_RW), 'ok');
  assert.equal(pt.getLeaf(G1 + 12345).level, 1);
  assert.equal(pt.tablePages, 2, 'root pages only (4K/40 has a 2-page root)');
  const t = pt.translate(G1 + 0x1234_5678);
  assert.ok(t.valid);
  assert.equal(t.pa, 2 * G1 + 0x1234_5678);
  assert.equal(t.leafSize, G1);
});

test('B.3 4K granule: a 2 MiB aligned map is an L2 block; 4K is an L3 page', () => {
  const { pt } = makeTable();
  assert.equal(pt.map(0x4000_0000, M2, 0x8020_0000, KVM_PGTABLE_PROT_RW), 'ok');
  assert.equal(pt.getLeaf(0x4000_0000).level, 2);
  assert.equal(pt.map(0x8000_0000, K4, 0x9000_0000, KVM_PGTABLE_PROT_RW), 'ok');
  assert.equal(pt.getLeaf(0x8000_0000).level, 3);
});

test('B.3 block needs IPA and PA aligned: 2 MiB at a misaligned PA becomes 512 pages', () => {
  const { pt } = makeTable();
  assert.equal(pt.map(0x4000_0000, M2, 0x8000_1000, KVM_PGTABLE_PROT_RW), 'ok');
  assert.equal(pt.getLeaf(0x4000_0000).level, 3);
  const t = pt.translate(0x401f_f000);
  assert.ok(t.valid && t.pa === 0x8020_0000);
});

test('B.3 forcePte maps pages even where a block fits (logging / locked memslots)', () => {
  const { pt } = makeTable();
  assert.equal(pt.map(0x4000_0000, M2, 0x8000_0000, KVM_PGTABLE_PROT_RW, { forcePte: true }), 'ok');
  assert.equal(pt.getLeaf(0x4010_0000).level, 3);
});

test('B.3 16K granule: L2 blocks of 32 MiB, never L1 blocks', () => {
  const { pt } = makeTable({ pageSize: 16384, ipaBits: 48 });
  assert.equal(pt.startLevel, 1);
  assert.equal(pt.map(0, 2 ** 36, 2 ** 36, KVM_PGTABLE_PROT_R), 'ok'); // 64 GiB: one L1 entry's worth
  assert.equal(pt.getLeaf(0x1234_5678).level, 2);
  assert.equal(pt.translate(2 ** 36 - 1).valid, true);
  assert.deepEqual(pt.checkInvariants(), []);
});

test('B.3 64K granule: 512 MiB L2 block; 64 KiB L3 page', () => {
  const { pt } = makeTable({ pageSize: 65536, ipaBits: 40 });
  assert.equal(pt.map(2 ** 29, 2 ** 29, 2 ** 30, KVM_PGTABLE_PROT_R), 'ok');
  assert.equal(pt.getLeaf(2 ** 29).level, 2);
  assert.equal(pt.map(0, 65536, 2 ** 31, KVM_PGTABLE_PROT_R), 'ok');
  const l = pt.getLeaf(0);
  assert.equal(l.level, 3);
  assert.equal(l.raw & 0xffff_ffff_0000n, 2n ** 31n);
});

test('B.2 concatenated root: 16K granule IPA 40 uses 16 root pages aligned to their size', () => {
  const { pt } = makeTable({ pageSize: 16384, ipaBits: 40 });
  assert.equal(pt.rootPages, 16);
  assert.equal(pt.rootPa % (16 * 16384), 0);
  const top = 2 ** 40 - 16384;
  assert.equal(pt.map(top, 16384, 0x1234_4000, KVM_PGTABLE_PROT_R), 'ok');
  const t = pt.translate(top + 5);
  assert.ok(t.valid && t.pa === 0x1234_4005);
  assert.deepEqual(pt.checkInvariants(), []);
});

// ---------------------------------------------------------------------------------------------------------------
// break-before-make, splitting, collapsing (B.5, B.6)

test('B.6 splitting a block: pte block->0, tlbi ipa at the block level, pte 0->table, then the page', () => {
  const f = makeTable();
  const { pt } = f;
  pt.map(0x4000_0000, M2, 0x8000_0000, KVM_PGTABLE_PROT_RW);
  f.take();
  assert.equal(pt.map(0x4000_1000, K4, 0x9000_0000, KVM_PGTABLE_PROT_RW), 'ok');
  const ev = f.take().map(brief);
  assert.equal(ev.length, 5, ev.join('\n'));
  assert.match(ev[0], /^pte L2 0x[0-9a-f]+->0x0$/);
  assert.equal(ev[1], 'tlbi ipa 0x40000000 L2');
  assert.match(ev[2], /^pte L2 0x0->0x[0-9a-f]+003$/);
  assert.equal(ev[3], 'cmo dcache_clean_inval_poc 0x40001000 0x1000');
  assert.match(ev[4], /^pte L3 0x0->0x[0-9a-f]+$/);
  // the rest of the old block is not remapped: it faults back lazily
  const miss = pt.translate(0x4000_0000);
  assert.ok(!miss.valid && miss.level === 3 && miss.reason === 'translation');
  assert.deepEqual(pt.checkInvariants(), []);
});

test('B.6 replacing a valid page with another PA is break-before-make', () => {
  const f = makeTable();
  f.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  f.take();
  assert.equal(f.pt.map(0x1000, K4, 0x6000, KVM_PGTABLE_PROT_R), 'ok');
  const ev = f.take().map(brief);
  assert.deepEqual(ev.slice(0, 2), ['pte L3 0x4000000000577f->0x0', 'tlbi ipa 0x1000 L3']);
  assert.equal(ev[2], 'cmo dcache_clean_inval_poc 0x1000 0x1000');
  assert.equal(ev[3], 'pte L3 0x0->0x4000000000677f');
});

test('B.5 collapsing: a block over an existing table detaches it, flushes the VMID and frees the table', () => {
  const f = makeTable();
  const { pt, pool } = f;
  pt.map(0x4000_0000, M2, 0x8000_0000, KVM_PGTABLE_PROT_RW, { forcePte: true });
  const pagesBefore = pt.tablePages;
  const usedBefore = pool.usedBytes;
  f.take();
  assert.equal(pt.map(0x4000_0000, M2, 0xa000_0000, KVM_PGTABLE_PROT_RW), 'ok');
  const ev = f.take().map(brief);
  assert.match(ev[0], /^pte L2 0x[0-9a-f]+003->0x0$/);
  assert.equal(ev[1], 'tlbi vmid');
  assert.equal(ev[2], 'cmo dcache_clean_inval_poc 0x40000000 0x200000');
  assert.match(ev[3], /^pte L2 0x0->0x[0-9a-f]+a00007fd$/);
  assert.equal(ev.length, 4, 'the detached table\'s entries are not rewritten one by one');
  assert.equal(pt.tablePages, pagesBefore - 1);
  assert.equal(pool.usedBytes, usedBefore - K4);
  assert.equal(pt.getLeaf(0x4000_0000).level, 2);
  assert.deepEqual(pt.checkInvariants(), []);
});

test('B.5 same PA, permissions-only difference on a valid leaf: EAGAIN, nothing written', () => {
  const f = makeTable();
  f.pt.map(0x2000, K4, 0x7000, KVM_PGTABLE_PROT_R);
  f.take();
  assert.equal(f.pt.map(0x2000, K4, 0x7000, KVM_PGTABLE_PROT_RWX), 'EAGAIN');
  assert.deepEqual(f.take(), []);
  assert.equal(f.pt.translate(0x2000).valid && (f.pt.translate(0x2000) as { write: boolean }).write, false);
});

test('B.5 identical remap: EAGAIN, nothing written', () => {
  const f = makeTable();
  f.pt.map(0x2000, K4, 0x7000, KVM_PGTABLE_PROT_RW);
  f.take();
  assert.equal(f.pt.map(0x2000, K4, 0x7000, KVM_PGTABLE_PROT_RW), 'EAGAIN');
  assert.deepEqual(f.take(), []);
});

test('B.5 same PA but a memory-type change is not perms-only: remapped with BBM', () => {
  const f = makeTable();
  f.pt.map(0x2000, K4, 0x7000, KVM_PGTABLE_PROT_RW);
  f.take();
  assert.equal(f.pt.map(0x2000, K4, 0x7000, KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE), 'ok');
  const ev = f.take().map(brief);
  assert.equal(ev[1], 'tlbi ipa 0x2000 L3');
  const t = f.pt.translate(0x2000);
  assert.ok(t.valid && t.device);
});

test('B.5 an old (AF clear) leaf remapped identically is not perms-only: BBM sets AF again', () => {
  const f = makeTable();
  f.pt.map(0x2000, K4, 0x7000, KVM_PGTABLE_PROT_RW);
  f.pt.mkold(0x2000);
  assert.equal(f.pt.map(0x2000, K4, 0x7000, KVM_PGTABLE_PROT_RW), 'ok');
  assert.ok(f.pt.isYoung(0x2000));
});

test('B.4 map with an invalid prot is EINVAL and writes nothing', () => {
  const f = makeTable();
  assert.equal(f.pt.map(0x2000, K4, 0x7000, KVM_PGTABLE_PROT_DEVICE | KVM_PGTABLE_PROT_X), 'EINVAL');
  assert.deepEqual(f.take(), []);
});

test('B.5 map beyond the IPA size is ERANGE (kvm_pgtable_walk)', () => {
  const f = makeTable({ ipaBits: 36 });
  assert.equal(f.pt.map(2 ** 36, K4, 0, KVM_PGTABLE_PROT_R), 'ERANGE');
});

// ---------------------------------------------------------------------------------------------------------------
// CMOs (B.5, B.7)

test('B.7 cacheable executable leaf: D-cache clean+inval to PoC, then I-cache inval to PoU, then the pte', () => {
  const f = makeTable();
  f.pt.map(0x3000, K4, 0x7000, KVM_PGTABLE_PROT_RWX);
  const ev = f.take().map(brief);
  const i = ev.findIndex((s) => s.startsWith('pte L3'));
  assert.deepEqual(ev.slice(i - 2, i), ['cmo dcache_clean_inval_poc 0x3000 0x1000', 'cmo icache_inval_pou 0x3000 0x1000']);
});

test('B.7 FWB skips the D-cache CMO; I-cache CMO stays for executable leaves', () => {
  const f = makeTable({ fwb: true });
  f.pt.map(0x3000, K4, 0x7000, KVM_PGTABLE_PROT_RWX);
  const cmos = f.take().filter((e) => e.event === 'cmo').map(brief);
  assert.deepEqual(cmos, ['cmo icache_inval_pou 0x3000 0x1000']);
});

test('B.7 device and non-executable leaves: no CMO; noDcacheCmo skips the D-side', () => {
  const f = makeTable();
  f.pt.map(0x3000, K4, 0x7000, KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE);
  assert.equal(f.take().filter((e) => e.event === 'cmo').length, 0);
  f.pt.map(0x4000, K4, 0x8000, KVM_PGTABLE_PROT_RW, { noDcacheCmo: true });
  assert.equal(f.take().filter((e) => e.event === 'cmo').length, 0);
});

test('B.5 flush: D-cache CMO per valid cacheable leaf; nothing with FWB', () => {
  const f = makeTable();
  f.pt.map(0x4000_0000, M2, 0x8000_0000, KVM_PGTABLE_PROT_RW);
  f.pt.map(0x4020_0000, K4, 0x9000_0000, KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE);
  f.take();
  f.pt.flush(0x4000_0000, 2 * M2);
  assert.deepEqual(f.take().map(brief), ['cmo dcache_clean_inval_poc 0x40000000 0x200000']);
  const g = makeTable({ fwb: true });
  g.pt.map(0x4000_0000, M2, 0x8000_0000, KVM_PGTABLE_PROT_RW);
  g.take();
  g.pt.flush(0, 2 ** 40);
  assert.deepEqual(g.take(), []);
});

// ---------------------------------------------------------------------------------------------------------------
// unmap and refcounts

test('B.5 unmap of the only page frees every table page below the root (refcount back to 1)', () => {
  const f = makeTable({ ipaBits: 48 });
  const { pt, pool } = f;
  assert.equal(pt.levels, 4);
  const rootOnly = pool.usedBytes;
  pt.map(0x7f_1234_5000, K4, 0x5000, KVM_PGTABLE_PROT_RW);
  assert.equal(pt.tablePages, 4);
  assert.equal(pool.usedBytes, rootOnly + 3 * K4);
  f.take();
  pt.unmap(0x7f_1234_5000, K4);
  const ev = f.take().map(brief);
  assert.deepEqual(ev.slice(0, 3), ['pte L3 0x400000000057ff->0x0', 'tlbi ipa 0x7f12345000 L3', 'cmo dcache_clean_inval_poc 0x7f12345000 0x1000']);
  // post-order: L2 table entry, then L1, then L0
  assert.deepEqual(ev.slice(3).filter((s) => s.startsWith('pte')).map((s) => s.slice(0, 6)), ['pte L2', 'pte L1', 'pte L0']);
  assert.equal(pt.tablePages, 1);
  assert.equal(pool.usedBytes, rootOnly);
  assert.deepEqual(pt.checkInvariants(), []);
});

test('B.5 unmap of part of a table keeps the table (refcount > 1)', () => {
  const { pt } = makeTable();
  pt.map(0x1000, 2 * K4, 0x5000, KVM_PGTABLE_PROT_RW);
  const pages = pt.tablePages;
  pt.unmap(0x1000, K4);
  assert.equal(pt.tablePages, pages);
  assert.ok(pt.translate(0x2000).valid);
  assert.ok(!pt.translate(0x1000).valid);
  assert.deepEqual(pt.checkInvariants(), []);
});

test('B.5 unmap of part of a block removes the whole block (the rest faults back lazily)', () => {
  const { pt } = makeTable();
  pt.map(0x4000_0000, M2, 0x8000_0000, KVM_PGTABLE_PROT_RW);
  pt.unmap(0x4000_1000, K4);
  assert.ok(!pt.translate(0x4010_0000).valid);
});

test('B.5 unmap with FWB or of device memory does no D-cache CMO', () => {
  const f = makeTable({ fwb: true });
  f.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_RW);
  f.take();
  f.pt.unmap(0x1000, K4);
  assert.equal(f.take().filter((e) => e.event === 'cmo').length, 0);
  const g = makeTable();
  g.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE);
  g.take();
  g.pt.unmap(0x1000, K4);
  assert.equal(g.take().filter((e) => e.event === 'cmo').length, 0);
});

test('B.5 unmap clears counted invalid leaves (annotations) without TLBI', () => {
  const f = makeTable({ flavour: 'mmio-guard-v2' });
  f.pt.annotate(0x9000, K4, 0x9a9a929en);
  f.take();
  f.pt.unmap(0x9000, K4);
  const ev = f.take().map(brief);
  assert.equal(ev[0], 'pte L3 0x9a9a929e->0x0');
  assert.ok(!ev.some((s) => s === 'tlbi ipa 0x9000 L3'));
  assert.equal(f.pt.tablePages, 2);
  assert.deepEqual(f.pt.checkInvariants(), []);
});

test('B.5 refcount: 1 + non-zero entries, annotations included (v5.13+ rule)', () => {
  const { pt } = makeTable({ flavour: 'mainline-5.15' });
  pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  pt.setOwner(0x2000, K4, 1);
  assert.deepEqual(pt.checkInvariants(), []);
  pt.unmap(0x1000, K4);
  assert.equal(pt.tablePages, 4, 'the owner annotation keeps the L3 table alive');
  pt.unmap(0x2000, K4);
  assert.equal(pt.tablePages, 2);
  assert.deepEqual(pt.checkInvariants(), []);
});

// ---------------------------------------------------------------------------------------------------------------
// attribute updates (B.5, B.6: in place, no BBM)

test('B.5 wrprotect clears S2AP_W in place with no TLBI', () => {
  const f = makeTable();
  f.pt.map(0x1000, 2 * K4, 0x5000, KVM_PGTABLE_PROT_RW);
  f.take();
  f.pt.wrprotect(0x1000, 2 * K4);
  const ev = f.take();
  assert.equal(ev.filter((e) => e.event === 'tlbi').length, 0);
  assert.deepEqual(ev.map(brief), ['pte L3 0x400000000057ff->0x4000000000577f', 'pte L3 0x400000000067ff->0x4000000000677f']);
  const t = f.pt.translate(0x1000);
  assert.ok(t.valid && t.read && !t.write);
});

test('B.5 relax_perms adds permissions in place then TLBI by IPA at the leaf level', () => {
  const f = makeTable();
  f.pt.map(0x4000_0000, M2, 0x8000_0000, KVM_PGTABLE_PROT_R);
  f.take();
  assert.equal(f.pt.relaxPerms(0x4000_5000, KVM_PGTABLE_PROT_W), 'ok');
  const ev = f.take().map(brief);
  assert.equal(ev.length, 2);
  assert.match(ev[0], /^pte L2 0x[0-9a-f]+->0x[0-9a-f]+$/);
  assert.equal(ev[1], 'tlbi ipa 0x40005000 L2');
  const t = f.pt.translate(0x4000_5000);
  assert.ok(t.valid && t.read && t.write && !t.execEl1);
});

test('B.5 relax_perms never removes permissions', () => {
  const { pt } = makeTable();
  pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_RWX);
  assert.equal(pt.relaxPerms(0x1000, KVM_PGTABLE_PROT_R), 'ok');
  const t = pt.translate(0x1000);
  assert.ok(t.valid && t.read && t.write && t.execEl1);
});

test('B.5 relax_perms adding X invalidates the I-cache first', () => {
  const f = makeTable();
  f.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  f.take();
  f.pt.relaxPerms(0x1000, KVM_PGTABLE_PROT_X);
  assert.deepEqual(f.take().map(brief)[0], 'cmo icache_inval_pou 0x1000 0x1000');
});

test('B.5 relax_perms with SW bits is EINVAL; on an invalid leaf EAGAIN', () => {
  const { pt } = makeTable();
  pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  assert.equal(pt.relaxPerms(0x1000, KVM_PGTABLE_PROT_SW0 | BigInt(KVM_PGTABLE_PROT_W)), 'EINVAL');
  assert.equal(pt.relaxPerms(0x8000, KVM_PGTABLE_PROT_W), 'EAGAIN');
});

test('B.5 mkold clears AF (no TLBI) and reports it was young; mkyoung sets it back', () => {
  const f = makeTable();
  const { pt } = f;
  pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_RW);
  assert.ok(pt.isYoung(0x1000));
  f.take();
  assert.equal(pt.mkold(0x1000), true);
  assert.equal(f.take().filter((e) => e.event === 'tlbi').length, 0);
  assert.equal(pt.isYoung(0x1000), false);
  const t = pt.translate(0x1000);
  assert.ok(t.valid && !t.af);
  assert.equal(pt.mkold(0x1000), false, 'already old');
  assert.equal(pt.mkyoung(0x1000), true);
  assert.ok(pt.isYoung(0x1000));
  assert.equal(pt.mkyoung(0x9000), false, 'no valid leaf');
});

// ---------------------------------------------------------------------------------------------------------------
// owner ids and annotations (B.8)

test('B.8#2 owner-63-56 (spe-rfc-v4, v5.13 code): owner id in GENMASK(63,56), KVM_MAX_OWNER_ID = 1', () => {
  const { pt } = makeTable({ flavour: 'spe-rfc-v4' });
  assert.equal(pt.setOwner(0x1000, K4, 1), 'ok');
  assert.deepEqual(pt.getLeaf(0x1000), { raw: 1n << 56n, level: 3 });
  assert.equal(pt.setOwner(0x2000, K4, 2), 'EINVAL');
  assert.equal(pt.lookup(0x1000).decoded.kind, 'owner');
});

test('B.8#3 owner-9-2 (mainline-5.15): owner id in GENMASK(9,2), KVM_MAX_OWNER_ID = 1', () => {
  const { pt } = makeTable({ flavour: 'mainline-5.15' });
  assert.equal(pt.setOwner(0x1000, K4, 1), 'ok');
  assert.equal(pt.getLeaf(0x1000).raw, 0x4n);
  assert.equal(pt.setOwner(0x2000, K4, 2), 'EINVAL');
});

test('B.8#4 annotate (mmio-guard-v2): owner via FIELD_PREP(GENMASK(9,2), id); MMIO_NOTE stored as given', () => {
  const { pt } = makeTable({ flavour: 'mmio-guard-v2' });
  assert.equal(pt.setOwner(0x1000, K4, 5), 'ok');
  assert.equal(pt.getLeaf(0x1000).raw, 0x14n);
  assert.equal(pt.annotate(0x2000, K4, 0x9a9a929en), 'ok');
  assert.equal(pt.getLeaf(0x2000).raw, 0x9a9a929en);
  assert.deepEqual(pt.lookup(0x2000).decoded, { kind: 'annotation', value: 0x9a9a929en, mmioGuard: true });
  assert.equal(pt.translate(0x2000).valid, false);
});

test('B.8#4 annotate with VALID set is EINVAL', () => {
  const { pt } = makeTable({ flavour: 'mmio-guard-v2' });
  assert.equal(pt.annotate(0x2000, K4, 0x9a9a929fn), 'EINVAL');
});

test('B.8#1 prot-none scheme (pkvm-v3) has no owner ids: setOwner is EINVAL', () => {
  const { pt } = makeTable({ flavour: 'pkvm-v3' });
  assert.equal(pt.setOwner(0x1000, K4, 1), 'EINVAL');
});

test('B.5 set_owner is always page granularity and replaces a valid block with BBM', () => {
  const f = makeTable({ flavour: 'mainline-5.15' });
  const { pt } = f;
  pt.map(0x4000_0000, M2, 0x8000_0000, KVM_PGTABLE_PROT_RW);
  f.take();
  assert.equal(pt.setOwner(0x4000_0000, 2 * K4, 1), 'ok');
  const ev = f.take().map(brief);
  assert.equal(ev[1], 'tlbi ipa 0x40000000 L2');
  assert.equal(pt.getLeaf(0x4000_1000).level, 3);
  assert.equal(pt.getLeaf(0x4000_1000).raw, 4n);
  assert.equal(pt.getLeaf(0x4000_2000).raw, 0n, 'rest of the block is not remapped');
  assert.deepEqual(pt.checkInvariants(), []);
});

test('B.5 set_owner over a valid page: pte page->0, tlbi, pte 0->owner', () => {
  const f = makeTable({ flavour: 'mainline-5.15' });
  f.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  f.take();
  f.pt.setOwner(0x1000, K4, 1);
  assert.deepEqual(f.take().map(brief), ['pte L3 0x4000000000577f->0x0', 'tlbi ipa 0x1000 L3', 'pte L3 0x0->0x4']);
});

// ---------------------------------------------------------------------------------------------------------------
// PROT_NONE (pKVM v3 26/32, B.4, B.8#1)

test('B.8#1 PROT_NONE map writes an invalid leaf with OA, attrs and BIT(55); translate faults', () => {
  const { pt } = makeTable({ flavour: 'pkvm-v3' });
  assert.equal(pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_NONE), 'ok');
  const l = pt.getLeaf(0x1000);
  assert.equal(l.raw, (1n << 55n) | 0x5000n | 0x400n | 0x300n | (0xfn << 2n) | 2n);
  assert.deepEqual(pt.lookup(0x1000).decoded, { kind: 'prot-none', oa: 0x5000 });
  const t = pt.translate(0x1000);
  assert.ok(!t.valid && t.level === 3);
  assert.deepEqual(pt.checkInvariants(), []);
});

test('B.8#1 setProtNone equals map with PROT_NONE; blocks are allowed', () => {
  const { pt } = makeTable({ flavour: 'pkvm-v3' });
  assert.equal(pt.setProtNone(0x4000_0000, M2, 0x4000_0000), 'ok');
  assert.equal(pt.lookup(0x4000_0000).decoded.kind, 'prot-none');
  assert.equal(pt.getLeaf(0x4000_0000).level, 2);
});

test('B.4 PROT_NONE with another bit is EINVAL; setProtNone in a flavour without it is EINVAL', () => {
  const { pt } = makeTable({ flavour: 'pkvm-v3' });
  assert.equal(pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_NONE | KVM_PGTABLE_PROT_R), 'EINVAL');
  const v5 = makeTable();
  assert.equal(v5.pt.setProtNone(0x1000, K4, 0x5000), 'EINVAL');
});

test('B.8#1 a valid leaf over a PROT_NONE entry: replaced without TLBI (the old entry was invalid)', () => {
  const f = makeTable({ flavour: 'pkvm-v3' });
  f.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_NONE);
  f.take();
  assert.equal(f.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_RW), 'ok');
  const ev = f.take();
  assert.equal(ev.filter((e) => e.event === 'tlbi').length, 0);
  assert.ok(f.pt.translate(0x1000).valid);
  assert.deepEqual(f.pt.checkInvariants(), []);
});

// ---------------------------------------------------------------------------------------------------------------
// translate (the CPU's TLB-miss path)

test('C.2 translate: beyond the IPA size is an address-size fault at the start level', () => {
  const { pt } = makeTable({ ipaBits: 40 });
  assert.deepEqual(pt.translate(2 ** 40), { valid: false, level: 1, reason: 'address-size' });
  assert.deepEqual(pt.translate(-1), { valid: false, level: 1, reason: 'address-size' });
});

test('C.2 translate: an invalid entry is a translation fault at the level where the walk stopped', () => {
  const { pt } = makeTable({ ipaBits: 48 });
  assert.deepEqual(pt.translate(0x1000), { valid: false, level: 0, reason: 'translation' });
  pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  assert.deepEqual(pt.translate(0x20_0000), { valid: false, level: 2, reason: 'translation' });
  assert.deepEqual(pt.translate(0x4000_0000), { valid: false, level: 1, reason: 'translation' });
  assert.deepEqual(pt.translate(0x2000), { valid: false, level: 3, reason: 'translation' });
});

test('B.3 translate decodes S2AP, XN, AF and Device', () => {
  const { pt } = makeTable({ ipaBits: 48 });
  pt.map(0x1000, K4, 0xabc_0000_5000, KVM_PGTABLE_PROT_W);
  pt.map(0x2000, K4, 0x6000, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_X);
  pt.map(0x3000, K4, 0x7000, KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE);
  assert.deepEqual(pt.translate(0x1abc), {
    valid: true, level: 3, pa: 0xabc_0000_5abc, leafSize: K4, read: false, write: true, execEl1: false, execEl0: false,
    af: true, device: false,
  });
  const x = pt.translate(0x2000);
  assert.ok(x.valid && x.read && !x.write && x.execEl1 && x.execEl0);
  const d = pt.translate(0x3008);
  assert.ok(d.valid && d.device && d.pa === 0x7008);
});

test('B.3 with FWB, Device-nGnRE (MemAttr 1) still reads as Device and Normal (6) does not', () => {
  const { pt } = makeTable({ fwb: true });
  pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_RW);
  pt.map(0x2000, K4, 0x6000, KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE);
  const n = pt.translate(0x1000);
  const d = pt.translate(0x2000);
  assert.ok(n.valid && !n.device);
  assert.ok(d.valid && d.device);
});

// ---------------------------------------------------------------------------------------------------------------
// TLBI listeners, views, lifecycle, pool

test('B.6 TLBI listeners see every TLBI (ipa with level, vmid)', () => {
  const { pt } = makeTable();
  const seen: string[] = [];
  const off = pt.onTlbi((scope, ipa, level) => seen.push(`${scope} ${ipa.toString(16)} ${level}`));
  pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  pt.unmap(0x1000, K4);
  pt.tlbiVmid();
  // unmap: the page (by IPA), then the freed L3 and L2 tables (whole VMID); then the explicit flush
  assert.deepEqual(seen, ['ipa 1000 3', 'vmid 0 0', 'vmid 0 0', 'vmid 0 0']);
  off();
  pt.tlbiVmid();
  assert.equal(seen.length, 4);
});

test('tree view: tableAt follows table entries from the (concatenated) root; readTable lists entries with IPAs', () => {
  const { pt } = makeTable();
  pt.map(0x80_4000_0000, K4, 0x5000, KVM_PGTABLE_PROT_R); // 4K/40: root index 0x201 (second root page)
  const root = pt.tableAt([]);
  assert.deepEqual(root, { tablePa: pt.rootPa, level: 1, baseIpa: 0, entries: 1024 });
  assert.equal(pt.tableAt([0x200]), undefined, 'not a table');
  const l2 = pt.tableAt([0x201]);
  assert.ok(l2 !== undefined);
  assert.equal(l2.level, 2);
  assert.equal(l2.baseIpa, 0x80_4000_0000);
  const l3 = pt.tableAt([0x201, 0]);
  assert.ok(l3 !== undefined && l3.level === 3);
  const entries = pt.readTable(l3.tablePa, l3.level);
  assert.equal(entries.length, 512);
  assert.deepEqual(entries[0], { index: 0, ipa: 0x80_4000_0000, raw: 0x4000000000577fn });
  assert.equal(entries[1].ipa, 0x80_4000_1000);
  assert.equal(pt.readTable(pt.rootPa, 1).length, 1024);
});

test('pool exhaustion: map returns ENOMEM; create returns ENOMEM when the root does not fit', () => {
  const f = makeTable({ ipaBits: 48, poolBytes: 2 * K4 });
  assert.equal(f.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R), 'ENOMEM');
  const mem = new PhysMem();
  const pool = new TablePool(mem, POOL_BASE, K4);
  const r = Stage2PageTable.create(mem, pool, { ipaBits: 40, pageSize: 4096, flavour: getFlavour('spe-rfc-v5'), fwb: false, name: 'vm' }, new EventLog());
  assert.equal(r, 'ENOMEM');
});

test('destroy frees every table page back to the pool without descriptor events', () => {
  const f = makeTable({ ipaBits: 48 });
  f.pt.map(0, 64 * K4, 0x10_0000, KVM_PGTABLE_PROT_RW);
  f.pt.map(0x7f_0000_0000, K4, 0x5000, KVM_PGTABLE_PROT_RW);
  f.take();
  f.pt.destroy();
  assert.equal(f.pool.usedBytes, 0);
  assert.deepEqual(f.take(), []);
  assert.equal(f.pt.tablePages, 0);
});

test('table pages come from the pool, are page aligned and zeroed on reuse', () => {
  const f = makeTable();
  f.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  f.pt.unmap(0x1000, K4);
  f.pt.map(0x4000_0000, K4, 0x6000, KVM_PGTABLE_PROT_R);
  assert.deepEqual(f.pt.checkInvariants(), []);
  const l3 = f.pt.tableAt([1, 0]);
  assert.ok(l3 !== undefined && f.pool.contains(l3.tablePa) && l3.tablePa % K4 === 0);
  assert.equal(f.pt.readTable(l3.tablePa, 3).filter((e) => e.raw !== 0n).length, 1);
});

test('snapshot/restore brings back refcounts and pool state with the memory', () => {
  const f = makeTable();
  const { pt, mem } = f;
  pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  const ms = mem.snapshot();
  const ps = pt.snapshot();
  pt.map(0x4000_0000, K4, 0x6000, KVM_PGTABLE_PROT_R);
  pt.unmap(0x1000, K4);
  mem.restore(ms);
  pt.restore(ps);
  assert.deepEqual(pt.checkInvariants(), []);
  assert.ok(pt.translate(0x1000).valid);
  assert.ok(!pt.translate(0x4000_0000).valid);
});

test('a standalone pgtable is just another instance: its name is the pte events\' table field', () => {
  const f = makeTable({ name: 'scratch' });
  f.pt.map(0x1000, K4, 0x5000, KVM_PGTABLE_PROT_R);
  assert.ok(f.take().filter((e) => e.event === 'pte').every((e) => e.fields.table === 'scratch'));
});

test('host stage 2 without CMO hooks (cmos:false) emits no cmo events', () => {
  const f = makeTable({ cmos: false, name: 'host' });
  f.pt.map(0x1000, K4, 0x1000, KVM_PGTABLE_PROT_RWX);
  f.pt.unmap(0x1000, K4);
  assert.equal(f.take().filter((e) => e.event === 'cmo').length, 0);
});

test('translate never serves a stale table chunk: untouched parts of a 16K table, COW after a snapshot', () => {
  const f = makeTable({ pageSize: 16384, ipaBits: 40 });
  const { pt, mem } = f;
  pt.map(0, 16384, 0x10_0000, KVM_PGTABLE_PROT_R);
  // entry 1536 of the same L3 table sits in a 4K chunk nobody has written yet
  const far = 1536 * 16384;
  assert.equal(pt.translate(far).valid, false);
  pt.map(far, 16384, 0x20_0000, KVM_PGTABLE_PROT_R);
  const t = pt.translate(far + 4);
  assert.ok(t.valid && t.pa === 0x20_0004);
  // copy-on-write after a snapshot: the next descriptor write lands in a fresh array
  assert.ok(pt.translate(0).valid);
  mem.snapshot();
  pt.unmap(0, 16384);
  assert.equal(pt.translate(0).valid, false);
});

test('leaves lists non-empty leaf entries in IPA order, blocks from their start', () => {
  const { pt } = makeTable({ flavour: 'mainline-5.15' });
  pt.map(0x4000_0000, M2, 0x8000_0000, KVM_PGTABLE_PROT_R);
  pt.map(0x4020_3000, K4, 0x9000_0000, KVM_PGTABLE_PROT_R);
  pt.setOwner(0x4020_5000, K4, 1);
  const l = pt.leaves(0x4010_0000, M2);
  assert.deepEqual(l.map((e) => [e.ipa, e.level]), [[0x4000_0000, 2], [0x4020_3000, 3], [0x4020_5000, 3]]);
  assert.equal(l[2].raw, 4n);
});
