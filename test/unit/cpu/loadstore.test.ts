// Loads and stores: every size and sign, each addressing mode with its writeback, pairs, literals,
// exclusives with the local monitor, acquire/release, LSE atomics; alignment with the MMU off (LANGUAGE.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, rig } from './harness';

const M64 = (1n << 64n) - 1n;
const DATA = 0x10000n;

function withData(src: string, regs: Record<number, bigint> = {}, init?: (r: ReturnType<typeof rig>) => void) {
  const r = rig(`${src}\nhvc #0`);
  r.cpu.setX(1, DATA);
  for (const [k, v] of Object.entries(regs)) r.cpu.setX(Number(k), v);
  init?.(r);
  const e = r.run();
  assert.equal(e.kind, 'hvc', JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v)));
  return r;
}

const seed = (r: ReturnType<typeof rig>): void => { r.mem.write64(Number(DATA), 0x8182838485868788n); r.mem.write64(Number(DATA) + 8, 0x1122334455667788n); };

test('loads of every size and sign', () => {
  const cases: [string, bigint][] = [
    ['ldrb w0, [x1]', 0x88n], ['ldrsb w0, [x1]', 0xffffff88n], ['ldrsb x0, [x1]', M64 - 0x77n],
    ['ldrh w0, [x1]', 0x8788n], ['ldrsh w0, [x1]', 0xffff8788n], ['ldrsh x0, [x1]', 0xffff_ffff_ffff_8788n],
    ['ldr w0, [x1]', 0x85868788n], ['ldrsw x0, [x1]', 0xffff_ffff_8586_8788n], ['ldr x0, [x1]', 0x8182838485868788n],
    ['ldr x0, [x1, #8]', 0x1122334455667788n], ['ldur w0, [x1, #4]', 0x81828384n], ['ldur x0, [x1, #8]', 0x1122334455667788n],
    ['ldrb w0, [x1, #15]', 0x11n], ['ldrh w0, [x1, #2]', 0x8586n],
  ];
  for (const [insn, want] of cases) {
    const r = withData(`mov x0, #-1\n${insn}`, {}, seed);
    assert.equal(r.cpu.getX(0), want, insn);
  }
});

test('stores of every size write exactly that many bytes', () => {
  for (const [insn, want] of [
    ['strb w2, [x1]', 0xffff_ffff_ffff_ff88n], ['strh w2, [x1]', 0xffff_ffff_ffff_7788n],
    ['str w2, [x1]', 0xffff_ffff_5566_7788n], ['str x2, [x1]', 0x1122334455667788n],
    ['stur w2, [x1, #4]', 0x5566_7788_ffff_ffffn],
  ] as [string, bigint][]) {
    const r = withData(insn, { 2: 0x1122334455667788n }, (r) => r.mem.write64(Number(DATA), M64));
    assert.equal(r.mem.read64(Number(DATA)), want, insn);
  }
});

test('addressing modes: pre-index and post-index write back, offset does not; register offset with extend', () => {
  let r = withData('ldr x0, [x1, #8]!', {}, seed);
  assert.equal(r.cpu.getX(0), 0x1122334455667788n);
  assert.equal(r.cpu.getX(1), DATA + 8n);
  r = withData('ldr x0, [x1], #8', {}, seed);
  assert.equal(r.cpu.getX(0), 0x8182838485868788n);
  assert.equal(r.cpu.getX(1), DATA + 8n);
  r = withData('str w2, [x1, #-4]!', { 2: 7n });
  assert.equal(r.cpu.getX(1), DATA - 4n);
  assert.equal(r.mem.read32(Number(DATA) - 4), 7);
  r = withData('ldr x0, [x1, x3, lsl #3]', { 3: 1n }, seed);
  assert.equal(r.cpu.getX(0), 0x1122334455667788n);
  r = withData('ldrb w0, [x1, w3, sxtw]', { 3: 0xffffffffn }, (r) => r.mem.write8(Number(DATA) - 1, 0x5a));
  assert.equal(r.cpu.getX(0), 0x5an);
  r = withData('ldr w0, [x1, w3, uxtw #2]', { 3: 2n }, seed);
  assert.equal(r.cpu.getX(0), 0x55667788n);
});

