// Stage 2 aborts as the hardware reports them to EL2 (spec C.1 ESR_EL2, C.2 FSC, C.3 FAR_EL2/HPFAR_EL2):
// guest access -> expected exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE, rig, Stage1Builder, type Rig } from './harness';

const HOLE = 0x0900_0000; // an IPA with no stage 2 mapping (MMIO-like)

interface Esr { ec: number; il: number; isv: number; sas: number; sse: number; srt: number; sf: number; ar: number; cm: number; s1ptw: number; wnr: number; fsc: number }
function fields(esr: bigint): Esr {
  const v = Number(esr);
  return {
    ec: v >>> 26, il: (v >>> 25) & 1, isv: (v >>> 24) & 1, sas: (v >>> 22) & 3, sse: (v >>> 21) & 1, srt: (v >>> 16) & 31,
    sf: (v >>> 15) & 1, ar: (v >>> 14) & 1, cm: (v >>> 8) & 1, s1ptw: (v >>> 7) & 1, wnr: (v >>> 6) & 1, fsc: v & 0x3f,
  };
}

function abortOf(src: string, regs: Record<number, bigint> = {}, setup?: (r: Rig) => void) {
  const r = rig(src);
  for (const [k, v] of Object.entries(regs)) r.cpu.setX(Number(k), v);
  setup?.(r);
  const before = r.cpu.regs();
  const e = r.run();
  assert.ok(e.kind === 'dabt' || e.kind === 'iabt', `expected an abort exit, got ${e.kind}`);
  return { r, e, esr: fields(e.esr), before };
}

const x1 = BigInt(HOLE);

const isvCases: [string, Partial<Esr>][] = [
  ['ldr w3, [x1]', { isv: 1, sas: 2, sse: 0, srt: 3, sf: 0, ar: 0, wnr: 0 }],
  ['ldr x4, [x1]', { isv: 1, sas: 3, sse: 0, srt: 4, sf: 1, wnr: 0 }],
  ['ldrh w5, [x1]', { isv: 1, sas: 1, sse: 0, srt: 5, sf: 0 }],
  ['ldrb w6, [x1]', { isv: 1, sas: 0, sse: 0, srt: 6, sf: 0 }],
  ['ldrsb x7, [x1]', { isv: 1, sas: 0, sse: 1, srt: 7, sf: 1 }],
  ['ldrsh w8, [x1]', { isv: 1, sas: 1, sse: 1, srt: 8, sf: 0 }],
  ['ldrsw x9, [x1]', { isv: 1, sas: 2, sse: 1, srt: 9, sf: 1 }],
  ['str x10, [x1]', { isv: 1, sas: 3, srt: 10, sf: 1, wnr: 1 }],
  ['strb wzr, [x1]', { isv: 1, sas: 0, srt: 31, sf: 0, wnr: 1 }],
  ['str w2, [x1, #8]', { isv: 1, sas: 2, srt: 2, wnr: 1 }],
  ['ldur x2, [x1, #-8]', { isv: 1, sas: 3, srt: 2 }],
  ['ldr w2, [x1, x3]', { isv: 1, sas: 2, srt: 2 }],
  ['ldar w11, [x1]', { isv: 1, sas: 2, srt: 11, ar: 1, wnr: 0 }],
  ['stlr x12, [x1]', { isv: 1, sas: 3, srt: 12, sf: 1, ar: 1, wnr: 1 }],
];

for (const [insn, want] of isvCases) {
  test(`C.1 ISV=1 single-register access: ${insn}`, () => {
    const { e, esr } = abortOf(`${insn}\nhvc #0`, { 1: x1, 3: 0n });
    assert.equal(e.kind, 'dabt');
    assert.equal(esr.ec, 0x24, 'DABT_LOW');
    assert.equal(esr.il, 1);
    assert.equal(esr.fsc, 0x07, 'translation fault level 3');
    assert.equal(esr.s1ptw, 0);
    for (const [k, v] of Object.entries(want)) assert.equal(esr[k as keyof Esr], v, k);
  });
}

const noIsv: [string, number][] = [
  ['ldr x2, [x1, #8]!', 0], ['ldr x2, [x1], #8', 0], ['str x2, [x1, #-8]!', 1], ['ldp x2, x3, [x1]', 0],
  ['stp w2, w3, [x1]', 1], ['ldxr x2, [x1]', 0], ['stxr w4, x2, [x1]', 1], ['cas x2, x3, [x1]', 1],
  ['ldadd x2, x3, [x1]', 1], ['swp w2, w3, [x1]', 1],
];
for (const [insn, wnr] of noIsv) {
  test(`C.1 ISV=0 (writeback, pair, exclusive, atomic): ${insn}`, () => {
    const { r, e, esr, before } = abortOf(`${insn}\nhvc #0`, { 1: x1 });
    assert.equal(e.kind, 'dabt');
    assert.equal(esr.isv, 0);
    assert.equal(esr.sas | esr.srt | esr.sse | esr.sf | esr.ar, 0, 'ISS[23:14] are zero without ISV');
    assert.equal(esr.wnr, wnr);
    assert.equal(r.cpu.getX(1), before.x[1], 'no writeback on a faulting access');
    assert.equal(r.cpu.getPc(), BigInt(CODE), 'PC stays at the faulting instruction');
  });
}

