// The Vm as a whole: ioctl events, KVM_CHECK_EXTENSION, MMU notifiers (G.10), teardown, snapshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysMem } from '../../../emulator/memory/physmem';
import { EventLog, toJson } from '../../../emulator/events';
import { Vm, type VmConfig } from '../../../emulator/kvm/vm';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import { KVM_ARM_TARGET_GENERIC_V8 } from '../../../emulator/kvm/vcpu-state';
import { KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W } from '../../../emulator/arch/stage2';

const M = 1024 * 1024, P = 4096;
function mk(flavour: FlavourName = 'spe-rfc-v5', over: Partial<VmConfig> = {}) {
  const events = new EventLog();
  const mem = new PhysMem();
  const { vm } = Vm.create({
    flavour: getFlavour(flavour), ipaBits: 40, pageSize: 4096, vcpus: 2, memlockBytes: Infinity, fwb: false,
    protectedMode: false, nisvToUser: true, ...over,
  }, mem, events);
  return { vm: vm!, events, mem };
}
const value = (r: { ok: boolean }) => (r as { value?: bigint }).value;

test('KVM_CREATE_VM emits the implicit ioctls of the machine block in order', () => {
  const { events } = mk('spe-rfc-v5', { mte: true });
  const names = events.all().filter(e => e.event === 'ioctl').map(e => [e.fields.name, e.fields.result]);
  assert.deepEqual(names, [['KVM_CREATE_VM', 'ok'], ['KVM_ENABLE_CAP', 'ok'], ['KVM_CREATE_VCPU', 'ok'],
    ['KVM_CREATE_VCPU', 'ok'], ['KVM_ENABLE_CAP', 'ok']]);
});

test('ioctl events: readable args, result, rule only on failure (JSON form)', () => {
  const { vm, events } = mk();
  vm.createMemslot({ id: 3, gpa: 0x4000_0000, size: 2 * M });
  const ok = toJson(events.last('ioctl')!);
  assert.deepEqual(ok.args, [3, 0, '0x40000000', '0x200000', '0x7f0000000000']);
  assert.equal(ok.result, 'ok');
  assert.ok(!('rule' in ok));
  vm.enableCap(207, 1, [3n, 2n, 0n, 0n]);
  const bad = toJson(events.last('ioctl')!);
  assert.equal(bad.name, 'KVM_ENABLE_CAP');
  assert.deepEqual(bad.args, [207, 1, '0x3', '0x2', '0x0', '0x0']);
  assert.equal(bad.result, 'EINVAL');
  assert.equal(bad.rule, 'E.3#2');
});

test('KVM_CHECK_EXTENSION values per flavour', () => {
  const { vm } = mk('spe-rfc-v5');
  assert.equal(value(vm.checkExtension(10)), 32767n);
  assert.equal(value(vm.checkExtension(165)), 48n);
  assert.equal(value(vm.checkExtension(207)), 1n);
  assert.equal(value(vm.checkExtension(208)), 1n);
  assert.equal(value(vm.checkExtension(206)), 0n, 'not a cap in v5');
  assert.equal(value(mk('mainline-5.15', { pageSize: 65536 }).vm.checkExtension(165)), 52n);
  assert.equal(value(mk('spe-rfc-v5', { spe: false }).vm.checkExtension(208)), 0n);
  assert.equal(value(mk('mmio-guard-v2', { nisvToUser: false }).vm.checkExtension(206)), 1n);
  // MMIO-guard v2 09/16: KVM_CAP_ARM_MMIO_GUARD reads 0 once NISV_TO_USER is enabled
  assert.equal(value(mk('mmio-guard-v2', { nisvToUser: true }).vm.checkExtension(206)), 0n);
});

test('G.10 unmap_host: MMU notifiers unmap stage 2 even for a locked slot; pins and accounting stay', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  assert.ok(vm.enableCap(207, 1, [0n, 3n]).ok);
  const s = vm.memslots.get(0)!;
  vm.unmapHost(s.hva + 16 * P, 4 * P);
  assert.ok(vm.stage2.translate(0x4000_f000).valid);
  assert.ok(!vm.stage2.translate(0x4001_0000).valid);
  assert.ok(!vm.stage2.translate(0x4001_3000).valid);
  assert.ok(vm.stage2.translate(0x4001_4000).valid);
  assert.equal(vm.hvaToBacking(s.hva + 16 * P), undefined, 'no VMA: a later fault there is EFAULT');
  assert.deepEqual(s.lock, { read: true, write: true });
  assert.equal(vm.lockedVmPages, 512);
});

