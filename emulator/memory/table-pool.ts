// Host-physical pool for page-table pages (LANGUAGE.md "Host memory model": stage 2 and `pgtable` table pages come
// from a separate pool, not from memslot backings). Models the kvm_mmu_memory_cache / hyp pool the kernel draws
// table pages from: `alloc` hands out zeroed, aligned PAs inside [basePa, basePa + limitBytes) and returns
// `undefined` when the pool is exhausted (the page-table code turns that into -ENOMEM).
//
// Freed blocks are kept per size and reused first (lowest address first, so allocation is deterministic).

import type { PhysMem } from './physmem';

export interface TablePoolState {
  readonly next: number;
  readonly used: number;
  readonly free: ReadonlyMap<number, readonly number[]>;
}

export class TablePool {
  private next: number;
  private used = 0;
  /** size -> sorted free PAs of that size */
  private freeLists = new Map<number, number[]>();

  constructor(private readonly mem: PhysMem, readonly basePa: number, readonly limitBytes: number) {
    this.next = basePa;
  }

  /** bytes currently handed out */
  get usedBytes(): number { return this.used; }

  /** end of the pool's range (exclusive) */
  get endPa(): number { return this.basePa + this.limitBytes; }

  /** Is `pa` inside the pool's range? (checkInvariants uses it) */
  contains(pa: number): boolean { return pa >= this.basePa && pa < this.endPa; }

  /** A zeroed block of `bytes` aligned to `align` (a power of two), or undefined when exhausted (-> ENOMEM). */
  alloc(bytes: number, align: number): number | undefined {
    const list = this.freeLists.get(bytes);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        if (list[i] % align === 0) {
          const pa = list[i];
          list.splice(i, 1);
          this.used += bytes;
          this.mem.fill(pa, bytes, 0);
          return pa;
        }
      }
    }
    const pa = Math.ceil(this.next / align) * align;
    if (pa + bytes > this.endPa) return undefined;
    // an alignment gap (only before a concatenated root) is simply skipped
    this.next = pa + bytes;
    this.used += bytes;
    this.mem.fill(pa, bytes, 0);
    return pa;
  }

  /** Give a block back; its contents are zeroed (so an untouched page costs no memory). */
  free(pa: number, bytes: number): void {
    this.mem.fill(pa, bytes, 0);
    this.used -= bytes;
    let list = this.freeLists.get(bytes);
    if (list === undefined) { list = []; this.freeLists.set(bytes, list); }
    let i = 0;
    while (i < list.length && list[i] < pa) i++;
    list.splice(i, 0, pa);
  }

  /** Pool bookkeeping for machine snapshots (the table contents live in PhysMem and are snapshotted there). */
  snapshot(): TablePoolState {
    const free = new Map<number, readonly number[]>();
    for (const [k, v] of this.freeLists) free.set(k, v.slice());
    return { next: this.next, used: this.used, free };
  }

  restore(s: TablePoolState): void {
    this.next = s.next;
    this.used = s.used;
    this.freeLists = new Map();
    for (const [k, v] of s.free) this.freeLists.set(k, v.slice());
  }
}