test('C.1 dc zva on an unmapped IPA: ISV=0, CM=0, WnR=1 (a store), FAR = the VA', () => {
  const r = rig('dc zva, x1\nhvc #0');
  const s1 = new Stage1Builder(r);
  s1.map(0, 0, 0x20000);
  s1.map(0x4000_0000, HOLE, 4096);
  s1.enable();
  r.cpu.setX(1, 0x4000_0040n);
  const e = r.run();
  assert.equal(e.kind, 'dabt');
  const f = fields(e.kind === 'dabt' ? e.esr : 0n);
  assert.equal(f.isv, 0);
  assert.equal(f.cm, 0);
  assert.equal(f.wnr, 1);
  if (e.kind === 'dabt') {
    assert.equal(e.far, 0x4000_0040n);
    assert.equal(e.hpfar, BigInt(HOLE >> 12) << 4n);
  }
});

test('C.1 dc civac on an unmapped IPA: CM=1 and WnR=1', () => {
  const { esr } = abortOf('dc civac, x1\nhvc #0', { 1: x1 + 0x40n });
  assert.equal(esr.cm, 1);
  assert.equal(esr.wnr, 1);
  assert.equal(esr.isv, 0);
});

test('C.3 FAR_EL2 = VA, HPFAR_EL2 = IPA[47:12] << 4 through stage 1', () => {
  const r = rig('ldr w0, [x1]\nhvc #0');
  const s1 = new Stage1Builder(r);
  s1.map(0, 0, 0x20000);
  s1.map(0x4000_0000, 0x12_3456_7000, 4096);
  s1.enable();
  r.cpu.setX(1, 0x4000_0abcn);
  const e = r.run();
  assert.equal(e.kind, 'dabt');
  if (e.kind !== 'dabt') return;
  assert.equal(e.far, 0x4000_0abcn);
  assert.equal(e.hpfar, 0x12_3456_7n << 4n);
  assert.equal((e.hpfar & ~0xfn) << 8n | (e.far & 0xfffn), 0x12_3456_7abcn, 'KVM fault_ipa reconstruction');
});

test('C.1 S1PTW: a stage 1 table in unmapped IPA space: S1PTW=1, ISV=0, WnR=0 (the walk reads), HPFAR = table IPA', () => {
  const r = rig('str x0, [x1]\nhvc #0');
  const s1 = new Stage1Builder(r);
  s1.map(0, 0, 0x20000);
  const l3 = s1.tableFor(0x4000_0000, 3); // create the path, then point the L2 entry at an unmapped table
  void l3;
  r.mem.write64(s1.entryIpa(0x4000_0000, 2), BigInt(0x0a00_0000) | 3n);
  s1.enable();
  r.cpu.setX(1, 0x4000_0000n);
  const e = r.run();
  assert.equal(e.kind, 'dabt');
  if (e.kind !== 'dabt') return;
  const f = fields(e.esr);
  assert.equal(f.s1ptw, 1);
  assert.equal(f.isv, 0);
  assert.equal(f.wnr, 0, 'hardware reports the walk read, even for a store (C.1; KVM classifies S1PTW as a write)');
  assert.equal(f.fsc, 0x07);
  assert.equal(e.hpfar, BigInt(0x0a00_0000 >> 12) << 4n);
  assert.equal(e.far, 0x4000_0000n);
});

test('C.1 stage 2 permission fault: a store to a read-only stage 2 page (FSC 0x0F, WnR=1, ISV=1)', () => {
  const { esr } = abortOf('str w2, [x1]\nhvc #0', { 1: 0x40000n }, (r) => r.s2.map(0x40000, 0x40000, 4096, { write: false }));
  assert.equal(esr.fsc, 0x0f);
  assert.equal(esr.wnr, 1);
  assert.equal(esr.isv, 1);
});

test('C.1 stage 2 access flag fault (FSC 0x0B) and address size fault (FSC 0x01 at level 1)', () => {
  let a = abortOf('ldr w2, [x1]\nhvc #0', { 1: 0x40000n }, (r) => r.s2.map(0x40000, 0x40000, 4096, { af: false }));
  assert.equal(a.esr.fsc, 0x0b);
  a = abortOf('ldr w2, [x1]\nhvc #0', { 1: 1n << 41n });
  assert.equal(a.esr.fsc, 0x01);
});

test('C.1 instruction abort: stage 2 translation fault on fetch (EC 0x20, FAR = PC)', () => {
  const { e, esr } = abortOf('br x1', { 1: x1 });
  assert.equal(e.kind, 'iabt');
  assert.equal(esr.ec, 0x20);
  assert.equal(esr.fsc, 0x07);
  assert.equal(esr.wnr, 0);
  if (e.kind === 'iabt') {
    assert.equal(e.far, x1);
    assert.equal(e.hpfar, BigInt(HOLE >> 12) << 4n);
  }
});

test('C.1 AT S1E1R whose walk hits an unmapped table IPA exits to EL2 with S1PTW=1 and CM=1', () => {
  const r = rig('at s1e1r, x1\nhvc #0');
  const s1 = new Stage1Builder(r);
  s1.map(0, 0, 0x20000);
  s1.tableFor(0x4000_0000, 3);
  r.mem.write64(s1.entryIpa(0x4000_0000, 2), BigInt(0x0a00_0000) | 3n);
  s1.enable();
  r.cpu.setX(1, 0x4000_0000n);
  const e = r.run();
  assert.equal(e.kind, 'dabt');
  if (e.kind !== 'dabt') return;
  const f = fields(e.esr);
  assert.equal(f.s1ptw, 1);
  assert.equal(f.cm, 1);
});

test('stage 2 device mapping: reads return 0 and writes are ignored (pfnmap)', () => {
  const r = rig('str x2, [x1]\nldr x0, [x1]\nhvc #0');
  r.s2.map(0x40000, 0x40000, 4096, { device: true });
  r.mem.write64(0x40000, 0x55n);
  r.cpu.setX(1, 0x40000n);
  r.cpu.setX(2, 7n);
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.cpu.getX(0), 0n);
  assert.equal(r.mem.read64(0x40000), 0x55n);
});
