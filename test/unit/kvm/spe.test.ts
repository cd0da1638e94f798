import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLog, toJson, type TraceEvent } from '../../../emulator/events';
import type { CpuMemoryPort, RetiredOp } from '../../../emulator/cpu/devices';
import { SpeUnit, PMBSR_S } from '../../../emulator/cpu/spe';
import { VgicV3 } from '../../../emulator/cpu/gic';
import { FLAVOURS, type Flavour, type FlavourName } from '../../../emulator/kvm/flavours';
import type { IoctlResult } from '../../../emulator/kvm/errno';
import {
  KvmSpeVcpu, PrintkRatelimit, type KvmSpeHost, type SpeHardware,
  KVM_ARM_VCPU_SPE_IRQ as IRQ, KVM_ARM_VCPU_SPE_INIT as INIT, KVM_ARM_VCPU_SPE_STOP as STOP,
  KVM_ARM_VCPU_SPE_STOP_TRAP, KVM_ARM_VCPU_SPE_STOP_EXIT, KVM_ARM_VCPU_SPE_RESUME, KVM_EXIT_FAIL_ENTRY_SPE,
} from '../../../emulator/kvm/spe';

/** Guest stage 1 is the identity; stage 2 maps only the pages a locked memslot pre-mapped (PA = IPA + 4G). */
class FakeGuestMemory implements CpuMemoryPort {
  readonly stage2 = new Set<number>();
  readonly mem = new Map<number, number>();
  ticks = 0x500n;
  lockSlot(gpa: number, size: number): void {
    for (let p = gpa; p < gpa + size; p += 4096) this.stage2.add(p);
  }
  translateWrite(va: bigint): { readonly pa: number } | { readonly fault: 's1' | 's2'; readonly fsc: number; readonly ipa?: number } {
    const ipa = Number(va);
    if (!this.stage2.has(ipa - (ipa % 4096))) return { fault: 's2', fsc: 0x07, ipa }; // translation fault, level 3
    return { pa: ipa + 0x1_0000_0000 };
  }
  writePhys(pa: number, bytes: Uint8Array): void { bytes.forEach((b, i) => this.mem.set(pa + i, b)); }
  counter(): bigint { return this.ticks; }
  byteAt(ipa: number): number | undefined { return this.mem.get(ipa + 0x1_0000_0000); }
}

interface Rig {
  events: EventLog;
  gic: VgicV3 | null;
  mems: FakeGuestMemory[];
  units: SpeUnit[];
  spes: KvmSpeVcpu[];
  clock: { now: number };
}

function rig(opts: {
  flavour?: FlavourName | Flavour; vcpus?: number; hostSpe?: boolean; gic?: boolean; vgicInit?: boolean;
  speFeature?: boolean[]; ratelimit?: PrintkRatelimit;
} = {}): Rig {
  const n = opts.vcpus ?? 1;
  const flavour = typeof opts.flavour === 'object' ? opts.flavour : FLAVOURS[opts.flavour ?? 'spe-rfc-v5'];
  const events = new EventLog();
  const gic = opts.gic === false ? null : new VgicV3({ nrVcpus: n });
  if (gic && opts.vgicInit !== false) gic.init();
  const mems = Array.from({ length: n }, () => new FakeGuestMemory());
  const units = mems.map((m) => new SpeUnit(m));
  const clock = { now: 0 };
  const spes: KvmSpeVcpu[] = [];
  const host: KvmSpeHost = {
    flavour, events, hostSupportsSpe: opts.hostSpe ?? true, irqchip: gic,
    vcpuHasSpe: (i) => opts.speFeature?.[i] ?? true,
    speVcpus: () => spes,
    now: () => clock.now,
    warnRatelimit: opts.ratelimit,
  };
  units.forEach((u, i) => spes.push(new KvmSpeVcpu(i, host, u)));
  return { events, gic, mems, units, spes, clock };
}

function ready(r: Rig, vcpu = 0, intid = 21): KvmSpeVcpu {
  const s = r.spes[vcpu];
  assert.deepEqual(s.setAttr(IRQ, { value: intid }), { ok: true });
  assert.deepEqual(s.setAttr(INIT), { ok: true });
  return s;
}

