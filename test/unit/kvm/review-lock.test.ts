// Second reading of the memslot lock RFC against the posted patches (spec A.2#12, E.3, E.4; v4/v5 as posted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vm, type VmConfig } from '../../../emulator/kvm/vm';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import { makeVm, ioctlText } from './vm-fixture';

const M = 1024 * 1024, P = 4096;
const LOCK = 1, READ = 1n;

function mk(flavour: FlavourName = 'spe-rfc-v5', over: Partial<VmConfig> = {}) {
  const { vm, events, result } = makeVm(flavour, { ...over });
  assert.ok(result.ok);
  return { vm: vm!, events, cap: getFlavour(flavour).lock?.cap ?? 0 };
}
const r = ioctlText;
const lock = (vm: Vm, cap: number, slot: number, flags: bigint) => vm.enableCap(cap, LOCK, [BigInt(slot), flags, 0n, 0n]);

for (const fl of ['spe-rfc-v4', 'spe-rfc-v5'] as const) {
  // v4 08/39, v5 09/38: the exception is `change == KVM_MR_FLAGS_ONLY && memslot_is_logging(memslot) && !LOCK_WRITE`,
  // and memslot_is_logging() is `dirty_bitmap && !(flags & KVM_MEM_READONLY)`: a READONLY slot never "logs"
  test(`A.2#12 enabling dirty logging on a READ-locked READONLY slot -> EBUSY (memslot_is_logging is false) (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M, readonly: true });
    assert.equal(r(lock(vm, cap, 0, READ)), 'ok');
    assert.equal(r(vm.setMemslotFlags(0, { readonly: true, dirtyLog: true })), 'EBUSY A.2#12');
    assert.equal(vm.memslots.get(0)!.dirtyLog, false);
    assert.deepEqual(vm.memslots.get(0)!.lock, { read: true, write: false });
  });
}

for (const fl of ['spe-rfc-v4', 'spe-rfc-v5'] as const) {
  // v4 03/39, v5 03/38 lock_memslot(): pin page i, map page i, next. The pin failure path is
  // `unpin_memslot_pages(); ret = -ENOMEM; goto out_err;` with no kvm_pgtable_stage2_unmap()
  test(`E.3#9 a hole in the middle of the backing -> ENOMEM, the pages before it stay mapped at stage 2 (${fl})`, () => {
    const { vm, cap, events } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 16 * P });
    const s = vm.memslots.get(0)!;
    vm.unmapHost(s.hva + 8 * P, P);
    const seq = events.nextSeq;
    assert.equal(r(lock(vm, cap, 0, READ)), 'ENOMEM E.3#9');
    const t = vm.stage2.translate(0x4000_7000);
    assert.ok(t.valid && t.level === 3 && t.read && !t.write, 'page 7 was pinned+mapped before page 8 failed');
    assert.ok(!vm.stage2.translate(0x4000_9000).valid, 'nothing after the hole');
    assert.equal(s.lock, null);
    assert.equal(vm.lockedVmPages, 0);
    assert.deepEqual(vm.pendingOps.list(), []);
    assert.ok(events.since(seq).some(e => e.event === 'warning'), 'the quirk is reported');
    assert.deepEqual(vm.stage2.checkInvariants(), []);
  });

  test(`E.3#9 vs E.3#13 in page order: an already-mapped page before the hole -> EAGAIN, after it -> ENOMEM (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 16 * P });
    vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 16 * P });
    for (const id of [0, 1]) {
      const s = vm.memslots.get(id)!;
      vm.unmapHost(s.hva + 8 * P, P);
    }
    // slot 0: page 3 mapped by an earlier fault (same PA, same attributes) -> the map of page 3 stops first
    const s0 = vm.memslots.get(0)!;
    assert.equal(lock(vm, cap, 0, READ).ok, false);
    vm.s2Unmap(s0.gpa, s0.size);
    assert.equal(vm.stage2.map(0x4000_3000, P, vm.ipaToPa(s0, 0x4000_3000)!, 4 /* R */, { forcePte: true, noDcacheCmo: true }), 'ok');
    assert.equal(r(lock(vm, cap, 0, READ)), 'EAGAIN E.3#13');
    // slot 1: page 12 mapped -> the hole at page 8 comes first
    const s1 = vm.memslots.get(1)!;
    assert.equal(vm.stage2.map(0x5000_c000, P, vm.ipaToPa(s1, 0x5000_c000)!, 4, { forcePte: true, noDcacheCmo: true }), 'ok');
    assert.equal(r(lock(vm, cap, 1, READ)), 'ENOMEM E.3#9');
  });
}

for (const fl of ['spe-rfc-v4', 'spe-rfc-v5'] as const) {
  // v4 06/39, v5 06/38 sanitise_mte_tags_memslot(): `vma = find_vma_intersection(current->mm, hva, slot_end);
  // if (!vma) { ret = -EFAULT; ... } hva = min(slot_end, vma->vm_end);` — find_vma_intersection returns the next
  // VMA starting before slot_end, so an interior hole is stepped over; only a hole reaching the slot's end fails
  test(`E.4#1 SANITISE_TAGS: an interior hole passes the VMA check (warning), a trailing one -> EFAULT (${fl})`, () => {
    const { vm, cap, events } = mk(fl, { mte: true });
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 4 * P });
    assert.equal(r(lock(vm, cap, 0, READ)), 'ok');
    vm.unmapHost(vm.memslots.get(0)!.hva + P, P);
    assert.ok(vm.vcpuInit(0, { target: 5, features: [2] }).ok);
    const seq = events.nextSeq;
    assert.equal(vm.kvmRunEntry(0), null);
    assert.deepEqual(vm.pendingOps.list(), []);
    assert.ok(events.since(seq).some(e => e.event === 'warning' && /find_vma_intersection/.test(String(e.fields.message))));
  });
}

