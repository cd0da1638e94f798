import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleHypercall } from '../../../emulator/kvm/hypercalls';
import { handleGuestAbort } from '../../../emulator/kvm/abort';
import {
  isIoguardPage, mmioGuardAllowsNisv, mmioGuardCheck, nisvAllowsMmioGuard,
} from '../../../emulator/kvm/mmio-guard';
import { abortExit, fields, makeWorld, type World } from './abort-fixture.test';

const INFO = 0xc600_0002n, ENROLL = 0xc600_0003n, MAP = 0xc600_0004n, UNMAP = 0xc600_0005n;
const NOTE = 0x9a9a_929en;
const DEV = 0x0900_0000;
const M1 = -1n & 0xffff_ffff_ffff_ffffn;

function guardWorld(pageSize: 4096 | 16384 | 65536 = 4096): World {
  return makeWorld({ flavour: 'mmio-guard-v2', pageSize, slots: [{ id: 0, gpa: 0x4000_0000, size: 2 ** 21 }] });
}

function hvc(w: World, fn: bigint, x1 = 0n, x2 = 0n): bigint {
  w.cpu.x[0] = fn;
  w.cpu.x[1] = x1;
  w.cpu.x[2] = x2;
  handleHypercall(w.vm, w.cpu, 'hvc', 0);
  return w.cpu.x[0];
}

function guardEvents(w: World): unknown[] {
  return w.take('mmio-guard').map(e => fields(e));
}

test('D.5 INFO returns the host PAGE_SIZE (4K / 16K / 64K); -1 for a 32-bit vcpu', () => {
  for (const ps of [4096, 16384, 65536] as const) {
    const w = guardWorld(ps);
    assert.equal(hvc(w, INFO), BigInt(ps));
  }
  const w = guardWorld();
  w.vm.vcpuState[0].el1_32bit = true;
  assert.equal(hvc(w, INFO), M1);
});

test('D.5 ENROLL sets the VM-wide flag, is idempotent and works from any vcpu', () => {
  const w = makeWorld({ flavour: 'mmio-guard-v2', vcpus: 2 });
  assert.equal(hvc(w, ENROLL), 0n);
  assert.equal(w.vm.flags.mmioGuard, true);
  assert.equal(hvc(w, ENROLL), 0n);
  const c1 = w.vm.cpus[1];
  c1.x[0] = ENROLL;
  handleHypercall(w.vm, c1, 'hvc', 0);
  assert.equal(c1.x[0], 0n);
  assert.deepEqual(guardEvents(w), [
    { op: 'enroll', ipa: 0n, ok: true }, { op: 'enroll', ipa: 0n, ok: true }, { op: 'enroll', ipa: 0n, ok: true },
  ]);
});

test('D.5 ENROLL fails (-1) when NISV_TO_USER is enabled, or for a 32-bit vcpu', () => {
  const w = guardWorld();
  w.vm.flags.nisvToUser = true;
  assert.equal(hvc(w, ENROLL), M1);
  assert.equal(w.vm.flags.mmioGuard, false);
  const w2 = guardWorld();
  w2.vm.vcpuState[0].el1_32bit = true;
  assert.equal(hvc(w2, ENROLL), M1);
  assert.deepEqual(guardEvents(w), [{ op: 'enroll', ipa: 0n, ok: false }]);
});

test('D.5 MAP writes an MMIO_NOTE annotation at page granularity (x2 ignored)', () => {
  const w = guardWorld();
  hvc(w, ENROLL);
  assert.equal(hvc(w, MAP, BigInt(DEV), 0x1234n), 0n);
  const leaf = w.pt.getLeaf(DEV);
  assert.equal(leaf.raw, NOTE);
  assert.equal(leaf.level, 3);
  assert.equal(isIoguardPage(w.vm, DEV + 0xfff), true);
  assert.equal(isIoguardPage(w.vm, DEV + 0x1000), false);
  assert.deepEqual(guardEvents(w).slice(1), [{ op: 'map', ipa: BigInt(DEV), ok: true }]);
  assert.equal(hvc(w, MAP, BigInt(DEV)), 0n, 'mapping again succeeds');
});