/** the guest's SPE driver: buffer [base, limit), profiling at EL1 with timestamps every 256 instructions */
function guestStart(s: KvmSpeVcpu, base: bigint, limit: bigint): void {
  const g = s.guestSysregs;
  g.write('PMSIRR_EL1', 256n);
  g.write('PMSICR_EL1', 0n);
  g.write('PMBPTR_EL1', base);
  g.write('PMBLIMITR_EL1', limit | 1n);
  g.write('PMSCR_EL1', 2n | (1n << 5n));
}

const LOAD: RetiredOp = { pc: 0x4000_1000n, el: 1, kind: 'load', dataVa: 0x4010_0000n };
function run(unit: SpeUnit, n: number, op: RetiredOp = LOAD): void {
  for (let i = 0; i < n; i++) if (unit.active()) unit.onRetire(op);
}

function speIrqs(ev: EventLog): { [k: string]: unknown }[] {
  return ev.all().filter((e: TraceEvent) => e.event === 'spe-irq').map(toJson);
}
function warnings(ev: EventLog): string[] {
  return ev.all().filter((e) => e.event === 'warning').map((e) => String(e.fields.message));
}
function errno(r: IoctlResult): string {
  return r.ok ? 'ok' : `${r.errno} ${r.rule}`;
}

// ---- E.5 attribute errnos, in the kernel's check order ------------------------------------------------------

test('E.5#supports SPE_IRQ on a host without SPE -> ENXIO', () => {
  assert.equal(errno(rig({ hostSpe: false }).spes[0].setAttr(IRQ, { value: 21 })), 'ENXIO E.5#supports');
});

test('E.5#supports SPE_IRQ in a flavour without the SPE RFC -> ENXIO', () => {
  assert.equal(errno(rig({ flavour: 'mainline-5.15' }).spes[0].setAttr(IRQ, { value: 21 })), 'ENXIO E.5#supports');
});

test('E.5#supports SPE_IRQ on a vcpu without KVM_ARM_VCPU_SPE -> ENXIO', () => {
  const r = rig({ speFeature: [false] });
  assert.equal(errno(r.spes[0].setAttr(IRQ, { value: 21 })), 'ENXIO E.5#supports');
  assert.equal(errno(r.spes[0].getAttr(IRQ)), 'ENXIO E.5#supports');
  assert.equal(errno(r.spes[0].hasAttr(IRQ)), 'ENXIO E.5#supports');
});

test('E.5#supports SPE_IRQ without an in-kernel irqchip -> ENXIO', () => {
  assert.equal(errno(rig({ gic: false }).spes[0].setAttr(IRQ, { value: 21 })), 'ENXIO E.5#supports');
});

test('E.5#irq-initialized SPE_IRQ after SPE_INIT -> EBUSY (checked before the address is read)', () => {
  const r = rig();
  ready(r);
  assert.equal(errno(r.spes[0].setAttr(IRQ, { value: 21 })), 'EBUSY E.5#irq-initialized');
  assert.equal(errno(r.spes[0].setAttr(IRQ, { fault: true })), 'EBUSY E.5#irq-initialized');
});

test('E.5#irq-set SPE_IRQ twice -> EBUSY', () => {
  const r = rig();
  assert.equal(errno(r.spes[0].setAttr(IRQ, { value: 21 })), 'ok');
  assert.equal(errno(r.spes[0].setAttr(IRQ, { value: 22 })), 'EBUSY E.5#irq-set');
  assert.equal(errno(r.spes[0].setAttr(IRQ, { fault: true })), 'EBUSY E.5#irq-set');
});

test('E.5#irq-fault SPE_IRQ with a bad address -> EFAULT', () => {
  assert.equal(errno(rig().spes[0].setAttr(IRQ, { fault: true })), 'EFAULT E.5#irq-fault');
});

