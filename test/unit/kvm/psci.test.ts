import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleHypercall } from '../../../emulator/kvm/hypercalls';
import { mpidrToVcpu, vcpuMpidrAff } from '../../../emulator/kvm/psci';
import { fields, makeWorld, type FakeCpu, type World } from './abort-fixture.test';

const u = (n: number): bigint => BigInt.asUintN(64, BigInt(n));
const SUCCESS = 0n, NOT_SUPPORTED = u(-1), INVALID_PARAMS = u(-2), ALREADY_ON = u(-4), INTERNAL_FAILURE = u(-6);
const VERSION = 0x8400_0000n, CPU_SUSPEND = 0xc400_0001n, CPU_OFF = 0x8400_0002n, CPU_ON32 = 0x8400_0003n;
const CPU_ON = 0xc400_0003n, AFFINITY_INFO = 0xc400_0004n, AFFINITY_INFO32 = 0x8400_0004n;
const MIGRATE = 0xc400_0005n, MIGRATE_INFO_TYPE = 0x8400_0006n, SYSTEM_OFF = 0x8400_0008n, SYSTEM_RESET = 0x8400_0009n;
const FEATURES = 0x8400_000an;

function hvc(w: World, fn: bigint, args: bigint[] = [], cpu: FakeCpu = w.cpu) {
  cpu.x[0] = fn;
  for (let i = 0; i < 3; i++) cpu.x[i + 1] = args[i] ?? 0x5555n;
  const out = handleHypercall(w.vm, cpu, 'hvc', 0);
  return { out, x: [cpu.x[0], cpu.x[1], cpu.x[2], cpu.x[3]] };
}

test('D.3 PSCI_VERSION with the psci_0_2 feature -> 1.0 (0x10000; KVM_ARM_PSCI_LATEST in 5.15)', () => {
  const w = makeWorld();
  assert.deepEqual(hvc(w, VERSION).x, [0x10000n, 0n, 0n, 0n]);
});

test('D.3 PSCI_FEATURES: the 1.0 function set answers 0, others NOT_SUPPORTED', () => {
  const w = makeWorld();
  for (const f of [VERSION, 0x8400_0001n, CPU_SUSPEND, CPU_OFF, CPU_ON32, CPU_ON, AFFINITY_INFO32, AFFINITY_INFO,
    MIGRATE_INFO_TYPE, SYSTEM_OFF, SYSTEM_RESET, FEATURES, 0x8000_0000n]) {
    assert.equal(hvc(w, FEATURES, [f]).x[0], SUCCESS, `0x${f.toString(16)}`);
  }
  for (const f of [MIGRATE, 0x8400_000en, 0x8400_0012n, 0x8600_0000n]) {
    assert.equal(hvc(w, FEATURES, [f]).x[0], NOT_SUPPORTED, `0x${f.toString(16)}`);
  }
});

test('D.3 MIGRATE_INFO_TYPE -> 2 (TOS not present / MP); MIGRATE -> NOT_SUPPORTED', () => {
  const w = makeWorld();
  assert.deepEqual(hvc(w, MIGRATE_INFO_TYPE).x, [2n, 0n, 0n, 0n]);
  assert.deepEqual(hvc(w, MIGRATE).x, [NOT_SUPPORTED, 0n, 0n, 0n]);
});

test('G.7 CPU_ON of an off vcpu by MPIDR: SUCCESS; the target starts at the entry with x0 = context id', () => {
  const w = makeWorld({ vcpus: 3 });
  const { out, x } = hvc(w, CPU_ON, [2n, 0x4008_0000n, 0xc0ffeen]);
  assert.deepEqual(out, { kind: 'resume' });
  assert.deepEqual(x, [SUCCESS, 0n, 0n, 0n]);
  assert.deepEqual(w.vm.poweredOn, [{ target: 2, entry: 0x4008_0000n, contextId: 0xc0ffeen }]);
  assert.equal(w.vm.vcpuState[2].powerOff, false);
  assert.deepEqual(fields(w.log.last('hypercall')), {
    conduit: 'hvc', fn: CPU_ON, name: 'PSCI_CPU_ON', args: [2n, 0x4008_0000n, 0xc0ffeen], ret: [0n, 0n, 0n, 0n],
  });
});

