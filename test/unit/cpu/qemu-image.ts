// The QEMU differential harness: one static Linux ELF runs a batch of cases (qemu-cases.ts). For each case `_start`
// resets the scratch buffer, sets NZCV and x0..x30 from a table, runs the sequence, then stores x0..x30, NZCV and
// the buffer into a 512-byte record addressed by SP (the sequences touch SP only in the SP forms, which get their
// own SP and hand it back in x28, see qemu-cases.ts spForms). The 256-byte buffer straddles a 4K page boundary,
// so unaligned accesses near its middle cross pages (the emulator's split-access path). At the end one
// `write(1, out, n)` loop prints all records and `exit(0)`. The very same linked image runs in qemu-aarch64 (EL0,
// Linux user mode) and in the emulator (EL1, stage 1 identity map with Normal memory over a fake stage 2), which
// stops at the first SVC; both produce the same record array, compared byte for byte.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rig, Stage1Builder } from './harness';
import { BUF_SIZE, type Case } from './qemu-cases';

export const REC = 512;
/**
 * EL1 vector base: outside both the stage 1 map and the rig's 16 MiB stage 2, so the fetch from any vector stops
 * the run (a guest exception with the MMU on, a stage 2 instruction abort exit with it off).
 */
const VBAR = 0x2000000n;
export const QEMU = 'qemu-aarch64';
const MARCH = '-march=armv8.2-a+lse';

export function qemuMissing(): string | undefined {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return `${QEMU} not found: the QEMU differential test needs QEMU user mode. Install it with ` +
    '`apt-get install -y qemu-user` (CI installs it through .ci/run).';
}

const regValue = (v: bigint | { buf: number }): string =>
  typeof v === 'bigint' ? '0x' + v.toString(16) : `buf + (${v.buf})`;

/** assembly source of one batch */
export function batchSource(cases: readonly Case[], pattern: Uint8Array): string {
  const t: string[] = [];
  t.push('.text', '.global _start', '_start:', 'adrp x0, out', 'add x0, x0, :lo12:out', 'mov sp, x0');
  cases.forEach((c, i) => {
    t.push(`// case ${i}: ${c.form}`, 'bl reset_buf', 'clrex', `movz x0, #${c.nzcv << 12}, lsl #16`, 'msr nzcv, x0',
      `adrp x30, regs_${i}`, `add x30, x30, :lo12:regs_${i}`);
    if (c.sp !== undefined) t.push('mov x0, sp', 'msr tpidr_el0, x0', 'ldr x0, [x30, #248]', 'mov sp, x0');
    for (let k = 0; k < 30; k += 2) t.push(`ldp x${k}, x${k + 1}, [x30, #${k * 8}]`);
    t.push('ldr x30, [x30, #240]');
    t.push(`case_${i}:`, ...c.lines, `case_${i}_end:`);
    if (c.sp !== undefined) t.push('mov x28, sp', 'mrs x29, tpidr_el0', 'mov sp, x29');
    for (let k = 0; k < 30; k += 2) t.push(`stp x${k}, x${k + 1}, [sp, #${k * 8}]`);
    t.push('str x30, [sp, #240]', 'mrs x0, nzcv', 'str x0, [sp, #248]', 'bl dump_buf', `add sp, sp, #${REC}`);
  });
  t.push(
    'adrp x1, out', 'add x1, x1, :lo12:out', `ldr x2, =${cases.length * REC}`,
    '2: mov x0, #1', 'mov x8, #64', 'svc #0', 'cmp x0, #0', 'b.le 3f', 'add x1, x1, x0', 'sub x2, x2, x0', 'cbnz x2, 2b',
    'mov x0, #0', 'mov x8, #93', 'svc #0',
    '3: mov x0, #3', 'mov x8, #93', 'svc #0',
    'reset_buf: adrp x0, pattern', 'add x0, x0, :lo12:pattern', 'adrp x1, buf', 'add x1, x1, :lo12:buf',
    `mov x2, #${BUF_SIZE}`, '4: ldp x3, x4, [x0], #16', 'stp x3, x4, [x1], #16', 'subs x2, x2, #16', 'b.ne 4b', 'ret',
    'dump_buf: adrp x0, buf', 'add x0, x0, :lo12:buf', 'add x1, sp, #256',
    `mov x2, #${BUF_SIZE}`, '5: ldp x3, x4, [x0], #16', 'stp x3, x4, [x1], #16', 'subs x2, x2, #16', 'b.ne 5b', 'ret',
    '.ltorg',
    '.data', '.balign 4096', `.space ${4096 - BUF_SIZE / 2}`, `buf: .space ${BUF_SIZE}`, `pattern: .byte ${Array.from(pattern).join(', ')}`, '.balign 8');
  cases.forEach((c, i) => t.push(`regs_${i}: .quad ${[...c.regs, c.sp ?? 0n].map(regValue).join(', ')}`));
  t.push('.bss', '.balign 16', `out: .space ${cases.length * REC}`);
  return t.join('\n') + '\n';
}

