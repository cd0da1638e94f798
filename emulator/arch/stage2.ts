// Stage 2 translation as the architecture defines it and as 5.x KVM configures it: VTCR_EL2 (spec B.1), the level
// geometry with root concatenation (B.2), the descriptor bit layout (B.3) and the KVM_PGTABLE_PROT_* values (B.4).
// Pure constants and functions; the page-table library (emulator/kvm/pgtable/) builds descriptors from them.
//
// Representation: descriptors are 64-bit `bigint`s everywhere except the CPU's TLB-miss path, which reads the two
// 32-bit halves (see `Stage2PageTable.translate`). The `*_LO` / `*_HI` number constants are the same bits split
// into the low and high 32-bit words for that path.

import type { Flavour } from '../kvm/flavours';

export type Stage2PageSize = 4096 | 16384 | 65536;

// ---------------------------------------------------------------------------------------------------------------
// B.3 descriptor bits (names from arch/arm64/kvm/hyp/pgtable.c)

/** bit 0: KVM_PTE_VALID */
export const KVM_PTE_VALID = 1n << 0n;
/** bit 1: KVM_PTE_TYPE — 1 = table (levels < 3) or page (level 3), 0 = block */
export const KVM_PTE_TYPE = 1n << 1n;
/** [5:2] KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR */
export const KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR = 0xfn << 2n;
export const S2_MEMATTR_SHIFT = 2;
/** [7:6] S2AP: bit 6 = read, bit 7 = write */
export const KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R = 1n << 6n;
export const KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W = 1n << 7n;
/** [9:8] SH; KVM always writes 0b11 (Inner Shareable) */
export const KVM_PTE_LEAF_ATTR_LO_S2_SH = 3n << 8n;
export const KVM_PTE_LEAF_ATTR_LO_S2_SH_IS = 3n;
/** bit 10: AF */
export const KVM_PTE_LEAF_ATTR_LO_S2_AF = 1n << 10n;
/** GENMASK(10, 2): every low leaf attribute */
export const KVM_PTE_LEAF_ATTR_LO = 0x7ffn & ~3n;
/** bit 51 DBM and bit 52 Contiguous (not used by 5.x KVM at stage 2; decoded for the tree view) */
export const KVM_PTE_LEAF_ATTR_HI_DBM = 1n << 51n;
export const KVM_PTE_LEAF_ATTR_HI_CONTIGUOUS = 1n << 52n;
/** bit 54: KVM_PTE_LEAF_ATTR_HI_S2_XN (5.x code uses this one bit; FEAT_XNX's XN[1:0] is GENMASK(54,53)) */
export const KVM_PTE_LEAF_ATTR_HI_S2_XN = 1n << 54n;
export const KVM_PTE_LEAF_ATTR_HI_S2_XNX = 3n << 53n;
/** [58:55] KVM_PTE_LEAF_ATTR_HI_SW */
export const KVM_PTE_LEAF_ATTR_HI_SW = 0xfn << 55n;
/** GENMASK(63, 51): every high leaf attribute */
export const KVM_PTE_LEAF_ATTR_HI = ((1n << 64n) - 1n) & ~((1n << 51n) - 1n);
/** stage2_pte_needs_update ignores these: KVM_PTE_LEAF_ATTR_S2_PERMS = S2AP_R | S2AP_W | XN (spec B.5) */
export const KVM_PTE_LEAF_ATTR_S2_PERMS =
  KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R | KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W | KVM_PTE_LEAF_ATTR_HI_S2_XN;