// v5 08/38 kvm_arch_flush_shadow_all(): kvm_free_stage2_pgd(), then `__unlock_memslot()` for each locked slot —
// the unpin/un-account half, not unlock_memslot() with its v5 07 unmap, and nothing touches mmu_pending_ops
test('E.3 VM teardown (v5 08) unpins without the v5 07 unlock steps: no warning, pending ops untouched', () => {
  const { vm, cap, events } = mk('spe-rfc-v5');
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 4 * P });
  assert.equal(r(lock(vm, cap, 0, READ)), 'ok');
  const before = vm.pendingOps.list();
  const seq = events.nextSeq;
  vm.destroy();
  assert.equal(vm.lockedVmPages, 0);
  assert.equal(vm.memslots.get(0)!.lock, null);
  assert.deepEqual(vm.pendingOps.list(), before);
  assert.deepEqual(events.since(seq).map(e => e.event), []);
});

// v4 03/39: INIT_LIST_HEAD(&memslot->arch.pages.list) happens only in lock_memslot(); unlock_memslot() has no
// "is it locked" check and walks that list. The kernel oopses there; the model says so in its warning.
test('E.3#unlock-not-locked v4: the warning names the NULL list walk the real kernel does', () => {
  const { vm, cap, events } = mk('spe-rfc-v4');
  vm.createMemslot({ id: 3, gpa: 0x4000_0000, size: 4 * P });
  assert.equal(r(vm.enableCap(cap, 2, [3n, 0n, 0n, 0n])), 'ok');
  assert.ok(events.all().some(e => e.event === 'warning' && /NULL pointer dereference/.test(String(e.fields.message))));
});

// v4 02/39 and v5 02/38 kvm_vm_ioctl_enable_cap(): `-	if (cap->flags) return -EINVAL;` at the top, `+ if (cap->flags)
// return -EINVAL;` inside `case KVM_CAP_ARM_NISV_TO_USER:` only; the MTE case is untouched (no flags check)
test('G.6#flags the lock RFC flavours accept KVM_CAP_ARM_MTE with flags != 0; mainline 5.15 refuses it', () => {
  for (const fl of ['spe-rfc-v4', 'spe-rfc-v5'] as const) {
    const { vm } = mk(fl, { vcpus: 0 });
    assert.equal(r(vm.enableCap(205, 1, [])), 'ok', fl);
    assert.ok(vm.flags.mte);
    assert.equal(r(vm.enableCap(177, 1, [])), 'EINVAL G.3#flags', `${fl}: NISV keeps its flags check`);
  }
  const { vm } = mk('mainline-5.15' as FlavourName, { vcpus: 0 });
  assert.equal(r(vm.enableCap(205, 1, [])), 'EINVAL G.6#flags');
});