test('ldp/stp in 32 and 64 bits, ldpsw, with writeback', () => {
  let r = withData('ldp x2, x3, [x1]', {}, seed);
  assert.equal(r.cpu.getX(2), 0x8182838485868788n);
  assert.equal(r.cpu.getX(3), 0x1122334455667788n);
  r = withData('ldp w2, w3, [x1, #8]!', {}, seed);
  assert.equal(r.cpu.getX(2), 0x55667788n);
  assert.equal(r.cpu.getX(3), 0x11223344n);
  assert.equal(r.cpu.getX(1), DATA + 8n);
  r = withData('ldpsw x2, x3, [x1]', {}, seed);
  assert.equal(r.cpu.getX(2), 0xffff_ffff_8586_8788n);
  assert.equal(r.cpu.getX(3), 0xffff_ffff_8182_8384n);
  r = withData('stp x2, x3, [x1, #-16]!\nldp x4, x5, [x1], #16', { 2: 1n, 3: 2n });
  assert.equal(r.cpu.getX(4), 1n);
  assert.equal(r.cpu.getX(5), 2n);
  assert.equal(r.cpu.getX(1), DATA);
  r = withData('stp w2, w3, [x1]', { 2: 0xaaaaaaaabbbbbbbbn, 3: 0xccccccccn });
  assert.equal(r.mem.read64(Number(DATA)), 0xcccccccc_bbbbbbbbn);
});

test('ldr literal (w, x, sw) and the SP as a base register', () => {
  let r = exec('ldr x0, lit\nldr w2, lit\nldrsw x3, lit\nhvc #0\n.align 3\nlit: .quad 0xfedcba9880000000');
  assert.equal(r.cpu.getX(0), 0xfedcba9880000000n);
  assert.equal(r.cpu.getX(2), 0x80000000n);
  assert.equal(r.cpu.getX(3), 0xffff_ffff_8000_0000n);
  r = withData('mov sp, x1\nstr x2, [sp, #-16]!\nldr x0, [sp], #16\nmov x5, sp', { 2: 42n });
  assert.equal(r.cpu.getX(0), 42n);
  assert.equal(r.cpu.getX(5), DATA);
});

test('exclusives: ldxr/stxr succeed with the monitor (status 0) and fail without it (status 1)', () => {
  let r = withData('ldxr x0, [x1]\nadd x0, x0, #1\nstxr w3, x0, [x1]', { 3: 9n }, seed);
  assert.equal(r.cpu.getX(3), 0n);
  assert.equal(r.mem.read64(Number(DATA)), 0x8182838485868789n);
  r = withData('stxr w3, x2, [x1]', { 2: 5n }, seed); // no ldxr: fails, memory untouched
  assert.equal(r.cpu.getX(3), 1n);
  assert.equal(r.mem.read64(Number(DATA)), 0x8182838485868788n);
  r = withData('ldaxr w0, [x1]\nclrex\nstlxr w3, w0, [x1]', {}, seed);
  assert.equal(r.cpu.getX(3), 1n);
  r = withData('ldxr w0, [x1]\nstxr w3, w2, [x1]\nstxr w4, w2, [x1]', { 2: 1n }, seed); // the first stxr clears it
  assert.equal(r.cpu.getX(3), 0n);
  assert.equal(r.cpu.getX(4), 1n);
  // another agent changed the value between ldxr and stxr: fails
  const r2 = rig('ldxr x0, [x1]\nhvc #0\nstxr w3, x0, [x1]\nhvc #0');
  r2.cpu.setX(1, DATA);
  assert.equal(r2.run().kind, 'hvc');
  r2.mem.write64(Number(DATA), 77n);
  assert.equal(r2.run().kind, 'hvc');
  assert.equal(r2.cpu.getX(3), 1n);
});

