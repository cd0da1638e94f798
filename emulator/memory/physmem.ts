// Sparse host-physical memory (ARCHITECTURE.md "Sparse and lazy"): 4 KiB chunks allocated on first write, so a
// 1 TiB IPA space or a 4 GiB memslot costs nothing until touched. Untouched memory reads as zero.
//
// Addresses are JS numbers: physical addresses are at most 52 bits, inside the 2^53 exact-integer range.
// Snapshots are copy-on-write at chunk granularity: `snapshot()` freezes every chunk; the first later write to a
// frozen chunk copies it. `epoch` changes whenever a chunk array that a cache may hold stops being the live one
// (a copy-on-write copy, a restore), so the CPU's TLB / decoded-instruction caches can hold chunk arrays and
// revalidate with one integer compare.

export const CHUNK_SHIFT = 12;
export const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SIZE - 1;

interface Chunk {
  data: Uint8Array;
  /** the snapshot generation that owns `data`; writable in place only when equal to PhysMem.gen */
  gen: number;
}

export interface MemSnapshot {
  readonly chunks: ReadonlyMap<number, Chunk>;
  readonly gen: number;
}

const ZERO_CHUNK = new Uint8Array(CHUNK_SIZE);

/**
 * Chunks are carved out of shared slabs (one ArrayBuffer per up to 64 chunks) rather than one ArrayBuffer each:
 * allocating and later sweeping an off-heap backing store per 4 KiB chunk was the largest cost of a stage 2
 * fault-in after the fault itself. Slabs start small and double, so a machine that touches a few pages stays
 * small; a slab's memory is released once none of its chunks is live.
 */
const SLAB_MIN_CHUNKS = 4;
const SLAB_MAX_CHUNKS = 64;

export class PhysMem {
  private chunks = new Map<number, Chunk>();
  private gen = 0;
  /** bumped whenever a chunk array held by a cache may be stale */
  epoch = 0;
  /**
   * The last touched chunk looked up, valid while `epoch` is unchanged (every replacement of a chunk's array bumps
   * it; a first write to an untouched chunk cannot invalidate it since only touched chunks are cached). Page-table
   * walks read the same table page several times in a row.
   */
  private lastCfn = -1;
  private lastChunk: Chunk | null = null;
  private lastEpoch = -1;
  private slab: ArrayBuffer | null = null;
  private slabChunks = 0;
  private slabNext = 0;

  /** number of chunks that hold data (memory actually used is chunks × 4 KiB) */
  get touchedChunks(): number { return this.chunks.size; }
  get bytesAllocated(): number { return this.chunks.size * CHUNK_SIZE; }

  /** The chunk's bytes for reading, or a shared zero chunk if never written. Do not write into it. */
  chunkForRead(cfn: number): Uint8Array {
    if (cfn === this.lastCfn && this.lastEpoch === this.epoch) return this.lastChunk!.data;
    const c = this.chunks.get(cfn);
    if (c === undefined) return ZERO_CHUNK;
    this.lastCfn = cfn; this.lastChunk = c; this.lastEpoch = this.epoch;
    return c.data;
  }

  isTouched(cfn: number): boolean { return this.chunks.has(cfn); }

  /** The chunk's live bytes for writing (allocated or copied on demand). */
  chunkForWrite(cfn: number): Uint8Array {
    if (cfn === this.lastCfn && this.lastEpoch === this.epoch && this.lastChunk!.gen === this.gen) return this.lastChunk!.data;
    const c = this.chunks.get(cfn);
    if (c === undefined) {
      const data = this.newChunk();
      this.chunks.set(cfn, { data, gen: this.gen });
      return data;
    }
    if (c.gen !== this.gen) {
      const data = this.newChunk();
      data.set(c.data);
      this.chunks.set(cfn, { data, gen: this.gen });
      this.epoch++;
      return data;
    }
    return c.data;
  }

  /** A zeroed chunk from the current slab (see SLAB_MIN_CHUNKS). */
  private newChunk(): Uint8Array {
    if (this.slab === null || this.slabNext === this.slabChunks) {
      this.slabChunks = this.slab === null ? SLAB_MIN_CHUNKS : Math.min(this.slabChunks * 2, SLAB_MAX_CHUNKS);
      this.slab = new ArrayBuffer(this.slabChunks * CHUNK_SIZE);
      this.slabNext = 0;
    }
    return new Uint8Array(this.slab, CHUNK_SIZE * this.slabNext++, CHUNK_SIZE);
  }

  read8(pa: number): number {
    return this.chunkForRead(Math.floor(pa / CHUNK_SIZE))[pa & CHUNK_MASK];
  }