test('D.5 MAP failures: not enrolled, misaligned, inside a memslot, beyond the IPA space, 32-bit vcpu', () => {
  const w = guardWorld();
  assert.equal(hvc(w, MAP, BigInt(DEV)), M1, 'not enrolled');
  hvc(w, ENROLL);
  assert.equal(hvc(w, MAP, BigInt(DEV + 0x800)), M1, 'misaligned');
  assert.equal(hvc(w, MAP, 0x4000_1000n), M1, 'inside memslot 0');
  assert.equal(hvc(w, MAP, 1n << 40n), M1, 'beyond the 40-bit IPA space');
  w.vm.vcpuState[0].el1_32bit = true;
  assert.equal(hvc(w, MAP, BigInt(DEV)), M1, '32-bit vcpu');
  assert.equal(w.pt.getLeaf(DEV).raw, 0n);
  assert.deepEqual(guardEvents(w).map(e => (e as { ok: boolean }).ok), [false, true, false, false, false, false]);
});

test('D.5 MAP on a 64K-page host requires 64K alignment', () => {
  const w = guardWorld(65536);
  hvc(w, ENROLL);
  assert.equal(hvc(w, MAP, BigInt(DEV + 0x1000)), M1);
  assert.equal(hvc(w, MAP, BigInt(DEV)), 0n);
  assert.equal(w.pt.getLeaf(DEV + 0xf000).raw, NOTE);
});

test('D.5 UNMAP removes a mapped page; unmapped or not-enrolled -> -1', () => {
  const w = guardWorld();
  assert.equal(hvc(w, UNMAP, BigInt(DEV)), M1, 'not enrolled');
  hvc(w, ENROLL);
  assert.equal(hvc(w, UNMAP, BigInt(DEV)), M1, 'nothing mapped');
  hvc(w, MAP, BigInt(DEV));
  assert.equal(hvc(w, UNMAP, BigInt(DEV)), 0n);
  assert.equal(w.pt.getLeaf(DEV).raw, 0n);
  assert.equal(hvc(w, UNMAP, BigInt(DEV)), M1, 'second UNMAP fails');
  assert.deepEqual(guardEvents(w), [
    { op: 'unmap', ipa: BigInt(DEV), ok: false }, { op: 'enroll', ipa: 0n, ok: true },
    { op: 'unmap', ipa: BigInt(DEV), ok: false }, { op: 'map', ipa: BigInt(DEV), ok: true },
    { op: 'unmap', ipa: BigInt(DEV), ok: true }, { op: 'unmap', ipa: BigInt(DEV), ok: false },
  ]);
});

test('D.5 quirk: a misaligned UNMAP of a mapped page succeeds (page-aligned down)', () => {
  const w = guardWorld();
  hvc(w, ENROLL);
  hvc(w, MAP, BigInt(DEV));
  assert.equal(hvc(w, UNMAP, BigInt(DEV + 0x123)), 0n);
  assert.equal(w.pt.getLeaf(DEV).raw, 0n);
});

test('D.5 UNMAP refuses a leaf that is not an MMIO_NOTE page (a RAM block mapping)', () => {
  const w = guardWorld();
  hvc(w, ENROLL);
  w.pt.map(0x4000_0000, 2 ** 21, 0x80_4000_0000, 4 | 2);
  assert.equal(hvc(w, UNMAP, 0x4000_0000n), M1);
  assert.ok(w.pt.translate(0x4000_0000).valid);
});

