// Property tests (fast-check): random sequences of memslot create / move / delete / flags / lock / unlock /
// map-by-fault / unmap_host / vcpu init / run / get_dirty_log keep the VM's invariants, in every flavour with the
// lock API and in mainline:
//   - no two memslots overlap;
//   - every valid stage 2 leaf lies inside a memslot and maps the PA behind the slot's HVA there;
//   - stage2.checkInvariants() is empty;
//   - lockedVmPages equals the pages counted by each successful lock minus each unlock (so, in v5, the sum of
//     npages of the locked slots; v4's unlock of an unlocked slot un-accounts too, spec E.3 unlock table);
//     pinnedPages = npages exactly for locked slots;
//   - a failed ioctl changes nothing except its documented side effects (A.2#8: a DELETE/MOVE refused by the arch
//     hook has already flushed stage 2, so its leaves may only shrink).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PhysMem } from '../../../emulator/memory/physmem';
import { EventLog } from '../../../emulator/events';
import { Vm } from '../../../emulator/kvm/vm';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import type { IoctlResult } from '../../../emulator/kvm/errno';
import { KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W, pteToPhys } from '../../../emulator/arch/stage2';
import { KVM_ARM_TARGET_GENERIC_V8 } from '../../../emulator/kvm/vcpu-state';

const P = 4096;
const BASE = 0x4000_0000;

type Op =
  | { k: 'create'; id: number; at: number; pages: number; ro: boolean; log: boolean }
  | { k: 'delete'; id: number }
  | { k: 'move'; id: number; at: number }
  | { k: 'flags'; id: number; ro: boolean; log: boolean }
  | { k: 'lock'; id: number; read: boolean; write: boolean }
  | { k: 'unlock'; id: number; all: boolean }
  | { k: 'fault'; page: number; write: boolean }
  | { k: 'unmapHost'; id: number; off: number; pages: number }
  | { k: 'init'; vcpu: number }
  | { k: 'run'; vcpu: number }
  | { k: 'dirtyLog'; id: number };

const id = fc.integer({ min: 0, max: 4 });
const at = fc.integer({ min: 0, max: 40 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('create' as const), id, at, pages: fc.integer({ min: 1, max: 24 }), ro: fc.boolean(), log: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('delete' as const), id }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('move' as const), id, at }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('flags' as const), id, ro: fc.boolean(), log: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('lock' as const), id, read: fc.boolean(), write: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('unlock' as const), id, all: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('fault' as const), page: fc.integer({ min: 0, max: 4 * 64 }), write: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('unmapHost' as const), id, off: fc.integer({ min: 0, max: 23 }), pages: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('init' as const), vcpu: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('run' as const), vcpu: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('dirtyLog' as const), id }) },
);

/** The state a failed ioctl must leave alone (stage 2 compared separately, as its leaves). */
function state(vm: Vm): string {
  const s = vm.snapshot();
  const plain = { memslots: s.memslots, hostMemory: s.hostMemory, vcpus: s.vcpus, pendingOps: s.pendingOps, lockedVmPages: s.lockedVmPages, flags: s.flags };
  return JSON.stringify(plain, (_k, v) => typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? [...v] : v);
}
const leaves = (vm: Vm) => vm.stage2.leaves(0, 2 ** vm.ipaBits).map(l => `${l.ipa}:${l.level}:${l.raw}`);

function checkInvariants(vm: Vm, expectedLocked: number): void {
  const slots = vm.memslots.all();
  for (let i = 1; i < slots.length; i++) {
    assert.ok(slots[i - 1].gpa + slots[i - 1].size <= slots[i].gpa, `slots ${slots[i - 1].id} and ${slots[i].id} overlap`);
  }
  for (const l of vm.stage2.leaves(0, 2 ** vm.ipaBits)) {
    if ((l.raw & 1n) === 0n) continue;
    const size = 2 ** (12 + 9 * (3 - l.level));
    const slot = vm.findMemslot(l.ipa);
    assert.ok(slot !== undefined, `leaf at 0x${l.ipa.toString(16)} outside every memslot`);
    assert.ok(l.ipa + size <= slot.gpa + slot.size, `leaf at 0x${l.ipa.toString(16)} crosses the end of slot ${slot.id}`);
    assert.equal(pteToPhys(l.raw, P), vm.ipaToPa(slot, l.ipa), `leaf at 0x${l.ipa.toString(16)} maps the wrong PA`);
  }
  assert.deepEqual(vm.stage2.checkInvariants(), []);
  assert.equal(vm.lockedVmPages, expectedLocked, 'locked_vm');
  for (const s of slots) assert.equal(s.pinnedPages, s.lock === null ? 0 : s.npages, `pinned pages of slot ${s.id}`);
  if (vm.flavour.lock?.unlockRequiresLocked) {
    assert.equal(vm.lockedVmPages, vm.memslots.lockedSlots().reduce((n, s) => n + s.npages, 0));
  }
}

