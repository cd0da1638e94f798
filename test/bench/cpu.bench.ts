// CPU core throughput (ARCHITECTURE.md "64-bit values": measure before choosing the representation).
// (a) ALU/branch loop, MMU off; (b) the same loop with stage 1 + stage 2 on and a hot TLB, plus a load/store
// variant; (c) a loop touching a new page each iteration (TLB miss + stage 1 walk + on-demand stage 2 map).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventLog } from '../../emulator/events';
import type { S2Translation, Stage2Lookup } from '../../emulator/kvm/guest';
import { PhysMem } from '../../emulator/memory/physmem';
import { Cpu } from '../../emulator/cpu/cpu';

function asm(src: string): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-bench-'));
  writeFileSync(join(dir, 'a.s'), src + '\n');
  execFileSync('aarch64-linux-gnu-as', ['-march=armv8.2-a+lse', join(dir, 'a.s'), '-o', join(dir, 'a.o')]);
  execFileSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', join(dir, 'a.o'), join(dir, 'a.bin')]);
  const b = readFileSync(join(dir, 'a.bin'));
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 4) out.push(b.readUInt32LE(i));
  return out;
}

/** stage 2 that maps IPA == PA + 0x4000_0000 on demand (counts the faults it resolves) */
class OnDemandStage2 implements Stage2Lookup {
  readonly mapped = new Set<number>();
  faults = 0;
  translate(ipa: number): S2Translation {
    const p = Math.floor(ipa / 4096);
    if (!this.mapped.has(p)) return { valid: false, level: 3, reason: 'translation' };
    return { valid: true, level: 3, pa: ipa + 0x4000_0000, leafSize: 4096, read: true, write: true, execEl1: true, execEl0: true, af: true, device: false };
  }
  map(ipa: number): void { this.faults++; this.mapped.add(Math.floor(ipa / 4096)); }
}

const LOOP = `
  mov x2, #0
  movz x3, #0x100, lsl #16
1: add x1, x1, #1
  add w4, w4, w1
  eor x5, x5, x1
  subs x3, x3, #1
  b.ne 1b
  hvc #0`;

const LDST_LOOP = `
  movz x3, #0x100, lsl #16
  mov x6, #0x20000
1: ldr x1, [x6]
  add x1, x1, #1
  str x1, [x6, #8]
  subs x3, x3, #1
  b.ne 1b
  hvc #0`;

// x6 walks 1 GiB-aligned VA space one page per iteration; each touch misses the TLB and faults in stage 2
const PAGES = `
  mov x3, #20000
  movz x6, #0x10, lsl #32
1: str x3, [x6]
  add x6, x6, #4096
  subs x3, x3, #1
  b.ne 1b
  hvc #0`;

const CODE = 0x1000;
const TABLES = 0x100000;

/** 4-level stage 1 identity-ish tables: VA == IPA for the first 2 MiB (code/data) and 0x10_0000_0000 region */
function buildStage1(mem: PhysMem, s2: OnDemandStage2, ipaToPa: (ipa: number) => number, extraLeaf: boolean): void {
  let next = TABLES;
  const alloc = (): number => { const t = next; next += 4096; s2.map(t); return t; };
  const root = alloc();
  const write = (ipa: number, v: bigint): void => mem.write64(ipaToPa(ipa), v);
  const tableOf = (table: number, idx: number): number => {
    const d = mem.read64(ipaToPa(table + idx * 8));
    if ((d & 3n) === 3n) return Number(d & 0x0000_ffff_ffff_f000n);
    const t = alloc();
    write(table + idx * 8, BigInt(t) | 3n);
    return t;
  };
  const mapPage = (va: number, ipa: number): void => {
    const l1 = tableOf(root, Math.floor(va / 2 ** 39) % 512);
    const l2 = tableOf(l1, Math.floor(va / 2 ** 30) % 512);
    const l3 = tableOf(l2, Math.floor(va / 2 ** 21) % 512);
    // AF | SH=IS | AttrIndx 0 | page
    write(l3 + (Math.floor(va / 4096) % 512) * 8, BigInt(ipa) | (1n << 10n) | (3n << 8n) | 3n);
  };
  for (let va = 0; va < 0x40000; va += 4096) mapPage(va, va);
  if (extraLeaf) for (let i = 0; i < 20000; i++) mapPage(0x10_0000_0000 + i * 4096, 0x200000 + i * 4096);
}

function setup(src: string, mmu: boolean, extra = false): { cpu: Cpu; s2: OnDemandStage2 } {
  const mem = new PhysMem();
  const s2 = new OnDemandStage2();
  const cpu = new Cpu({ index: 0, mem, stage2: s2, events: new EventLog() });
  const ipaToPa = (ipa: number): number => ipa + 0x4000_0000;
  asm(src).forEach((w, i) => mem.write32(ipaToPa(CODE + 4 * i), w));
  for (let p = 0; p < 0x40000; p += 4096) s2.map(p);
  s2.faults = 0;
  if (mmu) {
    buildStage1(mem, s2, ipaToPa, extra);
    cpu.setSysreg('MAIR_EL1', 0xffn);
    cpu.setSysreg('TCR_EL1', 16n | (5n << 32n) | (1n << 23n)); // T0SZ=16, IPS=48, EPD1
    cpu.setSysreg('TTBR0_EL1', BigInt(TABLES));
    cpu.setSysreg('SCTLR_EL1', 0x00c5_0078n | 1n | 4n | 0x1000n);
  }
  s2.faults = 0;
  cpu.setPc(BigInt(CODE));
  return { cpu, s2 };
}

function measure(name: string, src: string, mmu: boolean, extra = false): void {
  const { cpu, s2 } = setup(src, mmu, extra);
  const t0 = performance.now();
  const start = cpu.ticks;
  for (;;) {
    const e = cpu.execute(1_000_000);
    if (e.kind === 'hvc') break;
    if (e.kind === 'dabt') { s2.map(Number((e.hpfar >> 4n) << 12n)); cpu.tlbFlush(); continue; }
    if (e.kind !== 'budget') throw new Error(`${name}: unexpected exit ${e.kind}`);
  }
  const dt = (performance.now() - t0) / 1000;
  const n = cpu.ticks - start;
  const extraInfo = s2.faults ? `, ${s2.faults} stage 2 faults (${((s2.faults / dt) / 1000).toFixed(1)} k faults/s)` : '';
  console.log(`${name.padEnd(44)} ${(n / dt / 1e6).toFixed(1).padStart(7)} M instr/s  (${n} instructions in ${dt.toFixed(2)} s${extraInfo})`);
}

const only = process.argv[2];
const want = (k: string): boolean => only === undefined || only === k;
if (want('a')) measure('(a) ALU/branch loop, MMU off', LOOP, false);
if (want('b')) measure('(b) ALU/branch loop, stage 1 + stage 2, hot TLB', LOOP, true);
if (want('b2')) measure('(b2) load/store loop, stage 1 + stage 2', LDST_LOOP, true);
if (want('b3')) measure('(b3) load/store loop, MMU off (Device)', LDST_LOOP, false);
if (want('c')) measure('(c) new page per iteration (fault-in path)', PAGES, true, true);