test('Vm implements the exit handlers\' view: vcpuInfo, power on/off, pending vSError', () => {
  const { vm } = mk();
  vm.vcpuInit(1, { target: KVM_ARM_TARGET_GENERIC_V8, features: [0, 2] });
  assert.deepEqual(vm.vcpuInfo(1), { powerOff: true, psci02: true, el1_32bit: false });
  const calls: string[] = [];
  const fakeCpu = (i: number) => ({ index: i, reset: () => calls.push('reset'), setPc: (v: bigint) => calls.push(`pc=${v}`), setX: (n: number, v: bigint) => calls.push(`x${n}=${v}`) });
  vm.attachCpus([fakeCpu(0), fakeCpu(1)] as never);
  vm.powerOnVcpu(1, 0x4000_0000n, 7n);
  assert.deepEqual(calls, ['reset', 'pc=1073741824', 'x0=7']);
  assert.equal(vm.vcpuInfo(1).powerOff, false);
  vm.powerOffVcpu(1);
  assert.equal(vm.vcpus[1].powerState, 'off');
  vm.pendVirtualSError({ index: 0 } as never, 0x123n);
  assert.equal(vm.vcpus[0].pendingVSError, 0x123n);
});

test('teardown is idempotent; after it the stage 2 helpers do nothing', () => {
  const { vm } = mk('spe-rfc-v5');
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 4 * P });
  vm.enableCap(207, 1, [0n, 1n]);
  vm.destroy();
  vm.destroy();
  assert.ok(vm.isDestroyed);
  vm.unmapHost(vm.memslots.get(0)!.hva, P);
  assert.equal(vm.lockedVmPages, 0);
});

test('snapshot/restore brings back memslots, locks, pending ops, vcpus, host memory and stage 2', () => {
  const { vm, mem } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 16 * P, dirtyLog: true });
  vm.enableCap(207, 1, [0n, 1n]);
  vm.markDirty(vm.memslots.get(1)!, 3);
  vm.vcpuInit(0, { target: KVM_ARM_TARGET_GENERIC_V8, features: [2] });
  const snap = vm.snapshot();
  const msnap = mem.snapshot();
  const before = JSON.stringify(vm.snapshot(), (_k, v) => typeof v === 'bigint' ? v.toString() : v instanceof Map ? [...v] : v instanceof Uint8Array ? [...v] : v);
  // change everything
  vm.enableCap(207, 2, [0n, 1n]);
  vm.deleteMemslot(0);
  vm.getDirtyLog(1);
  vm.createMemslot({ id: 2, gpa: 0x7000_0000, size: 2 * M });
  vm.stage2.map(0x7000_0000, P, vm.ipaToPa(vm.memslots.get(2)!, 0x7000_0000)!, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W);
  vm.kvmRunEntry(0);
  vm.unmapHost(0x7f00_0000_0000, P);
  mem.restore(msnap);
  vm.restore(snap);
  const after = JSON.stringify(vm.snapshot(), (_k, v) => typeof v === 'bigint' ? v.toString() : v instanceof Map ? [...v] : v instanceof Uint8Array ? [...v] : v);
  assert.equal(after, before);
  assert.ok(vm.stage2.translate(0x4000_0000).valid);
  assert.ok(!vm.stage2.translate(0x7000_0000).valid);
  assert.deepEqual(vm.stage2.checkInvariants(), []);
  assert.equal(vm.memslots.get(0)!.lock!.read, true);
  assert.equal(vm.vcpus[0].hasRunOnce, false);
  // the restored state works: unlock and relock
  assert.ok(vm.enableCap(207, 2, [0n, 0n]).ok);
  assert.ok(vm.enableCap(207, 1, [0n, 1n]).ok);
});

test('standalone pgtable NAME tables get their own pools', () => {
  const { vm } = mk();
  const made = vm.createPgtable('pt', 36);
  if (made === 'ENOMEM') return assert.fail('pool exhausted');
  const t = made;
  assert.equal(t.map(0x1000, P, 0x8000_0000, KVM_PGTABLE_PROT_R), 'ok');
  assert.ok(t.translate(0x1000).valid);
  assert.equal(vm.pgtables.get('pt'), t);
  assert.notEqual(t.rootPa, vm.stage2.rootPa);
});

test('memslotsView: the kvm/memslots response body', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 16 * P, dirtyLog: true });
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 4 * P });
  vm.enableCap(207, 1, [0n, 1n]);
  vm.markDirty(vm.memslots.get(1)!, 2);
  vm.markDirty(vm.memslots.get(1)!, 9);
  const v = vm.memslotsView();
  assert.deepEqual(v.memslots.map(s => [s.id, s.lock, s.pinnedPages, s.dirtyPages]), [[0, { read: true, write: false }, 4, 0], [1, null, 0, 2]]);
  assert.equal(v.lockedVm, 4);
  assert.deepEqual(v.pendingOps, ['flush_dcache', 'sanitise_tags']);
});