/** pKVM v3 26/32: KVM_PTE_LEAF_SW_BIT_PROT_NONE = BIT(55) (spec B.8 #1) */
export const KVM_PTE_LEAF_SW_BIT_PROT_NONE = 1n << 55n;
/** ≥ 6.3 BBM marker, decoded for completeness: KVM_INVALID_PTE_LOCKED = BIT(10) on an invalid entry (spec B.8 #5) */
export const KVM_INVALID_PTE_LOCKED = 1n << 10n;
/** v5.13 owner field GENMASK(63,56) (spec B.8 #2) and its Jul 2021 replacement GENMASK(9,2) (B.8 #3) */
export const KVM_INVALID_PTE_OWNER_MASK_63_56 = 0xffn << 56n;
export const KVM_INVALID_PTE_OWNER_MASK_9_2 = 0xffn << 2n;

// Stage 2 MemAttr values (arch/arm64/include/asm/memory.h), spec B.3
export const MT_S2_NORMAL = 0xf;
export const MT_S2_DEVICE_nGnRE = 0x1;
export const MT_S2_FWB_NORMAL = 6;
export const MT_S2_FWB_DEVICE_nGnRE = 1;

/** the same bits as numbers in the low / high 32-bit word of a descriptor (translate's hot path) */
export const PTE_LO_VALID = 1;
export const PTE_LO_TYPE = 2;
export const PTE_LO_S2AP_R = 1 << 6;
export const PTE_LO_S2AP_W = 1 << 7;
export const PTE_LO_AF = 1 << 10;
export const PTE_HI_XN = 1 << (54 - 32);
/** OA[47:32] sits in the high word's bits [15:0] */
export const PTE_HI_OA_MASK = 0xffff;

// ---------------------------------------------------------------------------------------------------------------
// B.4 enum kvm_pgtable_prot. Values are numbers for bits 0..4; the software bits BIT(55)..BIT(58) do not fit a JS
// number exactly next to the low bits, so a prot that carries them is passed as a bigint (see `ProtValue`).

export const KVM_PGTABLE_PROT_X = 1 << 0;
export const KVM_PGTABLE_PROT_W = 1 << 1;
export const KVM_PGTABLE_PROT_R = 1 << 2;
export const KVM_PGTABLE_PROT_DEVICE = 1 << 3;
/** pKVM v3 26/32 only (flavour.hasProtNone); must be the only bit set */
export const KVM_PGTABLE_PROT_NONE = 1 << 4;
export const KVM_PGTABLE_PROT_SW0 = 1n << 55n;
export const KVM_PGTABLE_PROT_SW1 = 1n << 56n;
export const KVM_PGTABLE_PROT_SW2 = 1n << 57n;
export const KVM_PGTABLE_PROT_SW3 = 1n << 58n;
export const KVM_PGTABLE_PROT_RW = KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W;
export const KVM_PGTABLE_PROT_RWX = KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_X;

/** A kvm_pgtable_prot value: a number (bits 0..4), or a bigint when SW0..SW3 (bits 55..58) are involved. */
export type ProtValue = number | bigint;

/** Split a prot into its low bits (0..4) and its software bits (already in descriptor position, bits 55..58). */
export function splitProt(prot: ProtValue): { low: number; sw: bigint } {
  if (typeof prot === 'number') return { low: prot & 0x1f, sw: 0n };
  return { low: Number(prot & 0x1fn), sw: prot & KVM_PTE_LEAF_ATTR_HI_SW };
}

/** Parse the scenario language's prot list (`r,w,x,device,none`) into a KVM_PGTABLE_PROT_* value. */
export function protFromNames(names: readonly string[]): number | undefined {
  let p = 0;
  for (const n of names) {
    switch (n) {
      case 'r': p |= KVM_PGTABLE_PROT_R; break;
      case 'w': p |= KVM_PGTABLE_PROT_W; break;
      case 'x': p |= KVM_PGTABLE_PROT_X; break;
      case 'device': p |= KVM_PGTABLE_PROT_DEVICE; break;
      case 'none': p |= KVM_PGTABLE_PROT_NONE; break;
      default: return undefined;
    }
  }
  return p;
}

