import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  injectDabt, injectedAbortEsr, injectedUndefEsr, injectExtDabt, injectPabt, injectUndef, injectVabt, KVM_VABT_VSESR,
} from '../../../emulator/kvm/inject';
import { decodeEsr } from '../../../emulator/arch/esr';
import { FakeCpu, PSTATE_EL0T, PSTATE_EL1H, VBAR } from './abort-fixture.test';

test('C.6 inject_abt64 from EL1: IABT_CUR 0x21 / DABT_CUR 0x25, IL set, FSC 0x10, ISV 0', () => {
  assert.equal(injectedAbortEsr(PSTATE_EL1H, true), 0x8600_0010n);
  assert.equal(injectedAbortEsr(PSTATE_EL1H, false), 0x9600_0010n);
  assert.equal(injectedAbortEsr(0x4n /* EL1t */, false), 0x9600_0010n);
  const d = decodeEsr(0x9600_0010n);
  assert.equal(d.ec, 0x25);
  assert.equal(d.abort?.isv, false);
  assert.equal(d.abort?.fsc, 0x10);
});

test('C.6 inject_abt64 from EL0: IABT_LOW 0x20 / DABT_LOW 0x24', () => {
  assert.equal(injectedAbortEsr(PSTATE_EL0T, true), 0x8200_0010n);
  assert.equal(injectedAbortEsr(PSTATE_EL0T, false), 0x9200_0010n);
});

test('C.6 inject_abt64 from AArch32 (PSTATE.nRW) counts as lower EL', () => {
  assert.equal(injectedAbortEsr(0x13n /* AArch32 SVC mode */, false), 0x9200_0010n);
});

test('C.6 IL is copied from the trapping instruction (ESR_EL2.IL)', () => {
  assert.equal(injectedAbortEsr(PSTATE_EL1H, false, 0x9200_0046n), 0x9600_0010n);
  assert.equal(injectedAbortEsr(PSTATE_EL1H, false, 0x9000_0046n), 0x9400_0010n, 'IL clear in the trap -> clear');
  assert.equal(injectedUndefEsr(0x0200_0000n), 0x0200_0000n);
  assert.equal(injectedUndefEsr(0n), 0n);
});

test('C.6 kvm_inject_dabt goes through injectSync with FAR = the address, cause injected', () => {
  const cpu = new FakeCpu(0);
  injectDabt(cpu, 0x900_0abcn, 0x9200_0046n);
  assert.deepEqual(cpu.injected, [{ esr: 0x9600_0010n, far: 0x900_0abcn, cause: 'injected', pc: 0x4000_1000n }]);
  assert.equal(cpu.getSysreg('FAR_EL1'), 0x900_0abcn);
  assert.equal(cpu.pc, VBAR + 0x200n);
});

test('C.6 kvm_inject_pabt from EL0 lands at the lower-EL vector', () => {
  const cpu = new FakeCpu(0);
  cpu.pstate = PSTATE_EL0T;
  injectPabt(cpu, 0x1000n);
  assert.equal(cpu.injected[0].esr, 0x8200_0010n);
  assert.equal(cpu.pc, VBAR + 0x400n);
});

test('C.6 inject_undef64: EC 0 with IL, FAR untouched', () => {
  const cpu = new FakeCpu(0);
  cpu.setSysreg('FAR_EL1', 0x1234n);
  injectUndef(cpu);
  assert.equal(cpu.injected[0].esr, 0x0200_0000n);
  assert.equal(cpu.injected[0].far, undefined);
  assert.equal(cpu.getSysreg('FAR_EL1'), 0x1234n);
});

test('C.4#1 kvm_inject_vabt pends a virtual SError with VSESR = ISV (no synchronous exception)', () => {
  const cpu = new FakeCpu(2);
  const pended: [number, bigint][] = [];
  injectVabt({ pendVirtualSError: (v, e) => pended.push([v.index, e]) }, cpu);
  assert.deepEqual(pended, [[2, 0x0100_0000n]]);
  assert.equal(KVM_VABT_VSESR, 1n << 24n);
  assert.equal(cpu.injected.length, 0);
});

test('G.4 KVM_SET_VCPU_EVENTS ext_dabt_pending injects an external data abort at the last fault address', () => {
  const cpu = new FakeCpu(0);
  injectExtDabt(cpu, 0x900_0010n, 0x9340_0046n);
  assert.equal(cpu.injected[0].esr, 0x9600_0010n);
  assert.equal(cpu.injected[0].far, 0x900_0010n);
  assert.equal(cpu.getSysreg('ELR_EL1'), 0x4000_1000n, 'the faulting instruction is the return address');
});