test('D.5 check on MMIO: enrolled + mapped page exits to userspace; unmapped page injects a DABT, no exit', () => {
  const w = guardWorld();
  hvc(w, ENROLL);
  hvc(w, MAP, BigInt(DEV));
  w.take();
  const ok = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: DEV + 8, isv: true, sas: 2, srt: 4, wnr: true }));
  assert.deepEqual([ok.kind, ok.resolution], ['exit', 'mmio']);
  const bad = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: 0x0a00_0000, isv: true, sas: 2, srt: 4, wnr: true }));
  assert.deepEqual([bad.kind, bad.resolution], ['resume', 'inject']);
  assert.equal(w.cpu.injected.length, 1);
  assert.equal(w.cpu.injected[0].esr, 0x9600_0010n);
  assert.equal(w.cpu.injected[0].far, 0x0a00_0000n);
  assert.deepEqual(guardEvents(w), [{ op: 'check-failed', ipa: 0x0a00_0000n, ok: false }]);
  assert.equal(w.log.count('kvm-exit'), 1);
});

test('D.5 check on MMIO: an access crossing into an unmapped page fails on the second page', () => {
  const w = guardWorld();
  hvc(w, ENROLL);
  hvc(w, MAP, BigInt(DEV));
  w.take();
  assert.equal(mmioGuardCheck(w.vm, DEV + 0xffc, 8), DEV + 0x1003);
  assert.deepEqual(guardEvents(w), [{ op: 'check-failed', ipa: BigInt(DEV + 0x1003), ok: false }]);
  hvc(w, MAP, BigInt(DEV + 0x1000));
  assert.equal(mmioGuardCheck(w.vm, DEV + 0xffc, 8), undefined);
  assert.equal(mmioGuardCheck(w.vm, DEV + 0xff8, 8), undefined, 'not crossing');
});

test('D.5 not enrolled: every MMIO access is allowed', () => {
  const w = guardWorld();
  assert.equal(mmioGuardCheck(w.vm, 0x0a00_0000, 4), undefined);
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: 0x0a00_0000, isv: true, sas: 2 }));
  assert.equal(out.kind, 'exit');
});

test('D.5 enrolled guest without a syndrome outside memslots gets a DABT instead of NISV / ENOSYS', () => {
  const w = guardWorld();
  hvc(w, ENROLL);
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: DEV }));
  assert.deepEqual([out.kind, out.resolution], ['resume', 'inject']);
  assert.equal(w.cpu.injected[0].esr, 0x9600_0010n);
});

test('D.5 capability interactions: NISV cap 0 once enrolled; MMIO guard cap 0 once NISV is enabled', () => {
  const w = guardWorld();
  assert.equal(mmioGuardAllowsNisv(w.vm), true);
  assert.equal(nisvAllowsMmioGuard(w.vm), true);
  hvc(w, ENROLL);
  assert.equal(mmioGuardAllowsNisv(w.vm), false);
  const w2 = guardWorld();
  w2.vm.flags.nisvToUser = true;
  assert.equal(nisvAllowsMmioGuard(w2.vm), false);
});

test('D.5 SYSTEM_RESET clears the guard flag and unmaps stage 2; the guest must enroll again', () => {
  const w = guardWorld();
  hvc(w, ENROLL);
  hvc(w, MAP, BigInt(DEV));
  w.cpu.x[0] = 0x8400_0009n;
  const out = handleHypercall(w.vm, w.cpu, 'hvc', 0);
  assert.equal(out.kind, 'exit');
  assert.equal(w.vm.flags.mmioGuard, false);
  assert.equal(w.vm.unmapVmCalls, 1);
  assert.equal(hvc(w, MAP, BigInt(DEV + 0x1000)), M1, 'MAP needs a new ENROLL');
});

test('D.5 flavour without the MMIO guard (or mmio_guard off): the ids are unknown -> -1', () => {
  const w = makeWorld({ flavour: 'spe-rfc-v5' });
  assert.equal(hvc(w, ENROLL), M1);
  assert.equal(w.vm.flags.mmioGuard, false);
  assert.equal(fields(w.log.last('hypercall')).name, 'unknown');
  const g = guardWorld();
  g.vm.mmioGuardAvailable = false;
  assert.equal(hvc(g, ENROLL), M1);
  assert.equal(g.vm.flags.mmioGuard, false);
});
