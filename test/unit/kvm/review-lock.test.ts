// Second reading of the memslot lock RFC against the posted patches (spec A.2#12, E.3, E.4; v4/v5 as posted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysMem } from '../../../emulator/memory/physmem';
import { EventLog } from '../../../emulator/events';
import { Vm, type VmConfig } from '../../../emulator/kvm/vm';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import type { IoctlResult } from '../../../emulator/kvm/errno';

const M = 1024 * 1024, P = 4096;
const LOCK = 1, READ = 1n;

function mk(flavour: FlavourName = 'spe-rfc-v5', over: Partial<VmConfig> = {}) {
  const events = new EventLog();
  const { vm, result } = Vm.create({
    flavour: getFlavour(flavour), ipaBits: 40, pageSize: 4096, vcpus: 1, memlockBytes: Infinity, fwb: false,
    protectedMode: false, nisvToUser: false, ...over,
  }, new PhysMem(), events);
  assert.ok(result.ok);
  return { vm: vm!, events, cap: getFlavour(flavour).lock!.cap };
}
const r = (x: IoctlResult): string => x.ok ? 'ok' : `${x.errno} ${x.rule}`;
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