test('G.7 CPU_ON of a running vcpu -> ALREADY_ON; of a missing vcpu or a bad affinity -> INVALID_PARAMS', () => {
  const w = makeWorld({ vcpus: 2 });
  assert.equal(hvc(w, CPU_ON, [0n, 0x1000n, 0n]).x[0], ALREADY_ON, 'vcpu 0 is the caller');
  assert.equal(hvc(w, CPU_ON, [1n, 0x1000n, 0n]).x[0], SUCCESS);
  assert.equal(hvc(w, CPU_ON, [1n, 0x1000n, 0n]).x[0], ALREADY_ON);
  assert.equal(hvc(w, CPU_ON, [7n, 0x1000n, 0n]).x[0], INVALID_PARAMS, 'no vcpu 7');
  assert.equal(hvc(w, CPU_ON, [0x100_0000_0000n, 0x1000n, 0n]).x[0], INVALID_PARAMS, 'bits outside MPIDR_HWID_BITMASK');
  assert.equal(w.vm.poweredOn.length, 1);
});

test('G.7 CPU_ON (SMC32 id) narrows x1..x3 to 32 bits', () => {
  const w = makeWorld({ vcpus: 2 });
  assert.equal(hvc(w, CPU_ON32, [0xffff_ffff_0000_0001n, 0x1_4000_0000n, 0x1_0000_0007n]).x[0], SUCCESS);
  assert.deepEqual(w.vm.poweredOn, [{ target: 1, entry: 0x4000_0000n, contextId: 7n }]);
});

test('D.3 AFFINITY_INFO: ON 0 / OFF 1, INVALID_PARAMS for no match or level > 3; never ON_PENDING in 5.15', () => {
  const w = makeWorld({ vcpus: 3 });
  assert.equal(hvc(w, AFFINITY_INFO, [0n, 0n]).x[0], 0n, 'vcpu 0 on');
  assert.equal(hvc(w, AFFINITY_INFO, [1n, 0n]).x[0], 1n, 'vcpu 1 off');
  assert.equal(hvc(w, AFFINITY_INFO, [9n, 0n]).x[0], INVALID_PARAMS);
  assert.equal(hvc(w, AFFINITY_INFO, [1n, 4n]).x[0], INVALID_PARAMS);
  assert.equal(hvc(w, AFFINITY_INFO, [1n, 1n]).x[0], 0n, 'level 1: the cluster holding vcpu 0 is on');
  hvc(w, CPU_ON, [1n, 0x1000n, 0n]);
  assert.equal(hvc(w, AFFINITY_INFO32, [0xffff_ffff_0000_0001n, 0n]).x[0], 0n, 'ON right after CPU_ON; SMC32 id narrowed');
});

test('D.3 CPU_OFF powers the caller off and reports power-off to the run loop', () => {
  const w = makeWorld({ vcpus: 2 });
  const { out, x } = hvc(w, CPU_OFF);
  assert.deepEqual(out, { kind: 'power-off' });
  assert.deepEqual(x, [0n, 0n, 0n, 0n]);
  assert.equal(w.vm.vcpuState[0].powerOff, true);
  // another vcpu sees it OFF and can turn it back on
  const c1 = w.vm.cpus[1];
  w.vm.vcpuState[1].powerOff = false;
  assert.equal(hvc(w, AFFINITY_INFO, [0n, 0n], c1).x[0], 1n);
  assert.equal(hvc(w, CPU_ON, [0n, 0x2000n, 1n], c1).x[0], SUCCESS);
});

test('D.3 CPU_SUSPEND behaves as WFI and returns SUCCESS', () => {
  const w = makeWorld();
  const { out, x } = hvc(w, CPU_SUSPEND, [0n, 0n, 0n]);
  assert.deepEqual(out, { kind: 'wfi' });
  assert.equal(x[0], 0n);
});