test('E.5 SPE_IRQ not a PPI -> EINVAL (the documented rule, a flavour without the bool quirk)', () => {
  const fixed: Flavour = { ...FLAVOURS['spe-rfc-v5'], spe: { ...FLAVOURS['spe-rfc-v5'].spe!, nonPpiIrqAccepted: false } };
  const r = rig({ flavour: fixed });
  for (const bad of [0, 5, 15, 32, 40, -1]) {
    assert.equal(errno(r.spes[0].setAttr(IRQ, { value: bad })), 'EINVAL E.5#irq-invalid', `INTID ${bad}`);
  }
  assert.equal(r.spes[0].irqNum, 0);
});

test('E.5 SPE_IRQ not a PPI, as posted (v4 21/39, v5): accepted with a warning; SPE_INIT then fails for an SGI', () => {
  for (const f of ['spe-rfc-v4', 'spe-rfc-v5'] as const) {
    const r = rig({ flavour: f, vcpus: 2 });
    assert.equal(errno(r.spes[0].setAttr(IRQ, { value: 5 })), 'ok', f);
    assert.equal(r.spes[0].irqNum, 5);
    assert.match(warnings(r.events)[0], /not a PPI: kvm_spe_irq_is_valid\(\) returns -EINVAL from a bool function/);
    // kvm_vgic_set_owner refuses an SGI
    assert.equal(errno(r.spes[0].setAttr(INIT)), 'ENXIO E.5#init-owner', f);
    // the non-PPI path also skips the same-PPI check: vcpu 1 may pick INTID 40 although vcpu 0 has 5
    assert.equal(errno(r.spes[1].setAttr(IRQ, { value: 40 })), 'ok', f);
  }
});

test('E.5 SPE_IRQ a different PPI than another vcpu -> EINVAL', () => {
  const r = rig({ vcpus: 2 });
  ready(r, 0, 21);
  assert.equal(errno(r.spes[1].setAttr(IRQ, { value: 22 })), 'EINVAL E.5#irq-invalid');
  assert.equal(errno(r.spes[1].setAttr(IRQ, { value: 21 })), 'ok');
});

test('E.5#irq-unset GET SPE_IRQ before it is set -> ENXIO; afterwards it returns the INTID', () => {
  const r = rig();
  assert.equal(errno(r.spes[0].getAttr(IRQ)), 'ENXIO E.5#irq-unset');
  r.spes[0].setAttr(IRQ, { value: 23 });
  assert.deepEqual(r.spes[0].getAttr(IRQ), { ok: true, value: 23n });
  assert.equal(errno(r.spes[0].getAttr(IRQ, { fault: true })), 'EFAULT E.5#irq-fault');
  assert.equal(errno(r.spes[0].getAttr(INIT)), 'ENXIO E.5#attr');
});

test('E.5#init-no-irq SPE_INIT before SPE_IRQ -> ENXIO', () => {
  assert.equal(errno(rig().spes[0].setAttr(INIT)), 'ENXIO E.5#init-no-irq');
});

test('E.5#init-vgic SPE_INIT before the vGIC is initialised -> ENXIO', () => {
  const r = rig({ vgicInit: false });
  r.spes[0].setAttr(IRQ, { value: 21 });
  assert.equal(errno(r.spes[0].setAttr(INIT)), 'ENXIO E.5#init-vgic');
});

test('E.5#init-busy SPE_INIT twice -> EBUSY', () => {
  const r = rig();
  ready(r);
  assert.equal(errno(r.spes[0].setAttr(INIT)), 'EBUSY E.5#init-busy');
});

test('E.5#init-owner SPE_INIT on a PPI another in-kernel device owns -> ENXIO', () => {
  const r = rig();
  assert.equal(r.gic!.setOwner(0, 23, { device: 'pmu' }), null);
  r.spes[0].setAttr(IRQ, { value: 23 });
  assert.equal(errno(r.spes[0].setAttr(INIT)), 'ENXIO E.5#init-owner');
  assert.equal(r.spes[0].initialized, false);
});

test('E.5#stop-uninit SPE_STOP before SPE_INIT -> EAGAIN (before the address is read)', () => {
  const r = rig();
  assert.equal(errno(r.spes[0].setAttr(STOP, { value: KVM_ARM_VCPU_SPE_STOP_TRAP })), 'EAGAIN E.5#stop-uninit');
  assert.equal(errno(r.spes[0].setAttr(STOP, { fault: true })), 'EAGAIN E.5#stop-uninit');
  assert.equal(errno(r.spes[0].getAttr(STOP)), 'EAGAIN E.5#stop-uninit');
});

