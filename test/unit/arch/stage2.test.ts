import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_NONE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_SW0, KVM_PGTABLE_PROT_SW3,
  KVM_PGTABLE_PROT_W, KVM_PGTABLE_PROT_X, KVM_PTE_LEAF_SW_BIT_PROT_NONE, granuleSize, initLeafPte, initTablePte,
  kvmVtcr, minBlockLevel, protFromNames, pteAddrMask, pteIsTable, stage2Geometry, stage2ProtAttr,
} from '../../../emulator/arch/stage2';
import { getFlavour } from '../../../emulator/kvm/flavours';

const v5 = getFlavour('spe-rfc-v5');
const pkvm = getFlavour('pkvm-v3');

// spec B.2 worked table: [granule, ipa, levels, start level, entry-level bits, concatenated pages]
const B2_TABLE: readonly [number, number, number, number, number, number][] = [
  [4096, 32, 2, 2, 11, 4], [4096, 36, 3, 1, 6, 1], [4096, 40, 3, 1, 10, 2], [4096, 44, 4, 0, 5, 1], [4096, 48, 4, 0, 9, 1],
  [16384, 32, 2, 2, 7, 1], [16384, 36, 2, 2, 11, 1], [16384, 40, 2, 2, 15, 16], [16384, 44, 3, 1, 8, 1], [16384, 48, 3, 1, 12, 2],
  [65536, 32, 2, 2, 3, 1], [65536, 36, 2, 2, 7, 1], [65536, 40, 2, 2, 11, 1], [65536, 44, 2, 2, 15, 4], [65536, 48, 3, 1, 6, 1],
];

// SL0 per start level (B.2): 4K L0->2, L1->1, L2->0; 16K/64K L1->2, L2->1, L3->0
const SL0: { [g: number]: { [lvl: number]: number } } = {
  4096: { 0: 2, 1: 1, 2: 0 }, 16384: { 1: 2, 2: 1, 3: 0 }, 65536: { 1: 2, 2: 1, 3: 0 },
};
const TG0: { [g: number]: number } = { 4096: 0, 65536: 1, 16384: 2 };

for (const [g, ipa, levels, start, bits, pages] of B2_TABLE) {
  test(`B.2 ${g / 1024}K granule, IPA ${ipa}: ${levels} levels, start L${start}, ${bits} bits, ${pages} root page(s)`, () => {
    const geo = stage2Geometry(ipa, g);
    assert.equal(geo.levels, levels);
    assert.equal(geo.startLevel, start);
    assert.equal(geo.startLevelBits, bits);
    assert.equal(geo.rootPages, pages);
    // the concatenated root holds the 2^bits start-level entries (a root smaller than a page still takes a page)
    assert.equal(geo.rootPages, Math.max(1, 2 ** bits / geo.entriesPerTable));
  });

  test(`B.1 VTCR_EL2 for ${g / 1024}K granule, IPA ${ipa}`, () => {
    const v = kvmVtcr(ipa, g);
    const f = (lo: number, w: number) => Number((v >> BigInt(lo)) & ((1n << BigInt(w)) - 1n));
    assert.equal(f(0, 6), 64 - ipa, 'T0SZ');
    assert.equal(f(6, 2), SL0[g][start], 'SL0');
    assert.equal(f(8, 2), 1, 'IRGN0 WBWA');
    assert.equal(f(10, 2), 1, 'ORGN0 WBWA');
    assert.equal(f(12, 2), 3, 'SH0 inner shareable');
    assert.equal(f(14, 2), TG0[g], 'TG0');
    assert.equal(f(16, 3), 5, 'PS = PARange 48 bits');
    assert.equal(f(19, 1), 1, 'VS (16-bit VMIDs)');
    assert.equal(f(21, 1), 0, 'HA clear (no FEAT_HAFDBS)');
    assert.equal(f(22, 1), 0, 'HD clear');
    assert.equal(f(31, 1), 1, 'RES1 bit 31');
    assert.equal(v >> 32n, 0n, 'nothing above bit 31');
    // nothing else set
    assert.equal(v & ~0xfffffn & ~(1n << 31n), 0n);
  });
}

