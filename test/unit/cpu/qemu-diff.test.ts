// Differential test of the A64 interpreter against QEMU user mode (qemu-aarch64): random cases from the guest
// instruction set (qemu-cases.ts) run in one static ELF per batch under QEMU and in the emulator; every register,
// NZCV and the scratch buffer must match to the bit. Fixed seed (override: QEMU_DIFF_SEED=n); on a mismatch the
// seed, batch, case, instructions and the registers before/after are printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binutilsAvailable } from './gnu-binutils';
import { BUF_SIZE, bufferPattern, makeCase, Rng, type Case } from './qemu-cases';
import { batchSource, buildImage, disposeImage, qemuMissing, REC, runEmulator, runQemu, type BuiltImage } from './qemu-image';

const SEED = Number(process.env.QEMU_DIFF_SEED ?? 0x5eed_a64);
const BATCHES = 12;
/** further batches of naturally aligned cases run with the MMU off (Device memory: the alignment-checking path) */
const MMU_OFF_BATCHES = 3;
/** and batches run at EL0 (MMU on, EL0-accessible pages), as qemu-aarch64 runs them */
const EL0_BATCHES = 3;
type Mode = 'EL1 MMU on' | 'EL1 MMU off' | 'EL0';
const PER_BATCH = 500;

const hex = (v: bigint): string => '0x' + v.toString(16).padStart(16, '0');
const flags = (v: number): string => (v & 8 ? 'N' : '-') + (v & 4 ? 'Z' : '-') + (v & 2 ? 'C' : '-') + (v & 1 ? 'V' : '-');

interface CaseRecord { x: bigint[]; nzcv: number; buf: Uint8Array }
function record(out: Uint8Array, i: number): CaseRecord {
  const dv = new DataView(out.buffer, out.byteOffset + i * REC, REC);
  const x: bigint[] = [];
  for (let k = 0; k < 31; k++) x.push(dv.getBigUint64(k * 8, true));
  return { x, nzcv: Number(dv.getBigUint64(248, true) >> 28n) & 15, buf: out.subarray(i * REC + 256, i * REC + 256 + BUF_SIZE) };
}

function describe(seed: number, batch: number, i: number, c: Case, img: BuiltImage, q: CaseRecord, e: CaseRecord): string {
  const buf = img.symbols.get('buf')!;
  const before = c.regs.map((v) => (typeof v === 'bigint' ? v : BigInt(buf + v.buf) & ((1n << 64n) - 1n)));
  const lines = [`seed=${seed} batch=${batch} case=${i} form=${c.form}`, ...c.lines.map((l) => `    ${l}`),
    ...(c.sp === undefined ? [] : [`  SP before ${hex(typeof c.sp === 'bigint' ? c.sp : BigInt(buf + c.sp.buf))} (after: x28)`]),
    `  NZCV before ${flags(c.nzcv)}  after qemu ${flags(q.nzcv)} emulator ${flags(e.nzcv)}`];
  for (let k = 0; k < 31; k++) {
    const mark = q.x[k] !== e.x[k] ? '  <-- differs' : '';
    if (mark || before[k] !== q.x[k]) lines.push(`  x${k}: before ${hex(before[k]!)} qemu ${hex(q.x[k]!)} emulator ${hex(e.x[k]!)}${mark}`);
  }
  for (let b = 0; b < BUF_SIZE; b++) {
    if (q.buf[b] !== e.buf[b]) lines.push(`  buf[${b}] (0x${(buf + b).toString(16)}): qemu 0x${q.buf[b]!.toString(16)} emulator 0x${e.buf[b]!.toString(16)}`);
  }
  return lines.join('\n');
}

/**
 * The harness itself: a register the sequence never names (nor writes implicitly, like BL's x30) must come back
 * from QEMU as it went in, which proves the register table, the record layout and the case boundaries line up.
 */
