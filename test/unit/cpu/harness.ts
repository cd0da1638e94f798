// Test harness for the CPU core: a fake stage 2 (Map of IPA pages), GNU as for hand-checked encodings, and a
// runner that executes until the program's `hvc` end marker.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../../emulator/events';
import type { CpuExit, S2Translation, Stage2Lookup } from '../../../emulator/kvm/guest';
import { PhysMem } from '../../../emulator/memory/physmem';
import { Cpu } from '../../../emulator/cpu/cpu';

export interface S2Perms { read?: boolean; write?: boolean; exec?: boolean; af?: boolean; device?: boolean }

/** A Map of 4K IPA pages -> {pa, perms}; unmapped IPAs fault at level 3 (like a populated table walk). */
export class FakeStage2 implements Stage2Lookup {
  readonly pages = new Map<number, { pa: number; p: Required<S2Perms> }>();
  lookups = 0;
  /** IPAs >= this give an address-size fault at the start level */
  ipaLimit = 2 ** 40;
  map(ipa: number, pa: number, size: number, perms: S2Perms = {}): void {
    const p = { read: perms.read ?? true, write: perms.write ?? true, exec: perms.exec ?? true, af: perms.af ?? true, device: perms.device ?? false };
    for (let o = 0; o < size; o += 4096) this.pages.set(Math.floor((ipa + o) / 4096), { pa: pa + o, p });
  }
  unmap(ipa: number, size: number): void {
    for (let o = 0; o < size; o += 4096) this.pages.delete(Math.floor((ipa + o) / 4096));
  }
  translate(ipa: number): S2Translation {
    this.lookups++;
    if (ipa >= this.ipaLimit) return { valid: false, level: 1, reason: 'address-size' };
    const e = this.pages.get(Math.floor(ipa / 4096));
    if (e === undefined) return { valid: false, level: 3, reason: 'translation' };
    return {
      valid: true, level: 3, pa: e.pa + (ipa & 0xfff), leafSize: 4096, read: e.p.read, write: e.p.write,
      execEl1: e.p.exec, execEl0: e.p.exec, af: e.p.af, device: e.p.device,
    };
  }
}

const cache = new Map<string, number[]>();
let dir: string | undefined;

/** Assemble A64 text with binutils (the reference encoder) into instruction words. */
export function asm(src: string): number[] {
  const hit = cache.get(src);
  if (hit) return hit;
  dir ??= mkdtempSync(join(tmpdir(), 'cpu-asm-'));
  const s = join(dir, 'a.s'), o = join(dir, 'a.o'), b = join(dir, 'a.bin');
  writeFileSync(s, src + '\n');
  execFileSync('aarch64-linux-gnu-as', ['-march=armv8.2-a+lse+profile', s, '-o', o]);
  execFileSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', o, b]);
  const buf = readFileSync(b);
  const words: number[] = [];
  for (let i = 0; i + 4 <= buf.length; i += 4) words.push(buf.readUInt32LE(i));
  cache.set(src, words);
  return words;
}

export const CODE = 0x1000;

export interface Rig {
  cpu: Cpu;
  mem: PhysMem;
  s2: FakeStage2;
  events: EventLog;
  /** write words at an IPA (identity-mapped rig: IPA == PA) */
  load(ipa: number, words: number[]): void;
  /** run until something other than the budget stops it */
  run(budget?: number): CpuExit;
}

/** A vcpu with IPA == PA identity stage 2 over [0, 16 MiB), code assembled at CODE, PC = CODE. */
export function rig(src?: string, opts: { stop?: boolean } = {}): Rig {
  const mem = new PhysMem();
  const s2 = new FakeStage2();
  s2.map(0, 0, 16 << 20);
  const events = new EventLog();
  const cpu = new Cpu({ index: 0, mem, stage2: s2, events, guestExceptions: opts.stop ? 'stop' : 'deliver' });
  const load = (ipa: number, words: number[]): void => { words.forEach((w, i) => mem.write32(ipa + 4 * i, w)); };
  if (src !== undefined) load(CODE, asm(src));
  cpu.setPc(BigInt(CODE));
  return {
    cpu, mem, s2, events, load,
    run(budget = 100000) { return cpu.execute(budget); },
  };
}

