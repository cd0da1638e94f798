// The VMM's address space as KVM sees it (LANGUAGE.md "Host memory model"): each `memslot` statement's backing is
// one VMA with a contiguous host-physical range. Automatic HVAs start at 0x7f00_0000_0000, aligned to max(2M, the
// backing's block size) and congruent with the gpa within a block, so hugetlb backings can be mapped with blocks
// (spec B.3, fault_supports_stage2_huge_mapping). The PA range is aligned the same way, so HVA and PA share the
// offset within a block.
//
// `unmapHost` (munmap) punches holes: an HVA with no backing has no VMA, so `hvaToPa` is undefined there (a guest
// fault on it makes KVM_RUN fail with EFAULT; pinning it for a lock fails with ENOMEM, spec E.3#9).
//
// Host-physical ranges: RAM backings (anon, hugetlb) are taken upwards from RAM_PA_BASE, device (pfnmap) backings
// from DEVICE_PA_BASE; both lie below 2^48 (the stage 2 OA field, spec B.3) and away from the table pool the
// machine sets up (it is given its own range). Allocation never reuses a range, so PAs are deterministic.

export type BackingKind = 'anon' | 'hugetlb-2M' | 'hugetlb-1G' | 'hugetlb-32M' | 'hugetlb-512M' | 'pfnmap';

export interface Backing {
  readonly kind: BackingKind;
  /** first HVA of this VMA (a munmap may have split the original mapping; each piece keeps its PA offset) */
  readonly hva: number;
  readonly size: number;
  /** host-physical address of `hva` */
  readonly pa: number;
  /** largest mapping size the fault path may use for this backing (PAGE_SIZE for anon and pfnmap) */
  readonly blockSize: number;
}

/** One contiguous piece of an HVA range that has a backing. */
export interface HostSegment {
  readonly hva: number;
  readonly size: number;
  readonly pa: number;
  readonly backing: Backing;
}

export const AUTO_HVA_BASE = 0x7f00_0000_0000;
export const RAM_PA_BASE = 0x80_0000_0000;        // 512 GiB
export const DEVICE_PA_BASE = 0xc000_0000_0000;   // 192 TiB, still < 2^48
const TWO_MIB = 2 * 1024 * 1024;

const HUGE_SIZES: { readonly [K in BackingKind]?: number } = {
  'hugetlb-2M': 2 ** 21, 'hugetlb-1G': 2 ** 30, 'hugetlb-32M': 2 ** 25, 'hugetlb-512M': 2 ** 29,
};

/** Block sizes a granule supports for hugetlb (LANGUAGE.md: 4K: 2M, 1G; 16K: 32M; 64K: 512M). */
export function hugetlbKindsFor(pageSize: number): BackingKind[] {
  if (pageSize === 4096) return ['hugetlb-2M', 'hugetlb-1G'];
  if (pageSize === 16384) return ['hugetlb-32M'];
  return ['hugetlb-512M'];
}

export function backingBlockSize(kind: BackingKind, pageSize: number): number {
  const huge = HUGE_SIZES[kind];
  if (huge === undefined) return pageSize;
  if (!hugetlbKindsFor(pageSize).includes(kind)) {
    throw new Error(`backing=${kind} is not a block size of the ${pageSize / 1024}K granule`);
  }
  return huge;
}

function alignUp(x: number, a: number): number { return Math.ceil(x / a) * a; }
function mod(x: number, a: number): number { return ((x % a) + a) % a; }

export interface HostMemoryState {
  readonly backings: readonly Backing[];
  readonly nextHva: number;
  readonly nextRamPa: number;
  readonly nextDevicePa: number;
}

export class HostMemory {
  /** sorted by hva, never overlapping */
  private backings: Backing[] = [];
  private nextHva = AUTO_HVA_BASE;
  private nextRamPa: number;
  private nextDevicePa: number;

  constructor(readonly pageSize: number, ramPaBase = RAM_PA_BASE, devicePaBase = DEVICE_PA_BASE) {
    this.nextRamPa = ramPaBase;
    this.nextDevicePa = devicePaBase;
  }

  all(): readonly Backing[] { return this.backings; }

