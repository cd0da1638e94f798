// spec E.3: KVM_CAP_ARM_LOCK_USER_MEMORY_REGION LOCK rows 1–15 and the UNLOCK table, v4 vs v5; A.2#12 locked slots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysMem } from '../../../emulator/memory/physmem';
import { EventLog } from '../../../emulator/events';
import { Vm, type VmConfig } from '../../../emulator/kvm/vm';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import type { IoctlResult } from '../../../emulator/kvm/errno';
import { KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W } from '../../../emulator/arch/stage2';
import { KVM_ARM_TARGET_GENERIC_V8 } from '../../../emulator/kvm/vcpu-state';
import { TablePool } from '../../../emulator/memory/table-pool';
import { makeVm, ioctlText } from './vm-fixture';

const M = 1024 * 1024, P = 4096;
const LOCK = 1, UNLOCK = 2, READ = 1n, WRITE = 2n, ALL = 1n;

function mk(flavour: FlavourName = 'spe-rfc-v5', over: Partial<VmConfig> = {}) {
  const { vm, events, result } = makeVm(flavour, { vcpus: 2, ...over });
  assert.ok(result.ok);
  return { vm: vm!, events, cap: getFlavour(flavour).lock?.cap ?? 207 };
}
const r = ioctlText;
const lock = (vm: Vm, cap: number, slot: number, flags: bigint) => vm.enableCap(cap, LOCK, [BigInt(slot), flags, 0n, 0n]);
const unlock = (vm: Vm, cap: number, slot: number, all = false) => vm.enableCap(cap, UNLOCK, [BigInt(slot), all ? ALL : 0n, 0n, 0n]);
const leaf = (vm: Vm, ipa: number) => vm.stage2.translate(ipa);
function run(vm: Vm, i = 0): IoctlResult | null {
  if (!vm.vcpus[i].initialized) assert.ok(vm.vcpuInit(i, { target: KVM_ARM_TARGET_GENERIC_V8, features: [2] }).ok);
  return vm.kvmRunEntry(i);
}