/** MemAttr for Normal WB / Device-nGnRE, with or without FEAT_S2FWB (PAGE_S2_MEMATTR, spec B.3). */
export function s2MemAttr(kind: 'normal' | 'device', fwb: boolean): number {
  if (kind === 'normal') return fwb ? MT_S2_FWB_NORMAL : MT_S2_NORMAL;
  return fwb ? MT_S2_FWB_DEVICE_nGnRE : MT_S2_DEVICE_nGnRE;
}

/** Does this MemAttr mean Device memory? Without FWB MemAttr[3:2]==0b00; with FWB MemAttr[2]==0. */
export function memAttrIsDevice(memAttr: number, fwb: boolean): boolean {
  return fwb ? (memAttr & 4) === 0 : (memAttr & 0xc) === 0;
}

const PROT_ATTR_MEMO: (bigint | 'EINVAL' | undefined)[] = [];

/**
 * stage2_set_prot_attr (5.x; pKVM v3's stage2_map_set_prot_attr for PROT_NONE), spec B.4: the attribute bits of a
 * leaf for `prot`, or 'EINVAL'. DEVICE with X is EINVAL. R is not implied (W-only gives S2AP=0b10). PROT_NONE
 * (only where the flavour has it) must be the only bit: the attributes are Normal MemAttr + SH + AF + BIT(55), and
 * the leaf is built without VALID (see `initLeafPte`). Without PROT_NONE in the flavour, BIT(4) is not a defined prot
 * bit and is ignored, as the kernel ignores it.
 */
export function stage2ProtAttr(prot: ProtValue, fwb: boolean, flavour: Flavour): bigint | 'EINVAL' {
  // every stage 2 map computes this; for the common number prot the answer depends only on (prot, fwb, PROT_NONE
  // support), so it is memoised (bigints are immutable values)
  if (typeof prot === 'number' && prot >= 0 && prot <= 0x1f && prot === Math.floor(prot)) {
    const key = prot | (fwb ? 0x20 : 0) | (flavour.hasProtNone ? 0x40 : 0);
    return PROT_ATTR_MEMO[key] ??= protAttr(prot, fwb, flavour);
  }
  return protAttr(prot, fwb, flavour);
}

function protAttr(prot: ProtValue, fwb: boolean, flavour: Flavour): bigint | 'EINVAL' {
  const { low, sw } = splitProt(prot);
  const device = (low & KVM_PGTABLE_PROT_DEVICE) !== 0;
  let attr = BigInt(s2MemAttr(device ? 'device' : 'normal', fwb)) << 2n;
  if (flavour.hasProtNone && (low & KVM_PGTABLE_PROT_NONE) !== 0) {
    if (low !== KVM_PGTABLE_PROT_NONE || sw !== 0n) return 'EINVAL';
    attr |= KVM_PTE_LEAF_SW_BIT_PROT_NONE;
  } else {
    if ((low & KVM_PGTABLE_PROT_X) === 0) attr |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
    else if (device) return 'EINVAL';
    if (low & KVM_PGTABLE_PROT_R) attr |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
    if (low & KVM_PGTABLE_PROT_W) attr |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
    attr |= sw;
  }
  attr |= KVM_PTE_LEAF_ATTR_LO_S2_SH_IS << 8n;
  attr |= KVM_PTE_LEAF_ATTR_LO_S2_AF;
  return attr;
}

/**
 * kvm_init_valid_leaf_pte: OA | attrs | TYPE (page at level 3, block above) | VALID. A PROT_NONE attr (BIT(55))
 * gives the same entry without VALID (pKVM v3 26/32, spec B.8 #1).
 */
const KVM_PTE_LEAF_ATTRS = KVM_PTE_LEAF_ATTR_LO | KVM_PTE_LEAF_ATTR_HI;

export function initLeafPte(pa: number, attr: bigint, level: number, pageSize: number): bigint {
  let pte = physToPte(pa, pageSize) | (attr & KVM_PTE_LEAF_ATTRS);
  if (level === 3) pte |= KVM_PTE_TYPE;
  if ((attr & KVM_PTE_LEAF_SW_BIT_PROT_NONE) === 0n) pte |= KVM_PTE_VALID;
  return pte;
}

