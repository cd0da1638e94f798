// Second reading of PSCI against psci.c per flavour base (spec D.3, G.7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleHypercall } from '../../../emulator/kvm/hypercalls';
import { makeWorld, type World } from './abort-fixture.test';

const INVALID_PARAMS = BigInt.asUintN(64, -2n);
const CPU_ON = 0xc400_0003n, AFFINITY_INFO = 0xc400_0004n;

function hvc(w: World, fn: bigint, args: bigint[]): bigint {
  w.cpu.x[0] = fn;
  for (let i = 0; i < 3; i++) w.cpu.x[i + 1] = args[i] ?? 0n;
  handleHypercall(w.vm, w.cpu, 'hvc', 0);
  return w.cpu.x[0];
}

// "KVM: arm64: Enforce reserved bits for PSCI target affinities" (Oliver Upton, Aug 2021, kvm-arm64/misc-5.15):
// before it, kvm_psci_vcpu_on did `cpu_id = smccc_get_arg1(source_vcpu) & MPIDR_HWID_BITMASK` and AFFINITY_INFO
// only applied the level mask, so reserved bits were ignored
test('D.3 CPU_ON / AFFINITY_INFO with reserved affinity bits: INVALID_PARAMS from 5.15, ignored on the 5.14-rc5 base (spe-rfc-v4)', () => {
  const bad = 0x100_0000_0001n;   // bit 40 is reserved; Aff0 = 1
  const v5 = makeWorld({ flavour: 'spe-rfc-v5', vcpus: 2 });
  assert.equal(hvc(v5, CPU_ON, [bad, 0x1000n, 0n]), INVALID_PARAMS);
  assert.equal(hvc(v5, AFFINITY_INFO, [bad, 0n]), INVALID_PARAMS);
  const v4 = makeWorld({ flavour: 'spe-rfc-v4', vcpus: 2 });
  assert.equal(hvc(v4, AFFINITY_INFO, [bad, 0n]), 1n, 'OFF: the reserved bit is masked off');
  assert.equal(hvc(v4, CPU_ON, [bad, 0x1000n, 0n]), 0n, 'SUCCESS: vcpu 1 is powered on');
  assert.deepEqual(v4.vm.poweredOn.map(p => p.target), [1]);
});

// KVM_CAP_ARM_MTE (205) came with "KVM: arm64: Introduce MTE VM feature" (5.13); the pkvm-v3 flavour is ~5.12
test('G.6 pkvm-v3 (~5.12) has no KVM_CAP_ARM_MTE: KVM_CHECK_EXTENSION(205) -> 0, KVM_ENABLE_CAP(205) -> EINVAL', async () => {
  const { Vm } = await import('../../../emulator/kvm/vm');
  const { PhysMem } = await import('../../../emulator/memory/physmem');
  const { EventLog } = await import('../../../emulator/events');
  const { getFlavour } = await import('../../../emulator/kvm/flavours');
  const { vm } = Vm.create({ flavour: getFlavour('pkvm-v3'), ipaBits: 40, pageSize: 4096, vcpus: 0, memlockBytes: Infinity,
    fwb: false, protectedMode: false, nisvToUser: false, mte: true }, new PhysMem(), new EventLog());
  const ce = vm!.checkExtension(205);
  assert.ok(ce.ok);
  assert.equal(ce.value, 0n);
  const e = vm!.enableCap(205, 0, []);
  assert.ok(!e.ok && e.errno === 'EINVAL');
  assert.equal(vm!.flags.mte, false);
});