test('E.5#stop-fault SPE_STOP with a bad address -> EFAULT', () => {
  const r = rig();
  ready(r);
  assert.equal(errno(r.spes[0].setAttr(STOP, { fault: true })), 'EFAULT E.5#stop-fault');
});

test('E.5#stop-flags SPE_STOP with no flag or several flags -> EINVAL; an unknown bit alone is accepted as posted', () => {
  const r = rig();
  const s = ready(r);
  assert.equal(errno(s.setAttr(STOP, { value: 0 })), 'EINVAL E.5#stop-flags');
  assert.equal(errno(s.setAttr(STOP, { value: 3 })), 'EINVAL E.5#stop-flags');
  assert.equal(errno(s.setAttr(STOP, { value: 6 })), 'EINVAL E.5#stop-flags');
  assert.equal(errno(s.setAttr(STOP, { value: 1 | 8 })), 'EINVAL E.5#stop-flags');
  assert.equal(s.stop, 'none');
  // kvm_spe_stop_user(): no branch matches 8, so it returns 0 (v4 36/39)
  assert.equal(errno(s.setAttr(STOP, { value: 8 })), 'ok');
  assert.equal(s.stop, 'none');
  assert.match(warnings(r.events).at(-1)!, /name no known flag/);
});

test('E.5 SPE_STOP: the last value wins; GET returns TRAP, EXIT or 0', () => {
  const r = rig();
  const s = ready(r);
  assert.deepEqual(s.getAttr(STOP), { ok: true, value: 0n });
  s.setAttr(STOP, { value: KVM_ARM_VCPU_SPE_STOP_TRAP });
  assert.deepEqual(s.getAttr(STOP), { ok: true, value: 1n });
  s.setAttr(STOP, { value: KVM_ARM_VCPU_SPE_STOP_EXIT });
  assert.deepEqual(s.getAttr(STOP), { ok: true, value: 2n });
  s.setAttr(STOP, { value: KVM_ARM_VCPU_SPE_RESUME });
  assert.deepEqual(s.getAttr(STOP), { ok: true, value: 0n });
  assert.equal(errno(s.getAttr(STOP, { fault: true })), 'EFAULT E.5#stop-fault');
});

test('E.5#attr an unknown attribute -> ENXIO; HAS_DEVICE_ATTR knows IRQ, INIT, STOP', () => {
  const r = rig();
  assert.equal(errno(r.spes[0].setAttr(3, { value: 0 })), 'ENXIO E.5#attr');
  assert.equal(errno(r.spes[0].hasAttr(3)), 'ENXIO E.5#attr');
  for (const a of [IRQ, INIT, STOP]) assert.equal(errno(r.spes[0].hasAttr(a)), 'ok');
  const noStop: Flavour = { ...FLAVOURS['spe-rfc-v4'], spe: { ...FLAVOURS['spe-rfc-v4'].spe!, hasStop: false } };
  const r2 = rig({ flavour: noStop });
  ready(r2);
  assert.equal(errno(r2.spes[0].setAttr(STOP, { value: 1 })), 'ENXIO E.5#attr');
  assert.equal(errno(r2.spes[0].hasAttr(STOP)), 'ENXIO E.5#attr');
});

test('E.5#first-run KVM_RUN with the SPE feature but no SPE_INIT: v4 -> EPERM, v5 -> EINVAL', () => {
  assert.equal(errno(rig({ flavour: 'spe-rfc-v4' }).spes[0].firstRunInit()!), 'EPERM E.5#first-run');
  assert.equal(errno(rig({ flavour: 'spe-rfc-v5' }).spes[0].firstRunInit()!), 'EINVAL E.5#first-run');
  const r = rig();
  ready(r);
  assert.equal(r.spes[0].firstRunInit(), null);
  assert.equal(rig({ speFeature: [false] }).spes[0].firstRunInit(), null);
});