/** kvm_init_table_pte: next-level table PA | TYPE | VALID */
export function initTablePte(pa: number, pageSize: number): bigint {
  return physToPte(pa, pageSize) | KVM_PTE_TYPE | KVM_PTE_VALID;
}

const ADDR_MASK_4K = ((1n << 48n) - 1n) & ~BigInt(4096 - 1);
const ADDR_MASK_16K = ((1n << 48n) - 1n) & ~BigInt(16384 - 1);
const ADDR_MASK_64K = ((1n << 48n) - 1n) & ~BigInt(65536 - 1);

/** KVM_PTE_ADDR_MASK = GENMASK(47, PAGE_SHIFT) */
export function pteAddrMask(pageSize: number): bigint {
  switch (pageSize) {
    // constants for the three granules: every descriptor read and write goes through here
    case 4096: return ADDR_MASK_4K;
    case 16384: return ADDR_MASK_16K;
    case 65536: return ADDR_MASK_64K;
    default: return ((1n << 48n) - 1n) & ~BigInt(pageSize - 1);
  }
}

export function physToPte(pa: number, pageSize: number): bigint {
  return BigInt(pa) & pteAddrMask(pageSize);
}

export function pteToPhys(pte: bigint, pageSize: number): number {
  return Number(pte & pteAddrMask(pageSize));
}

export function pteValid(pte: bigint): boolean {
  return (pte & KVM_PTE_VALID) !== 0n;
}

/** kvm_pte_table: valid, TYPE=1 and not at the last level */
export function pteIsTable(pte: bigint, level: number): boolean {
  return level < 3 && (pte & (KVM_PTE_VALID | KVM_PTE_TYPE)) === (KVM_PTE_VALID | KVM_PTE_TYPE);
}

// ---------------------------------------------------------------------------------------------------------------
// B.2 geometry

export function pageShiftOf(pageSize: number): number {
  switch (pageSize) {
    case 4096: return 12;
    case 16384: return 14;
    case 65536: return 16;
    default: throw new Error(`unsupported stage 2 granule ${pageSize}`);
  }
}

/** ARM64_HW_PGTABLE_LEVEL_SHIFT(level) = kvm_granule_shift: the IPA bit where this level's index starts */
export function levelShift(level: number, pageSize: number): number {
  const ps = pageShiftOf(pageSize);
  return (ps - 3) * (4 - level) + 3;
}

/** kvm_granule_size(level): bytes mapped by one entry at `level` */
export function granuleSize(level: number, pageSize: number): number {
  return 2 ** levelShift(level, pageSize);
}

/** KVM_PGTABLE_MIN_BLOCK_LEVEL / kvm_level_supports_block_mapping (5.x): 4K from L1; 16K/64K from L2 (B.3). */
export function minBlockLevel(pageSize: number): number {
  return pageSize === 4096 ? 1 : 2;
}

export interface Stage2Geometry {
  readonly ipaBits: number;
  readonly pageSize: number;
  readonly pageShift: number;
  /** PAGE_SHIFT - 3: index bits per full table */
  readonly stride: number;
  /** stage2_pgtable_levels(ipa) = ARM64_HW_PGTABLE_LEVELS(ipa - 4), at least 2 (B.2) */
  readonly levels: number;
  /** 4 - levels */
  readonly startLevel: number;
  /** index bits resolved at the start level across all concatenated root pages */
  readonly startLevelBits: number;
  /** kvm_pgd_pages(ia_bits, start_level) */
  readonly rootPages: number;
  /** entries per (non-root) table page */
  readonly entriesPerTable: number;
}

