// A64 logical ("bitmask") immediates: N:immr:imms <-> the 32/64-bit pattern they denote
// (Arm ARM DecodeBitMasks; the element is a run of imms+1 ones rotated right by immr, replicated).

const MASK64 = (1n << 64n) - 1n;

/** Expand N:immr:imms into the `width`-bit value, or undefined when the encoding is reserved. */
export function decodeBitMask(n: number, immr: number, imms: number, width: 32 | 64): bigint | undefined {
  if (width === 32 && n !== 0) return undefined;
  // len = index of the highest set bit of N:NOT(imms)
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return undefined;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return undefined;
  const esize = 1 << len;
  const levels = esize - 1;
  const s = imms & levels;
  const r = immr & levels;
  if (s === levels) return undefined; // all-ones element is reserved
  // element: s+1 ones rotated right by r within esize bits (esize <= 64, ones <= 63: safe in numbers for <= 32,
  // use bigint only for 64-bit elements).
  const e = BigInt(esize);
  const emask = (1n << e) - 1n;
  const ones = (1n << BigInt(s + 1)) - 1n;
  const rr = BigInt(r);
  const elem = ((ones >> rr) | (ones << (e - rr))) & emask;
  let v = 0n;
  for (let i = 0; i < width; i += esize) v |= elem << BigInt(i);
  return width === 32 ? v & 0xffffffffn : v & MASK64;
}

export interface BitMaskFields {
  n: number;
  immr: number;
  imms: number;
}

/** Encode `value` (taken modulo 2^width) as a logical immediate, or undefined when it is not one. */
export function encodeBitMask(value: bigint, width: 32 | 64): BitMaskFields | undefined {
  const wmask = width === 32 ? 0xffffffffn : MASK64;
  let v = value & wmask;
  if (v === 0n || v === wmask) return undefined;
  if (width === 32) v = v | (v << 32n); // treat as a 64-bit pattern with 32-bit repetition
  // smallest element size whose replication gives v
  let esize = 64;
  for (const sz of [2, 4, 8, 16, 32]) {
    const m = (1n << BigInt(sz)) - 1n;
    const e = v & m;
    let rep = 0n;
    for (let i = 0; i < 64; i += sz) rep |= e << BigInt(i);
    if (rep === v) {
      esize = sz;
      break;
    }
  }
  const e = BigInt(esize);
  const emask = (1n << e) - 1n;
  const elem = v & emask;
  // find rotation r such that rotl(elem, r) is a contiguous low run of ones: elem = ror(ones, r)
  for (let r = 0; r < esize; r++) {
    const rr = BigInt(r);
    const rot = ((elem << rr) | (elem >> (e - rr))) & emask; // rotate left by r
    if ((rot & (rot + 1n)) === 0n) {
      // rot = 2^k - 1
      let k = 0;
      let t = rot;
      while (t & 1n) {
        k++;
        t >>= 1n;
      }
      if (k === 0 || k === esize) return undefined;
      const s = k - 1;
      // imms: high bits encode element size (NOT of size marker), low bits s
      let immsField: number;
      let nField = 0;
      if (esize === 64) {
        nField = 1;
        immsField = s;
      } else {
        immsField = ((~(esize * 2 - 1) & 0x3f) | s) & 0x3f;
      }
      return { n: nField, immr: r, imms: immsField };
    }
  }
  return undefined;
}