test('E.5#stop-exit STOP_EXIT with the buffer enabled and E1SPE set: KVM_RUN fails entry (fail_entry SPE, EAGAIN)', () => {
  const r = rig();
  const s = ready(r);
  r.mems[0].lockSlot(0x8000_0000, 0x4000);
  s.setAttr(STOP, { value: KVM_ARM_VCPU_SPE_STOP_EXIT });
  assert.deepEqual(s.entryCheck(), { ok: true });
  guestStart(s, 0x8000_0000n, 0x8000_4000n);
  const c = s.entryCheck();
  assert.equal(c.ok, false);
  if (!c.ok) {
    assert.equal(c.exitReason, 'fail_entry');
    assert.equal(c.hardwareEntryFailureReason, KVM_EXIT_FAIL_ENTRY_SPE);
    assert.equal(errno(c.result), 'EAGAIN E.5#stop-exit');
  }
  // profiling is stopped: nothing reaches the hardware
  assert.equal(r.units[0].read('PMSCR_EL1'), 0n);
  assert.equal(r.units[0].active(), false);
  // PMSCR without E0SPE/E1SPE: enters
  s.guestSysregs.write('PMSCR_EL1', 0n);
  assert.deepEqual(s.entryCheck(), { ok: true });
  s.guestSysregs.write('PMSCR_EL1', 1n); // E0SPE alone counts ("we don't trap the guest dropping to EL0")
  assert.equal(s.entryCheck().ok, false);
  // the virtual interrupt asserted: the buffer counts as disabled
  s.guestSysregs.write('PMBSR_EL1', PMBSR_S);
  assert.deepEqual(s.entryCheck(), { ok: true });
});

test('E.5 STOP_TRAP keeps the guest state in memory (no sampling) and RESUME puts it back on the hardware', () => {
  const r = rig();
  const s = ready(r);
  r.mems[0].lockSlot(0x8000_0000, 0x4000);
  guestStart(s, 0x8000_0000n, 0x8000_4000n);
  assert.equal(r.units[0].active(), true);
  s.setAttr(STOP, { value: KVM_ARM_VCPU_SPE_STOP_TRAP });
  assert.equal(r.units[0].active(), false);
  assert.equal(s.guestSysregs.read('PMSCR_EL1'), 0x22n); // the guest still reads its own value
  s.guestSysregs.write('PMSIRR_EL1', 512n);
  assert.equal(r.units[0].read('PMSIRR_EL1'), 256n);
  run(r.units[0], 1000);
  assert.equal(r.units[0].records, 0);
  s.setAttr(STOP, { value: KVM_ARM_VCPU_SPE_RESUME });
  assert.equal(r.units[0].read('PMSIRR_EL1'), 512n);
  assert.equal(r.units[0].active(), true);
  run(r.units[0], 512);
  assert.equal(r.units[0].records, 1);
});

// ---- buffer-management interrupt emulation (v4 34/39) ----------------------------------------------------------

test('E.5 v4 34/39 buffer full: PMBSR left for the guest, spe-irq level=1 with bsc=1, the hardware buffer held off', () => {
  const r = rig();
  const s = ready(r);
  r.mems[0].lockSlot(0x8000_0000, 0x1000);
  guestStart(s, 0x8000_0f80n, 0x8000_1000n);
  run(r.units[0], 256 * 3);
  assert.equal(r.units[0].records, 2);
  const irqs = speIrqs(r.events);
  assert.equal(irqs.length, 1);
  assert.deepEqual(irqs[0], {
    seq: 1, event: 'spe-irq', line: 0, vcpu: 0, intid: 21, level: 1, pmbsr: '0x20001', pmbptr: '0x80001000',
    ec: '0x0', bsc: '0x1', hw_pmbsr: '0x20001', hw_ec: '0x0',
  });
  assert.equal(s.guestSysregs.read('PMBSR_EL1'), PMBSR_S | 1n);
  assert.equal(s.guestSysregs.read('PMBPTR_EL1'), 0x8000_1000n);
  // on entry: hardware PMBSR = 0, PMBLIMITR = 0 while the virtual interrupt is asserted
  assert.equal(r.units[0].read('PMBSR_EL1'), 0n);
  assert.equal(r.units[0].read('PMBLIMITR_EL1'), 0n);
  assert.equal(s.guestSysregs.read('PMBLIMITR_EL1'), 0x8000_1001n);
  assert.equal(warnings(r.events).length, 0);
  assert.equal(r.gic!.lineLevel(0, 21), true);
});

