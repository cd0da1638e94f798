// The stage 2 page-table library (ARCHITECTURE.md "kvm/"; spec B.1–B.8), modelled on arch/arm64/kvm/hyp/pgtable.c
// (5.x, exclusive walkers under mmu_lock): one generic walker (walk.ts) and small visitors for map, unmap,
// wrprotect, relax_perms, mkyoung/mkold, get_leaf, set_owner/annotate and flush.
//
// Tables live in PhysMem as real 64-bit little-endian descriptors, in pages taken from a TablePool; the CPU's MMU
// walks them through `translate`. Refcounts (1 + number of non-zero entries per table page, the v5.13+ rule, B.5)
// are kept in a side map, as the kernel keeps them in struct page.
//
// Events (LANGUAGE.md "Trace events"): every descriptor write that changes the entry is a `pte` event {table, ipa,
// level, old, new}; a TLBI is `tlbi` {scope:'ipa', ipa, level} or {scope:'vmid'} (no ipa/level); a cache
// maintenance operation is `cmo` {op, ipa, size} where `ipa` is the guest address of the leaf and `size` its size,
// both bigint (address-sized values). A break-before-make is pte(old->0), tlbi, pte(0->new) (B.6, 5.x shape).

import { EventLog, type EventSink } from '../../events';
import type { Flavour } from '../flavours';
import type { PhysMem } from '../../memory/physmem';
import type { TablePool, TablePoolState } from '../../memory/table-pool';
import type { S2Translation, Stage2Lookup } from '../guest';
import * as stage2 from '../../arch/stage2';
import type { ProtValue, Stage2Geometry, Stage2PageSize } from '../../arch/stage2';
import { decodePte, type DecodedPte } from './pte-decode';
import * as walker from './walk';
import type { Stage2Visitor, WalkFlag, WalkResult } from './walk';

// Module-level copies of imported bindings: under tsx (CommonJS interop) every use of an imported name is a getter
// call, and these run several times per stage 2 fault-in (the bundled build is unaffected).
const {
  KVM_INVALID_PTE_OWNER_MASK_9_2, KVM_PGTABLE_PROT_NONE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W,
  KVM_PGTABLE_PROT_X, KVM_PTE_LEAF_ATTR_HI_S2_XN, KVM_PTE_LEAF_ATTR_LO_S2_AF, KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR,
  KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R, KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W, KVM_PTE_LEAF_ATTR_S2_PERMS, KVM_PTE_VALID,
  initLeafPte, initTablePte, kvmVtcr, levelShift, memAttrIsDevice, minBlockLevel, pteIsTable, pteToPhys, pteValid,
  s2MemAttr, splitProt, stage2Geometry, stage2ProtAttr
} = stage2;
const { WALK_LEAF, WALK_TABLE_POST, WALK_TABLE_PRE, alignDown, walkStage2 } = walker;

export interface Stage2Config {
  ipaBits: number;
  pageSize: Stage2PageSize;
  flavour: Flavour;
  /** FEAT_S2FWB in use (HCR_EL2.FWB): MemAttr encodings change and D-cache CMOs are skipped (B.3, B.7) */
  fwb: boolean;
  /** 'vm' | 'host' | a pgtable NAME: the `table` field of pte events */
  name: string;
  /**
   * The walker's mm_ops have CMO hooks (guest stage 2, default true). pKVM's host stage 2 (host_s2_mm_ops) has
   * none, so set false there.
   */
  cmos?: boolean;
}

/** kvm_pgtable_* return values. 'ERANGE' (range beyond the IPA size) is what kvm_pgtable_walk returns there. */
export type PgtResult = 'ok' | 'EAGAIN' | 'EINVAL' | 'ENOMEM' | 'ERANGE';

export type TlbiScope = 'vmid' | 'ipa';
export type TlbiListener = (scope: TlbiScope, ipa: number, level: number) => void;

export interface MapOptions {
  /** page granularity only (force_pte: logging or locked memslots, set_owner/annotate) */
  forcePte?: boolean;
  /** skip the D-cache clean+invalidate to PoC before a cacheable leaf (caller owes it, e.g. deferred CMOs) */
  noDcacheCmo?: boolean;
}

export interface Stage2TableEntry { index: number; ipa: number; raw: bigint }
export interface Stage2TableRef { tablePa: number; level: number; baseIpa: number; entries: number }

/** Side state per table page (the kernel keeps the refcount in struct page). */
export interface TableInfo {
  refcount: number;
  level: number;
  baseIpa: number;
}

export interface Stage2PageTableState {
  readonly tables: ReadonlyMap<number, Readonly<TableInfo>>;
  readonly destroyed: boolean;
  readonly pool: TablePoolState;
}

/** Thrown by the constructor when the pool cannot hold the root (use `Stage2PageTable.create` to get 'ENOMEM'). */
export class Stage2PoolExhausted extends Error {
  constructor(name: string) { super(`table pool exhausted allocating the stage 2 root of ${name}`); }
}

/** kvm_owner_id limits per scheme (spec B.8) */
function maxOwnerId(scheme: Flavour['invalidPte']): number {
  switch (scheme) {
    case 'owner-63-56': return 1;  // KVM_MAX_OWNER_ID (v5.13)
    case 'owner-9-2': return 1;    // KVM_MAX_OWNER_ID still 1 when the mask moved (B.8 #3)
    case 'annotate': return 0xff;  // FIELD_PREP(GENMASK(9,2), id): the field's width
    case 'prot-none': return -1;   // no owner ids at all
  }
}

const TWO32 = 4294967296;
const MAX_EXACT = 2 ** 53 - 1;

