// System registers: identity (ARCHITECTURE.md "Emulated CPU identity"), MRS/MSR by name and by s3_ encoding,
// UNDEFINED for unknown / EL2 / EL0-inaccessible registers, device-owned registers (devices.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../../emulator/cpu/cpu';
import { EventLog } from '../../../emulator/events';
import { PhysMem } from '../../../emulator/memory/physmem';
import { exec, FakeStage2, rig } from './harness';

test('identity: MPIDR Aff0 = vcpu index with bit 31 RES1; MIDR Neoverse N1; PARange 48; CTR IDC=DIC=0; DCZID BS=4', () => {
  const cpu = new Cpu({ index: 3, mem: new PhysMem(), stage2: new FakeStage2(), events: new EventLog() });
  assert.equal(cpu.getSysreg('MPIDR_EL1'), 0x8000_0003n);
  assert.equal(cpu.getSysreg('MIDR_EL1'), 0x413f_d0c1n);
  assert.equal(cpu.getSysreg('ID_AA64MMFR0_EL1') & 0xfn, 5n);
  const ctr = cpu.getSysreg('CTR_EL0');
  assert.equal((ctr >> 28n) & 1n, 0n, 'IDC');
  assert.equal((ctr >> 29n) & 1n, 0n, 'DIC');
  assert.equal(cpu.getSysreg('DCZID_EL0'), 4n);
  assert.equal(cpu.getSysreg('CNTFRQ_EL0'), 100_000_000n);
});

test('reset state: EL1h, DAIF masked, MMU off, registers zero', () => {
  const r = rig('mov x0, #5\nmsr daifclr, #0xf\nhvc #0');
  r.cpu.setSysreg('SCTLR_EL1', r.cpu.getSysreg('SCTLR_EL1') | 1n);
  r.run();
  r.cpu.reset();
  assert.equal(r.cpu.getPstate(), 0x3c5n);
  assert.equal(r.cpu.getSysreg('SCTLR_EL1') & 1n, 0n);
  assert.equal(r.cpu.getX(0), 0n);
  assert.equal(r.cpu.getPc(), 0n);
});

test('mrs/msr by name and by s3_ encoding reach the same register', () => {
  const r = exec('msr tpidr_el1, x1\nmrs x0, s3_0_c13_c0_4\nmrs x2, s3_0_c0_c0_0\nmrs x3, currentel\nmrs x4, nzcv\nhvc #0', { 1: 0xfeedn });
  assert.equal(r.cpu.getX(0), 0xfeedn);
  assert.equal(r.cpu.getX(2), 0x413f_d0c1n);
  assert.equal(r.cpu.getX(3), 4n);
  assert.equal(r.cpu.getX(4), 0n);
});

test('msr daifset/daifclr and the DAIF/NZCV/SPSel views', () => {
  const r = exec('msr daifclr, #0xf\nmrs x0, daif\nmsr daifset, #2\nmrs x1, daif\nmov x5, #0x60000000\nmsr nzcv, x5\nmrs x2, spsel\nhvc #0');
  assert.equal(r.cpu.getX(0), 0n);
  assert.equal(r.cpu.getX(1), 0x80n);
  assert.equal(r.cpu.getPstate() >> 28n, 6n);
  assert.equal(r.cpu.getX(2), 1n);
});

test('unknown, EL2 and read-only registers are UNDEFINED from the guest; host access to unknown names throws', () => {
  for (const src of ['mrs x0, s3_0_c15_c15_0', 'mrs x0, vttbr_el2', 'msr s3_0_c0_c0_0, x0', 'mrs x0, s3_0_c9_c9_7']) {
    const r = rig(src);
    r.cpu.setSysreg('VBAR_EL1', 0x8000n);
    r.run(1);
    assert.equal(r.cpu.getPc(), 0x8200n, src);
    assert.equal(r.cpu.getSysreg('ESR_EL1') >> 26n, 0n, src);
  }
  const r = rig('nop');
  assert.throws(() => r.cpu.getSysreg('NOT_A_REG'));
});

test('EL0 may read CNTVCT_EL0 and TPIDR_EL0 but not EL1 registers', () => {
  const r = rig('eret');
  r.cpu.setSysreg('VBAR_EL1', 0x8000n);
  r.cpu.setSysreg('SPSR_EL1', 0n);
  r.cpu.setSysreg('ELR_EL1', 0x2000n);
  r.load(0x2000, [0xd53be040 /* mrs x0, cntvct_el0 */, 0xd5381000 /* mrs x0, sctlr_el1 */]);
  r.run(2);
  assert.equal(r.cpu.getPc(), 0x2004n);
  r.run(1);
  assert.equal(r.cpu.getPc(), 0x8400n);
  assert.equal(r.cpu.getSysreg('ESR_EL1') >> 26n, 0n);
});

test('device-owned registers route to the attached SysregDevice (SPE), and PMSVer appears in ID_AA64DFR0', () => {
  const r = rig('mrs x0, pmsidr_el1\nmsr pmbptr_el1, x1\nmrs x2, pmbptr_el1\nhvc #0');
  const store = new Map<string, bigint>([['PMSIDR_EL1', 0x6123n], ['PMBPTR_EL1', 0n]]);
  r.cpu.attachSysregDevice({ sysregs: ['PMSIDR_EL1', 'PMBPTR_EL1'], read: (n) => store.get(n)!, write: (n, v) => { store.set(n, v); } });
  r.cpu.setX(1, 0x4000n);
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.cpu.getX(0), 0x6123n);
  assert.equal(r.cpu.getX(2), 0x4000n);
  assert.equal((r.cpu.getSysreg('ID_AA64DFR0_EL1') >> 32n) & 0xfn, 1n);
});

test('writing SCTLR_EL1 (MMU on/off) takes effect for the next access: the TLB is flushed', () => {
  const r = rig('ldr x0, [x1]\nhvc #0\nldr x0, [x1]\nhvc #0');
  r.cpu.setX(1, 0x10000n);
  r.mem.write64(0x10000, 1n);
  r.run();
  // MMU on with TTBR0 at an empty table: the same VA now faults in stage 1
  r.cpu.setSysreg('TCR_EL1', 16n | (5n << 32n));
  r.cpu.setSysreg('TTBR0_EL1', 0x200000n);
  r.cpu.setSysreg('MAIR_EL1', 0xffn);
  r.cpu.setSysreg('SCTLR_EL1', r.cpu.getSysreg('SCTLR_EL1') | 1n);
  r.cpu.setSysreg('VBAR_EL1', 0x8000n);
  r.run(1);
  assert.equal(r.cpu.getSysreg('ESR_EL1') >> 26n, 0x21n, 'the fetch itself now faults in stage 1');
});

test('ID register space: unlisted ID registers read as zero; the timer TVAL views follow the counter', () => {
  const r = exec('mrs x0, s3_0_c0_c7_5\nmrs x1, s3_0_c0_c4_4\nmov x2, #100\nmsr cntv_tval_el0, x2\nnop\nmrs x3, cntv_tval_el0\nmrs x4, cntv_cval_el0\nhvc #0', { 0: 5n, 1: 5n });
  assert.equal(r.cpu.getX(0), 0n);
  assert.equal(r.cpu.getX(1), 0n);
  assert.equal(r.cpu.getX(3), 98n, 'two instructions later');
  assert.equal(r.cpu.getX(4), 103n, 'written at tick 3');
});
