import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VgicV3, GICD_BASE, gicrBase, GIC_SPURIOUS_INTID } from '../../../emulator/cpu/gic';

const SGI = 0x1_0000;
function rd(gic: VgicV3, ipa: number, len = 4): bigint {
  const r = gic.mmio(ipa, len, false, 0n);
  assert.equal(r.handled, true);
  return r.data;
}
function wr(gic: VgicV3, ipa: number, v: bigint, len = 4): void {
  assert.equal(gic.mmio(ipa, len, true, v).handled, true);
}

/** a guest that did what Linux's gic-v3 driver does for one PPI: enable group 1, PMR 0xf0, priority 0xa0 */
function ready(intid = 21, nrVcpus = 1): VgicV3 {
  const gic = new VgicV3({ nrVcpus });
  gic.init();
  const rbase = gicrBase(nrVcpus);
  wr(gic, GICD_BASE, 0x2n);
  wr(gic, rbase + SGI + 0x100, BigInt(1 << intid));
  wr(gic, rbase + SGI + 0x400 + intid, 0xa0n, 1);
  const cpu = gic.cpuInterface(0);
  cpu.write('ICC_PMR_EL1', 0xf0n);
  cpu.write('ICC_IGRPEN1_EL1', 1n);
  return gic;
}

test('Interrupts: kvmtool layout — GICD at 0x3fff_0000 (64K), one 128K redistributor per vcpu right below it', () => {
  const one = new VgicV3({ nrVcpus: 1 });
  assert.deepEqual(one.ranges(), [
    { name: 'GICD', base: 0x3fff_0000, size: 0x1_0000 },
    { name: 'GICR', base: 0x3ffd_0000, size: 0x2_0000 },
  ]);
  assert.equal(gicrBase(4), 0x3ff7_0000);
  assert.equal(one.contains(0x3fff_ffff), true);
  assert.equal(one.contains(0x3ffc_ffff), false);
  assert.equal(one.contains(0x4000_0000), false);
  assert.deepEqual(one.mmio(0x4000_0000, 4, false, 0n), { handled: false, data: 0n });
});

test('Interrupts: reset values as KVM vgic-v3 reports them (GICD_CTLR 0x50, WAKER RAZ/WI, SGIs enabled, priorities 0)', () => {
  const gic = new VgicV3({ nrVcpus: 2 });
  const r0 = gicrBase(2);
  assert.equal(rd(gic, GICD_BASE), 0x50n);                 // ARE_NS | DS
  assert.equal(rd(gic, GICD_BASE + 0x4), 0x48_0001n);      // ITLinesNumber 1 (64 INTIDs), IDbits 9
  assert.equal(rd(gic, GICD_BASE + 0x8), 0x4b00_243bn);    // IIDR: KVM, rev 2, ARM
  assert.equal(rd(gic, GICD_BASE + 0xffe8), 0x3bn);         // PIDR2 ArchRev 3
  assert.equal(rd(gic, r0 + 0x14), 0n);                     // GICR_WAKER RAZ
  wr(gic, r0 + 0x14, 0x2n);
  assert.equal(rd(gic, r0 + 0x14), 0n);                     // WI
  assert.equal(rd(gic, r0 + SGI + 0x100), 0xffffn);         // ISENABLER0: SGIs on, PPIs off
  assert.equal(rd(gic, r0 + SGI + 0x80), 0xffff_ffffn);     // all group 1
  assert.equal(rd(gic, r0 + SGI + 0x400 + 20, 4), 0n);
  assert.equal(rd(gic, r0 + SGI + 0xc00), 0xaaaa_aaaan);    // SGIs edge
  assert.equal(rd(gic, r0 + SGI + 0xc04), 0n);              // PPIs level
  // GICR_TYPER: Processor_Number, Last on the last redistributor, Aff0 = vcpu index
  assert.equal(rd(gic, r0 + 0x8, 8), 0n);
  assert.equal(rd(gic, r0 + 0x2_0000 + 0x8, 8), (1n << 32n) | (1n << 8n) | (1n << 4n));
  const cpu = gic.cpuInterface(0);
  assert.equal(cpu.read('ICC_PMR_EL1'), 0n);
  assert.equal(cpu.read('ICC_IGRPEN1_EL1'), 0n);
  assert.equal(cpu.read('ICC_CTLR_EL1'), 0x8400n);          // PRIbits 4, IDbits 0, A3V
  assert.equal(cpu.read('ICC_SRE_EL1'), 0x7n);
  cpu.write('ICC_SRE_EL1', 0n);
  assert.equal(cpu.read('ICC_SRE_EL1'), 0x7n);
  assert.equal(cpu.read('ICC_RPR_EL1'), 0xffn);
});

