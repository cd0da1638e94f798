// KVM_CAP_ARM_LOCK_USER_MEMORY_REGION (SPE RFC v4 02–11/39, v5 02–12/38; spec E.3): pin a memslot and pre-map it at
// stage 2 so that SPE buffer writes never take a stage 2 fault (E.2). LOCK follows the E.3 table row by row; UNLOCK
// follows the unlock table, with the v4/v5 differences read from flavour.lock.
//
// Rule ids: the LOCK table's rows are "E.3#1" … "E.3#15". The unlock table has no row numbers; its ids are:
//   E.3#args                 args[2] or args[3] non-zero (checked first)                     -EINVAL
//   E.3#flags                flags is neither FLAGS_LOCK nor FLAGS_UNLOCK                    -EINVAL
//   E.3#unlock-slot          UNLOCK: slot >= KVM_MEM_SLOTS_NUM (not with UNLOCK_MEM_ALL)      -EINVAL
//   E.3#unlock-missing       UNLOCK: no such slot                                           -EINVAL
//   E.3#unlock-not-locked    UNLOCK (v5): the slot is not locked                            -EINVAL
// Rows 10 (v4 03: MTE + VM_SHARED, -EFAULT), 11 (memcache top-up), 12 (MMU notifier race) and 14 (the limit changed
// between the checks) cannot happen in this machine: backings are never VM_SHARED, the table pool is checked by the
// map itself, and nothing runs concurrently with the ioctl.

import { fail, OK, type IoctlResult } from './errno';
import type { LockApi } from './flavours';
import type { Memslot } from './memslots';
import type { PendingOp } from './pending-ops';
import type { Vm } from './vm';

export const KVM_ARM_LOCK_USER_MEMORY_REGION_FLAGS_LOCK = 1 << 0;
export const KVM_ARM_LOCK_USER_MEMORY_REGION_FLAGS_UNLOCK = 1 << 1;
export const KVM_ARM_LOCK_MEM_READ = 1 << 0;
export const KVM_ARM_LOCK_MEM_WRITE = 1 << 1;
export const KVM_ARM_UNLOCK_MEM_ALL = 1 << 0;

/** KVM_ENABLE_CAP(KVM_CAP_ARM_LOCK_USER_MEMORY_REGION) after the generic checks: dispatch on flags (spec E.3). */
export function lockCapIoctl(vm: Vm, api: LockApi, flags: number, args: readonly bigint[]): IoctlResult {
  const a = (i: number): bigint => args[i] ?? 0n;
  if (a(2) !== 0n || a(3) !== 0n) return fail('EINVAL', 'E.3#args', 'args[2] and args[3] must be 0');
  if (flags === KVM_ARM_LOCK_USER_MEMORY_REGION_FLAGS_LOCK) return lockMemslot(vm, api, a(0), a(1));
  if (flags === KVM_ARM_LOCK_USER_MEMORY_REGION_FLAGS_UNLOCK) return unlockMemslotIoctl(vm, api, a(0), a(1));
  return fail('EINVAL', 'E.3#flags', `flags ${flags}: exactly one of FLAGS_LOCK (1) or FLAGS_UNLOCK (2)`);
}