test('ldar/stlr move data like ldr/str', () => {
  const r = withData('stlr x2, [x1]\nldar w0, [x1]\nstlrb w2, [x1, #0]\nldarh w4, [x1]', { 2: 0x1_2345_6789n });
  assert.equal(r.cpu.getX(0), 0x23456789n);
  assert.equal(r.cpu.getX(4), 0x6789n);
});

test('LSE: cas/casa/casal/casl compare-and-swap, ldadd, swp', () => {
  let r = withData('mov x0, x5\ncas x0, x2, [x1]', { 5: 0x8182838485868788n, 2: 7n }, seed);
  assert.equal(r.mem.read64(Number(DATA)), 7n);
  assert.equal(r.cpu.getX(0), 0x8182838485868788n);
  r = withData('casal x0, x2, [x1]', { 0: 1n, 2: 7n }, seed); // mismatch: no store, Rs gets the old value
  assert.equal(r.mem.read64(Number(DATA)), 0x8182838485868788n);
  assert.equal(r.cpu.getX(0), 0x8182838485868788n);
  r = withData('casa w0, w2, [x1]\nmov w0, w2\ncasl w0, w3, [x1]', { 0: 0x85868788n, 2: 5n, 3: 6n }, seed);
  assert.equal(r.mem.read32(Number(DATA)), 6);
  r = withData('ldadd x2, x0, [x1]', { 2: 1n }, seed);
  assert.equal(r.cpu.getX(0), 0x8182838485868788n);
  assert.equal(r.mem.read64(Number(DATA)), 0x8182838485868789n);
  r = withData('ldaddal w2, w0, [x1]', { 2: 0x7a797879n }, seed); // 32-bit wrap
  assert.equal(r.mem.read32(Number(DATA)), 0x00000001);
  assert.equal(r.cpu.getX(0), 0x85868788n);
  r = withData('swp x2, x0, [x1]', { 2: 3n }, seed);
  assert.equal(r.cpu.getX(0), 0x8182838485868788n);
  assert.equal(r.mem.read64(Number(DATA)), 3n);
  r = withData('ldsetb w2, w0, [x1]\nldclrh w3, w4, [x1]', { 2: 0x07n, 3: 0xffn }, seed);
  assert.equal(r.cpu.getX(0), 0x88n);
  assert.equal(r.mem.read16(Number(DATA)), 0x8700);
});

test('MMU off: unaligned data access is an alignment fault (FSC 0x21) to EL1; exclusives/atomics succeed', () => {
  const r = rig('ldr w0, [x1, #1]\nhvc #0');
  r.cpu.setX(1, DATA);
  r.cpu.setSysreg('VBAR_EL1', 0x8000n);
  assert.equal(r.run(1).kind, 'budget');
  assert.equal(r.cpu.getPc(), 0x8200n); // current EL with SP_ELx, sync
  const esr = r.cpu.getSysreg('ESR_EL1');
  assert.equal(esr >> 26n, 0x25n);
  assert.equal(esr & 0x3fn, 0x21n);
  assert.equal(r.cpu.getSysreg('FAR_EL1'), DATA + 1n);
  const ok = withData('ldxr x0, [x1]\nstxr w3, x0, [x1]\nldadd x2, x4, [x1]', { 2: 1n }, seed);
  assert.equal(ok.cpu.getX(3), 0n);
  // a misaligned exclusive is an alignment fault on any memory type
  const bad = rig('ldxr x0, [x1]\nhvc #0');
  bad.cpu.setX(1, DATA + 4n);
  bad.run(1);
  assert.equal(bad.cpu.getSysreg('ESR_EL1') & 0x3fn, 0x21n);
});

test('MMU off: dc zva takes an alignment fault', () => {
  const r = rig('dc zva, x1\nhvc #0');
  r.cpu.setX(1, DATA);
  r.run(1);
  const esr = r.cpu.getSysreg('ESR_EL1');
  assert.equal(esr >> 26n, 0x25n);
  assert.equal(esr & 0x3fn, 0x21n);
  assert.equal((esr >> 6n) & 1n, 1n); // WnR: dc zva is a write
});