test('B.1 VTCR_EL2 for the default VM (4K, IPA 40) is 0x800d3558', () => {
  assert.equal(kvmVtcr(40, 4096), 0x800d3558n);
});

test('B.2 KVM forces at least 2 levels (64K granule, IPA 32 would need 1)', () => {
  assert.equal(Math.floor((32 - 8) / 13), 1);
  assert.equal(stage2Geometry(32, 65536).levels, 2);
});

test('B.3 block sizes per level and minimum block level per granule', () => {
  assert.equal(granuleSize(1, 4096), 2 ** 30);
  assert.equal(granuleSize(2, 4096), 2 ** 21);
  assert.equal(granuleSize(3, 4096), 4096);
  assert.equal(granuleSize(2, 16384), 32 * 2 ** 20);
  assert.equal(granuleSize(2, 65536), 512 * 2 ** 20);
  assert.equal(minBlockLevel(4096), 1);
  assert.equal(minBlockLevel(16384), 2);
  assert.equal(minBlockLevel(65536), 2);
});

test('B.3 OA mask is GENMASK(47, PAGE_SHIFT)', () => {
  assert.equal(pteAddrMask(4096), 0x0000_ffff_ffff_f000n);
  assert.equal(pteAddrMask(16384), 0x0000_ffff_ffff_c000n);
  assert.equal(pteAddrMask(65536), 0x0000_ffff_ffff_0000n);
});

test('B.3 table descriptor = next-level PA | TYPE | VALID', () => {
  assert.equal(initTablePte(0x1_2345_6000, 4096), 0x1_2345_6003n);
  assert.ok(pteIsTable(0x1_2345_6003n, 2));
  assert.ok(!pteIsTable(0x1_2345_6003n, 3), 'level 3 TYPE=1 is a page, not a table');
  assert.ok(!pteIsTable(0x1_2345_6001n, 2), 'TYPE=0 is a block');
});

function attr(prot: number | bigint, fwb = false): bigint {
  const a = stage2ProtAttr(prot, fwb, v5);
  assert.notEqual(a, 'EINVAL');
  return a as bigint;
}
const s2ap = (a: bigint) => Number((a >> 6n) & 3n);
const memattr = (a: bigint) => Number((a >> 2n) & 0xfn);
const xn = (a: bigint) => (a >> 54n) & 1n;

test('B.4 R-only prot gives S2AP=0b01, XN set, Normal WB, SH=0b11, AF', () => {
  const a = attr(KVM_PGTABLE_PROT_R);
  assert.equal(s2ap(a), 0b01);
  assert.equal(xn(a), 1n);
  assert.equal(memattr(a), 0xf);
  assert.equal(Number((a >> 8n) & 3n), 3);
  assert.equal((a >> 10n) & 1n, 1n);
});

test('B.4 W-only prot gives S2AP=0b10 (read is not implied)', () => {
  assert.equal(s2ap(attr(KVM_PGTABLE_PROT_W)), 0b10);
});

test('B.4 RW prot gives S2AP=0b11', () => {
  assert.equal(s2ap(attr(KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W)), 0b11);
});

test('B.4 no R/W gives S2AP=0b00; X clears XN', () => {
  const a = attr(KVM_PGTABLE_PROT_X);
  assert.equal(s2ap(a), 0);
  assert.equal(xn(a), 0n);
});

test('B.4 every R/W/X combination: S2AP from R/W, XN from !X', () => {
  for (let p = 0; p < 8; p++) {
    const a = attr(p);
    assert.equal(s2ap(a), ((p & KVM_PGTABLE_PROT_R) ? 1 : 0) | ((p & KVM_PGTABLE_PROT_W) ? 2 : 0), `prot ${p}`);
    assert.equal(xn(a), (p & KVM_PGTABLE_PROT_X) ? 0n : 1n, `prot ${p}`);
    assert.equal(a & 1n, 0n, 'attributes never include VALID');
  }
});