// Descriptor bits as 32-bit halves (lo = bits 31:0, hi = bits 63:32) for the single-page map fast path.
const PTE_VALID = 1;                 // KVM_PTE_VALID
const PTE_TYPE = 2;                  // KVM_PTE_TYPE
const LEAF_ATTR_LO = 0x7fc;          // KVM_PTE_LEAF_ATTR_LO = GENMASK(10, 2)
const LEAF_ATTR_HI_HI = 0xfff8_0000; // KVM_PTE_LEAF_ATTR_HI = GENMASK(63, 51)
const MEMATTR_LO = 0x3c;             // KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR = GENMASK(5, 2)
const PERMS_LO = 0xc0;               // S2AP_R | S2AP_W (bits 6, 7)
const XN_HI = 1 << 22;               // KVM_PTE_LEAF_ATTR_HI_S2_XN, bit 54
const SW_PROT_NONE_HI = 1 << 23;     // KVM_PTE_LEAF_SW_BIT_PROT_NONE, bit 55

/** The descriptor as the bigint the general path uses (one BigInt when it fits a double, as PhysMem.read64 does). */
function halvesToBigInt(lo: number, hi: number): bigint {
  if (hi < 0x20_0000) return BigInt(hi * TWO32 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** stage2_update_leaf_attrs' walk data and result */
interface LeafAttrUpdate {
  r: WalkResult;
  old: bigint;
  level: number;
  found: boolean;
  readonly set: bigint;
  readonly clr: bigint;
}

interface MapData {
  phys: number;          // -1 = KVM_PHYS_INVALID (set_owner / annotate)
  attr: bigint;
  annotation: bigint;
  forcePte: boolean;
  noDcacheCmo: boolean;
}

export class Stage2PageTable implements Stage2Lookup {
  readonly levels: number;
  readonly startLevel: number;
  readonly rootPa: number;
  readonly rootPages: number;
  readonly vtcr: bigint;
  readonly pageSize: number;
  readonly ipaBits: number;
  readonly name: string;
  readonly geometry: Stage2Geometry;
  readonly flavour: Flavour;
  readonly fwb: boolean;

  private tables = new Map<number, TableInfo>();
  private readonly tlbiListeners: TlbiListener[] = [];
  private destroyed = false;
  private readonly cmos: boolean;
  private readonly normalMemAttr: bigint;
  private readonly minBlock: number;
  // translate's precomputed per-level data
  private readonly granules: number[] = [];
  private readonly faults: S2Translation[] = [];
  private readonly sizeFault: S2Translation;
  private readonly ipaLimit: number;
  private readonly pageLoMask: number;
  private readonly chunkCfn = new Float64Array(4).fill(-1);
  private readonly chunkData: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)];
  private chunkEpoch = -1;
  /**
   * `map` of one page whose tables exist takes `mapPageFast` (same writes and events as the walker). Property tests
   * turn it off on a twin table to compare the two.
   */
  singlePageFastPath = true;
  // the last leaf attributes seen by mapPageFast, split into halves (stage2ProtAttr memoises its bigints)
  private attrKey = -1n;
  private attrLo = 0;
  private attrHi = 0;
  private readonly normalMemAttrLo: number;
  /** the sink as an EventLog, for records (pte / cmo / tlbi without field objects); null for other sinks */
  private readonly log: EventLog | null;
  private readonly pteShape: number = -1;
  private readonly cmoShape: number = -1;
  private readonly tlbiIpaShape: number = -1;
  private readonly nameId: number = -1;
  private readonly dcacheId: number = -1;
  private readonly icacheId: number = -1;
  private readonly ipaScopeId: number = -1;

  constructor(readonly mem: PhysMem, private readonly pool: TablePool, cfg: Stage2Config,
              private readonly events: EventSink) {
    const g = stage2Geometry(cfg.ipaBits, cfg.pageSize);
    this.geometry = g;
    this.levels = g.levels;
    this.startLevel = g.startLevel;
    this.rootPages = g.rootPages;
    this.pageSize = cfg.pageSize;
    this.ipaBits = cfg.ipaBits;
    this.name = cfg.name;
    this.flavour = cfg.flavour;
    this.fwb = cfg.fwb;
    this.cmos = cfg.cmos ?? true;
    this.vtcr = kvmVtcr(cfg.ipaBits, cfg.pageSize);
    this.normalMemAttr = BigInt(s2MemAttr('normal', cfg.fwb)) << 2n;
    this.normalMemAttrLo = s2MemAttr('normal', cfg.fwb) << 2;
    this.log = events instanceof EventLog ? events : null;
    if (this.log !== null) {
      // the same field names, in the same order, as the emit calls below
      this.pteShape = this.log.recordShape('pte', ['table', 'ipa', 'level', 'old', 'new']);
      this.cmoShape = this.log.recordShape('cmo', ['op', 'ipa', 'size']);
      this.tlbiIpaShape = this.log.recordShape('tlbi', ['scope', 'ipa', 'level']);
      this.nameId = this.log.stringId(cfg.name);
      this.dcacheId = this.log.stringId('dcache_clean_inval_poc');
      this.icacheId = this.log.stringId('icache_inval_pou');
      this.ipaScopeId = this.log.stringId('ipa');
    }
    this.minBlock = minBlockLevel(cfg.pageSize);
    // the root is aligned to its size (VTTBR_EL2.BADDR alignment, B.2)
    const rootBytes = g.rootPages * cfg.pageSize;
    const root = pool.alloc(rootBytes, rootBytes);
    if (root === undefined) throw new Stage2PoolExhausted(cfg.name);
    this.rootPa = root;
    const rootPageSpan = g.entriesPerTable * 2 ** levelShift(g.startLevel, cfg.pageSize);
    for (let i = 0; i < g.rootPages; i++) {
      this.tables.set(root + i * cfg.pageSize, { refcount: 1, level: g.startLevel, baseIpa: i * rootPageSpan });
    }
    for (let l = 0; l <= 3; l++) {
      this.granules.push(2 ** levelShift(l, cfg.pageSize));
      this.faults.push(Object.freeze({ valid: false, level: l, reason: 'translation' }) as S2Translation);
    }
    this.sizeFault = Object.freeze({ valid: false, level: g.startLevel, reason: 'address-size' }) as S2Translation;
    this.ipaLimit = 2 ** cfg.ipaBits;
    this.pageLoMask = ~(cfg.pageSize - 1);
  }

  /** kvm_pgtable_stage2_init: a new table, or 'ENOMEM' when the pool cannot hold the root. */
  static create(mem: PhysMem, pool: TablePool, cfg: Stage2Config, events: EventSink): Stage2PageTable | 'ENOMEM' {
    try {
      return new Stage2PageTable(mem, pool, cfg, events);
    } catch (e) {
      if (e instanceof Stage2PoolExhausted) return 'ENOMEM';
      throw e;
    }
  }

  /** bytes of table pages this table holds (root included) */
  get tableBytes(): number { return this.tables.size * this.pageSize; }
  /** number of table pages (root pages included) */
  get tablePages(): number { return this.tables.size; }

  // ------------------------------------------------------------------------------------------------------------
  // descriptor writes, refcounts, TLBI and CMO events

  private writePte(ptep: number, ipa: number, level: number, val: bigint): void {
    const old = this.mem.read64(ptep);
    if (old === val) return;
    this.mem.write64(ptep, val);
    this.events.emit('pte', { table: this.name, ipa: BigInt(ipa), level, old, new: val });
  }

  private pageOf(ptep: number): number { return ptep - (ptep % this.pageSize); }

  private getRef(ptep: number): void {
    const t = this.tables.get(this.pageOf(ptep));
    if (t !== undefined) t.refcount++;
  }

  private putRef(ptep: number): void {
    const t = this.tables.get(this.pageOf(ptep));
    if (t !== undefined) t.refcount--;
  }

  private tlbi(scope: TlbiScope, ipa: number, level: number): void {
    const log = this.log;
    if (scope === 'vmid') {
      this.events.emit('tlbi', { scope });
    } else if (log !== null && log.recording) {
      log.beginRecord('tlbi', this.tlbiIpaShape);
      log.addStringId(this.ipaScopeId); log.addAddress(ipa); log.addNumber(level);
      log.endRecord();
    } else {
      this.events.emit('tlbi', { scope, ipa: BigInt(ipa), level });
    }
    for (const l of this.tlbiListeners) l(scope, ipa, level);
  }

  private cmo(op: 'dcache_clean_inval_poc' | 'icache_inval_pou', ipa: number, size: number): void {
    const log = this.log;
    if (log !== null && log.recording && size <= MAX_EXACT) {
      log.beginRecord('cmo', this.cmoShape);
      log.addStringId(op === 'dcache_clean_inval_poc' ? this.dcacheId : this.icacheId); log.addAddress(ipa); log.addAddress(size);
      log.endRecord();
      return;
    }
    this.events.emit('cmo', { op, ipa: BigInt(ipa), size: BigInt(size) });
  }

  /** The pte event of a write given as descriptor halves (mapPageFast): a record, or emit with bigints. */
  private emitPteHalves(ipa: number, level: number, oLo: number, oHi: number, nLo: number, nHi: number): void {
    const log = this.log;
    if (log !== null && log.recording) {
      log.beginRecord('pte', this.pteShape);
      log.addStringId(this.nameId); log.addAddress(ipa); log.addNumber(level); log.addU64(oLo, oHi); log.addU64(nLo, nHi);
      log.endRecord();
      return;
    }
    this.events.emit('pte', { table: this.name, ipa: BigInt(ipa), level, old: halvesToBigInt(oLo, oHi), new: halvesToBigInt(nLo, nHi) });
  }

  /** stage2_pte_cacheable (valid leaves only here: invalid leaves carry no memory to clean) */
  private cacheable(pte: bigint): boolean {
    return pteValid(pte) && (pte & KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR) === this.normalMemAttr;
  }

  /** stage2_pte_executable */
  private executable(pte: bigint): boolean {
    return pteValid(pte) && (pte & KVM_PTE_LEAF_ATTR_HI_S2_XN) === 0n;
  }

  /**
   * stage2_put_pte (5.x): a valid entry is cleared and its TLB entries invalidated (by IPA for a leaf; whole VMID
   * for a table, B.6); then the entry's reference is dropped. An invalid counted entry is not written here: the
   * caller overwrites it.
   */
  private putPte(ptep: number, ipa: number, level: number, old: bigint): void {
    if (pteValid(old)) {
      const a = alignDown(ipa, this.granules[level]);
      this.writePte(ptep, a, level, 0n);
      if (pteIsTable(old, level)) this.tlbi('vmid', 0, 0);
      else this.tlbi('ipa', a, level);
    }
    this.putRef(ptep);
  }

  private allocTable(level: number, baseIpa: number): number | undefined {
    const pa = this.pool.alloc(this.pageSize, this.pageSize);
    if (pa === undefined) return undefined;
    this.tables.set(pa, { refcount: 1, level, baseIpa });
    return pa;
  }

  private freeTable(pa: number): void {
    this.tables.delete(pa);
    this.pool.free(pa, this.pageSize);
  }

  /** Free a detached subtree (no descriptor writes: the pages go back to the pool), as the map anchor / free walker do. */
  private freeSubtree(tablePa: number, level: number): void {
    if (level < 3) {
      for (let i = 0; i < this.geometry.entriesPerTable; i++) {
        const pte = this.mem.read64(tablePa + i * 8);
        if (pteIsTable(pte, level)) this.freeSubtree(pteToPhys(pte, this.pageSize), level + 1);
      }
    }
    this.freeTable(tablePa);
  }

  private walk(addr: number, size: number, flags: number, visit: Stage2Visitor): WalkResult {
    if (this.destroyed) throw new Error(`stage 2 table ${this.name} used after destroy`);
    return walkStage2(this, addr, size, flags, visit);
  }

  // ------------------------------------------------------------------------------------------------------------
  // map / set_owner / annotate (the stage2 map walker)

  /** stage2_leaf_mapping_allowed + kvm_block_mapping_supported */
  private leafAllowed(addr: number, end: number, level: number, d: MapData): boolean {
    if (d.forcePte && level < 3) return false;
    if (level < this.minBlock) return false;
    const gran = this.granules[level];
    if (gran > end - addr) return false;
    if (d.phys >= 0 && d.phys % gran !== 0) return false;
    return addr % gran === 0;
  }

  /** stage2_map_walker_try_leaf */
  private tryLeaf(addr: number, end: number, level: number, ptep: number, d: MapData): WalkResult {
    if (!this.leafAllowed(addr, end, level, d)) return 'E2BIG';
    const gran = this.granules[level];
    const nw = d.phys >= 0 ? initLeafPte(d.phys, d.attr, level, this.pageSize) : d.annotation;
    const old = this.mem.read64(ptep);
    if (old !== 0n) {
      // stage2_pte_needs_update: an existing valid leaf that differs only in S2AP/XN (or not at all) is left alone
      if (pteValid(old) && pteValid(nw) && ((old ^ nw) & ~KVM_PTE_LEAF_ATTR_S2_PERMS) === 0n) return 'EAGAIN';
      this.putPte(ptep, addr, level, old);
    }
    // CMOs before installing the guest stage 2 PTE (B.5, B.7)
    if (this.cmos) {
      if (!d.noDcacheCmo && !this.fwb && this.cacheable(nw)) this.cmo('dcache_clean_inval_poc', addr, gran);
      if (this.executable(nw)) this.cmo('icache_inval_pou', addr, gran);
    }
    this.writePte(ptep, addr, level, nw);
    if (nw !== 0n) this.getRef(ptep);
    if (d.phys >= 0) d.phys += gran;
    return 'ok';
  }

  /** The map walk's visitor (stage2_map_walker), bound once; its MapData is `mapData` while a map walk runs. */
  private readonly mapVisitor: Stage2Visitor = (addr, end, level, ptep, flag) => this.mapVisit(addr, end, level, ptep, flag);
  private mapData: MapData | null = null;

  private mapVisit(addr: number, end: number, level: number, ptep: number, flag: WalkFlag): WalkResult {
    const d = this.mapData!;
    if (flag === WALK_TABLE_PRE) {
      // stage2_map_walk_table_pre: a block covers this whole table: detach it, flush the VMID (many leaves below),
      // free it, then install the block (stage2_map_walk_table_post -> stage2_map_walk_leaf)
      if (!this.leafAllowed(addr, end, level, d)) return 'ok';
      const old = this.mem.read64(ptep);
      const a = alignDown(addr, this.granules[level]);
      this.writePte(ptep, a, level, 0n);
      this.tlbi('vmid', 0, 0);
      this.freeSubtree(pteToPhys(old, this.pageSize), level + 1);
      this.putRef(ptep);
      return this.tryLeaf(addr, end, level, ptep, d);
    }
    // stage2_map_walk_leaf
    const r = this.tryLeaf(addr, end, level, ptep, d);
    if (r !== 'E2BIG') return r;
    if (level === 3) return 'EINVAL';
    const a = alignDown(addr, this.granules[level]);
    const child = this.allocTable(level + 1, a);
    if (child === undefined) return 'ENOMEM';
    // an existing block is replaced by a table; the rest of the block is faulted back lazily (B.5)
    const old = this.mem.read64(ptep);
    if (old !== 0n) this.putPte(ptep, a, level, old);
    this.writePte(ptep, a, level, initTablePte(child, this.pageSize));
    this.getRef(ptep);
    return 'ok';
  }

  private mapWalk(ipa: number, size: number, d: MapData): PgtResult {
    const outer = this.mapData;   // a TLBI listener could map again: keep the outer walk's data
    this.mapData = d;
    try {
      const r = this.walk(ipa, size, WALK_LEAF | WALK_TABLE_PRE, this.mapVisitor);
      return r === 'E2BIG' ? 'EINVAL' : r;
    } finally {
      this.mapData = outer;
    }
  }

  /**
   * kvm_pgtable_stage2_map (B.5): map [ipa, ipa+size) to pa with KVM_PGTABLE_PROT_* `prot`, using the largest block
   * allowed, splitting blocks and collapsing covered tables. 'EAGAIN' (walk stopped, nothing written for that
   * entry) when a valid leaf exists with the same output and attributes apart from permissions: the fault path
   * treats that as success, other callers see it. 'EINVAL' for a bad prot (B.4), 'ENOMEM' when the pool is empty,
   * 'ERANGE' beyond the IPA size.
   */
  map(ipa: number, size: number, pa: number, prot: ProtValue, opts?: MapOptions): PgtResult {
    const attr = stage2ProtAttr(prot, this.fwb, this.flavour);
    if (attr === 'EINVAL') return 'EINVAL';
    const phys = alignDown(pa, this.pageSize);
    const noDcacheCmo = opts?.noDcacheCmo ?? false;
    if (size === this.pageSize && this.singlePageFastPath && !this.destroyed) {
      const r = this.mapPageFast(ipa, phys, attr, noDcacheCmo);
      if (r !== undefined) return r;
    }
    return this.mapWalk(ipa, size, { phys, attr, annotation: 0n, forcePte: opts?.forcePte ?? false, noDcacheCmo });
  }

  /**
   * The fault-in case of `map`: one page-aligned page whose tables all exist. The general walker visits each table
   * entry on the way down with TABLE_PRE (a block never fits a one-page range, so nothing happens) and then runs
   * tryLeaf on the level-3 entry; this does the same on 32-bit descriptor halves, with the same descriptor writes,
   * refcount changes and events in the same order (pte old->0, tlbi ipa, cmo…, pte 0->new; spec B.5–B.7).
   * undefined (nothing read-modified, nothing emitted) when an entry on the way is not a table, or the page is
   * unaligned / beyond the IPA size: the general walker handles those (allocating tables, splitting blocks, ERANGE).
   * forcePte makes no difference at page granularity.
   */
  private mapPageFast(ipa: number, phys: number, attr: bigint, noDcacheCmo: boolean): PgtResult | undefined {
    const pageSize = this.pageSize;
    if (!(ipa >= 0 && ipa + pageSize <= this.ipaLimit && ipa % pageSize === 0 && phys >= 0)) return undefined;
    const mem = this.mem;
    const gr = this.granules;
    const entries = this.geometry.entriesPerTable;
    let level = this.startLevel;
    let ptep = this.rootPa + Math.floor(ipa / gr[level]) * 8;
    while (level < 3) {
      const lo = mem.read32(ptep);
      if ((lo & 3) !== 3) return undefined;   // invalid entry or block: tables to allocate or a block to split
      const hi = mem.read32(ptep + 4);
      level++;
      ptep = (hi & 0xffff) * TWO32 + ((lo & this.pageLoMask) >>> 0) + (Math.floor(ipa / gr[level]) % entries) * 8;
    }
    // kvm_init_valid_leaf_pte on halves: OA[47:PAGE_SHIFT] | attrs (LO [10:2], HI [63:51]) | TYPE | VALID unless PROT_NONE
    if (attr !== this.attrKey) {
      this.attrKey = attr;
      this.attrLo = Number(attr & 0xffff_ffffn);
      this.attrHi = Number((attr >> 32n) & 0xffff_ffffn);
    }
    const physHi = Math.floor(phys / TWO32);
    const nLo = (((phys - physHi * TWO32) & this.pageLoMask) | (this.attrLo & LEAF_ATTR_LO) | PTE_TYPE |
      ((this.attrHi & SW_PROT_NONE_HI) === 0 ? PTE_VALID : 0)) >>> 0;
    const nHi = ((physHi & 0xffff) | (this.attrHi & LEAF_ATTR_HI_HI)) >>> 0;
    let oLo = mem.read32(ptep);
    let oHi = mem.read32(ptep + 4);
    const info = this.tables.get(this.pageOf(ptep));
    if (oLo !== 0 || oHi !== 0) {
      // stage2_pte_needs_update: a valid leaf that differs only in S2AP/XN is left alone
      if ((oLo & nLo & PTE_VALID) !== 0 && ((oLo ^ nLo) & ~PERMS_LO) === 0 && ((oHi ^ nHi) & ~XN_HI) === 0) return 'EAGAIN';
      // stage2_put_pte: a valid page is cleared and its TLB entry invalidated by IPA; the reference is dropped
      if ((oLo & PTE_VALID) !== 0) {
        mem.write32(ptep, 0);
        mem.write32(ptep + 4, 0);
        this.emitPteHalves(ipa, 3, oLo, oHi, 0, 0);
        oLo = 0;
        oHi = 0;
        this.tlbi('ipa', ipa, 3);
      }
      if (info !== undefined) info.refcount--;
    }
    if (this.cmos && (nLo & PTE_VALID) !== 0) {
      if (!noDcacheCmo && !this.fwb && (nLo & MEMATTR_LO) === this.normalMemAttrLo) this.cmo('dcache_clean_inval_poc', ipa, pageSize);
      if ((nHi & XN_HI) === 0) this.cmo('icache_inval_pou', ipa, pageSize);
    }
    if (oLo !== nLo || oHi !== nHi) {
      mem.write32(ptep, nLo);
      mem.write32(ptep + 4, nHi);
      this.emitPteHalves(ipa, 3, oLo, oHi, nLo, nHi);
    }
    if (info !== undefined) info.refcount++;   // the new leaf is never zero (TYPE is set)
    return 'ok';
  }

  /**
   * kvm_pgtable_stage2_set_owner per flavour.invalidPte (B.8), always at page granularity: 'owner-63-56' id in
   * GENMASK(63,56), 'owner-9-2' in GENMASK(9,2) (both KVM_MAX_OWNER_ID = 1); 'annotate' through
   * kvm_init_invalid_leaf_owner (GENMASK(9,2)); 'prot-none' (pKVM v3) has no owner ids: 'EINVAL'.
   */
  setOwner(ipa: number, size: number, ownerId: number): PgtResult {
    const scheme = this.flavour.invalidPte;
    if (!Number.isInteger(ownerId) || ownerId < 0 || ownerId > maxOwnerId(scheme)) return 'EINVAL';
    const value = scheme === 'owner-63-56' ? BigInt(ownerId) << 56n : (BigInt(ownerId) << 2n) & KVM_INVALID_PTE_OWNER_MASK_9_2;
    return this.mapWalk(ipa, size, { phys: -1, attr: 0n, annotation: value, forcePte: true, noDcacheCmo: true });
  }

  /** kvm_pgtable_stage2_annotate (MMIO-guard v2 03/16, B.8 #4): an invalid leaf holding `value`; EINVAL with VALID. */
  annotate(ipa: number, size: number, value: bigint): PgtResult {
    value = BigInt.asUintN(64, value);
    if ((value & KVM_PTE_VALID) !== 0n) return 'EINVAL';
    return this.mapWalk(ipa, size, { phys: -1, attr: 0n, annotation: value, forcePte: true, noDcacheCmo: true });
  }

  /** pKVM v3 26/32 PROT_NONE entries: map with prot = KVM_PGTABLE_PROT_NONE; 'EINVAL' where the flavour lacks it. */
  setProtNone(ipa: number, size: number, pa: number): PgtResult {
    if (!this.flavour.hasProtNone) return 'EINVAL';
    return this.map(ipa, size, pa, KVM_PGTABLE_PROT_NONE);
  }

  // ------------------------------------------------------------------------------------------------------------
  // unmap

  /**
   * kvm_pgtable_stage2_unmap (B.5): clear valid leaves (BBM-style: 0, TLBI IPA) and counted invalid leaves; clean
   * cacheable pages to PoC without FWB; free table pages whose refcount drops to 1 (post-order; never the root).
   * A block only partly inside the range is unmapped whole (faulted back lazily).
   */
  unmap(ipa: number, size: number): PgtResult {
    return this.walk(ipa, size, WALK_LEAF | WALK_TABLE_POST, this.unmapVisitor) as PgtResult;
  }

  /** stage2_unmap_walker, bound once */
  private readonly unmapVisitor: Stage2Visitor = (addr, _end, level, ptep) => this.unmapVisit(addr, level, ptep);

  private unmapVisit(addr: number, level: number, ptep: number): WalkResult {
    const pte = this.mem.read64(ptep);
    const a = alignDown(addr, this.granules[level]);
    if (!pteValid(pte)) {
      if (pte !== 0n) {
        this.writePte(ptep, a, level, 0n);
        this.putRef(ptep);
      }
      return 'ok';
    }
    let child = -1;
    let needFlush = false;
    if (pteIsTable(pte, level)) {
      child = pteToPhys(pte, this.pageSize);
      if (this.tables.get(child)?.refcount !== 1) return 'ok';
    } else if (this.cacheable(pte)) {
      needFlush = !this.fwb;
    }
    this.putPte(ptep, a, level, pte);
    if (needFlush && this.cmos) this.cmo('dcache_clean_inval_poc', a, this.granules[level]);
    if (child >= 0) this.freeTable(child);
    return 'ok';
  }

  // ------------------------------------------------------------------------------------------------------------
  // attribute updates in place (no BBM, B.6)

  /** stage2_update_leaf_attrs: set/clear bits on valid leaves in place; returns the walk result and the last leaf. */
  private updateLeafAttrs(ipa: number, size: number, set: bigint, clr: bigint): LeafAttrUpdate {
    const outer = this.attrUpdate;
    const u: LeafAttrUpdate = { r: 'ok', old: 0n, level: this.startLevel, found: false, set, clr };
    this.attrUpdate = u;
    try {
      u.r = this.walk(ipa, size, WALK_LEAF, this.attrVisitor);
    } finally {
      this.attrUpdate = outer;
    }
    return u;
  }

  /** stage2_attr_walker, bound once; its state is `attrUpdate` while an update runs */
  private readonly attrVisitor: Stage2Visitor = (addr, _end, level, ptep) => this.attrVisit(addr, level, ptep);
  private attrUpdate: LeafAttrUpdate | null = null;

  private attrVisit(addr: number, level: number, ptep: number): WalkResult {
    const u = this.attrUpdate!;
    const pte = this.mem.read64(ptep);
    u.level = level;
    u.old = pte;
    if (!pteValid(pte)) return 'ok';
    u.found = true;
    const nw = (pte & ~u.clr) | u.set;
    if (nw !== pte) {
      if (this.cmos && this.executable(nw) && !this.executable(pte)) {
        this.cmo('icache_inval_pou', alignDown(addr, this.granules[level]), this.granules[level]);
      }
      this.writePte(ptep, alignDown(addr, this.granules[level]), level, nw);
    }
    return 'ok';
  }

  /** kvm_pgtable_stage2_wrprotect: clear S2AP_W on every valid leaf. No TLBI: the caller flushes (B.5). */
  wrprotect(ipa: number, size: number): PgtResult {
    return this.updateLeafAttrs(ipa, size, 0n, KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W).r as PgtResult;
  }

  /**
   * kvm_pgtable_stage2_relax_perms (B.5): add R/W/X (never removes); 'EINVAL' if prot has SW bits; 'EAGAIN' if the
   * leaf is invalid; adding X invalidates the I-cache first; then TLBI by IPA at the leaf's level.
   */
  relaxPerms(ipa: number, prot: ProtValue): PgtResult {
    const { low, sw } = splitProt(prot);
    if (sw !== 0n) return 'EINVAL';
    let set = 0n;
    let clr = 0n;
    if (low & KVM_PGTABLE_PROT_R) set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
    if (low & KVM_PGTABLE_PROT_W) set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
    if (low & KVM_PGTABLE_PROT_X) clr |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
    const u = this.updateLeafAttrs(ipa, 1, set, clr);
    if (u.r !== 'ok') return u.r as PgtResult;
    if (!u.found) return 'EAGAIN';
    this.tlbi('ipa', alignDown(ipa, this.pageSize), u.level);
    return 'ok';
  }

  /** kvm_pgtable_stage2_mkyoung: set AF in place, no TLBI. True if a valid leaf maps ipa. */
  mkyoung(ipa: number): boolean {
    return this.updateLeafAttrs(ipa, 1, KVM_PTE_LEAF_ATTR_LO_S2_AF, 0n).found;
  }

  /** kvm_pgtable_stage2_mkold: clear AF in place, no TLBI (the MMU notifier flushes). True if it was young. */
  mkold(ipa: number): boolean {
    const u = this.updateLeafAttrs(ipa, 1, 0n, KVM_PTE_LEAF_ATTR_LO_S2_AF);
    return u.found && (u.old & KVM_PTE_LEAF_ATTR_LO_S2_AF) !== 0n;
  }

  /** kvm_pgtable_stage2_is_young */
  isYoung(ipa: number): boolean {
    const l = this.getLeaf(ipa);
    return pteValid(l.raw) && (l.raw & KVM_PTE_LEAF_ATTR_LO_S2_AF) !== 0n;
  }

  /** kvm_pgtable_stage2_flush: clean+invalidate to PoC every valid cacheable leaf in the range; nothing with FWB. */
  flush(ipa: number, size: number): PgtResult {
    if (this.fwb || !this.cmos) return 'ok';
    return this.walk(ipa, size, WALK_LEAF, this.flushVisitor) as PgtResult;
  }

  /** stage2_flush_walker, bound once */
  private readonly flushVisitor: Stage2Visitor = (addr, _end, level, ptep) => {
    if (this.cacheable(this.mem.read64(ptep))) this.cmo('dcache_clean_inval_poc', alignDown(addr, this.granules[level]), this.granules[level]);
    return 'ok';
  };

  /** kvm_pgtable_get_leaf: the entry that maps ipa (an invalid entry counts as a leaf) and its level. */
  getLeaf(ipa: number): { raw: bigint; level: number } {
    const out = { raw: 0n, level: this.startLevel };
    if (ipa < 0 || ipa >= this.ipaLimit) return out;
    const outer = this.leafOut;
    this.leafOut = out;
    try {
      this.walk(ipa, 1, WALK_LEAF, this.leafVisitor);
    } finally {
      this.leafOut = outer;
    }
    return out;
  }

  /** leaf_walker, bound once; fills `leafOut` */
  private leafOut: { raw: bigint; level: number } | null = null;
  private readonly leafVisitor: Stage2Visitor = (_addr, _end, level, ptep) => {
    const out = this.leafOut!;
    out.raw = this.mem.read64(ptep);
    out.level = level;
    return 'ok';
  };

  /**
   * Every non-zero leaf entry (valid leaves and counted invalid ones) covering [ipa, ipa+size), in IPA order, with
   * the IPA the entry starts at (a block may start before `ipa`). For views and expectations.
   */
  leaves(ipa: number, size: number): { ipa: number; level: number; raw: bigint }[] {
    const out: { ipa: number; level: number; raw: bigint }[] = [];
    this.walk(ipa, size, WALK_LEAF, (addr, _end, level, ptep) => {
      const raw = this.mem.read64(ptep);
      if (raw !== 0n) out.push({ ipa: alignDown(addr, this.granules[level]), level, raw });
      return 'ok';
    });
    return out;
  }

  /** getLeaf + decodePte with this table's flavour, granule and FWB setting. */
  lookup(ipa: number): { raw: bigint; level: number; decoded: DecodedPte } {
    const l = this.getLeaf(ipa);
    return { ...l, decoded: decodePte(l.raw, l.level, this.pageSize, this.flavour, this.fwb) };
  }

  decode(raw: bigint, level: number): DecodedPte {
    return decodePte(raw, level, this.pageSize, this.flavour, this.fwb);
  }

  // ------------------------------------------------------------------------------------------------------------
  // the CPU's view

  /**
   * The MMU's stage 2 walk for one IPA (TLB-miss path). Reads the descriptor halves straight from PhysMem's chunks
   * (no BigInt). Beyond the IPA size: address-size fault at the start level; an invalid entry (or a reserved
   * encoding) stops the walk with a translation fault at that level.
   */
  translate(ipa: number): S2Translation {
    if (!(ipa >= 0 && ipa < this.ipaLimit)) return this.sizeFault;
    const mem = this.mem;
    const gr = this.granules;
    const entries = this.geometry.entriesPerTable;
    let level = this.startLevel;
    let p = this.rootPa + Math.floor(ipa / gr[level]) * 8;
    if (mem.epoch !== this.chunkEpoch) {
      this.chunkCfn.fill(-1);
      this.chunkEpoch = mem.epoch;
    }
    for (;;) {
      // per-level cache of the last table chunk: a touched chunk's array stays live until PhysMem.epoch changes
      const cfn = Math.floor(p / 4096);
      let d: Uint8Array;
      if (this.chunkCfn[level] === cfn) {
        d = this.chunkData[level];
      } else {
        d = mem.chunkForRead(cfn);
        if (mem.isTouched(cfn)) {
          this.chunkCfn[level] = cfn;
          this.chunkData[level] = d;
        }
      }
      const o = p & 4095;
      const lo = d[o] | (d[o + 1] << 8) | (d[o + 2] << 16) | (d[o + 3] << 24);
      if ((lo & 1) === 0) return this.faults[level];
      const hi = d[o + 4] | (d[o + 5] << 8) | (d[o + 6] << 16) | (d[o + 7] << 24);
      const oa = (hi & 0xffff) * TWO32 + ((lo & this.pageLoMask) >>> 0);
      if (level < 3) {
        if ((lo & 2) !== 0) {
          level++;
          p = oa + (Math.floor(ipa / gr[level]) % entries) * 8;
          continue;
        }
        if (level < this.minBlock) return this.faults[level];
      } else if ((lo & 2) === 0) {
        return this.faults[level];
      }
      const size = gr[level];
      const memAttr = (lo >>> 2) & 0xf;
      const exec = (hi & (1 << 22)) === 0;
      return {
        valid: true,
        level,
        pa: oa - (oa % size) + (ipa % size),
        leafSize: size,
        read: (lo & 0x40) !== 0,
        write: (lo & 0x80) !== 0,
        execEl1: exec,
        execEl0: exec,
        af: (lo & 0x400) !== 0,
        device: memAttrIsDevice(memAttr, this.fwb),
      };
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // TLB maintenance

  /** kvm_flush_remote_tlbs: TLBI VMALLS12E1IS for this VMID; emits tlbi scope=vmid and tells the listeners. */
  tlbiVmid(): void { this.tlbi('vmid', 0, 0); }

  /** CPUs register here to drop cached translations on every TLBI this table issues. Returns an unsubscribe. */
  onTlbi(listener: TlbiListener): () => void {
    this.tlbiListeners.push(listener);
    return () => {
      const i = this.tlbiListeners.indexOf(listener);
      if (i >= 0) this.tlbiListeners.splice(i, 1);
    };
  }

  // ------------------------------------------------------------------------------------------------------------
  // views

  /** Every entry of a table page (the whole concatenated root for rootPa at the start level), for tree views. */
  readTable(tablePa: number, level: number): Stage2TableEntry[] {
    const isRoot = tablePa === this.rootPa && level === this.startLevel;
    const n = isRoot ? this.rootPages * this.geometry.entriesPerTable : this.geometry.entriesPerTable;
    const base = isRoot ? 0 : this.tables.get(tablePa)?.baseIpa ?? 0;
    const gran = this.granules[level];
    const out: Stage2TableEntry[] = [];
    for (let i = 0; i < n; i++) out.push({ index: i, ipa: base + i * gran, raw: this.mem.read64(tablePa + i * 8) });
    return out;
  }

  /**
   * The table reached by following `path` (entry indices) from the root; the root's indices span all concatenated
   * pages. undefined when an index is out of range or the entry is not a table.
   */
  tableAt(path: readonly number[]): Stage2TableRef | undefined {
    let ref: Stage2TableRef = {
      tablePa: this.rootPa, level: this.startLevel, baseIpa: 0, entries: this.rootPages * this.geometry.entriesPerTable,
    };
    for (const idx of path) {
      if (!Number.isInteger(idx) || idx < 0 || idx >= ref.entries) return undefined;
      const pte = this.mem.read64(ref.tablePa + idx * 8);
      if (!pteIsTable(pte, ref.level)) return undefined;
      ref = {
        tablePa: pteToPhys(pte, this.pageSize), level: ref.level + 1,
        baseIpa: ref.baseIpa + idx * this.granules[ref.level], entries: this.geometry.entriesPerTable,
      };
    }
    return ref;
  }

  // ------------------------------------------------------------------------------------------------------------
  // lifecycle

  /** kvm_pgtable_stage2_destroy: free every table page, root included (no descriptor writes, no events). */
  destroy(): void {
    if (this.destroyed) return;
    const n = this.rootPages * this.geometry.entriesPerTable;
    for (let i = 0; i < n; i++) {
      const pte = this.mem.read64(this.rootPa + i * 8);
      if (pteIsTable(pte, this.startLevel)) this.freeSubtree(pteToPhys(pte, this.pageSize), this.startLevel + 1);
    }
    for (let i = 0; i < this.rootPages; i++) this.tables.delete(this.rootPa + i * this.pageSize);
    this.pool.free(this.rootPa, this.rootPages * this.pageSize);
    this.destroyed = true;
  }

  get isDestroyed(): boolean { return this.destroyed; }

  /** Side state for machine snapshots (descriptors are in PhysMem; the pool's bookkeeping is included). */
  snapshot(): Stage2PageTableState {
    const tables = new Map<number, TableInfo>();
    for (const [k, v] of this.tables) tables.set(k, { ...v });
    return { tables, destroyed: this.destroyed, pool: this.pool.snapshot() };
  }

  restore(s: Stage2PageTableState): void {
    this.tables = new Map();
    for (const [k, v] of s.tables) this.tables.set(k, { ...v });
    this.destroyed = s.destroyed;
    this.pool.restore(s.pool);
  }

  /**
   * Recompute the tree's bookkeeping from the descriptors and compare (property tests): refcount == 1 + non-zero
   * entries for every table page, every table page reachable exactly once and known, table pages inside the pool
   * and granule-aligned, valid leaves only at legal levels with granule-aligned OAs.
   */
  checkInvariants(): string[] {
    const errs: string[] = [];
    if (this.destroyed) return this.tables.size === 0 ? [] : ['destroyed table still holds pages'];
    const seen = new Set<number>();
    const checkPage = (pagePa: number, level: number, baseIpa: number, n: number): void => {
      if (seen.has(pagePa)) { errs.push(`table page 0x${pagePa.toString(16)} reachable twice`); return; }
      seen.add(pagePa);
      const info = this.tables.get(pagePa);
      if (info === undefined) { errs.push(`table page 0x${pagePa.toString(16)} (L${level}) not tracked`); return; }
      if (info.level !== level) errs.push(`table page 0x${pagePa.toString(16)}: tracked level ${info.level}, found at L${level}`);
      if (info.baseIpa !== baseIpa) errs.push(`table page 0x${pagePa.toString(16)}: tracked base 0x${info.baseIpa.toString(16)}, is 0x${baseIpa.toString(16)}`);
      if (!this.pool.contains(pagePa) || pagePa % this.pageSize !== 0) errs.push(`table page 0x${pagePa.toString(16)} outside the pool or misaligned`);
      let counted = 0;
      const gran = this.granules[level];
      for (let i = 0; i < n; i++) {
        const ptep = pagePa + i * 8;
        const pte = this.mem.read64(ptep);
        if (pte === 0n) continue;
        counted++;
        const ipa = baseIpa + i * gran;
        if (pteIsTable(pte, level)) {
          checkPage(pteToPhys(pte, this.pageSize), level + 1, ipa, this.geometry.entriesPerTable);
        } else if (pteValid(pte)) {
          if (level < this.minBlock) errs.push(`valid block at L${level} (ipa 0x${ipa.toString(16)}) below the minimum block level`);
          const oa = pteToPhys(pte, this.pageSize);
          if (oa % gran !== 0) errs.push(`leaf at ipa 0x${ipa.toString(16)} L${level}: OA 0x${oa.toString(16)} not aligned`);
        }
      }
      if (info.refcount !== 1 + counted) {
        errs.push(`table page 0x${pagePa.toString(16)} (L${level}): refcount ${info.refcount}, expected ${1 + counted}`);
      }
    };
    const rootPageSpan = this.geometry.entriesPerTable * this.granules[this.startLevel];
    for (let i = 0; i < this.rootPages; i++) {
      checkPage(this.rootPa + i * this.pageSize, this.startLevel, i * rootPageSpan, this.geometry.entriesPerTable);
    }
    for (const pa of this.tables.keys()) {
      if (!seen.has(pa)) errs.push(`tracked table page 0x${pa.toString(16)} is not reachable (leaked)`);
    }
    return errs;
  }
}

