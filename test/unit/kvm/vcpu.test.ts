// spec F: KVM_ARM_VCPU_INIT rules, reset after run (with/without FWB), KVM_RUN entry order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type VmConfig } from '../../../emulator/kvm/vm';
import { type FlavourName } from '../../../emulator/kvm/flavours';
import { fail, type IoctlResult } from '../../../emulator/kvm/errno';
import { KVM_ARM_TARGET_GENERIC_V8 as T } from '../../../emulator/kvm/vcpu-state';
import { KVM_PGTABLE_PROT_R } from '../../../emulator/arch/stage2';
import { makeVm } from './vm-fixture';

const M = 1024 * 1024;
function mk(flavour: FlavourName = 'spe-rfc-v5', over: Partial<VmConfig> = {}) {
  const { vm, events } = makeVm(flavour, { vcpus: 2, ...over });
  return { vm: vm!, events };
}
const r = (x: IoctlResult | null): string => x === null ? 'go' : x.ok ? 'ok' : `${x.errno} ${x.rule}`;

test('F#target a target other than the preferred one -> EINVAL', () => {
  const { vm, events } = mk();
  assert.equal(r(vm.vcpuInit(0, { target: 0, features: [] })), 'EINVAL F#target');
  assert.ok(!vm.vcpus[0].initialized);
  const e = events.last('ioctl')!;
  assert.equal(e.fields.name, 'KVM_ARM_VCPU_INIT');
  assert.equal(e.vcpu, 0);
});

test('F#feature unknown feature bit >= KVM_VCPU_MAX_FEATURES -> ENOENT (7 in mainline, 8 with the SPE RFC)', () => {
  const m = mk('mainline-5.15');
  assert.equal(r(m.vm.vcpuInit(0, { target: T, features: [7] })), 'ENOENT F#feature');
  assert.equal(r(m.vm.vcpuInit(0, { target: T, features: [100] })), 'ENOENT F#feature');
  const s = mk('spe-rfc-v5');
  assert.equal(r(s.vm.vcpuInit(0, { target: T, features: [8] })), 'ENOENT F#feature');
  assert.equal(r(s.vm.vcpuInit(1, { target: T, features: [2, 7] })), 'ok', 'feature 7 = SPE');
});

test('F#feature-reinit a later INIT must repeat the same features -> EINVAL; same set re-inits', () => {
  const { vm } = mk();
  assert.equal(r(vm.vcpuInit(0, { target: T, features: [2] })), 'ok');
  assert.equal(r(vm.vcpuInit(0, { target: T, features: [2, 0] })), 'EINVAL F#feature-reinit');
  assert.equal(r(vm.vcpuInit(0, { target: T, features: [] })), 'EINVAL F#feature-reinit');
  assert.equal(r(vm.vcpuInit(0, { target: T, features: [2] })), 'ok');
  assert.deepEqual([...vm.vcpus[0].features], [2]);
});

test('F#feature 5.x quirk: bits below the failing one stay set on an uninitialised vcpu (warning)', () => {
  const { vm, events } = mk('mainline-5.15');
  assert.equal(r(vm.vcpuInit(0, { target: T, features: [1, 9] })), 'ENOENT F#feature');
  assert.ok(events.all().some(e => e.event === 'warning' && String(e.fields.message).includes('[1]')));
  assert.equal(r(vm.vcpuInit(0, { target: T, features: [2] })), 'ok');
  assert.deepEqual([...vm.vcpus[0].features].sort(), [1, 2], 'EL1_32BIT inherited');
});

test('F#reset a failed reset (SVE not implemented) clears target and features', () => {
  const { vm } = mk();
  assert.equal(r(vm.vcpuInit(0, { target: T, features: [2, 4] })), 'EINVAL F#reset');
  assert.ok(!vm.vcpus[0].initialized);
  assert.equal(vm.vcpus[0].features.size, 0);
  assert.equal(r(vm.vcpuInit(0, { target: T, features: [2, 1, 7] })), 'EINVAL F#reset', 'SPE with AArch32 EL1');
  assert.equal(r(vm.vcpuInit(0, { target: T, features: [5, 6] })), 'EINVAL F#reset', 'ptrauth');
  const noSpe = mk('spe-rfc-v5', { spe: false });
  assert.equal(r(noSpe.vm.vcpuInit(0, { target: T, features: [7] })), 'EINVAL F#reset');
});

