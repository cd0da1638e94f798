// Deterministic random instruction words forced into the encoding groups the guest instruction set lives in
// (data processing immediate/register, loads/stores, branches/system), for codec round-trip and binutils tests.

const GROUPS: readonly (readonly [number, number])[] = [
  [0x1c000000, 0x10000000], [0x1c000000, 0x14000000], [0x0e000000, 0x08000000], [0x0e000000, 0x0a000000],
  [0xffc00000, 0xd5000000], [0xff000000, 0xd4000000], [0x3f000000, 0x38000000], [0x3f000000, 0x08000000],
];

/** `count` words from an LCG seeded with `seed`, cycling through the groups */
export function* guestWords(seed: number, count: number): Generator<number> {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const hi = s & 0xffff0000;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (hi | (s >>> 16)) >>> 0;
  };
  for (let k = 0; k < count; k++) {
    const [m, v] = GROUPS[k % GROUPS.length]!;
    yield ((rnd() & ~m) | v) >>> 0;
  }
}
