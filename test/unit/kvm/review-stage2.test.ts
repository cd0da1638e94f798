// Second reading of the stage 2 paths against 5.15-era arch/arm64/kvm/mmu.c (spec B.3, C.4, F).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type VmConfig } from '../../../emulator/kvm/vm';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import { KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W } from '../../../emulator/arch/stage2';
import { handleGuestAbort, pfnmapVmaPageSize } from '../../../emulator/kvm/abort';
import { abortExit, makeWorld } from './abort-fixture.test';
import { makeVm } from './vm-fixture';

const P = 4096;

function mk(flavour: FlavourName = 'mainline-5.15', over: Partial<VmConfig> = {}) {
  const { vm, events, result } = makeVm(flavour, { ...over });
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

// mmu.c (5.14+) get_vma_page_shift(): a VM_PFNMAP VMA gets PMD_SHIFT/PUD_SHIFT when hva and pa agree within the
// block and the block lies in the VMA; user_mem_abort then keeps it if fault_supports_stage2_huge_mapping() holds
// (Keqian Zhu, "KVM: arm64: Try stage2 block mapping for host device MMIO", 2aa53d68cee6)
test('C.4#7 a 2 MiB-aligned VM_PFNMAP slot faults in as a Device block (5.14+); pkvm-v3 (~5.12) maps pages', () => {
  const dev = { id: 2, gpa: 0xa000_0000, size: 4 * 1024 * 1024, backing: 'pfnmap' as const };
  const w = makeWorld({ flavour: 'mainline-5.15', slots: [dev] });
  assert.equal(handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: 0xa020_3000, wnr: true })).resolution, 'map');
  const t = w.pt.translate(0xa020_3000);
  assert.ok(t.valid && t.device && t.level === 2 && t.leafSize === 2 * 1024 * 1024);
  assert.equal(t.valid && t.pa, w.vm.paOfIpa(0xa020_3000));
  const old = makeWorld({ flavour: 'pkvm-v3', slots: [dev] });
  handleGuestAbort(old.vm, old.cpu, abortExit({ ipa: 0xa020_3000, wnr: true }));
  const t3 = old.pt.translate(0xa020_3000);
  assert.ok(t3.valid && t3.device && t3.level === 3);
});

test('C.4#7 get_vma_page_shift for VM_PFNMAP: congruence and the VMA bounds decide the block size', () => {
  const M2 = 2 * 1024 * 1024, G1 = 1024 * 1024 * 1024;
  const vma = { hva: 0x7f00_0000_0000, size: G1, pa: 0xc000_0000_0000 };
  assert.equal(pfnmapVmaPageSize(vma, vma.hva, 4096), G1);
  assert.equal(pfnmapVmaPageSize({ ...vma, size: 4 * M2 }, vma.hva + M2 + 4096, 4096), M2);
  assert.equal(pfnmapVmaPageSize({ ...vma, pa: vma.pa + 4096 }, vma.hva + M2, 4096), 4096, 'hva and pa disagree within 2M');
  assert.equal(pfnmapVmaPageSize({ ...vma, hva: vma.hva + 4096, size: M2 }, vma.hva + 8192, 4096), 4096, 'block starts before the VMA');
});

// MMIO-guard v2 06/16: kvm_prepare_system_event() does test_and_clear_bit(MMIO_GUARD) + stage2_unmap_vm(), and
// stage2_unmap_vm() (5.15 mmu.c) walks the memslots only. MAP refuses IPAs inside memslots, so every MMIO_NOTE
// annotation is outside them and survives the "full unmap" (spec D.5 UNCONFIRMED item, resolved by reading it).
test('D.5 reset on SYSTEM_OFF/RESET clears the flag, but MMIO_NOTE annotations outside memslots survive stage2_unmap_vm', async () => {
  const { mmioGuardEnroll, mmioGuardMap, mmioGuardResetOnSystemEvent, isIoguardPage } = await import('../../../emulator/kvm/mmio-guard');
  const { FakeCpu } = await import('./abort-fixture.test');
  const { vm } = mk('mmio-guard-v2');
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 4 * P });
  const cpu = new FakeCpu(0);
  assert.equal(mmioGuardEnroll(vm, cpu), 0);
  assert.equal(mmioGuardMap(vm, cpu, 0x0900_0000n), 0);
  mmioGuardResetOnSystemEvent(vm);
  assert.equal(vm.flags.mmioGuard, false);
  assert.equal(vm.stage2.getLeaf(0x0900_0000).raw, getFlavour('mmio-guard-v2').mmioNote);
  mmioGuardEnroll(vm, cpu);
  assert.ok(isIoguardPage(vm, 0x0900_0000), 'after re-enrolling, the old page is still accepted as MMIO');
});