  read16(pa: number): number {
    const off = pa & CHUNK_MASK;
    if (off <= CHUNK_SIZE - 2) {
      const d = this.chunkForRead(Math.floor(pa / CHUNK_SIZE));
      return d[off] | (d[off + 1] << 8);
    }
    return this.read8(pa) | (this.read8(pa + 1) << 8);
  }

  /** unsigned 32-bit value */
  read32(pa: number): number {
    const off = pa & CHUNK_MASK;
    if (off <= CHUNK_SIZE - 4) {
      const d = this.chunkForRead(Math.floor(pa / CHUNK_SIZE));
      return (d[off] | (d[off + 1] << 8) | (d[off + 2] << 16) | (d[off + 3] << 24)) >>> 0;
    }
    return (this.read16(pa) | (this.read16(pa + 2) << 16)) >>> 0;
  }

  read64(pa: number): bigint {
    // page tables are read as 64-bit descriptors on every walk: one chunk lookup, and a single BigInt when the
    // value fits a double exactly (hi < 2^21)
    const off = pa & CHUNK_MASK;
    let lo: number, hi: number;
    if (off <= CHUNK_SIZE - 8) {
      const d = this.chunkForRead(Math.floor(pa / CHUNK_SIZE));
      lo = (d[off] | (d[off + 1] << 8) | (d[off + 2] << 16) | (d[off + 3] << 24)) >>> 0;
      hi = (d[off + 4] | (d[off + 5] << 8) | (d[off + 6] << 16) | (d[off + 7] << 24)) >>> 0;
    } else {
      lo = this.read32(pa);
      hi = this.read32(pa + 4);
    }
    if (hi < 0x20_0000) return BigInt(hi * 4294967296 + lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  readBytes(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = pa + done;
      const off = a & CHUNK_MASK;
      const n = Math.min(len - done, CHUNK_SIZE - off);
      out.set(this.chunkForRead(Math.floor(a / CHUNK_SIZE)).subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  write8(pa: number, v: number): void {
    this.chunkForWrite(Math.floor(pa / CHUNK_SIZE))[pa & CHUNK_MASK] = v;
  }

  write16(pa: number, v: number): void {
    this.write8(pa, v & 0xff);
    this.write8(pa + 1, (v >>> 8) & 0xff);
  }

  write32(pa: number, v: number): void {
    const off = pa & CHUNK_MASK;
    if (off <= CHUNK_SIZE - 4) {
      const d = this.chunkForWrite(Math.floor(pa / CHUNK_SIZE));
      d[off] = v; d[off + 1] = v >>> 8; d[off + 2] = v >>> 16; d[off + 3] = v >>> 24;
      return;
    }
    this.write16(pa, v & 0xffff);
    this.write16(pa + 2, (v >>> 16) & 0xffff);
  }

  write64(pa: number, v: bigint): void {
    // values below 2^53 (most descriptors without upper attributes) split without BigInt arithmetic
    if (v >= 0n && v < 0x20_0000_0000_0000n) {
      const n = Number(v);
      const hi = Math.floor(n / 4294967296);
      this.write32(pa, n - hi * 4294967296);
      this.write32(pa + 4, hi);
      return;
    }
    const u = BigInt.asUintN(64, v);
    this.write32(pa, Number(u & 0xffff_ffffn));
    this.write32(pa + 4, Number(u >> 32n));
  }

  writeBytes(pa: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const a = pa + done;
      const off = a & CHUNK_MASK;
      const n = Math.min(bytes.length - done, CHUNK_SIZE - off);
      this.chunkForWrite(Math.floor(a / CHUNK_SIZE)).set(bytes.subarray(done, done + n), off);
      done += n;
    }
  }

  /** Set `len` bytes to `byte`. Filling untouched chunks with zero allocates nothing. */
  fill(pa: number, len: number, byte: number): void {
    let done = 0;
    while (done < len) {
      const a = pa + done;
      const cfn = Math.floor(a / CHUNK_SIZE);
      const off = a & CHUNK_MASK;
      const n = Math.min(len - done, CHUNK_SIZE - off);
      if (byte === 0 && !this.chunks.has(cfn)) { done += n; continue; }
      if (byte === 0 && off === 0 && n === CHUNK_SIZE) {
        this.chunks.delete(cfn);
        this.epoch++;
      } else {
        this.chunkForWrite(cfn).fill(byte, off, off + n);
      }
      done += n;
    }
  }

  /** Freeze the current contents; O(touched chunks) map copy, no data copy. */
  snapshot(): MemSnapshot {
    const s: MemSnapshot = { chunks: new Map(this.chunks), gen: this.gen };
    this.gen++;
    return s;
  }

  /** Go back to a snapshot. The snapshot stays valid and can be restored again. */
  restore(s: MemSnapshot): void {
    this.chunks = new Map(s.chunks);
    // every chunk now belongs to an older generation, so the next write copies it and the snapshot stays intact
    this.gen++;
    this.epoch++;
  }
}