function apply(vm: Vm, op: Op, model: { locked: number }): void {
  const cap = vm.flavour.lock?.cap ?? 207;
  const before = state(vm);
  const leavesBefore = leaves(vm);
  let res: IoctlResult | undefined;
  let docSideEffect = false;
  switch (op.k) {
    case 'create':
      res = vm.createMemslot({ id: op.id, gpa: BASE + op.at * 4 * P, size: op.pages * P, readonly: op.ro, dirtyLog: op.log });
      break;
    case 'delete':
      docSideEffect = true;
      res = vm.deleteMemslot(op.id);
      break;
    case 'move':
      docSideEffect = true;
      res = vm.moveMemslot(op.id, BASE + op.at * 4 * P);
      break;
    case 'flags':
      res = vm.setMemslotFlags(op.id, { readonly: op.ro, dirtyLog: op.log });
      break;
    case 'lock': {
      const slot = vm.memslots.get(op.id);
      res = vm.enableCap(cap, 1, [BigInt(op.id), (op.read ? 1n : 0n) | (op.write ? 2n : 0n)]);
      if (res.ok && slot !== undefined) model.locked += slot.npages;
      break;
    }
    case 'unlock': {
      const slot = vm.memslots.get(op.id);
      const lockedSum = vm.memslots.lockedSlots().reduce((n, s) => n + s.npages, 0);
      res = vm.enableCap(cap, 2, [BigInt(op.id), op.all ? 1n : 0n]);
      if (res.ok) model.locked -= op.all ? lockedSum : slot!.npages;
      break;
    }
    case 'fault': {
      // what user_mem_abort does for a translation fault on RAM (page granularity here)
      const ipa = BASE + op.page * P;
      const slot = vm.findMemslot(ipa);
      if (slot === undefined) return;
      const pa = vm.ipaToPa(slot, ipa);
      if (pa === undefined) return;
      const writable = op.write && !slot.readonly;
      const r = vm.stage2.map(ipa, P, pa, KVM_PGTABLE_PROT_R | (writable ? KVM_PGTABLE_PROT_W : 0), { forcePte: true });
      assert.ok(r === 'ok' || r === 'EAGAIN', r);
      if (writable) vm.markDirty(slot, (ipa - slot.gpa) / P);
      return;
    }
    case 'unmapHost': {
      const slot = vm.memslots.get(op.id);
      if (slot === undefined) return;
      vm.unmapHost(slot.hva + Math.min(op.off, slot.npages - 1) * P, op.pages * P);
      return;
    }
    case 'init':
      vm.vcpuInit(op.vcpu, { target: KVM_ARM_TARGET_GENERIC_V8, features: [2] });
      return;
    case 'run':
      vm.kvmRunEntry(op.vcpu);
      return;
    case 'dirtyLog':
      res = vm.getDirtyLog(op.id);
      break;
  }
  if (res !== undefined && !res.ok) {
    assert.equal(state(vm), before, `failed ${op.k} (${res.rule}) changed the VM`);
    const after = leaves(vm);
    if (docSideEffect && res.rule === 'A.2#12') {
      const prev = new Set(leavesBefore);
      for (const l of after) assert.ok(prev.has(l), 'a refused DELETE/MOVE may only remove stage 2 leaves');
    } else {
      assert.deepEqual(after, leavesBefore, `failed ${op.k} (${res.rule}) changed stage 2`);
    }
  }
}

for (const flavour of ['spe-rfc-v5', 'spe-rfc-v4', 'mainline-5.15'] as FlavourName[]) {
  test(`property: random memslot/lock/fault/unmap sequences keep the VM invariants (${flavour})`, () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.boolean(), (ops, fwb) => {
      const { vm } = Vm.create({
        flavour: getFlavour(flavour), ipaBits: 36, pageSize: 4096, vcpus: 2, memlockBytes: 48 * P, fwb,
        protectedMode: false, nisvToUser: false,
      }, new PhysMem(), new EventLog());
      const model = { locked: 0 };
      for (const op of ops) {
        apply(vm!, op, model);
        checkInvariants(vm!, model.locked);
      }
      vm!.destroy();
      assert.equal(vm!.memslots.lockedSlots().length, 0);
    }), { numRuns: 150, seed: 0x5eed + flavour.length });
  });
}
