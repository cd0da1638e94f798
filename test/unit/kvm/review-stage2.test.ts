// Second reading of the stage 2 paths against 5.15-era arch/arm64/kvm/mmu.c (spec B.3, C.4, F).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysMem } from '../../../emulator/memory/physmem';
import { EventLog } from '../../../emulator/events';
import { Vm, type VmConfig } from '../../../emulator/kvm/vm';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import { KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W } from '../../../emulator/arch/stage2';

const P = 4096;

function mk(flavour: FlavourName = 'mainline-5.15', over: Partial<VmConfig> = {}) {
  const events = new EventLog();
  const { vm, result } = Vm.create({
    flavour: getFlavour(flavour), ipaBits: 40, pageSize: 4096, vcpus: 1, memlockBytes: Infinity, fwb: false,
    protectedMode: false, nisvToUser: false, ...over,
  }, new PhysMem(), events);
  assert.ok(result.ok);
  return { vm: vm!, events };
}

// mmu.c (5.15) stage2_unmap_memslot: `if (!(vma->vm_flags & VM_PFNMAP)) { ... unmap_stage2_range(...) }`
test('F stage2_unmap_vm on vcpu reset skips VM_PFNMAP ranges; RAM is unmapped', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 4 * P });
  vm.createMemslot({ id: 1, gpa: 0x0900_0000, size: 4 * P, backing: 'pfnmap' });
  const ram = vm.memslots.get(0)!, dev = vm.memslots.get(1)!;
  assert.equal(vm.stage2.map(ram.gpa, P, vm.ipaToPa(ram, ram.gpa)!, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W), 'ok');
  assert.equal(vm.stage2.map(dev.gpa, P, vm.ipaToPa(dev, dev.gpa)!, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W | KVM_PGTABLE_PROT_DEVICE), 'ok');
  assert.ok(vm.vcpuInit(0, { target: 5, features: [2] }).ok);
  assert.equal(vm.kvmRunEntry(0), null);
  assert.ok(vm.vcpuInit(0, { target: 5, features: [2] }).ok, 'reset after run: stage2_unmap_vm');
  assert.ok(!vm.stage2.translate(ram.gpa).valid);
  assert.ok(vm.stage2.translate(dev.gpa).valid, 'the device mapping stays');
});