test('E.5 v4 34/39 stage 1 fault: left unchanged for the guest (EC 0x24, its FSC), no warning', () => {
  const r = rig();
  const s = ready(r);
  // a fake hardware that reports what the unit reports for an S1 fault
  r.mems[0].lockSlot(0x8000_0000, 0x1000);
  guestStart(s, 0x8000_0000n, 0x8000_4000n);
  const hw = r.units[0];
  // make the next write take an S1 fault: PMBPTR in an unmapped page whose *stage 1* faults
  const port = r.mems[0] as FakeGuestMemory & { s1?: boolean };
  const orig = port.translateWrite.bind(port);
  port.translateWrite = (va) => (va >= 0x8000_2000n ? { fault: 's1', fsc: 0x0b } : orig(va));
  s.guestSysregs.write('PMBPTR_EL1', 0x8000_2000n);
  run(hw, 256);
  const [e] = speIrqs(r.events);
  assert.equal(e.ec, '0x24');
  assert.equal(e.fsc, '0xb');
  assert.equal(e.hw_ec, '0x24');
  assert.equal(e.pmbsr, e.hw_pmbsr);
  assert.equal(e.pmbptr, '0x80002000');
  assert.equal(warnings(r.events).length, 0);
});

test('E.5 v4 34/39 stage 2 fault -> the guest sees an external abort (EA|S|EC 0x24|FSC 0x10) with the kernel warning', () => {
  const r = rig();
  const s = ready(r);
  guestStart(s, 0x8000_0000n, 0x8000_4000n); // buffer memory not mapped at stage 2
  run(r.units[0], 256);
  const [e] = speIrqs(r.events);
  assert.deepEqual(e, {
    seq: 2, event: 'spe-irq', line: 0, vcpu: 0, intid: 21, level: 1,
    pmbsr: '0x90060010', pmbptr: '0x80000000', ec: '0x24', fsc: '0x10',
    hw_pmbsr: '0x94020007', hw_ec: '0x25',
  });
  assert.deepEqual(warnings(r.events), [
    'SPE stage 2 data abort [PMBSR=0x0000000094020007, PMBPTR=0x0000000080000000, PMBLIMITR=0x0000000080004001]',
  ]);
  assert.equal(s.guestSysregs.read('PMBSR_EL1'), 0x9006_0010n);
  assert.equal(r.events.all()[0].event, 'warning'); // printed before the interrupt is asserted
});

test('E.5 v4 34/39 an unknown buffer syndrome -> "SPE unknown buffer syndrome" and the same external abort', () => {
  // fake hardware: reports EC 0x1f (IMPDEF), which the unit itself never produces
  const regs = new Map<string, bigint>();
  let listener: ((level: boolean, pmbsr: bigint) => void) | null = null;
  const fake: SpeHardware = {
    sysregs: [],
    read: (n) => regs.get(n) ?? 0n,
    write: (n, v) => { regs.set(n, v); },
    setServiceListener: (l) => { listener = l; },
  };
  const events = new EventLog();
  const gic = new VgicV3({ nrVcpus: 1 });
  gic.init();
  const spes: KvmSpeVcpu[] = [];
  const host: KvmSpeHost = {
    flavour: FLAVOURS['spe-rfc-v4'], events, hostSupportsSpe: true, irqchip: gic, vcpuHasSpe: () => true,
    speVcpus: () => spes, now: () => 0,
  };
  const s = new KvmSpeVcpu(0, host, fake);
  spes.push(s);
  ready({ events, gic, mems: [], units: [], spes, clock: { now: 0 } });
  s.guestSysregs.write('PMBLIMITR_EL1', 0x9000_0001n);
  const hwPmbsr = PMBSR_S | (0x1fn << 26n) | 0x3n;
  regs.set('PMBSR_EL1', hwPmbsr);
  regs.set('PMBPTR_EL1', 0x9000_0000n - 0x1000n);
  listener!(true, hwPmbsr);
  assert.deepEqual(warnings(events), [
    'SPE unknown buffer syndrome [PMBSR=0x000000007c020003, PMBPTR=0x000000008ffff000, PMBLIMITR=0x0000000090000001]',
  ]);
  const [e] = speIrqs(events);
  assert.equal(e.pmbsr, '0x90060010');
  assert.equal(e.hw_ec, '0x1f');
  assert.equal(regs.get('PMBSR_EL1'), 0n);
  assert.equal(regs.get('PMBLIMITR_EL1'), 0n);
});