test('G.7 SYSTEM_OFF: every vcpu off, KVM_EXIT_SYSTEM_EVENT shutdown, x0 preloaded with INTERNAL_FAILURE', () => {
  const w = makeWorld({ vcpus: 3 });
  w.vm.vcpuState[1].powerOff = false;
  const { out, x } = hvc(w, SYSTEM_OFF);
  assert.deepEqual(out, { kind: 'exit', exit: { reason: 'system_event', type: 'shutdown' } });
  assert.deepEqual(x, [INTERNAL_FAILURE, 0n, 0n, 0n]);
  assert.deepEqual(w.vm.vcpuState.map(v => v.powerOff), [true, true, true]);
  const evs = w.take().map(e => e.event);
  assert.deepEqual(evs, ['hypercall', 'kvm-exit']);
  assert.deepEqual(fields(w.log.last('kvm-exit')), { reason: 'system_event', type: 'shutdown' });
  assert.equal(w.vm.unmapVmCalls, 0, 'no MMIO guard reset outside the MMIO guard flavour');
});

test('G.7 SYSTEM_RESET -> KVM_EXIT_SYSTEM_EVENT reset', () => {
  const w = makeWorld();
  const { out } = hvc(w, SYSTEM_RESET);
  assert.deepEqual(out, { kind: 'exit', exit: { reason: 'system_event', type: 'reset' } });
});

test('F PSCI 0.1 (no psci_0_2 feature): KVM ids 0x95c1ba5f CPU_OFF / 0x95c1ba60 CPU_ON; 0.2 ids NOT_SUPPORTED', () => {
  const w = makeWorld({ vcpus: 2 });
  w.vm.vcpuState[0].psci02 = false;
  assert.deepEqual(hvc(w, VERSION).x, [NOT_SUPPORTED, 0n, 0n, 0n]);
  assert.equal(hvc(w, SYSTEM_OFF).x[0], NOT_SUPPORTED);
  assert.equal(w.vm.vcpuState[1].powerOff, true);
  assert.equal(hvc(w, 0x95c1_ba60n, [1n, 0x3000n, 9n]).x[0], SUCCESS);
  assert.equal(hvc(w, 0x95c1_ba60n, [1n, 0x3000n, 9n]).x[0], INVALID_PARAMS, '0.1: already on -> INVALID_PARAMS');
  assert.equal(fields(w.log.last('hypercall')).name, 'KVM_PSCI_0_1_CPU_ON');
  const { out } = hvc(w, 0x95c1_ba5fn);
  assert.deepEqual(out, { kind: 'power-off' });
  // SMCCC calls are answered whatever the PSCI version
  assert.equal(hvc(w, 0x8000_0000n).x[0], 0x10001n);
});

test('D.3 32-bit vcpus may not call SMC64 PSCI ids (kvm_psci_check_allowed_function)', () => {
  const w = makeWorld({ vcpus: 2 });
  w.vm.vcpuState[0].el1_32bit = true;
  assert.equal(hvc(w, CPU_ON, [1n, 0n, 0n]).x[0], NOT_SUPPORTED);
  assert.equal(hvc(w, FEATURES, [CPU_ON]).x[0], NOT_SUPPORTED);
  assert.equal(hvc(w, FEATURES, [CPU_ON32]).x[0], SUCCESS);
});

test('MPIDR affinity of vcpu i follows reset_mpidr (Aff0 = i[3:0], Aff1 = i[11:4])', () => {
  assert.equal(vcpuMpidrAff(0), 0n);
  assert.equal(vcpuMpidrAff(5), 5n);
  assert.equal(vcpuMpidrAff(17), 0x101n);
  const w = makeWorld({ vcpus: 20 });
  assert.equal(mpidrToVcpu(w.vm, 0x103n), 19);
  assert.equal(mpidrToVcpu(w.vm, 0x8000_0103n), 19, 'RES1 bit 31 and other non-affinity bits ignored');
  assert.equal(mpidrToVcpu(w.vm, 16n), undefined, 'Aff0 only goes to 15');
});
