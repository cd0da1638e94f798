import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFunctionId, hypercallName, predefinedSymbols, smcccCallVal, toReg, ARM_SMCCC_FAST_CALL, ARM_SMCCC_SMC_32,
  ARM_SMCCC_SMC_64, ARM_SMCCC_OWNER_VENDOR_HYP, ARM_SMCCC_OWNER_STANDARD, KVM_PSCI_FN_CPU_OFF, KVM_PSCI_FN_CPU_ON,
} from '../../../emulator/arch/smccc';
import { getFlavour, FLAVOUR_NAMES } from '../../../emulator/kvm/flavours';

test('D.1 ARM_SMCCC_CALL_VAL encoding and decoding', () => {
  assert.equal(smcccCallVal(ARM_SMCCC_FAST_CALL, ARM_SMCCC_SMC_32, ARM_SMCCC_OWNER_VENDOR_HYP, 0xff01), 0x8600ff01);
  assert.equal(smcccCallVal(ARM_SMCCC_FAST_CALL, ARM_SMCCC_SMC_64, ARM_SMCCC_OWNER_STANDARD, 3), 0xc4000003);
  const d = decodeFunctionId(0xc6000004);
  assert.deepEqual([d.fast, d.smc64, d.owner, d.ownerName, d.number, d.wellFormed], [true, true, 6, 'Vendor Hypervisor', 4, true]);
  assert.equal(decodeFunctionId(0x8012_0000).wellFormed, false, 'bits [23:16] must be zero for fast calls');
});

test('D.4 return codes become 64-bit register values', () => {
  assert.equal(toReg(-1), 0xffff_ffff_ffff_ffffn);
  assert.equal(toReg(-3), 0xffff_ffff_ffff_fffdn);
  assert.equal(toReg(0x10001), 0x10001n);
});

test('LANGUAGE predefined symbols: PSCI 64-bit ids where PSCI has one; MMIO_GUARD_* only in mmio-guard-v2', () => {
  const s = predefinedSymbols(getFlavour('spe-rfc-v5'));
  assert.equal(s.get('PSCI_VERSION'), 0x8400_0000n);
  assert.equal(s.get('PSCI_CPU_ON'), 0xc400_0003n);
  assert.equal(s.get('PSCI_CPU_OFF'), 0x8400_0002n);
  assert.equal(s.get('PSCI_SYSTEM_OFF'), 0x8400_0008n);
  assert.equal(s.get('PSCI_SYSTEM_RESET'), 0x8400_0009n);
  assert.equal(s.get('PSCI_FEATURES'), 0x8400_000an);
  assert.equal(s.get('PSCI_AFFINITY_INFO'), 0xc400_0004n);
  assert.equal(s.get('SMCCC_VERSION'), 0x8000_0000n);
  assert.equal(s.get('SMCCC_ARCH_FEATURES'), 0x8000_0001n);
  assert.equal(s.get('KVM_HYP_UID'), 0x8600_ff01n);
  assert.equal(s.get('KVM_HYP_FEATURES'), 0x8600_0000n);
  assert.equal(s.get('KVM_HYP_PTP'), 0x8600_0001n);
  assert.equal(s.has('MMIO_GUARD_MAP'), false);
  assert.equal(s.size, 12);
  const g = predefinedSymbols(getFlavour('mmio-guard-v2'));
  assert.deepEqual(['MMIO_GUARD_INFO', 'MMIO_GUARD_ENROLL', 'MMIO_GUARD_MAP', 'MMIO_GUARD_UNMAP'].map(n => g.get(n)),
    [0xc600_0002n, 0xc600_0003n, 0xc600_0004n, 0xc600_0005n]);
  for (const f of FLAVOUR_NAMES) {
    assert.equal(predefinedSymbols(getFlavour(f)).has('MMIO_GUARD_INFO'), getFlavour(f).mmioGuard !== null, f);
  }
});

test('hypercall names per flavour; every predefined symbol names itself', () => {
  for (const f of FLAVOUR_NAMES) {
    const fl = getFlavour(f);
    for (const [name, id] of predefinedSymbols(fl)) assert.equal(hypercallName(Number(id), fl), name, `${f} ${name}`);
  }
  assert.equal(hypercallName(0xc6000004, getFlavour('spe-rfc-v5')), 'unknown');
  assert.equal(hypercallName(0x84000003, getFlavour('spe-rfc-v5')), 'PSCI_CPU_ON', '32-bit variant shares the name');
  assert.equal(KVM_PSCI_FN_CPU_OFF, 0x95c1ba5f);
  assert.equal(KVM_PSCI_FN_CPU_ON, 0x95c1ba60);
});