test('E.5 v4 34/39 a guest write to PMBSR clears the line (spe-irq level=0) and re-enables the hardware buffer', () => {
  const r = rig();
  const s = ready(r);
  r.mems[0].lockSlot(0x8000_0000, 0x1000);
  guestStart(s, 0x8000_0fc0n, 0x8000_1000n);
  run(r.units[0], 512);
  assert.equal(s.irqLevel, true);
  // the guest's IRQ handler: reprogram the buffer, then clear PMBSR
  s.guestSysregs.write('PMBPTR_EL1', 0x8000_0000n);
  assert.equal(r.units[0].read('PMBLIMITR_EL1'), 0n);
  s.guestSysregs.write('PMBSR_EL1', 0n);
  const irqs = speIrqs(r.events);
  assert.equal(irqs.length, 2);
  assert.deepEqual({ level: irqs[1].level, pmbsr: irqs[1].pmbsr, ec: irqs[1].ec, bsc: irqs[1].bsc },
    { level: 0, pmbsr: '0x0', ec: '0x0', bsc: '0x0' });
  assert.equal(r.gic!.lineLevel(0, 21), false);
  assert.equal(r.units[0].read('PMBLIMITR_EL1'), 0x8000_1001n);
  assert.equal(r.units[0].active(), true);
  run(r.units[0], 256);
  assert.equal(r.units[0].records, 2);
  assert.equal(s.guestSysregs.read('PMBPTR_EL1'), 0x8000_0040n);
  // a guest write that sets S asserts the line without any hardware event
  s.guestSysregs.write('PMBSR_EL1', PMBSR_S);
  assert.equal(speIrqs(r.events).length, 3);
  assert.equal(r.units[0].active(), false);
});

test('E.5 the SPE PPI reaches the guest through the vGIC: ICC_IAR1_EL1 returns 21 after a buffer event', () => {
  const r = rig();
  const s = ready(r);
  const gic = r.gic!;
  gic.mmio(0x3fff_0000, 4, true, 2n);
  gic.mmio(0x3ffd_0000 + 0x1_0100, 4, true, BigInt(1 << 21));
  gic.mmio(0x3ffd_0000 + 0x1_0400 + 21, 1, true, 0xa0n);
  const cpu = gic.cpuInterface(0);
  cpu.write('ICC_PMR_EL1', 0xf0n);
  cpu.write('ICC_IGRPEN1_EL1', 1n);
  guestStart(s, 0x8000_0000n, 0x8000_4000n);
  assert.equal(cpu.irqPending(), false);
  run(r.units[0], 256); // stage 2 fault
  assert.equal(cpu.irqPending(), true);
  assert.equal(cpu.read('ICC_IAR1_EL1'), 21n);
  s.guestSysregs.write('PMBSR_EL1', 0n);
  cpu.write('ICC_EOIR1_EL1', 21n);
  assert.equal(cpu.irqPending(), false);
});

test('E.5 print_buf_warn is rate limited like printk: 10 per 5 s of virtual time, then "callbacks suppressed"', () => {
  const rl = new PrintkRatelimit('print_buf_warn');
  const r = rig({ ratelimit: rl });
  const s = ready(r);
  guestStart(s, 0x8000_0000n, 0x8000_4000n);
  for (let i = 0; i < 12; i++) {
    r.clock.now = i;
    run(r.units[0], 256);
    s.guestSysregs.write('PMBSR_EL1', 0n);
  }
  assert.equal(warnings(r.events).length, 10);
  r.clock.now = 500_000_000;
  run(r.units[0], 256);
  const w = warnings(r.events);
  assert.equal(w.length, 12);
  assert.equal(w[10], 'print_buf_warn: 2 callbacks suppressed');
  assert.match(w[11], /^SPE stage 2 data abort/);
  assert.equal(speIrqs(r.events).filter((e) => e.level === 1).length, 13);
});

