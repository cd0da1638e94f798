// spec A.5 (KVM_GET_DIRTY_LOG), G.1 (dirty logging + write protection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vm } from '../../../emulator/kvm/vm';
import { KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W } from '../../../emulator/arch/stage2';
import { dirtyBitmapBytes, dirtyCount, isDirty } from '../../../emulator/kvm/dirty-log';
import { makeVm, ioctlText } from './vm-fixture';

const P = 4096;
function mk() {
  const { vm, events } = makeVm('mainline-5.15');
  return { vm: vm!, events };
}
const r = ioctlText;
/** what the fault path does for a write fault on a logging slot: map the page writable, mark it dirty */
function writeFault(vm: Vm, ipa: number): void {
  const slot = vm.findMemslot(ipa)!;
  assert.equal(vm.stage2.map(ipa, P, vm.ipaToPa(slot, ipa)!, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W, { forcePte: true }), 'ok');
  vm.markDirty(slot, (ipa - slot.gpa) / P);
}
const writable = (vm: Vm, ipa: number): boolean => { const t = vm.stage2.translate(ipa); return t.valid && t.write; };

test('A.5#1 as_id or id out of range -> EINVAL', () => {
  const { vm } = mk();
  assert.equal(r(vm.getDirtyLog(1 << 16)), 'EINVAL A.5#1');
  assert.equal(r(vm.getDirtyLog(40000)), 'EINVAL A.5#1');
});

test('A.5#2 missing slot or slot without dirty logging -> ENOENT (kvm_get_dirty_log_protect)', () => {
  const { vm, events } = mk();
  assert.equal(r(vm.getDirtyLog(0)), 'ENOENT A.5#2');
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 16 * P });
  assert.equal(r(vm.getDirtyLog(0)), 'ENOENT A.5#2');
  assert.equal(events.last('ioctl')!.fields.name, 'KVM_GET_DIRTY_LOG');
});

test('A.5 pages ascending, bitmap cleared, reported pages write-protected again, one TLBI VMID', () => {
  const { vm, events } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 200 * P, dirtyLog: true });
  for (const pg of [130, 3, 64, 5]) writeFault(vm, 0x4000_0000 + pg * P);
  assert.ok(writable(vm, 0x4000_0000 + 3 * P));
  const seq = events.nextSeq;
  const res = vm.getDirtyLog(0);
  assert.ok(res.ok);
  assert.deepEqual(res.pages, [3, 5, 64, 130]);
  for (const pg of [3, 5, 64, 130]) assert.ok(!writable(vm, 0x4000_0000 + pg * P), `page ${pg} re-protected`);
  assert.equal(events.since(seq).filter(e => e.event === 'tlbi' && e.fields.scope === 'vmid').length, 1);
  assert.equal(dirtyCount(vm.memslots.get(0)!), 0);
  const seq2 = events.nextSeq;
  const again = vm.getDirtyLog(0);
  assert.deepEqual(again.pages, []);
  assert.ok(!events.since(seq2).some(e => e.event === 'tlbi'), 'no flush when nothing was dirty');
});

test('A.5 the re-protect covers __ffs..__fls of each 64-bit word (pages in between too)', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 64 * P, dirtyLog: true });
  writeFault(vm, 0x4000_0000 + 10 * P);
  // page 11 made writable without being logged (e.g. the MMU notifier path in a real kernel); it lies in the span
  const slot = vm.memslots.get(0)!;
  vm.stage2.map(0x4000_0000 + 11 * P, P, vm.ipaToPa(slot, 0x4000_0000 + 11 * P)!, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W, { forcePte: true });
  writeFault(vm, 0x4000_0000 + 12 * P);
  vm.getDirtyLog(0);
  assert.ok(!writable(vm, 0x4000_0000 + 11 * P));
});

test('A.5 bitmap is one bit per page, little-endian, rounded up to 64 bits; markDirty is a no-op when not logging', () => {
  assert.equal(dirtyBitmapBytes(1), 8);
  assert.equal(dirtyBitmapBytes(64), 8);
  assert.equal(dirtyBitmapBytes(65), 16);
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 16 * P, dirtyLog: true });
  vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 16 * P });
  const s0 = vm.memslots.get(0)!;
  vm.markDirty(s0, 9);
  assert.equal(s0.dirtyBitmap![1], 0b10);
  assert.ok(isDirty(s0, 9));
  vm.markDirty(vm.memslots.get(1)!, 3);
  assert.equal(vm.memslots.get(1)!.dirtyBitmap, null);
});

test('G.1 enabling logging write-protects previously writable pages; disabling keeps mappings', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 16 * P });
  const slot = vm.memslots.get(0)!;
  vm.stage2.map(0x4000_0000, 16 * P, vm.ipaToPa(slot, 0x4000_0000)!, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W);
  vm.setMemslotFlags(0, { dirtyLog: true });
  for (let i = 0; i < 16; i++) assert.ok(!writable(vm, 0x4000_0000 + i * P));
  vm.setMemslotFlags(0, {});
  assert.ok(vm.stage2.translate(0x4000_0000).valid);
});