/** Levels, start level and root concatenation for an IPA size and granule (spec B.2 formulas). */
export function stage2Geometry(ipaBits: number, pageSize: number): Stage2Geometry {
  const pageShift = pageShiftOf(pageSize);
  const stride = pageShift - 3;
  // ARM64_HW_PGTABLE_LEVELS(va) = (va - 4) / (PAGE_SHIFT - 3), applied to ipa - 4 (16-way concatenation allowance)
  let levels = Math.floor((ipaBits - 4 - 4) / stride);
  if (levels < 2) levels = 2; // KVM forces >= 2 levels (B.2)
  const startLevel = 4 - levels;
  const startLevelBits = ipaBits - pageShift - (levels - 1) * stride;
  // kvm_pgd_pages: ((2^ia - 1) >> kvm_granule_shift(start_level - 1)) + 1
  const shiftAbove = levelShift(startLevel - 1, pageSize);
  const rootPages = ipaBits > shiftAbove ? 2 ** (ipaBits - shiftAbove) : 1;
  return { ipaBits, pageSize, pageShift, stride, levels, startLevel, startLevelBits, rootPages, entriesPerTable: pageSize / 8 };
}

// ---------------------------------------------------------------------------------------------------------------
// B.1 VTCR_EL2

export const VTCR_EL2_T0SZ_SHIFT = 0n;
export const VTCR_EL2_SL0_SHIFT = 6n;
export const VTCR_EL2_IRGN0_SHIFT = 8n;
export const VTCR_EL2_ORGN0_SHIFT = 10n;
export const VTCR_EL2_SH0_SHIFT = 12n;
export const VTCR_EL2_TG0_SHIFT = 14n;
export const VTCR_EL2_PS_SHIFT = 16n;
export const VTCR_EL2_VS = 1n << 19n;
export const VTCR_EL2_HA = 1n << 21n;
export const VTCR_EL2_RES1 = 1n << 31n;

/** ID_AA64MMFR0_EL1.PARange of the emulated CPU: 0b0101 = 48 bits */
export const EMULATED_PARANGE = 5;

/** TG0 encoding: 0b00 4K, 0b01 64K, 0b10 16K */
export function vtcrTg0(pageSize: number): number {
  return pageSize === 4096 ? 0 : pageSize === 65536 ? 1 : 2;
}

/** TGRAN_SL0_BASE: 2 for 4K, 3 for 16K/64K; SL0 = base - start_level (B.2) */
export function vtcrSl0(startLevel: number, pageSize: number): number {
  return (pageSize === 4096 ? 2 : 3) - startLevel;
}

/**
 * kvm_get_vtcr for the emulated CPU (B.1): T0SZ = 64 - IPA, SL0 per B.2, IRGN0 = ORGN0 = WBWA (0b01), SH0 = Inner
 * Shareable, TG0 per granule, PS = PARange (48 bits = 5), VS = 1 (16-bit VMIDs), HA = 0 (the emulated CPU has no
 * FEAT_HAFDBS, so the access flag is always software-managed), RES1 bit 31.
 */
export function kvmVtcr(ipaBits: number, pageSize: number, opts: { parange?: number; vmid16?: boolean; ha?: boolean } = {}): bigint {
  const g = stage2Geometry(ipaBits, pageSize);
  let v = VTCR_EL2_RES1;
  v |= BigInt(64 - ipaBits) << VTCR_EL2_T0SZ_SHIFT;
  v |= BigInt(vtcrSl0(g.startLevel, pageSize)) << VTCR_EL2_SL0_SHIFT;
  v |= 1n << VTCR_EL2_IRGN0_SHIFT;
  v |= 1n << VTCR_EL2_ORGN0_SHIFT;
  v |= 3n << VTCR_EL2_SH0_SHIFT;
  v |= BigInt(vtcrTg0(pageSize)) << VTCR_EL2_TG0_SHIFT;
  v |= BigInt(opts.parange ?? EMULATED_PARANGE) << VTCR_EL2_PS_SHIFT;
  if (opts.vmid16 ?? true) v |= VTCR_EL2_VS;
  if (opts.ha ?? false) v |= VTCR_EL2_HA;
  return v;
}