test('Interrupts: the architectural WAKER option resets ProcessorSleep=ChildrenAsleep=1 and wakes on write', () => {
  const gic = new VgicV3({ nrVcpus: 1, waker: 'architectural' });
  const r0 = gicrBase(1);
  assert.equal(rd(gic, r0 + 0x14), 0x6n);
  wr(gic, r0 + 0x14, 0n);
  assert.equal(rd(gic, r0 + 0x14), 0n);
});

test('Interrupts: ICC_IAR1_EL1 returns 1023 with nothing pending, the PPI when its line is high, and marks it active', () => {
  const gic = ready();
  const cpu = gic.cpuInterface(0);
  assert.equal(cpu.irqPending(), false);
  assert.equal(cpu.read('ICC_IAR1_EL1'), BigInt(GIC_SPURIOUS_INTID));
  gic.setLevel(0, 21, true);
  assert.equal(cpu.irqPending(), true);
  assert.equal(cpu.read('ICC_HPPIR1_EL1'), 21n);
  assert.equal(cpu.read('ICC_IAR1_EL1'), 21n);
  assert.equal(gic.privateState(0).active, 1 << 21);
  assert.equal(cpu.read('ICC_RPR_EL1'), 0xa0n);
  // active and pending: not signalled again until deactivated
  assert.equal(cpu.irqPending(), false);
  assert.equal(cpu.read('ICC_IAR1_EL1'), 1023n);
  cpu.write('ICC_EOIR1_EL1', 21n);
  assert.equal(gic.privateState(0).active, 0);
  assert.equal(cpu.read('ICC_RPR_EL1'), 0xffn);
  // level-sensitive: still high, so pending again
  assert.equal(cpu.irqPending(), true);
  gic.setLevel(0, 21, false);
  assert.equal(cpu.irqPending(), false);
});

test('Interrupts: GICD_CTLR.EnableGrp1, ICC_IGRPEN1_EL1 and the enable bit each gate the PPI', () => {
  const gic = ready();
  const cpu = gic.cpuInterface(0);
  const r0 = gicrBase(1);
  gic.setLevel(0, 21, true);
  assert.equal(cpu.irqPending(), true);
  wr(gic, GICD_BASE, 0n);
  assert.equal(rd(gic, GICD_BASE), 0x50n);
  assert.equal(cpu.irqPending(), false);
  wr(gic, GICD_BASE, 2n);
  cpu.write('ICC_IGRPEN1_EL1', 0n);
  assert.equal(cpu.irqPending(), false);
  assert.equal(cpu.read('ICC_IAR1_EL1'), 1023n);
  cpu.write('ICC_IGRPEN1_EL1', 1n);
  wr(gic, r0 + SGI + 0x180, BigInt(1 << 21)); // ICENABLER0
  assert.equal(rd(gic, r0 + SGI + 0x100), 0xffffn);
  assert.equal(cpu.irqPending(), false);
  assert.equal(rd(gic, r0 + SGI + 0x200), BigInt(1 << 21)); // still pending
});

test('Interrupts: ICC_PMR_EL1 masks by priority (strictly higher priority needed); 5 priority bits', () => {
  const gic = ready();
  const cpu = gic.cpuInterface(0);
  const r0 = gicrBase(1);
  gic.setLevel(0, 21, true);
  cpu.write('ICC_PMR_EL1', 0xa0n);
  assert.equal(cpu.irqPending(), false);
  assert.equal(cpu.read('ICC_IAR1_EL1'), 1023n);
  cpu.write('ICC_PMR_EL1', 0xa8n);
  assert.equal(cpu.irqPending(), true);
  cpu.write('ICC_PMR_EL1', 0xffn);
  assert.equal(cpu.read('ICC_PMR_EL1'), 0xf8n);
  wr(gic, r0 + SGI + 0x400 + 21, 0xa7n, 1);
  assert.equal(rd(gic, r0 + SGI + 0x400 + 21, 1), 0xa0n);
  // a 32-bit IPRIORITYR access covers four INTIDs
  wr(gic, r0 + SGI + 0x414, 0x1020_3040n);
  assert.equal(rd(gic, r0 + SGI + 0x414), 0x1020_3040n);
  assert.deepEqual(gic.privateState(0).priority.slice(20, 24), [0x40, 0x30, 0x20, 0x10]);
});

