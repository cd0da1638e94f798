import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleGuestAbort } from '../../../emulator/kvm/abort';
import { completeMmio } from '../../../emulator/kvm/mmio';
import type { PendingMmio } from '../../../emulator/kvm/exit-context';
import { abortExit, fields, FakeCpu, makeWorld } from './abort-fixture.test';

const DEV = 0x900_0000;

// ---------------------------------------------------------------------------------------------------------------
// C.5 #3 completion table: sizes x SSE x SF x rt=31

interface Row { len: number; sse: boolean; sf: boolean; data: bigint; want: bigint }
const rows: Row[] = [
  { len: 1, sse: false, sf: false, data: 0x80n, want: 0x80n },
  { len: 1, sse: true, sf: false, data: 0x80n, want: 0xffff_ff80n },              // LDRSB Wt
  { len: 1, sse: true, sf: true, data: 0x80n, want: 0xffff_ffff_ffff_ff80n },     // LDRSB Xt
  { len: 1, sse: true, sf: true, data: 0x7fn, want: 0x7fn },
  { len: 1, sse: false, sf: true, data: 0x1234n, want: 0x34n },                  // only len bytes are taken
  { len: 2, sse: false, sf: false, data: 0xbeefn, want: 0xbeefn },
  { len: 2, sse: true, sf: false, data: 0xbeefn, want: 0xffff_beefn },           // LDRSH Wt
  { len: 2, sse: true, sf: true, data: 0xbeefn, want: 0xffff_ffff_ffff_beefn },  // LDRSH Xt
  { len: 4, sse: false, sf: false, data: 0xdead_beefn, want: 0xdead_beefn },
  { len: 4, sse: true, sf: true, data: 0xdead_beefn, want: 0xffff_ffff_dead_beefn }, // LDRSW
  { len: 4, sse: true, sf: true, data: 0x7ead_beefn, want: 0x7ead_beefn },
  { len: 4, sse: false, sf: true, data: 0x1_dead_beefn, want: 0xdead_beefn },
  { len: 8, sse: false, sf: true, data: 0x0123_4567_89ab_cdefn, want: 0x0123_4567_89ab_cdefn },
  { len: 8, sse: true, sf: true, data: 0x8123_4567_89ab_cdefn, want: 0x8123_4567_89ab_cdefn }, // no extension at 8
  { len: 8, sse: false, sf: false, data: 0x0123_4567_89ab_cdefn, want: 0x89ab_cdefn },          // !SF masks to 32
];

for (const r of rows) {
  test(`C.5#3 read completion len=${r.len} SSE=${+r.sse} SF=${+r.sf} data=0x${r.data.toString(16)} -> 0x${r.want.toString(16)}`, () => {
    const cpu = new FakeCpu(0);
    cpu.x[5] = 0xaaaa_aaaa_aaaa_aaaan;
    const pending: PendingMmio = { ipa: DEV, len: r.len, write: false, rt: 5, sse: r.sse, sf: r.sf, data: 0n };
    completeMmio(cpu, pending, r.data);
    assert.equal(cpu.x[5], r.want);
    assert.equal(cpu.pc, 0x4000_1004n);
  });
}

test('C.5#3 read into XZR (rt=31) is discarded, PC still advances', () => {
  const cpu = new FakeCpu(0);
  const before = [...cpu.x];
  completeMmio(cpu, { ipa: DEV, len: 8, write: false, rt: 31, sse: false, sf: true, data: 0n }, 0x1234n);
  assert.deepEqual(cpu.x, before);
  assert.equal(cpu.pc, 0x4000_1004n);
});

test('C.5#3 write completion only advances the PC', () => {
  const cpu = new FakeCpu(0);
  cpu.x[2] = 7n;
  completeMmio(cpu, { ipa: DEV, len: 4, write: true, rt: 2, sse: false, sf: false, data: 7n }, 0xffff_ffffn);
  assert.equal(cpu.x[2], 7n);
  assert.equal(cpu.pc, 0x4000_1004n);
});

// ---------------------------------------------------------------------------------------------------------------
// C.5 #2 exits

