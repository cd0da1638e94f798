// Names every kind of stage 2 entry (spec B.3, B.8), for the page-table tree view and `expect stage2`.
//
// Invalid entries are read per the flavour's scheme (flavour.invalidPte, B.8): 0 = unmapped; pKVM v3 PROT_NONE
// (BIT(55) on an invalid leaf — never on a valid one, Will Deacon's review point, B.8 #1c); owner ids in
// GENMASK(63,56) or GENMASK(9,2); MMIO-guard v2 annotations (any value with bit 0 clear; MMIO_NOTE marks the MMIO
// guard); LOCKED (BIT(10) alone, ≥6.3 BBM marker) for completeness.

import type { Flavour } from '../flavours';
import {
  KVM_INVALID_PTE_LOCKED, KVM_INVALID_PTE_OWNER_MASK_63_56, KVM_INVALID_PTE_OWNER_MASK_9_2,
  KVM_PTE_LEAF_ATTR_HI_CONTIGUOUS, KVM_PTE_LEAF_ATTR_HI_DBM, KVM_PTE_LEAF_ATTR_HI_S2_XN, KVM_PTE_LEAF_ATTR_HI_SW,
  KVM_PTE_LEAF_ATTR_LO_S2_AF, KVM_PTE_LEAF_SW_BIT_PROT_NONE, KVM_PTE_TYPE, KVM_PTE_VALID, memAttrIsDevice,
  minBlockLevel, pteToPhys,
} from '../../arch/stage2';

export type S2apName = 'none' | 'r' | 'w' | 'rw';

export type DecodedPte =
  | { kind: 'table'; nextPa: number }
  | {
      kind: 'block' | 'page';
      /** output address of the leaf */
      oa: number;
      s2ap: S2apName;
      /** bit 54 (KVM_PTE_LEAF_ATTR_HI_S2_XN): not executable */
      xn: boolean;
      /** XN[1:0] = bits [54:53] (FEAT_XNX reading; 5.x KVM writes only bit 54) */
      xnx: number;
      /** MemAttr [5:2] */
      memAttr: number;
      device: boolean;
      af: boolean;
      /** SH [9:8] */
      sh: number;
      /** software bits [58:55] as a 4-bit value */
      sw: number;
      contiguous: boolean;
      dbm: boolean;
    }
  | { kind: 'unmapped' }
  | { kind: 'prot-none'; oa: number }
  | { kind: 'owner'; owner: number }
  | { kind: 'annotation'; value: bigint; mmioGuard: boolean }
  | { kind: 'locked' }
  | { kind: 'invalid-other'; raw: bigint };

export type DecodedPteKind = DecodedPte['kind'];

const S2AP_NAMES: readonly S2apName[] = ['none', 'r', 'w', 'rw'];

/**
 * Decode one descriptor found at `level`. `fwb` only changes how MemAttr is read as Device (FEAT_S2FWB encodings,
 * spec B.3); it defaults to false.
 */
export function decodePte(raw: bigint, level: number, pageSize: number, flavour: Flavour, fwb = false): DecodedPte {
  raw = BigInt.asUintN(64, raw);
  if ((raw & KVM_PTE_VALID) !== 0n) {
    const type = (raw & KVM_PTE_TYPE) !== 0n;
    if (level < 3 && type) return { kind: 'table', nextPa: pteToPhys(raw, pageSize) };
    // level 3 with TYPE=0 is reserved; a block below the minimum block level is not a legal leaf (translation fault)
    if (level === 3 ? !type : level < minBlockLevel(pageSize)) return { kind: 'invalid-other', raw };
    const memAttr = Number((raw >> 2n) & 0xfn);
    return {
      kind: level === 3 ? 'page' : 'block',
      oa: pteToPhys(raw, pageSize),
      s2ap: S2AP_NAMES[Number((raw >> 6n) & 3n)],
      xn: (raw & KVM_PTE_LEAF_ATTR_HI_S2_XN) !== 0n,
      xnx: Number((raw >> 53n) & 3n),
      memAttr,
      device: memAttrIsDevice(memAttr, fwb),
      af: (raw & KVM_PTE_LEAF_ATTR_LO_S2_AF) !== 0n,
      sh: Number((raw >> 8n) & 3n),
      sw: Number((raw & KVM_PTE_LEAF_ATTR_HI_SW) >> 55n),
      contiguous: (raw & KVM_PTE_LEAF_ATTR_HI_CONTIGUOUS) !== 0n,
      dbm: (raw & KVM_PTE_LEAF_ATTR_HI_DBM) !== 0n,
    };
  }
  if (raw === 0n) return { kind: 'unmapped' };
  switch (flavour.invalidPte) {
    case 'prot-none':
      // kvm_pte_prot_none with Will's !valid check: bit 55 on an invalid entry
      if ((raw & KVM_PTE_LEAF_SW_BIT_PROT_NONE) !== 0n) return { kind: 'prot-none', oa: pteToPhys(raw, pageSize) };
      break;
    case 'owner-63-56':
      if ((raw & ~KVM_INVALID_PTE_OWNER_MASK_63_56) === 0n) return { kind: 'owner', owner: Number(raw >> 56n) };
      break;
    case 'owner-9-2':
      if ((raw & ~KVM_INVALID_PTE_OWNER_MASK_9_2) === 0n) return { kind: 'owner', owner: Number((raw >> 2n) & 0xffn) };
      break;
    case 'annotate':
      // kvm_init_invalid_leaf_owner(id) = FIELD_PREP(GENMASK(9,2), id): a value with only those bits is an owner
      if ((raw & ~KVM_INVALID_PTE_OWNER_MASK_9_2) === 0n) return { kind: 'owner', owner: Number((raw >> 2n) & 0xffn) };
      return { kind: 'annotation', value: raw, mmioGuard: flavour.mmioNote !== null && raw === flavour.mmioNote };
  }
  if (raw === KVM_INVALID_PTE_LOCKED) return { kind: 'locked' };
  return { kind: 'invalid-other', raw };
}

/** Short human text for tree views and expectation messages. */
export function describePte(d: DecodedPte): string {
  switch (d.kind) {
    case 'table': return `table -> 0x${d.nextPa.toString(16)}`;
    case 'block':
    case 'page': {
      const perm = (d.s2ap === 'none' ? '' : d.s2ap) + (d.xn ? '' : 'x');
      return `${d.kind} oa=0x${d.oa.toString(16)} ${perm || 'none'}${d.device ? ' device' : ''}${d.af ? '' : ' old'}`;
    }
    case 'unmapped': return 'unmapped';
    case 'prot-none': return `prot_none oa=0x${d.oa.toString(16)}`;
    case 'owner': return `owner=${d.owner}`;
    case 'annotation': return d.mmioGuard ? 'annotation mmio_guard' : `annotation 0x${d.value.toString(16)}`;
    case 'locked': return 'locked';
    case 'invalid-other': return `invalid 0x${d.raw.toString(16)}`;
  }
}