/** run `src` (which should end in `hvc #0`) with registers preset; returns the rig */
export function exec(src: string, regs: Record<number, bigint> = {}, opts: { stop?: boolean } = {}): Rig {
  const r = rig(src, opts);
  for (const [k, v] of Object.entries(regs)) r.cpu.setX(Number(k), v);
  const e = r.run();
  if (e.kind !== 'hvc') throw new Error(`expected hvc exit, got ${JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v))}`);
  return r;
}

export const nzcv = (cpu: Cpu): string => {
  const v = Number(cpu.getPstate() >> 28n) & 15;
  return ((v & 8 ? 'N' : '-') + (v & 4 ? 'Z' : '-') + (v & 2 ? 'C' : '-') + (v & 1 ? 'V' : '-'));
};

export const hex = (v: bigint): string => '0x' + v.toString(16);

export interface S1Opts {
  /** AP[2:1]: 0 EL1 rw, 1 EL1+EL0 rw, 2 EL1 ro, 3 EL1+EL0 ro */
  ap?: number;
  pxn?: boolean;
  uxn?: boolean;
  af?: boolean;
  /** MAIR index: 0 Normal (0xff), 1 Device-nGnRE (0x04) */
  attr?: number;
}

export const S1_TABLES = 0x200000;

/**
 * Build 4K-granule, 4-level stage 1 tables (the s1map layout of LANGUAGE.md: T0SZ=16, IPS=48, EPD1) in guest
 * memory at S1_TABLES (IPA == PA in the rig) and turn the MMU on.
 */
export class Stage1Builder {
  private next = S1_TABLES;
  readonly root: number;
  constructor(private readonly r: Rig) {
    this.root = this.alloc();
    const cpu = r.cpu;
    cpu.setSysreg('MAIR_EL1', 0x04ffn);
    cpu.setSysreg('TCR_EL1', 16n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (5n << 32n) | (1n << 23n));
    cpu.setSysreg('TTBR0_EL1', BigInt(this.root));
  }
  enable(): void { this.r.cpu.setSysreg('SCTLR_EL1', this.r.cpu.getSysreg('SCTLR_EL1') | 0x1005n); }
  private alloc(): number { const t = this.next; this.next += 4096; return t; }
  /** IPA of the table that holds the level-`level` entry for va (creating tables on the way) */
  tableFor(va: number, level: number): number {
    let t = this.root;
    for (let l = 0; l < level; l++) {
      const idx = Math.floor(va / 2 ** (39 - 9 * l)) % 512;
      const d = this.r.mem.read64(t + idx * 8);
      if ((d & 3n) === 3n) { t = Number(d & 0x0000_ffff_ffff_f000n); continue; }
      const n = this.alloc();
      this.r.mem.write64(t + idx * 8, BigInt(n) | 3n);
      t = n;
    }
    return t;
  }
  entryIpa(va: number, level: number): number {
    return this.tableFor(va, level) + (Math.floor(va / 2 ** (39 - 9 * level)) % 512) * 8;
  }
  map(va: number, ipa: number, size: number, o: S1Opts = {}): void {
    for (let off = 0; off < size; off += 4096) {
      let d = BigInt(ipa + off) | 3n | (3n << 8n) | (BigInt(o.attr ?? 0) << 2n) | (BigInt(o.ap ?? 0) << 6n);
      if (o.af ?? true) d |= 1n << 10n;
      if (o.pxn) d |= 1n << 53n;
      if (o.uxn) d |= 1n << 54n;
      this.r.mem.write64(this.entryIpa(va + off, 3), d);
    }
  }
}