test('C.5#2 write: data = Xrt truncated to len, exit {addr (full IPA), len, write, data} and a kvm-exit event', () => {
  const w = makeWorld();
  w.cpu.x[3] = 0x1122_3344_5566_7788n;
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: DEV + 0x10, isv: true, sas: 1, srt: 3, wnr: true }));
  assert.equal(out.kind, 'exit');
  if (out.kind !== 'exit' || out.exit.reason !== 'mmio') throw new Error('mmio exit expected');
  assert.equal(out.exit.addr, BigInt(DEV + 0x10));
  assert.equal(out.exit.len, 2);
  assert.equal(out.exit.write, true);
  assert.equal(out.exit.data, 0x7788n);
  assert.deepEqual(out.exit.pending, { ipa: DEV + 0x10, len: 2, write: true, rt: 3, sse: false, sf: false, data: 0x7788n });
  const e = fields(w.log.last('kvm-exit'));
  assert.deepEqual(e, { reason: 'mmio', addr: BigInt(DEV + 0x10), len: 2, write: true, data: 0x7788n });
  assert.equal(w.cpu.pc, 0x4000_1000n, 'PC moves only on completion');
});

test('C.5#2 store of XZR writes data 0', () => {
  const w = makeWorld();
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: DEV, isv: true, sas: 3, srt: 31, wnr: true, sf: true }));
  assert.ok(out.kind === 'exit' && out.exit.reason === 'mmio' && out.exit.data === 0n);
});

test('C.5#2 read exit then completion on the next KVM_RUN writes Rt and advances PC', () => {
  const w = makeWorld();
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: DEV + 4, isv: true, sas: 2, srt: 7, sse: true, sf: true }));
  if (out.kind !== 'exit' || out.exit.reason !== 'mmio') throw new Error('mmio exit expected');
  assert.equal(out.exit.write, false);
  assert.equal(out.exit.data, 0n);
  completeMmio(w.cpu, out.exit.pending, 0x8000_0000n);
  assert.equal(w.cpu.x[7], 0xffff_ffff_8000_0000n);
  assert.equal(w.cpu.pc, 0x4000_1004n);
});

test('C.5#2 in-kernel device (vGIC range) handles the access without an exit', () => {
  const w = makeWorld();
  const seen: unknown[] = [];
  w.vm.inKernelMmio = (ipa, len, write, data) => {
    seen.push([ipa, len, write, data]);
    return ipa >= 0x3fff_0000 ? { handled: true, data: 0x43bn } : { handled: false };
  };
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: 0x3fff_0008, isv: true, sas: 2, srt: 1 }));
  assert.deepEqual([out.kind, out.resolution], ['resume', 'in-kernel']);
  assert.equal(w.cpu.x[1], 0x43bn);
  assert.equal(w.cpu.pc, 0x4000_1004n);
  assert.equal(w.log.count('kvm-exit'), 0);
  // a write the device does not claim goes to userspace
  w.cpu.x[2] = 5n;
  const out2 = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: DEV, isv: true, sas: 2, srt: 2, wnr: true }));
  assert.equal(out2.kind, 'exit');
  assert.deepEqual(seen, [[0x3fff_0008, 4, false, 0n], [DEV, 4, true, 5n]]);
});

test('C.5#1 NISV exit: esr_iss keeps only CM, WnR and FSC; addr is the full IPA', () => {
  const w = makeWorld();
  w.vm.flags.nisvToUser = true;
  const ex = abortExit({ ipa: DEV + 0x3c, wnr: true, fsc: 0x06, ea: true, s1ptw: false });
  const out = handleGuestAbort(w.vm, w.cpu, ex);
  if (out.kind !== 'exit' || out.exit.reason !== 'arm_nisv') throw new Error('nisv exit expected');
  assert.equal(out.exit.esr_iss, 0x46n);
  assert.equal(out.exit.addr, BigInt(DEV + 0x3c));
  assert.deepEqual(fields(w.log.last('kvm-exit')), { reason: 'arm_nisv', addr: BigInt(DEV + 0x3c), esr_iss: 0x46n });
});

test('C.5#1 NISV without the cap: ENOSYS with rule C.5#1 and the kernel log line', () => {
  const w = makeWorld();
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: DEV }));
  assert.ok(out.kind === 'error' && out.error.errno === 'ENOSYS' && out.error.rule === 'C.5#1');
  assert.equal(fields(w.log.last('warning')).message, 'Data abort outside memslots with no valid syndrome info');
});
