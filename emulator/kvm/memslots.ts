// The VM's memslots (spec A.1, A.6): `{id, base_gfn, npages, hva, flags, dirty_bitmap?, arch.flags (lock, RFC),
// pinned pages (RFC)}`. arm64 has one address space (KVM_ADDRESS_SPACE_NUM = 1), so as_id is always 0 here; the
// ioctl rejects any other (A.2#5).

export const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;
export const KVM_MEM_READONLY = 1 << 1;
/** A.2#7: KVM_MEM_MAX_NR_PAGES = (1 << 31) - 1 */
export const KVM_MEM_MAX_NR_PAGES = 2 ** 31 - 1;
export const KVM_ADDRESS_SPACE_NUM = 1;

/** memslot->arch.flags of the SPE lock RFC (spec E.3 "Internal flags"): KVM_MEMSLOT_LOCK_READ / _WRITE */
export interface MemslotLock {
  readonly read: boolean;
  readonly write: boolean;
}

export interface Memslot {
  readonly id: number;
  /** IPA of the first byte (base_gfn << PAGE_SHIFT) */
  gpa: number;
  readonly size: number;
  readonly npages: number;
  readonly hva: number;
  flags: number;
  /** KVM_MEM_READONLY (cannot change on an existing slot, A.2#10) */
  readonly readonly: boolean;
  /** KVM_MEM_LOG_DIRTY_PAGES */
  dirtyLog: boolean;
  /** one bit per page, little-endian bit order, length rounded up to 64 bits (spec A.5); null when not logging */
  dirtyBitmap: Uint8Array | null;
  /** lock flags (RFC), null when unlocked */
  lock: MemslotLock | null;
  /** pages pinned by the lock (RFC); 0 when unlocked */
  pinnedPages: number;
}

export function cloneMemslot(s: Memslot): Memslot {
  return { ...s, dirtyBitmap: s.dirtyBitmap === null ? null : s.dirtyBitmap.slice(), lock: s.lock === null ? null : { ...s.lock } };
}

/** The memslot set of address space 0: lookup by id and by IPA. */
export class Memslots {
  private byId = new Map<number, Memslot>();
  /** sorted by gpa; rebuilt lazily after a change */
  private sorted: Memslot[] | null = [];

  constructor(readonly pageSize: number) {}

  get(id: number): Memslot | undefined { return this.byId.get(id); }

  get size(): number { return this.byId.size; }

  /** Slots by ascending gpa. */
  all(): readonly Memslot[] {
    if (this.sorted === null) this.sorted = [...this.byId.values()].sort((a, b) => a.gpa - b.gpa || a.id - b.id);
    return this.sorted;
  }

  /** The slot whose [gpa, gpa+size) holds `ipa` (gfn_to_memslot). */
  findByIpa(ipa: number): Memslot | undefined {
    const all = this.all();
    let lo = 0, hi = all.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = all[mid];
      if (ipa < s.gpa) hi = mid - 1;
      else if (ipa >= s.gpa + s.size) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** Slots whose HVA range intersects [hva, hva+size) (the MMU notifier's lookup). */
  byHvaRange(hva: number, size: number): Memslot[] {
    return this.all().filter(s => s.hva < hva + size && hva < s.hva + s.size);
  }

  lockedSlots(): Memslot[] { return this.all().filter(s => s.lock !== null); }

  /** Sum of npages over all slots (kvm->nr_memslot_pages, A.2#9). */
  totalPages(): number {
    let n = 0;
    for (const s of this.byId.values()) n += s.npages;
    return n;
  }

  /** Install (create or replace) a slot. */
  install(s: Memslot): void {
    this.byId.set(s.id, s);
    this.sorted = null;
  }

  remove(id: number): void {
    this.byId.delete(id);
    this.sorted = null;
  }

  /** Call after changing a slot's gpa in place. */
  reindex(): void { this.sorted = null; }

  snapshot(): Memslot[] { return [...this.byId.values()].map(cloneMemslot); }

  restore(slots: readonly Memslot[]): void {
    this.byId = new Map(slots.map(s => [s.id, cloneMemslot(s)]));
    this.sorted = null;
  }
}
