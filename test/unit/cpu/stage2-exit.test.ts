// Stage 2 aborts raised without unwinding (cpu.ts tryLoad/tryStore, the fault-in fast path) must leave the vcpu
// exactly as the unwinding path does: the instruction has not retired (PC, registers, writeback, memory, ticks
// unchanged) and the exit carries the C.1 syndrome; after the page is mapped the instruction completes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  abortEsr, ACC_AR, ACC_ISV, ACC_SAS_SHIFT, ACC_SF, ACC_SSE, EC_DABT_LOW, EC_IABT_LOW, hpfarFor, stage2AbortEsr,
} from '../../../emulator/cpu/exceptions';
import { CODE, rig } from './harness';

const HOLE = 0x0900_0000;

test('C.1 stage2AbortEsr builds the same ESR_EL2 as abortEsr for every field combination', () => {
  fc.assert(fc.property(
    fc.boolean(), fc.integer({ min: 0, max: 0x3f }), fc.boolean(), fc.boolean(), fc.boolean(),
    fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 31 }), fc.boolean(), fc.boolean(),
    (iabt, fsc, wnr, s1ptw, cm, isv, sas, sse, srt, sf, ar) => {
      const acc = (isv ? ACC_ISV : 0) | (sas << ACC_SAS_SHIFT) | (sse ? ACC_SSE : 0) | srt | (sf ? ACC_SF : 0) | (ar ? ACC_AR : 0);
      const want = abortEsr({
        ec: iabt ? EC_IABT_LOW : EC_DABT_LOW, fsc, wnr, s1ptw, cm,
        iss: isv ? { isv: true, sas, sse, srt, sf, ar } : undefined,
      });
      assert.equal(stage2AbortEsr(iabt, fsc, wnr, s1ptw, cm, acc), want);
    }));
});

test('C.3 hpfarFor: FIPA[39:4] = IPA[47:12]', () => {
  for (const ipa of [0, 0xfff, 0x1000, 0x4000_1234, 2 ** 47 + 0x5000, 2 ** 52 - 1]) {
    assert.equal(hpfarFor(ipa), (BigInt(Math.floor(ipa / 4096)) & ((1n << 36n) - 1n)) << 4n, `ipa ${ipa.toString(16)}`);
  }
});

const cases: [string, string][] = [
  ['post-index load', 'ldr x2, [x1], #16'],
  ['pre-index store', 'str x2, [x1, #16]!'],
  ['unsigned-offset 64-bit load', 'ldr x2, [x1, #8]'],
  ['unsigned-offset 32-bit load', 'ldr w2, [x1, #8]'],
  ['signed byte load', 'ldrsb x2, [x1]'],
  ['register-offset store', 'str w2, [x1, x3]'],
  ['load-acquire', 'ldar x2, [x1]'],
];

for (const [name, insn] of cases) {
  test(`C.1 stage 2 abort on a ${name} (${insn}) does not retire it; it completes once mapped`, () => {
    const r = rig(`${insn}\nhvc #0`);
    r.s2.unmap(HOLE - 4096, 8192);
    r.cpu.setX(1, BigInt(HOLE));
    r.cpu.setX(2, 0x1122_3344_5566_7788n);
    r.cpu.setX(3, 4n);
    const before = r.cpu.regs();
    const ticks = r.cpu.ticks;
    const e = r.run();
    assert.equal(e.kind, 'dabt');
    assert.deepEqual(r.cpu.regs(), before, 'registers, writeback and PC unchanged');
    assert.equal(r.cpu.ticks, ticks, 'the faulting instruction is not counted');
    assert.equal(r.mem.touchedChunks, 1, 'nothing written but the code page');
    r.s2.map(HOLE - 4096, HOLE - 4096, 8192);
    assert.equal(r.run().kind, 'hvc');
    assert.equal(r.cpu.getPc(), BigInt(CODE + 8));
  });
}

test('C.1 instruction fetch from an unmapped IPA exits with an instruction abort, PC at the target', () => {
  const r = rig('br x1');
  r.cpu.setX(1, BigInt(HOLE));
  const e = r.run();
  assert.equal(e.kind, 'iabt');
  if (e.kind !== 'iabt') return;
  assert.equal(e.far, BigInt(HOLE));
  assert.equal(e.hpfar, BigInt(HOLE / 4096) << 4n);
  assert.equal(r.cpu.getPc(), BigInt(HOLE));
});
