// Dirty page logging (spec A.5, G.1). The bitmap has one bit per page of the slot, bit 0 = first page, little-endian
// bit order (set_bit_le), its length rounded up to 64 bits (kvm_dirty_bitmap_bytes = ALIGN(npages, BITS_PER_LONG) / 8).
//
// KVM_GET_DIRTY_LOG without manual protect (kvm_get_dirty_log_protect): for each 64-bit word with bits set,
// exchange it with 0, and write-protect at stage 2 the span from the word's first to last set page
// (kvm_mmu_write_protect_pt_masked: __ffs(mask) .. __fls(mask), the pages in between included); then, only if some
// word was non-zero, flush the VM's TLBs (kvm_arch_flush_remote_tlbs_memslot -> TLBI VMID).

import type { Memslot } from './memslots';

export function dirtyBitmapBytes(npages: number): number {
  return Math.ceil(npages / 64) * 8;
}

export function newDirtyBitmap(npages: number): Uint8Array {
  return new Uint8Array(dirtyBitmapBytes(npages));
}

/** mark_page_dirty_in_slot: set the page's bit when the slot is logging (no-op otherwise). */
export function markDirty(slot: Memslot, gfnIndex: number): void {
  const bm = slot.dirtyBitmap;
  if (bm === null || gfnIndex < 0 || gfnIndex >= slot.npages) return;
  bm[gfnIndex >> 3] |= 1 << (gfnIndex & 7);
}

export function isDirty(slot: Memslot, gfnIndex: number): boolean {
  const bm = slot.dirtyBitmap;
  return bm !== null && (bm[gfnIndex >> 3] & (1 << (gfnIndex & 7))) !== 0;
}

/** Number of set bits (for views: `dirtyPages`). */
export function dirtyCount(slot: Memslot): number {
  const bm = slot.dirtyBitmap;
  if (bm === null) return 0;
  let n = 0;
  for (let i = 0; i < bm.length; i++) {
    let b = bm[i];
    while (b !== 0) { b &= b - 1; n++; }
  }
  return n;
}

/** One 64-bit word's worth of harvested pages: the pages reported, and the span to write-protect again. */
export interface HarvestedWord {
  readonly pages: number[];
  /** first and last+1 page index of the word's __ffs .. __fls span */
  readonly wpStart: number;
  readonly wpEnd: number;
}

/** Copy-and-clear the bitmap word by word (the xchg loop of kvm_get_dirty_log_protect). Ascending page order. */
export function harvestDirtyBitmap(slot: Memslot): HarvestedWord[] {
  const bm = slot.dirtyBitmap;
  const out: HarvestedWord[] = [];
  if (bm === null) return out;
  for (let w = 0; w < bm.length; w += 8) {
    let any = false;
    for (let k = 0; k < 8; k++) if (bm[w + k] !== 0) { any = true; break; }
    if (!any) continue;
    const pages: number[] = [];
    for (let k = 0; k < 8; k++) {
      const b = bm[w + k];
      if (b === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) pages.push((w + k) * 8 + bit);
      bm[w + k] = 0;
    }
    out.push({ pages, wpStart: pages[0], wpEnd: pages[pages.length - 1] + 1 });
  }
  return out;
}