test('Interrupts: a higher-priority PPI preempts an active one; equal or lower priority waits for the EOI', () => {
  const gic = ready(21);
  const cpu = gic.cpuInterface(0);
  const r0 = gicrBase(1);
  wr(gic, r0 + SGI + 0x100, BigInt((1 << 22) | (1 << 23)));
  wr(gic, r0 + SGI + 0x400 + 22, 0x80n, 1);
  wr(gic, r0 + SGI + 0x400 + 23, 0xa0n, 1);
  gic.setLevel(0, 21, true);
  assert.equal(cpu.read('ICC_IAR1_EL1'), 21n);
  gic.setLevel(0, 23, true);
  assert.equal(cpu.irqPending(), false); // same priority 0xa0
  gic.setLevel(0, 22, true);
  assert.equal(cpu.read('ICC_IAR1_EL1'), 22n); // 0x80 preempts
  assert.equal(cpu.read('ICC_RPR_EL1'), 0x80n);
  cpu.write('ICC_EOIR1_EL1', 22n);
  gic.setLevel(0, 22, false);
  assert.equal(cpu.irqPending(), false); // 21 still running at 0xa0
  cpu.write('ICC_EOIR1_EL1', 21n);
  gic.setLevel(0, 21, false);
  assert.equal(cpu.read('ICC_IAR1_EL1'), 23n);
});

test('Interrupts: with ICC_CTLR_EL1.EOImode=1 the EOI only drops priority and ICC_DIR_EL1 deactivates', () => {
  const gic = ready();
  const cpu = gic.cpuInterface(0);
  cpu.write('ICC_CTLR_EL1', 2n);
  assert.equal(cpu.read('ICC_CTLR_EL1'), 0x8402n);
  gic.setLevel(0, 21, true);
  assert.equal(cpu.read('ICC_IAR1_EL1'), 21n);
  cpu.write('ICC_EOIR1_EL1', 21n);
  assert.equal(gic.privateState(0).active, 1 << 21);
  assert.equal(cpu.read('ICC_RPR_EL1'), 0xffn);
  cpu.write('ICC_DIR_EL1', 21n);
  assert.equal(gic.privateState(0).active, 0);
});

test('Interrupts: kvm_vgic_set_owner — EAGAIN before init, EINVAL for an SGI or out-of-range INTID, EEXIST for another owner', () => {
  const gic = new VgicV3({ nrVcpus: 2 });
  const a = {}, b = {};
  assert.equal(gic.setOwner(0, 21, a), 'EAGAIN');
  gic.init();
  assert.equal(gic.setOwner(0, 5, a), 'EINVAL');
  assert.equal(gic.setOwner(0, 64, a), 'EINVAL');
  assert.equal(gic.setOwner(0, 21, a), null);
  assert.equal(gic.setOwner(0, 21, a), null);
  assert.equal(gic.setOwner(0, 21, b), 'EEXIST');
  assert.equal(gic.setOwner(1, 21, b), null); // PPIs are per vcpu
  assert.equal(gic.setOwner(0, 40, a), null); // a valid SPI
  // an owned line can only be driven by its owner
  assert.equal(gic.setLevel(0, 21, true, b), false);
  assert.equal(gic.setLevel(0, 21, true, a), true);
  assert.equal(gic.lineLevel(0, 21), true);
  assert.equal(gic.lineLevel(1, 21), false);
});

test('Interrupts: ISPENDR0 latches a PPI until acknowledged; ICPENDR0 clears the latch', () => {
  const gic = ready();
  const cpu = gic.cpuInterface(0);
  const r0 = gicrBase(1);
  wr(gic, r0 + SGI + 0x200, BigInt(1 << 21));
  assert.equal(cpu.irqPending(), true);
  wr(gic, r0 + SGI + 0x280, BigInt(1 << 21));
  assert.equal(cpu.irqPending(), false);
  wr(gic, r0 + SGI + 0x200, BigInt(1 << 21));
  assert.equal(cpu.read('ICC_IAR1_EL1'), 21n);
  cpu.write('ICC_EOIR1_EL1', 21n);
  assert.equal(cpu.irqPending(), false);
});

test('Interrupts: snapshot/restore of the vGIC state', () => {
  const gic = ready();
  const cpu = gic.cpuInterface(0);
  const s = gic.snapshot();
  gic.setLevel(0, 21, true);
  cpu.read('ICC_IAR1_EL1');
  cpu.write('ICC_PMR_EL1', 0n);
  gic.restore(s);
  assert.equal(cpu.read('ICC_PMR_EL1'), 0xf0n);
  assert.equal(gic.privateState(0).active, 0);
  assert.equal(cpu.irqPending(), false);
  gic.setLevel(0, 21, true);
  assert.equal(cpu.irqPending(), true);
});