function harnessCheck(c: Case, img: BuiltImage, q: CaseRecord, where: string): void {
  const text = c.lines.join('\n');
  const buf = img.symbols.get('buf')!;
  for (let k = 0; k < 31; k++) {
    if (c.sp !== undefined && (k === 28 || k === 29)) continue; // SP result / record pointer (spForms)
    if (new RegExp(`\\b[xw]${k}\\b`).test(text) || (k === 30 && /\bbl/.test(text))) continue;
    const v = c.regs[k]!;
    const before = typeof v === 'bigint' ? v : BigInt(buf + v.buf);
    assert.equal(q.x[k], before, `${where}: x${k} changed although the case does not name it:\n${text}`);
  }
}

test('A64 interpreter matches qemu-aarch64 bit for bit on random guest-block instruction sequences', (t) => {
  const missing = qemuMissing();
  assert.equal(missing, undefined, missing);
  assert.ok(binutilsAvailable(), 'aarch64-linux-gnu-as/ld missing: apt-get install -y binutils-aarch64-linux-gnu');
  const t0 = process.hrtime.bigint();
  const rng = new Rng(SEED);
  const forms = new Map<string, number>();
  const failures: string[] = [];
  let cases = 0;
  for (let b = 0; b < BATCHES + MMU_OFF_BATCHES + EL0_BATCHES; b++) {
    const mode: Mode = b < BATCHES ? 'EL1 MMU on' : b < BATCHES + MMU_OFF_BATCHES ? 'EL1 MMU off' : 'EL0';
    const mmu = mode !== 'EL1 MMU off';
    const pattern = bufferPattern(rng);
    const batch: Case[] = [];
    while (batch.length < PER_BATCH) {
      const c = makeCase(rng, pattern);
      if (mmu || !c.misaligned) batch.push(c);
    }
    const img = buildImage(batchSource(batch, pattern));
    try {
      const qout = runQemu(img);
      assert.equal(qout.length, batch.length * REC, `seed=${SEED} batch=${b}: qemu wrote ${qout.length} bytes`);
      const emu = runEmulator(img, batch.length, { mmu, el0: mode === 'EL0' });
      if (emu.end !== 'svc') {
        // find the case it stopped in
        let at = -1;
        for (let i = 0; i < batch.length; i++) if (BigInt(img.symbols.get(`case_${i}`)!) <= emu.pc) at = i;
        const c = batch[at];
        assert.fail(`seed=${SEED} batch=${b} (${mode}): emulator stopped with ${emu.end} at pc 0x${emu.pc.toString(16)}` +
          (c ? ` in case ${at} (${c.form}):\n${c.lines.join('\n')}` : ''));
      }
      for (let i = 0; i < batch.length; i++) {
        const c = batch[i]!;
        for (const f of c.form.split(' ; ')) forms.set(f, (forms.get(f) ?? 0) + 1);
        const q = record(qout, i), e = record(emu.out, i);
        const same = q.nzcv === e.nzcv && q.x.every((v, k) => v === e.x[k]) && q.buf.every((v, k) => v === e.buf[k]);
        if (!same) failures.push(`${mode}: ` + describe(SEED, b, i, c, img, q, e));
        else harnessCheck(c, img, q, `seed=${SEED} batch=${b} case=${i}`);
      }
      cases += batch.length;
    } finally {
      disposeImage(img);
    }
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  t.diagnostic(`seed=${SEED}: ${cases} cases (${MMU_OFF_BATCHES * PER_BATCH} at EL1 with the MMU off, ${EL0_BATCHES * PER_BATCH} at EL0), ${forms.size} forms, ${failures.length} mismatches, ${ms.toFixed(0)} ms`);
  if (process.env.QEMU_DIFF_FORMS) t.diagnostic([...forms].sort().map(([f, n]) => `${f}: ${n}`).join('\n'));
  assert.equal(failures.length, 0, `${failures.length} mismatches against qemu-aarch64 (rerun: QEMU_DIFF_SEED=${SEED}):\n${failures.slice(0, 12).join('\n\n')}`);
});