/** LOCK, rows 1–15 of the E.3 table in order. */
export function lockMemslot(vm: Vm, api: LockApi, slotArg: bigint, lockFlags: bigint): IoctlResult {
  // 1
  if (slotArg >= BigInt(vm.flavour.memSlotsNum)) {
    return fail('EINVAL', 'E.3#1', `slot ${slotArg} >= KVM_MEM_SLOTS_NUM (${vm.flavour.memSlotsNum})`);
  }
  // 2 (other bits are not checked, spec E.3 UNCONFIRMED note)
  const read = (lockFlags & BigInt(KVM_ARM_LOCK_MEM_READ)) !== 0n;
  const write = (lockFlags & BigInt(KVM_ARM_LOCK_MEM_WRITE)) !== 0n;
  if (!read) return fail('EINVAL', 'E.3#2', 'KVM_ARM_LOCK_MEM_READ is mandatory');
  // 3: kvm_lock_all_vcpus trylocks every vcpu->mutex in index order; a vcpu inside an ioctl holds its mutex
  const busy = vm.vcpus.find(v => v.inIoctl);
  if (busy !== undefined) return fail('EBUSY', 'E.3#3', `kvm_lock_all_vcpus failed: vcpu ${busy.index} is inside an ioctl (the v5 api.rst says the call blocks until all VCPUs have returned; the code returns -EBUSY)`);
  // 4 (v4 only)
  if (api.busyIfRunOnce && vm.vcpus.some(v => v.hasRunOnce)) {
    return fail('EBUSY', 'E.3#4', 'memslots must be locked before any VCPU has run');
  }
  // 5
  const slot = vm.memslots.get(Number(slotArg));
  if (slot === undefined) return fail('EINVAL', 'E.3#5', `memslot ${slotArg} does not exist`);
  // 6
  if (write && (slot.readonly || slot.dirtyBitmap !== null)) {
    return fail('EPERM', 'E.3#6', slot.readonly ? 'write lock of a read-only memslot' : 'write lock of a memslot that logs dirty pages');
  }
  // 7
  if (slot.lock !== null) return fail('EBUSY', 'E.3#7', `memslot ${slot.id} is already locked`);
  // 8: RLIMIT_MEMLOCK (the VMM has no CAP_IPC_LOCK); Infinity = unlimited
  const limitPages = Math.floor(vm.memlockBytes / vm.pageSize);
  if (slot.npages + vm.lockedVmPages > limitPages) {
    return fail('ENOMEM', 'E.3#8', `${slot.npages} + locked_vm ${vm.lockedVmPages} pages > RLIMIT_MEMLOCK ${limitPages} pages`);
  }
  // 9 + 13, page by page as lock_memslot() does it (v4 03/39, v5 03/38 as posted): pin_user_pages() the page, then
  // kvm_pgtable_stage2_map() it (PAGE_SIZE, R (+W), never X, without the D-cache CMO, v4 04). A page without a
  // VMA, or in a VM_PFNMAP VMA (GUP refuses those), fails the pin: everything pinned is unpinned and -ENOMEM
  // returned, but the pages mapped before it stay mapped at stage 2 (that error path has no unmap). A failing map
  // unmaps [base, this page) and unpins.
  const end = slot.hva + slot.size;
  let at = slot.hva;
  const pinFailure = (hva: number, why: string): IoctlResult => {
    const mapped = hva - slot.hva;
    if (mapped > 0) {
      vm.warn(`${vm.flavour.name}: lock_memslot's pin_user_pages() failure path unpins but does not unmap: IPA [0x${slot.gpa.toString(16)}, 0x${(slot.gpa + mapped).toString(16)}) of memslot ${slot.id} stays mapped at stage 2 (v4 03/39, v5 03/38 as posted)`);
    }
    return fail('ENOMEM', 'E.3#9', `pin_user_pages failed at hva 0x${hva.toString(16)}: ${why}`);
  };
  for (const seg of vm.hostMemory.segments(slot.hva, slot.size)) {
    if (seg.hva > at) return pinFailure(at, 'no VMA');
    if (seg.backing.kind === 'pfnmap') return pinFailure(seg.hva, 'VM_PFNMAP');
    const ipa = slot.gpa + (seg.hva - slot.hva);
    const r = vm.s2MapPages(ipa, seg.size, seg.pa, write);
    if (!r.ok) {
      // kvm_pgtable_stage2_unmap(pgt, base, i << PAGE_SHIFT): what this lock mapped, then unpin everything
      const mappedEnd = r.failedIpa;
      if (mappedEnd > slot.gpa) vm.s2Unmap(slot.gpa, mappedEnd - slot.gpa);
      return fail(r.errno, 'E.3#13', r.errno === 'EAGAIN'
        ? `kvm_pgtable_stage2_map returned -EAGAIN at IPA 0x${r.failedIpa.toString(16)}: the page is already mapped at stage 2`
        : `kvm_pgtable_stage2_map failed (-${r.errno}) in [0x${ipa.toString(16)}, 0x${r.failedIpa.toString(16)})`);
    }
    at = seg.hva + seg.size;
  }
  if (at < end) return pinFailure(at, 'no VMA');
  // 14 account_locked_vm, 15 flags and pending ops
  vm.lockedVmPages += slot.npages;
  slot.lock = { read: true, write };
  slot.pinnedPages = slot.npages;
  const ops: PendingOp[] = ['flush_dcache', 'sanitise_tags'];
  vm.pendingOps.set(ops);
  return OK;
}