for (const fl of ['spe-rfc-v4', 'spe-rfc-v5'] as const) {
  test(`E.3#args args[2]/args[3] non-zero -> EINVAL, checked first (${fl})`, () => {
    const { vm, cap } = mk(fl);
    assert.equal(r(vm.enableCap(cap, LOCK, [99999n, 0n, 1n, 0n])), 'EINVAL E.3#args');
    assert.equal(r(vm.enableCap(cap, 7, [0n, 1n, 0n, 1n])), 'EINVAL E.3#args');
  });

  test(`E.3#flags flags other than LOCK or UNLOCK -> EINVAL (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
    assert.equal(r(vm.enableCap(cap, 0, [0n, 1n])), 'EINVAL E.3#flags');
    assert.equal(r(vm.enableCap(cap, 3, [0n, 1n])), 'EINVAL E.3#flags');
    assert.equal(vm.memslots.get(0)!.lock, null);
  });

  test(`E.3#1 lock of slot >= KVM_MEM_SLOTS_NUM -> EINVAL (${fl})`, () => {
    const { vm, cap } = mk(fl);
    assert.equal(r(lock(vm, cap, 32767, READ)), 'EINVAL E.3#1');
    assert.equal(r(vm.enableCap(cap, LOCK, [1n << 40n, READ])), 'EINVAL E.3#1');
  });

  test(`E.3#2 lock without KVM_ARM_LOCK_MEM_READ -> EINVAL (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
    assert.equal(r(lock(vm, cap, 0, WRITE)), 'EINVAL E.3#2');
    assert.equal(r(lock(vm, cap, 7, WRITE)), 'EINVAL E.3#2', 'before the slot lookup');
  });

  test(`E.3#3 lock while a vcpu is inside KVM_RUN -> EBUSY (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
    vm.vcpuInIoctl(1, true);
    assert.equal(r(lock(vm, cap, 0, READ)), 'EBUSY E.3#3');
    assert.equal(r(lock(vm, cap, 9, READ)), 'EBUSY E.3#3', 'before the slot lookup');
    vm.vcpuInIoctl(1, false);
    assert.equal(r(lock(vm, cap, 0, READ)), 'ok');
  });

  test(`E.3#5 lock of a missing slot -> EINVAL (${fl})`, () => {
    const { vm, cap } = mk(fl);
    assert.equal(r(lock(vm, cap, 7, READ)), 'EINVAL E.3#5');
  });

  test(`E.3#6 lock write on readonly slot -> EPERM; on a logging slot -> EPERM; read-only lock is fine (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 1, gpa: 0x8000_0000, size: 64 * 1024, readonly: true });
    vm.createMemslot({ id: 2, gpa: 0x9000_0000, size: 64 * 1024, dirtyLog: true });
    assert.equal(r(lock(vm, cap, 1, READ | WRITE)), 'EPERM E.3#6');
    assert.equal(r(lock(vm, cap, 2, READ | WRITE)), 'EPERM E.3#6');
    assert.equal(r(lock(vm, cap, 1, READ)), 'ok');
    assert.equal(r(lock(vm, cap, 2, READ)), 'ok');
  });

  test(`E.3#7 lock of an already locked slot -> EBUSY (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
    assert.equal(r(lock(vm, cap, 0, READ | WRITE)), 'ok');
    assert.equal(r(lock(vm, cap, 0, READ)), 'EBUSY E.3#7');
    assert.equal(vm.lockedVmPages, 512);
  });

  test(`E.3#8 RLIMIT_MEMLOCK exceeded -> ENOMEM; same memory locked twice counts twice (${fl})`, () => {
    const { vm, cap } = mk(fl, { memlockBytes: 3 * M });
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
    const hva = vm.memslots.get(0)!.hva;
    vm.createMemslot({ id: 1, gpa: 0x6000_0000, size: M, hva }); // aliases the first MiB of slot 0
    vm.createMemslot({ id: 2, gpa: 0x7000_0000, size: M + P });
    assert.equal(r(lock(vm, cap, 0, READ)), 'ok');
    assert.equal(r(lock(vm, cap, 2, READ)), 'ENOMEM E.3#8');
    assert.equal(r(lock(vm, cap, 1, READ)), 'ok', 'exactly at the limit');
    assert.equal(vm.lockedVmPages, 768);
    assert.equal(vm.memslots.get(2)!.lock, null);
  });

  test(`E.3#9 pinning a hole in the backing -> ENOMEM (no VMA, munmapped, pfnmap) (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 0x4000_0000, size: 16 * P, hva: 0x1_0000_0000 });
    assert.equal(r(lock(vm, cap, 0, READ)), 'ENOMEM E.3#9');
    vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 16 * P });
    vm.unmapHost(vm.memslots.get(1)!.hva + 8 * P, P);
    assert.equal(r(lock(vm, cap, 1, READ)), 'ENOMEM E.3#9');
    vm.createMemslot({ id: 2, gpa: 0x6000_0000, size: 16 * P, backing: 'pfnmap' });
    assert.equal(r(lock(vm, cap, 2, READ)), 'ENOMEM E.3#9');
    assert.equal(vm.lockedVmPages, 0);
    // v4 03 / v5 03 as posted: pages 0-7 were pinned and mapped before page 8 failed; the pin failure path
    // unpins without unmapping (see review-lock.test.ts)
    assert.ok(leaf(vm, 0x5000_0000).valid && !leaf(vm, 0x5000_8000).valid, 'pages before the hole stay mapped');
    assert.ok(!leaf(vm, 0x6000_0000).valid, 'pfnmap fails at its first page');
  });

  test(`E.3#13 a page already mapped with the same PA -> EAGAIN, what the lock mapped is unmapped again (${fl})`, () => {
    const { vm, cap, events } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 16 * P });
    const s = vm.memslots.get(0)!;
    // the guest faulted page 5 in before the lock
    assert.equal(vm.stage2.map(0x4000_5000, P, vm.ipaToPa(s, 0x4000_5000)!, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W, { forcePte: true }), 'ok');
    const seq = events.nextSeq;
    assert.equal(r(lock(vm, cap, 0, READ)), 'EAGAIN E.3#13');
    assert.ok(!leaf(vm, 0x4000_0000).valid && !leaf(vm, 0x4000_4000).valid);
    assert.ok(leaf(vm, 0x4000_5000).valid, 'the pre-existing mapping stays');
    assert.ok(events.since(seq).some(e => e.event === 'pte'), 'pages 0-4 were mapped then unmapped');
    assert.equal(s.lock, null);
    assert.equal(vm.lockedVmPages, 0);
    assert.deepEqual(vm.stage2.checkInvariants(), []);
  });

  test(`E.3#15 lock maps page-sized R(+W) never-X leaves without D-cache CMOs, sets pending ops (${fl})`, () => {
    const { vm, cap, events } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M, backing: 'hugetlb-2M' });
    vm.createMemslot({ id: 1, gpa: 0x8000_0000, size: 4 * P });
    const seq = events.nextSeq;
    assert.equal(r(lock(vm, cap, 0, READ | WRITE)), 'ok');
    assert.equal(r(lock(vm, cap, 1, READ)), 'ok');
    const t0 = leaf(vm, 0x401f_f000), t1 = leaf(vm, 0x8000_3000);
    assert.ok(t0.valid && t0.level === 3 && t0.read && t0.write && !t0.execEl1);
    assert.ok(t1.valid && t1.level === 3 && t1.read && !t1.write && !t1.execEl1);
    assert.equal(t0.valid && t0.pa, vm.ipaToPa(vm.memslots.get(0)!, 0x401f_f000));
    assert.ok(!events.since(seq).some(e => e.event === 'cmo'), 'no CMO at lock time');
    assert.deepEqual(vm.pendingOps.list(), ['flush_dcache', 'sanitise_tags']);
    assert.deepEqual(vm.memslots.get(0)!.lock, { read: true, write: true });
    assert.deepEqual(vm.memslots.get(1)!.lock, { read: true, write: false });
    assert.equal(vm.memslots.get(0)!.pinnedPages, 512);
    assert.equal(vm.lockedVmPages, 516);
  });

  test(`E.3#unlock-slot / E.3#unlock-missing (${fl})`, () => {
    const { vm, cap } = mk(fl);
    assert.equal(r(unlock(vm, cap, 40000)), 'EINVAL E.3#unlock-slot');
    assert.equal(r(unlock(vm, cap, 3)), 'EINVAL E.3#unlock-missing');
    assert.equal(r(unlock(vm, cap, 40000, true)), 'ok', 'UNLOCK_MEM_ALL ignores args[0]');
  });

  test(`A.2#12 changes to a locked slot -> EBUSY, except enabling dirty logging on a READ-locked slot (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
    vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 2 * M });
    lock(vm, cap, 0, READ | WRITE);
    lock(vm, cap, 1, READ);
    assert.equal(r(vm.setMemslotFlags(0, { dirtyLog: true })), 'EBUSY A.2#12');
    assert.equal(r(vm.moveMemslot(1, 0x6000_0000)), 'EBUSY A.2#12');
    assert.equal(vm.memslots.get(1)!.gpa, 0x5000_0000);
    assert.ok(!leaf(vm, 0x5000_0000).valid, 'A.2#8: the refused MOVE already flushed stage 2');
    assert.equal(r(vm.deleteMemslot(0)), 'EBUSY A.2#12');
    assert.ok(vm.memslots.get(0) !== undefined);
    assert.ok(!leaf(vm, 0x4000_0000).valid, 'A.2#8: the refused DELETE already flushed stage 2');
    assert.equal(r(vm.setMemslotFlags(1, { dirtyLog: true })), 'ok');
    assert.deepEqual(vm.memslots.get(1)!.lock, { read: true, write: false }, 'the lock carries over');
    assert.ok(vm.memslots.get(1)!.dirtyLog);
    assert.equal(r(vm.setMemslotFlags(1, {})), 'EBUSY A.2#12', 'turning logging off is a change too');
  });

  test(`VM teardown frees stage 2, then unlocks every slot (v4 07 / v5 08) (${fl})`, () => {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
    vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 2 * M });
    lock(vm, cap, 0, READ | WRITE);
    lock(vm, cap, 1, READ);
    vm.destroy();
    assert.ok(vm.stage2.isDestroyed);
    assert.equal(vm.lockedVmPages, 0);
    assert.equal(vm.memslots.lockedSlots().length, 0);
  });
}

test('E.3#4 v4 lock after run -> EBUSY, v5 allows', () => {
  const v4 = mk('spe-rfc-v4');
  v4.vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  assert.equal(run(v4.vm), null);
  assert.equal(r(lock(v4.vm, v4.cap, 0, READ)), 'EBUSY E.3#4');
  assert.equal(r(lock(v4.vm, v4.cap, 9, READ)), 'EBUSY E.3#4', 'before the slot lookup');
  const v5 = mk('spe-rfc-v5');
  v5.vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  assert.equal(run(v5.vm), null);
  assert.equal(r(lock(v5.vm, v5.cap, 0, READ)), 'ok');
});

test('E.3 cap numbers per flavour: 206 in v4, 207 in v5; no lock cap elsewhere -> EINVAL', () => {
  const v4 = mk('spe-rfc-v4');
  v4.vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  assert.equal(r(lock(v4.vm, 207, 0, READ)), 'EINVAL G.15#unknown-cap', '207 is VCPU_SUPPORTED_CPUS in v4, not lockable');
  assert.equal(r(lock(v4.vm, 206, 0, READ)), 'ok');
  const m = mk('mainline-5.15');
  m.vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  assert.equal(r(lock(m.vm, 206, 0, READ)), 'EINVAL G.15#unknown-cap');
  const g = mk('mmio-guard-v2');
  // 206 is MMIO_GUARD there, which only advertises the hypercalls: no KVM_ENABLE_CAP case (v2 09/16)
  assert.equal(r(g.vm.enableCap(206, 0, [])), 'EINVAL G.15#unknown-cap');
  assert.ok(!g.vm.flags.mmioGuard, "only ENROLL enrols the guest");
  assert.equal(v4.vm.checkExtension(206).ok && (v4.vm.checkExtension(206) as { value: bigint }).value, 1n);
  assert.equal((m.vm.checkExtension(207) as { value: bigint }).value, 0n);
});

test('E.3#unlock-not-locked v5 -> EINVAL; v4 succeeds, un-accounts the pages and warns', () => {
  const v5 = mk('spe-rfc-v5');
  v5.vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  assert.equal(r(unlock(v5.vm, v5.cap, 0)), 'EINVAL E.3#unlock-not-locked');
  const v4 = mk('spe-rfc-v4');
  v4.vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  v4.vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 4 * M });
  lock(v4.vm, v4.cap, 1, READ);
  assert.equal(v4.vm.lockedVmPages, 1024);
  const seq = v4.events.nextSeq;
  assert.equal(r(unlock(v4.vm, v4.cap, 0)), 'ok');
  assert.equal(v4.vm.lockedVmPages, 512);
  assert.ok(v4.events.since(seq).some(e => e.event === 'warning' && String(e.fields.message).includes('not locked')));
  assert.deepEqual(v4.vm.memslots.get(1)!.lock, { read: true, write: false });
});

test('E.3 unlock v4 leaves stage 2 mapped, so relocking fails with EAGAIN (E.3#13)', () => {
  const { vm, cap } = mk('spe-rfc-v4');
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  lock(vm, cap, 0, READ | WRITE);
  assert.equal(r(unlock(vm, cap, 0)), 'ok');
  assert.ok(leaf(vm, 0x4000_0000).valid);
  assert.equal(vm.memslots.get(0)!.pinnedPages, 0);
  assert.equal(vm.lockedVmPages, 0);
  assert.deepEqual(vm.pendingOps.list(), ['flush_dcache', 'sanitise_tags'], 'v4 leaves pending ops alone');
  assert.equal(r(lock(vm, cap, 0, READ)), 'EAGAIN E.3#13');
});

test('E.3 unlock v5 07: pending ops -> the slot is unmapped; no locked slot left -> bitmap cleared', () => {
  const { vm, cap, events } = mk('spe-rfc-v5');
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 2 * M });
  lock(vm, cap, 0, READ | WRITE);
  lock(vm, cap, 1, READ);
  assert.equal(r(unlock(vm, cap, 0)), 'ok');
  assert.ok(!leaf(vm, 0x4000_0000).valid, 'unmapped because pending ops exist');
  assert.ok(leaf(vm, 0x5000_0000).valid);
  assert.deepEqual(vm.pendingOps.list(), ['flush_dcache', 'sanitise_tags'], 'slot 1 still locked');
  const seq = events.nextSeq;
  assert.equal(r(unlock(vm, cap, 1)), 'ok');
  assert.deepEqual(vm.pendingOps.list(), []);
  assert.ok(events.since(seq).some(e => e.event === 'pending-ops' && (e.fields.cleared as string[]).length === 2));
  assert.equal(r(lock(vm, cap, 0, READ)), 'ok', 'relock works since the range was unmapped');
});

test('E.3 UNLOCK_MEM_ALL unlocks every locked slot (v4 and v5)', () => {
  for (const fl of ['spe-rfc-v4', 'spe-rfc-v5'] as const) {
    const { vm, cap } = mk(fl);
    vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
    vm.createMemslot({ id: 1, gpa: 0x5000_0000, size: 2 * M });
    vm.createMemslot({ id: 2, gpa: 0x6000_0000, size: 2 * M });
    lock(vm, cap, 0, READ);
    lock(vm, cap, 2, READ | WRITE);
    assert.equal(r(unlock(vm, cap, 1, true)), 'ok');
    assert.equal(vm.memslots.lockedSlots().length, 0);
    assert.equal(vm.lockedVmPages, 0, fl);
  }
});

test('G.6#vcpus KVM_CAP_ARM_MTE after vcpus exist -> EINVAL; with flags -> EINVAL; mte config enables it first', () => {
  const { vm } = mk('spe-rfc-v5');
  assert.equal(r(vm.enableCap(205, 0, [])), 'EINVAL G.6#vcpus');
  // the lock RFC's 02 patch moved the flags check into the NISV case only: MTE ignores flags as posted
  // (see review-lock.test.ts), so the vcpu check answers
  assert.equal(r(vm.enableCap(205, 1, [])), 'EINVAL G.6#vcpus');
  const { vm: v2 } = mk('spe-rfc-v5', { mte: true });
  assert.ok(v2.flags.mte);
  assert.equal(r(v2.enableCap(177, 1, [])), 'EINVAL G.3#flags');
  assert.equal(r(v2.enableCap(177, 0, [])), 'ok');
  assert.ok(v2.flags.nisvToUser);
});

test('E.3#15 with 16K and 64K granules: one page-sized leaf per PAGE_SIZE, at level 3', () => {
  for (const pageSize of [16384, 65536] as const) {
    const { vm, cap } = mk('spe-rfc-v5', { pageSize });
    const size = 32 * 1024 * 1024;
    assert.equal(r(vm.createMemslot({ id: 0, gpa: 0x4000_0000, size })), 'ok');
    assert.equal(r(lock(vm, cap, 0, READ | WRITE)), 'ok');
    assert.equal(vm.lockedVmPages, size / pageSize);
    const t = leaf(vm, 0x4000_0000 + size - 1);
    assert.ok(t.valid && t.level === 3 && t.leafSize === pageSize && t.write);
    assert.equal(r(unlock(vm, cap, 0)), 'ok');
    assert.ok(!leaf(vm, 0x4000_0000).valid);
    assert.deepEqual(vm.stage2.checkInvariants(), []);
  }
});

test('E.3#13 a stage 2 map that runs out of table pages -> ENOMEM, what was mapped is unmapped again', () => {
  const mem = new PhysMem();
  const events = new EventLog();
  // root (2 pages for 40-bit/4K) + 2 table pages: the second L3 table cannot be allocated
  const pool = new TablePool(mem, 0x40_0000_0000, 4 * P);
  const vm = Vm.create({ flavour: getFlavour('spe-rfc-v5'), ipaBits: 40, pageSize: 4096, vcpus: 1, memlockBytes: Infinity,
    fwb: false, protectedMode: false, nisvToUser: false, tablePool: pool }, mem, events).vm!;
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 4 * M });
  assert.equal(r(lock(vm, 207, 0, READ)), 'ENOMEM E.3#13');
  assert.ok(!leaf(vm, 0x4000_0000).valid);
  assert.equal(vm.lockedVmPages, 0);
  assert.equal(vm.memslots.get(0)!.lock, null);
  assert.deepEqual(vm.pendingOps.list(), []);
  assert.deepEqual(vm.stage2.checkInvariants(), []);
});