export interface BuiltImage {
  elf: Uint8Array;
  symbols: Map<string, number>;
  dir: string;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** assemble + link (static, no libc) */
export function buildImage(src: string): BuiltImage {
  const dir = mkdtempSync(join(tmpdir(), 'qemu-diff-'));
  const s = join(dir, 'batch.s'), o = join(dir, 'batch.o'), e = join(dir, 'batch.elf');
  writeFileSync(s, src);
  run('aarch64-linux-gnu-as', [MARCH, s, '-o', o]);
  run('aarch64-linux-gnu-ld', ['-static', '-nostdlib', '-e', '_start', o, '-o', e]);
  const symbols = new Map<string, number>();
  for (const line of run('aarch64-linux-gnu-nm', [e]).split('\n')) {
    const m = /^([0-9a-f]+) \w (\S+)$/.exec(line);
    if (m) symbols.set(m[2]!, parseInt(m[1]!, 16));
  }
  return { elf: new Uint8Array(readFileSync(e)), symbols, dir };
}

export function disposeImage(img: BuiltImage): void { rmSync(img.dir, { recursive: true, force: true }); }

/** run under qemu-aarch64; returns stdout (the records) */
export function runQemu(img: BuiltImage): Uint8Array {
  const r = spawnSync(QEMU, [join(img.dir, 'batch.elf')], { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${QEMU} exited ${r.status} (signal ${r.signal}): ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

interface Segment { vaddr: number; data: Uint8Array; memsz: number; exec: boolean }
/** PT_LOAD segments of a little-endian ELF64 */
function loadSegments(elf: Uint8Array): { entry: number; segs: Segment[] } {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const entry = Number(dv.getBigUint64(24, true));
  const phoff = Number(dv.getBigUint64(32, true)), phentsize = dv.getUint16(54, true), phnum = dv.getUint16(56, true);
  const segs: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue;
    const off = Number(dv.getBigUint64(p + 8, true)), vaddr = Number(dv.getBigUint64(p + 16, true));
    const filesz = Number(dv.getBigUint64(p + 32, true)), memsz = Number(dv.getBigUint64(p + 40, true));
    segs.push({ vaddr, data: elf.subarray(off, off + filesz), memsz, exec: (dv.getUint32(p + 4, true) & 1) !== 0 });
  }
  return { entry, segs };
}

export interface EmulatorRun {
  /** the record array (same layout as QEMU's stdout) */
  out: Uint8Array;
  /** how the run ended: 'svc' when it reached the write syscall */
  end: string;
  /** PC where it stopped */
  pc: bigint;
  instructions: number;
}

/**
 * Run the image in the emulator: IPA == PA (fake stage 2 over 16 MiB), EL1, until the first SVC. With `mmu` a
 * stage 1 identity map of the ELF with Normal memory (unaligned accesses behave as in Linux user mode); without,
 * the reset state's MMU off: every data access is Device memory, so only naturally aligned cases may run. With
 * `el0` (MMU on, pages EL0-accessible) the image runs at EL0t like under Linux, through the EL0 permission paths.
 */
export function runEmulator(img: BuiltImage, nCases: number, opts: { mmu: boolean; el0?: boolean } = { mmu: true }): EmulatorRun {
  const { entry, segs } = loadSegments(img.elf);
  const r = rig(undefined, { stop: true });
  const s1 = opts.mmu || opts.el0 ? new Stage1Builder(r) : undefined;
  for (const s of segs) {
    r.mem.writeBytes(s.vaddr, s.data);
    const lo = Math.floor(s.vaddr / 4096) * 4096, hi = Math.ceil((s.vaddr + s.memsz) / 4096) * 4096;
    if (hi > 16 << 20 || lo < 0x300000) throw new Error(`segment at 0x${s.vaddr.toString(16)} outside the rig's window`);
    // data: AP=1 (EL1 and EL0 read/write, so LDTR/STTR work at EL1 too); code: AP=0 at EL1 (an EL0-writable page
    // is never EL1-executable), AP=1 when the image runs at EL0
    s1?.map(lo, lo, hi - lo, { ap: opts.el0 || !s.exec ? 1 : 0 });
  }
  s1?.enable();
  if (opts.el0) r.cpu.setPstate(0n); // EL0t, as Linux user mode runs the image
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.cpu.setPc(BigInt(entry));
  let instructions = 0, end = '';
  for (;;) {
    const e = r.cpu.execute(1 << 20);
    instructions += 1 << 20;
    if (e.kind === 'budget') { if (instructions > 1 << 26) { end = 'budget'; break; } continue; }
    // SVC is taken to EL1 (not a stop condition); the fetch from the unmapped vector table then stops the run
    const svc = ((r.cpu.getSysreg('ESR_EL1') >> 26n) & 0x3fn) === 0x15n;
    // the SVC's vector: current EL with SP_ELx (+0x200) from EL1, lower EL AArch64 (+0x400) from EL0
    const vec = VBAR + (opts.el0 ? 0x400n : 0x200n);
    const atVector = (e.kind === 'guest-exception' && e.elr === vec) || (e.kind === 'iabt' && e.far === vec);
    if (svc && atVector) end = 'svc';
    else if (e.kind === 'guest-exception') end = `exception esr=0x${e.esr.toString(16)} elr=0x${e.elr.toString(16)} far=0x${e.far.toString(16)}`;
    else end = e.kind;
    break;
  }
  const out = r.mem.readBytes(img.symbols.get('out')!, nCases * REC);
  return { out, end, pc: r.cpu.getPc(), instructions };
}