function unlockMemslotIoctl(vm: Vm, api: LockApi, slotArg: bigint, unlockFlags: bigint): IoctlResult {
  if ((unlockFlags & BigInt(KVM_ARM_UNLOCK_MEM_ALL)) !== 0n) {
    unlockAll(vm, api);
    return OK;
  }
  if (slotArg >= BigInt(vm.flavour.memSlotsNum)) {
    return fail('EINVAL', 'E.3#unlock-slot', `slot ${slotArg} >= KVM_MEM_SLOTS_NUM (${vm.flavour.memSlotsNum})`);
  }
  const slot = vm.memslots.get(Number(slotArg));
  if (slot === undefined) return fail('EINVAL', 'E.3#unlock-missing', `memslot ${slotArg} does not exist`);
  if (slot.lock === null) {
    if (api.unlockRequiresLocked) return fail('EINVAL', 'E.3#unlock-not-locked', `memslot ${slot.id} is not locked`);
    // v4 03/39 as posted: unlock_memslot() runs unpin_memslot_pages() over memslot->arch.pages.list, which only
    // lock_memslot() initialises (INIT_LIST_HEAD) and whose entries it kfree()s without list_del(): a never-locked
    // slot walks a zeroed list head (NULL dereference), a slot unlocked before walks freed entries. The model cannot
    // oops; it goes on as if the walk found nothing (unpin nothing, account_locked_vm(-npages), return 0).
    vm.warn(`${vm.flavour.name}: unlocking memslot ${slot.id}, which is not locked: v4 03/39 has no check, and unpin_memslot_pages() walks memslot->arch.pages.list, a zeroed head if the slot was never locked (NULL pointer dereference in the real kernel) or the entries the last unlock kfree()d (use-after-free); modelled as unpinning nothing and un-accounting ${slot.npages} pages`);
  }
  unlockSlot(vm, api, slot);
  afterUnlock(vm, api);
  return OK;
}

/**
 * UNLOCK_MEM_ALL (v4 03+, v5): every locked slot; in v4 a per-slot error is logged ("error unlocking memslot %u: %d")
 * and the loop goes on — the per-slot unlock cannot fail in this machine.
 */
export function unlockAll(vm: Vm, api: LockApi): void {
  for (const slot of vm.memslots.lockedSlots()) unlockSlot(vm, api, slot);
  afterUnlock(vm, api);
}

/**
 * VM teardown (v4 07/39, v5 08/38): kvm_arch_flush_shadow_all() frees the stage 2 PGD, then calls
 * __unlock_memslot() on every locked slot — unpin and un-account only: no v5 07 unmap, and mmu_pending_ops is left
 * as it is (the VM is going away).
 */
export function unlockAllOnTeardown(vm: Vm): void {
  for (const slot of vm.memslots.lockedSlots()) unpinSlot(vm, slot);
}

/** Per slot: v5 07: unmap when pending ops exist; then __unlock_memslot (unpin, un-account, clear the flags). */
function unlockSlot(vm: Vm, api: LockApi, slot: Memslot): void {
  if (api.unmapOnUnlockWithPendingOps && vm.pendingOps.any) {
    const ops = vm.pendingOps.list();
    if (!vm.flags.mte && ops.length === 1 && ops[0] === 'sanitise_tags') {
      vm.warn(`${vm.flavour.name}: memslot ${slot.id} unmapped from stage 2 on unlock only because SANITISE_TAGS stays pending without MTE (v5 07/38 + 06/38; spec E.4)`);
    }
    vm.s2Unmap(slot.gpa, slot.size);
  }
  unpinSlot(vm, slot);
}

/** __unlock_memslot: unpin, account_locked_vm(-npages), clear the lock flags. */
function unpinSlot(vm: Vm, slot: Memslot): void {
  if (vm.lockedVmPages < slot.npages) {
    // __account_locked_vm: WARN_ON_ONCE(pages > locked_vm), then the unsigned subtraction wraps
    vm.warn(`WARNING: __account_locked_vm: unaccounting ${slot.npages} pages with locked_vm = ${vm.lockedVmPages} (WARN_ON_ONCE(pages > locked_vm))`);
  }
  vm.lockedVmPages -= slot.npages;
  slot.lock = null;
  slot.pinnedPages = 0;
}

/** v5 07: pending ops set and no locked slot left -> clear mmu_pending_ops. */
function afterUnlock(vm: Vm, api: LockApi): void {
  if (api.unmapOnUnlockWithPendingOps && vm.pendingOps.any && vm.memslots.lockedSlots().length === 0) {
    vm.pendingOps.clearAll();
  }
}