test('F POWER_OFF starts the vcpu stopped', () => {
  const { vm } = mk();
  vm.vcpuInit(1, { target: T, features: [0, 2] });
  assert.equal(vm.vcpus[1].powerState, 'off');
  vm.vcpuInit(0, { target: T, features: [2] });
  assert.equal(vm.vcpus[0].powerState, 'on');
});

test('F#run-init KVM_RUN before KVM_ARM_VCPU_INIT -> ENOEXEC', () => {
  const { vm } = mk();
  assert.equal(r(vm.kvmRunEntry(0)), 'ENOEXEC F#run-init');
  assert.ok(!vm.vcpus[0].hasRunOnce);
});

test('F#run-pmu first KVM_RUN with PMU_V3 but no PMU init -> EINVAL; has_run_once is already set', () => {
  const { vm } = mk();
  vm.vcpuInit(0, { target: T, features: [2, 3] });
  assert.equal(r(vm.kvmRunEntry(0)), 'EINVAL F#run-pmu');
  assert.ok(vm.vcpus[0].hasRunOnce);
  assert.equal(r(vm.kvmRunEntry(0)), 'go', 'kvm_vcpu_first_run_init returns early once has_run_once is set');
});

test('F first-run hooks run once, after has_run_once is set (SPE hook point)', () => {
  const { vm } = mk();
  let calls = 0;
  vm.firstRunHooks.push(i => { calls++; return i === 1 ? fail('EINVAL', 'E.5#first-run', 'SPE not initialised') : null; });
  vm.vcpuInit(0, { target: T, features: [2] });
  vm.vcpuInit(1, { target: T, features: [2] });
  assert.equal(r(vm.kvmRunEntry(0)), 'go');
  assert.equal(r(vm.kvmRunEntry(0)), 'go');
  assert.equal(r(vm.kvmRunEntry(1)), 'EINVAL E.5#first-run');
  assert.equal(calls, 2);
});

test('F reset after run without FWB -> stage2_unmap_vm (holes skipped); before any run nothing is unmapped', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  const s = vm.memslots.get(0)!;
  vm.stage2.map(0x4000_0000, 2 * M, vm.ipaToPa(s, 0x4000_0000)!, KVM_PGTABLE_PROT_R);
  vm.vcpuInit(0, { target: T, features: [2] });
  vm.vcpuInit(0, { target: T, features: [2] });
  assert.ok(vm.stage2.translate(0x4000_0000).valid, 'not run yet');
  vm.kvmRunEntry(0);
  vm.vcpuInit(0, { target: T, features: [2] });
  assert.ok(!vm.stage2.translate(0x4000_0000).valid);
  assert.deepEqual(vm.stage2.checkInvariants(), []);
});

test('F reset after run with FWB -> icache_inval_all_pou cmo only', () => {
  const { vm, events } = mk('mainline-5.15', { fwb: true });
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  const s = vm.memslots.get(0)!;
  vm.stage2.map(0x4000_0000, 2 * M, vm.ipaToPa(s, 0x4000_0000)!, KVM_PGTABLE_PROT_R);
  vm.vcpuInit(0, { target: T, features: [2] });
  vm.kvmRunEntry(0);
  const seq = events.nextSeq;
  vm.vcpuInit(0, { target: T, features: [2] });
  const cmo = events.since(seq).filter(e => e.event === 'cmo');
  assert.equal(cmo.length, 1);
  assert.equal(cmo[0].fields.op, 'icache_inval_all_pou');
  assert.ok(vm.stage2.translate(0x4000_0000).valid);
});