  /** The VMA holding `hva`, or undefined (no VMA: never backed or munmapped). */
  backingAt(hva: number): Backing | undefined {
    let lo = 0, hi = this.backings.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = this.backings[mid];
      if (hva < b.hva) hi = mid - 1;
      else if (hva >= b.hva + b.size) lo = mid + 1;
      else return b;
    }
    return undefined;
  }

  hvaToPa(hva: number): number | undefined {
    const b = this.backingAt(hva);
    return b === undefined ? undefined : b.pa + (hva - b.hva);
  }

  /** Is `pa` inside a pfnmap (device) backing? Such memory reads 0 and ignores writes. */
  isDevicePa(pa: number): boolean {
    for (const b of this.backings) if (b.kind === 'pfnmap' && pa >= b.pa && pa < b.pa + b.size) return true;
    return false;
  }

  /** The backed pieces of [hva, hva+size), in HVA order; holes are simply absent. */
  segments(hva: number, size: number): HostSegment[] {
    const out: HostSegment[] = [];
    const end = hva + size;
    for (const b of this.backings) {
      const s = Math.max(hva, b.hva), e = Math.min(end, b.hva + b.size);
      if (s < e) out.push({ hva: s, size: e - s, pa: b.pa + (s - b.hva), backing: b });
    }
    return out;
  }

  /** First HVA in [hva, hva+size) without a VMA, or undefined when the range is fully backed. */
  firstHole(hva: number, size: number): number | undefined {
    let at = hva;
    for (const seg of this.segments(hva, size)) {
      if (seg.hva > at) return at;
      at = seg.hva + seg.size;
    }
    return at < hva + size ? at : undefined;
  }

  /**
   * Allocate a backing for a new memslot (the VMM's mmap). `hva` undefined: pick one per the host memory model,
   * congruent with `gpa` modulo max(2M, block size). With an explicit `hva`, the parts of the range that already
   * have a VMA are reused (two slots may alias the same memory) and only the gaps get new backings.
   * Returns the slot's HVA.
   */
  allocate(kind: BackingKind, gpa: number, size: number, hva?: number): number {
    const block = backingBlockSize(kind, this.pageSize);
    const align = Math.max(TWO_MIB, block);
    if (hva === undefined) {
      const base = alignUp(this.nextHva, align);
      hva = base + mod(gpa, align);
      this.insert(this.makeBacking(kind, hva, size, block, align));
      this.nextHva = hva + size;
      return hva;
    }
    let at = hva;
    const end = hva + size;
    const gaps: [number, number][] = [];
    for (const seg of this.segments(hva, size)) {
      if (seg.hva > at) gaps.push([at, seg.hva]);
      at = seg.hva + seg.size;
    }
    if (at < end) gaps.push([at, end]);
    for (const [s, e] of gaps) this.insert(this.makeBacking(kind, s, e - s, block, align));
    return hva;
  }

  private makeBacking(kind: BackingKind, hva: number, size: number, blockSize: number, align: number): Backing {
    // the PA shares the HVA's offset within a block, so block mappings are possible where the IPA agrees too
    const off = mod(hva, align);
    if (kind === 'pfnmap') {
      const pa = alignUp(this.nextDevicePa, align) + off;
      this.nextDevicePa = alignUp(pa + size, this.pageSize);
      return { kind, hva, size, pa, blockSize };
    }
    const pa = alignUp(this.nextRamPa, align) + off;
    this.nextRamPa = alignUp(pa + size, this.pageSize);
    return { kind, hva, size, pa, blockSize };
  }

  private insert(b: Backing): void {
    let i = 0;
    while (i < this.backings.length && this.backings[i].hva < b.hva) i++;
    this.backings.splice(i, 0, b);
  }

  /** munmap(hva, size): remove the range from every VMA it touches (splitting where needed). */
  unmap(hva: number, size: number): void {
    const end = hva + size;
    const out: Backing[] = [];
    for (const b of this.backings) {
      const bEnd = b.hva + b.size;
      if (bEnd <= hva || b.hva >= end) { out.push(b); continue; }
      if (b.hva < hva) out.push({ ...b, size: hva - b.hva });
      if (bEnd > end) out.push({ ...b, hva: end, size: bEnd - end, pa: b.pa + (end - b.hva) });
    }
    this.backings = out;
  }

  snapshot(): HostMemoryState {
    return { backings: this.backings.slice(), nextHva: this.nextHva, nextRamPa: this.nextRamPa, nextDevicePa: this.nextDevicePa };
  }

  restore(s: HostMemoryState): void {
    this.backings = s.backings.slice();
    this.nextHva = s.nextHva;
    this.nextRamPa = s.nextRamPa;
    this.nextDevicePa = s.nextDevicePa;
  }
}