// ---- spec E.2: why the lock API exists -----------------------------------------------------------------------

test('E.2 locked buffer memslot (pre-mapped at stage 2): no stage 2 fault, samples land; unlocked: the first write faults and the guest gets an external abort', () => {
  // locked: KVM_CAP_ARM_LOCK_USER_MEMORY_REGION mapped every page of the slot at stage 2 before the run
  const locked = rig();
  const sl = ready(locked);
  locked.mems[0].lockSlot(0x8000_0000, 0x4000);
  guestStart(sl, 0x8000_0000n, 0x8000_4000n);
  run(locked.units[0], 256 * 8);
  assert.equal(locked.units[0].records, 8);
  assert.equal(sl.guestSysregs.read('PMBPTR_EL1'), 0x8000_0200n);
  assert.equal(locked.mems[0].byteAt(0x8000_0000), 0xb0);
  assert.equal(locked.mems[0].byteAt(0x8000_01c0), 0xb0);
  assert.equal(speIrqs(locked.events).length, 0);
  assert.equal(warnings(locked.events).length, 0);

  // unlocked: the same slot, not faulted in (SPE writes never fault pages in: the fault is asynchronous)
  const unlocked = rig();
  const su = ready(unlocked);
  guestStart(su, 0x8000_0000n, 0x8000_4000n);
  run(unlocked.units[0], 256 * 8);
  assert.equal(unlocked.units[0].records, 0);
  assert.equal(unlocked.units[0].samples, 1); // profiling stopped at the first sample
  const [e] = speIrqs(unlocked.events);
  assert.equal(e.hw_ec, '0x25');
  assert.equal(e.ec, '0x24');
  assert.equal(e.fsc, '0x10');
  assert.equal(BigInt(e.pmbsr as string) & (1n << 18n), 1n << 18n); // EA
  assert.equal(warnings(unlocked.events).length, 1);
  assert.match(warnings(unlocked.events)[0], /^SPE stage 2 data abort \[PMBSR=0x0000000094020007/);
  assert.equal(unlocked.mems[0].byteAt(0x8000_0000), undefined);
});

test('E.5 KVM_ARM_VCPU_INIT reset: registers cleared and the virtual interrupt dropped; the attributes stay', () => {
  const r = rig();
  const s = ready(r);
  guestStart(s, 0x8000_0000n, 0x8000_4000n);
  run(r.units[0], 256);
  assert.equal(s.irqLevel, true);
  s.resetRegisters();
  assert.equal(s.irqLevel, false);
  assert.equal(s.guestSysregs.read('PMBSR_EL1'), 0n);
  assert.equal(s.guestSysregs.read('PMSCR_EL1'), 0n);
  assert.equal(s.initialized, true);
  assert.equal(s.irqNum, 21);
  assert.equal(speIrqs(r.events).at(-1)!.level, 0);
});

test('KvmSpeVcpu snapshot/restore', () => {
  const r = rig();
  const s = ready(r);
  r.mems[0].lockSlot(0x8000_0000, 0x4000);
  guestStart(s, 0x8000_0000n, 0x8000_4000n);
  const snap = s.snapshot();
  const hw = r.units[0].snapshot();
  s.setAttr(STOP, { value: KVM_ARM_VCPU_SPE_STOP_TRAP });
  s.guestSysregs.write('PMBSR_EL1', PMBSR_S);
  s.restore(snap);
  r.units[0].restore(hw);
  assert.equal(s.stop, 'none');
  assert.equal(s.irqLevel, false);
  assert.equal(s.guestSysregs.read('PMBSR_EL1'), 0n);
  run(r.units[0], 256);
  assert.equal(r.units[0].records, 1);
});
