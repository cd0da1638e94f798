// `s1map`: the VMM builds guest stage 1 tables in guest memory (LANGUAGE.md "Host memory model"): 4K granule,
// TTBR0_EL1, 4 levels (T0SZ = 16, root at L0), page descriptors only with AF set and EL1-only access. Table pages are
// taken in 4K steps from `s1_tables`, root first. The writes go through the memslots' backing (the VMM's mapping),
// not through stage 2, like any userspace write to guest RAM.

/** Guest-physical memory as the VMM sees it through its memslot mappings. */
export interface GuestPhysWriter {
  read64(ipa: number): bigint | undefined;
  write64(ipa: number, value: bigint): boolean;
}

export type S1Perm = 'r' | 'rw' | 'rx' | 'rwx';
export type S1Attr = 'normal' | 'device';

// VMSAv8-64 stage 1 descriptor bits
const VALID = 1n;
const TABLE_OR_PAGE = 2n;
const ATTRINDX_SHIFT = 2n;
const AP_RO = 1n << 7n;        // AP[2]: read-only
const SH_INNER = 3n << 8n;
const AF = 1n << 10n;
const PXN = 1n << 53n;
const UXN = 1n << 54n;
const OA_MASK = ((1n << 48n) - 1n) & ~0xfffn;

/** TCR_EL1: T0SZ=16, IRGN0=ORGN0=WBWA, SH0=IS, TG0=4K, EPD1=1, TG1=4K, IPS=48-bit */
export const S1MAP_TCR_EL1 = 16n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (0n << 14n) | (1n << 23n) | (2n << 30n) | (5n << 32n);
/** MAIR_EL1: Attr0 = 0xff (Normal WB), Attr1 = 0x04 (Device-nGnRE) */
export const S1MAP_MAIR_EL1 = 0xffn | (0x04n << 8n);
/** SCTLR_EL1 bits set by s1map: M | C | I */
export const S1MAP_SCTLR_SET = 1n | (1n << 2n) | (1n << 12n);

export function s1PageDescriptor(pa: number, perm: S1Perm, attr: S1Attr): bigint {
  let d = VALID | TABLE_OR_PAGE | AF | SH_INNER | (BigInt(pa) & OA_MASK);
  d |= (attr === 'device' ? 1n : 0n) << ATTRINDX_SHIFT;
  if (perm === 'r' || perm === 'rx') d |= AP_RO;
  const exec = (perm === 'rx' || perm === 'rwx') && attr === 'normal';
  d |= exec ? UXN : PXN | UXN;
  return d;
}

export interface S1MapState {
  /** IPA of the root table, or undefined before the first s1map */
  root: number | undefined;
  /** next free table page */
  next: number;
}

export class S1TableBuilder {
  private state: S1MapState;

  /** `limit`: end of the memslot holding `s1_tables` (tables must not run past it) */
  constructor(readonly base: number, readonly limit: number, private readonly mem: GuestPhysWriter) {
    this.state = { root: undefined, next: base };
  }

  get root(): number | undefined { return this.state.root; }

  snapshot(): S1MapState { return { ...this.state }; }
  restore(s: S1MapState): void { this.state = { ...s }; }

  private allocTable(): number | string {
    if (this.state.next + 0x1000 > this.limit) {
      return `s1map: the stage 1 tables at 0x${this.base.toString(16)} run past their memslot`;
    }
    const t = this.state.next;
    this.state.next += 0x1000;
    for (let i = 0; i < 512; i++) {
      if (!this.mem.write64(t + i * 8, 0n)) return `s1map: no memslot backs the table page at IPA 0x${t.toString(16)}`;
    }
    return t;
  }

  /** Map [va, va+size) to [ipa, ipa+size) with page descriptors. Returns an error message or undefined. */
  map(va: bigint, ipa: number, size: number, perm: S1Perm, attr: S1Attr): string | undefined {
    if (va & 0xfffn || ipa & 0xfff || size & 0xfff) return 's1map: va, ipa and size must be 4K-aligned';
    if (va + BigInt(size) > 1n << 48n) return 's1map: va must be below 2^48 (TTBR0, T0SZ = 16)';
    if (this.state.root === undefined) {
      const r = this.allocTable();
      if (typeof r === 'string') return r;
      this.state.root = r;
    }
    for (let off = 0; off < size; off += 0x1000) {
      const v = va + BigInt(off);
      let table = this.state.root;
      for (let level = 0; level < 3; level++) {
        const idx = Number((v >> BigInt(39 - 9 * level)) & 0x1ffn);
        const slot = table + idx * 8;
        const desc = this.mem.read64(slot);
        if (desc === undefined) return `s1map: no memslot backs the table page at IPA 0x${table.toString(16)}`;
        if ((desc & 3n) === 3n) {
          table = Number(desc & OA_MASK);
          continue;
        }
        const next = this.allocTable();
        if (typeof next === 'string') return next;
        this.mem.write64(slot, BigInt(next) | VALID | TABLE_OR_PAGE);
        table = next;
      }
      const idx = Number((v >> 12n) & 0x1ffn);
      this.mem.write64(table + idx * 8, s1PageDescriptor(ipa + off, perm, attr));
    }
    return undefined;
  }
}
