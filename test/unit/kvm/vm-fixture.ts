// A VM for the kvm/ unit tests: KVM_CREATE_VM with the machine block's defaults (4K pages, 40-bit IPA, unlimited
// RLIMIT_MEMLOCK, no FWB), overridable per test. Not a test file itself (the runner picks *.test.ts only).
import { Vm, type VmConfig } from '../../../emulator/kvm/vm';
import { PhysMem } from '../../../emulator/memory/physmem';
import { EventLog } from '../../../emulator/events';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import type { IoctlResult } from '../../../emulator/kvm/errno';

export function makeVm(flavour: FlavourName, over: Partial<VmConfig> = {}) {
  const events = new EventLog();
  const mem = new PhysMem();
  const { vm, result } = Vm.create({
    flavour: getFlavour(flavour), ipaBits: 40, pageSize: 4096, vcpus: 1, memlockBytes: Infinity, fwb: false,
    protectedMode: false, nisvToUser: false, ...over,
  }, mem, events);
  return { vm: vm!, events, mem, result };
}

/** "ok" or "ERRNO rule", for compact assertions */
export const ioctlText = (x: IoctlResult): string => (x.ok ? 'ok' : `${x.errno} ${x.rule}`);