test('B.4 DEVICE gives MemAttr Device-nGnRE (0x1), XN', () => {
  const a = attr(KVM_PGTABLE_PROT_DEVICE | KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W);
  assert.equal(memattr(a), 1);
  assert.equal(xn(a), 1n);
});

test('B.4 DEVICE|X is EINVAL', () => {
  assert.equal(stage2ProtAttr(KVM_PGTABLE_PROT_DEVICE | KVM_PGTABLE_PROT_X, false, v5), 'EINVAL');
});

test('B.3 with FWB Normal WB is MemAttr 6 and Device-nGnRE stays 1', () => {
  assert.equal(memattr(attr(KVM_PGTABLE_PROT_R, true)), 6);
  assert.equal(memattr(attr(KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_DEVICE, true)), 1);
});

test('B.4 SW0..SW3 prot bits land in descriptor bits [58:55]', () => {
  const a = attr(KVM_PGTABLE_PROT_SW0 | KVM_PGTABLE_PROT_SW3 | BigInt(KVM_PGTABLE_PROT_R));
  assert.equal((a >> 55n) & 0xfn, 0b1001n);
  assert.equal(s2ap(a), 1);
});

test('B.4 PROT_NONE (pkvm-v3) must be the only bit, else EINVAL', () => {
  assert.equal(stage2ProtAttr(KVM_PGTABLE_PROT_NONE | KVM_PGTABLE_PROT_R, false, pkvm), 'EINVAL');
  assert.equal(stage2ProtAttr(KVM_PGTABLE_PROT_NONE | KVM_PGTABLE_PROT_DEVICE, false, pkvm), 'EINVAL');
  const a = stage2ProtAttr(KVM_PGTABLE_PROT_NONE, false, pkvm) as bigint;
  assert.equal(a & KVM_PTE_LEAF_SW_BIT_PROT_NONE, KVM_PTE_LEAF_SW_BIT_PROT_NONE);
  assert.equal(s2ap(a), 0);
});

test('B.8#1 a PROT_NONE leaf has OA + attrs + BIT(55) and VALID clear', () => {
  const a = stage2ProtAttr(KVM_PGTABLE_PROT_NONE, false, pkvm) as bigint;
  const pte = initLeafPte(0x8000_1000, a, 3, 4096);
  assert.equal(pte & 1n, 0n, 'VALID clear');
  assert.equal(pte & 0xffff_ffff_f000n, 0x8000_1000n, 'OA kept');
  assert.equal(memattr(pte), 0xf);
  assert.equal((pte >> 55n) & 1n, 1n);
  assert.equal((pte >> 1n) & 1n, 1n, 'TYPE as for a page');
});

test('B.4 PROT_NONE is not a prot bit in flavours without it (ignored, as the kernel ignores unknown bits)', () => {
  const a = stage2ProtAttr(KVM_PGTABLE_PROT_NONE | KVM_PGTABLE_PROT_R, false, v5) as bigint;
  assert.equal(a & KVM_PTE_LEAF_SW_BIT_PROT_NONE, 0n);
  assert.equal(s2ap(a), 1);
});

test('B.3 leaf descriptors: page at L3 has TYPE=1, block has TYPE=0, both VALID', () => {
  const a = attr(KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W);
  assert.equal(initLeafPte(0x4000_0000, a, 3, 4096) & 3n, 3n);
  assert.equal(initLeafPte(0x4000_0000, a, 2, 4096) & 3n, 1n);
  // W|R, no X: 0x0040_0000_4000_07fd for a page at 0x4000_0000 would have TYPE; the block:
  assert.equal(initLeafPte(0x4000_0000, a, 2, 4096), 0x0040_0000_4000_07fdn);
});

test('LANGUAGE pgtable_map prot names map to KVM_PGTABLE_PROT_*', () => {
  assert.equal(protFromNames(['r', 'w', 'x']), 7);
  assert.equal(protFromNames(['device', 'r']), 12);
  assert.equal(protFromNames(['none']), 16);
  assert.equal(protFromNames(['q']), undefined);
});
