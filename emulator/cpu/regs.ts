// General-register file layout. ARCHITECTURE.md "64-bit values": the hot path keeps each 64-bit register as two
// unsigned 32-bit halves in typed arrays (lo[n], hi[n]); bigint appears only at the API edge (getX/setX, snapshots)
// and in rare instructions (64-bit multiply/divide, EXTR). Measured in test/bench/cpu.bench.ts.
//
// Slots: 0..30 = X0..X30; 31 = the zero register (always 0, never written); 32 = the current stack pointer
// (SP_EL0 or SP_EL1 per PSTATE.SP / EL; the other one waits in the bank); 33 = a discard slot, the destination
// for writes to XZR/WZR, so closures never branch on "is it register 31".

export const ZR = 31;
export const SP = 32;
export const DISCARD = 33;
export const NSLOTS = 34;

const TWO32 = 4294967296;

export function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function loOf(v: bigint): number {
  return Number(v & 0xffff_ffffn);
}

export function hiOf(v: bigint): number {
  return Number((v >> 32n) & 0xffff_ffffn);
}

/** hi:lo as a JS number when it fits in 53 bits exactly, else -1 (used for IPA/PA-sized values). */
export function toNum(lo: number, hi: number): number {
  return hi < 0x200000 ? hi * TWO32 + lo : -1;
}

/** Decode-time register index for a read of Rn where 31 means XZR. */
export const rdZr = (n: number): number => n;
/** Decode-time register index for a read of Rn where 31 means SP. */
export const rdSp = (n: number): number => (n === 31 ? SP : n);
/** Decode-time register index for a write of Rd where 31 means XZR (discarded). */
export const wrZr = (n: number): number => (n === 31 ? DISCARD : n);
/** Decode-time register index for a write of Rd where 31 means SP. */
export const wrSp = (n: number): number => (n === 31 ? SP : n);
