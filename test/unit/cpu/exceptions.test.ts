// Exceptions to EL1 (spec C.6; vectors, ESR/ELR/SPSR/FAR, PSTATE), exits to KVM (HVC/SMC), IRQs, WFI and
// `guest_exceptions stop` (LANGUAGE.md "Execution model").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE, rig } from './harness';

const VBAR = 0x8000n;

test('svc: EC 0x15 with imm16, ELR = next instruction, SPSR = old PSTATE, EL1h with DAIF masked', () => {
  const r = rig('msr daifclr, #0xf\nsvc #0x42\nhvc #0');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.cpu.setPstate(0x60000005n); // EL1h, Z and C set, DAIF clear
  r.run(2);
  assert.equal(r.cpu.getSysreg('ESR_EL1'), (0x15n << 26n) | (1n << 25n) | 0x42n);
  assert.equal(r.cpu.getSysreg('ELR_EL1'), BigInt(CODE + 8));
  assert.equal(r.cpu.getSysreg('SPSR_EL1'), 0x60000005n);
  assert.equal(r.cpu.getPc(), VBAR + 0x200n);
  assert.equal(r.cpu.getPstate() & 0x3cfn, 0x3c5n);
  const ev = r.events.last('guest-exception');
  assert.equal(ev?.fields.vector, 'sync');
  assert.equal(ev?.fields.cause, 'architectural');
});

test('brk: EC 0x3C, ELR = the BRK itself; vector offsets for EL1t (SP_EL0) and from EL0', () => {
  let r = rig('msr spsel, #0\nbrk #7');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.run(2);
  assert.equal(r.cpu.getSysreg('ESR_EL1'), (0x3cn << 26n) | (1n << 25n) | 7n);
  assert.equal(r.cpu.getSysreg('ELR_EL1'), BigInt(CODE + 4));
  assert.equal(r.cpu.getPc(), VBAR + 0x000n, 'current EL with SP_EL0');
  assert.equal(r.cpu.getSysreg('SPSR_EL1') & 0xfn, 4n, 'EL1t');
  // from EL0: eret to EL0 then svc
  r = rig('eret');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.cpu.setSysreg('SPSR_EL1', 0n);
  r.cpu.setSysreg('ELR_EL1', 0x2000n);
  r.load(0x2000, [0xd4000021 /* svc #1 */]);
  r.run(2);
  assert.equal(r.cpu.getPc(), VBAR + 0x400n, 'lower EL, AArch64');
  assert.equal(r.cpu.getSysreg('SPSR_EL1') & 0xfn, 0n);
});

test('UNDEFINED encoding: EC 0x00 to EL1 at the instruction; FAR untouched', () => {
  const r = rig('.inst 0x00000000');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.cpu.setSysreg('FAR_EL1', 0x1234n);
  r.run(1);
  assert.equal(r.cpu.getSysreg('ESR_EL1'), 1n << 25n);
  assert.equal(r.cpu.getSysreg('ELR_EL1'), BigInt(CODE));
  assert.equal(r.cpu.getSysreg('FAR_EL1'), 0x1234n);
  assert.equal(r.cpu.getPc(), VBAR + 0x200n);
});

test('SIMD/FP, unknown system registers and EL2 registers are UNDEFINED', () => {
  for (const src of ['fmov d0, xzr', 'mrs x0, s3_7_c15_c15_7', 'mrs x0, hcr_el2', 'msr midr_el1, x0']) {
    const words = (() => { try { return rig(src); } catch { return undefined; } })();
    if (!words) continue; // GNU as refuses msr to a read-only register: nothing to run
    words.cpu.setSysreg('VBAR_EL1', VBAR);
    words.run(1);
    assert.equal(words.cpu.getSysreg('ESR_EL1') >> 26n, 0n, src);
    assert.equal(words.cpu.getPc(), VBAR + 0x200n, src);
  }
});

test('hvc exits to KVM with EC 0x16 and imm16, PC at the next instruction; smc with EC 0x17, PC at the SMC', () => {
  let r = rig('hvc #0x1234');
  let e = r.run();
  assert.deepEqual(e, { kind: 'hvc', esr: (0x16n << 26n) | (1n << 25n) | 0x1234n, imm: 0x1234 });
  assert.equal(r.cpu.getPc(), BigInt(CODE + 4));
  r = rig('smc #1');
  e = r.run();
  assert.deepEqual(e, { kind: 'smc', esr: (0x17n << 26n) | (1n << 25n) | 1n, imm: 1 });
  assert.equal(r.cpu.getPc(), BigInt(CODE));
});

test('hvc from EL0 is UNDEFINED', () => {
  const r = rig('eret');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.cpu.setSysreg('SPSR_EL1', 0n);
  r.cpu.setSysreg('ELR_EL1', 0x2000n);
  r.load(0x2000, [0xd4000002 /* hvc #0 */]);
  assert.equal(r.run(2).kind, 'budget');
  assert.equal(r.cpu.getSysreg('ESR_EL1') >> 26n, 0n);
  assert.equal(r.cpu.getPc(), VBAR + 0x400n);
});

test('eret restores PSTATE from SPSR_EL1 and PC from ELR_EL1; SP_EL0/SP_EL1 are banked', () => {
  const r = rig('mov x0, #0x100\nmov sp, x0\neret');
  r.cpu.setSysreg('SPSR_EL1', 0x80000000n); // EL0t with N
  r.cpu.setSysreg('ELR_EL1', 0x3000n);
  r.cpu.setSp(0, 0x55n);
  r.run(3);
  assert.equal(r.cpu.getPc(), 0x3000n);
  assert.equal(r.cpu.getPstate(), 0x80000000n);
  assert.equal(r.cpu.getSp(1), 0x100n);
  assert.equal(r.cpu.getSp(0), 0x55n);
  assert.equal(r.cpu.regs().sp, 0x55n, 'EL0 uses SP_EL0');
});

test('IRQ: taken between instructions when pending and PSTATE.I=0, to VBAR+0x280 with ELR = next PC', () => {
  let pending = true;
  const r = rig('nop\nmsr daifclr, #2\nnop\nnop');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.cpu.setIrqSource({ irqPending: () => pending });
  r.load(Number(VBAR) + 0x280, [0xd503201f /* nop */]);
  r.run(2); // nop, daifclr (I was masked so far)
  assert.equal(r.cpu.getPc(), BigInt(CODE + 8));
  r.run(1); // IRQ taken before the next instruction, then the vector's first instruction runs
  assert.equal(r.cpu.getSysreg('ELR_EL1'), BigInt(CODE + 8));
  assert.equal(r.cpu.getPc(), VBAR + 0x280n + 4n);
  assert.equal(r.cpu.getPstate() & 0x3c0n, 0x3c0n, 'DAIF masked on entry');
  assert.equal(r.events.last('guest-exception')?.fields.vector, 'irq');
  pending = false;
});

test('IRQ masking: PSTATE.I=1 keeps a pending IRQ waiting', () => {
  const r = rig('nop\nnop\nnop');
  r.cpu.setIrqSource({ irqPending: () => true });
  r.run(3);
  assert.equal(r.cpu.getPc(), BigInt(CODE + 12));
});

test('WFI: returns {kind:wfi} when nothing is pending; idle execute calls spend ticks; an IRQ wakes it', () => {
  let pending = false;
  const r = rig('wfi\nhvc #0');
  r.cpu.setIrqSource({ irqPending: () => pending });
  assert.deepEqual(r.run(10), { kind: 'wfi' });
  const t = r.cpu.ticks;
  assert.deepEqual(r.run(100), { kind: 'wfi' });
  assert.equal(r.cpu.ticks, t + 100, 'idle ticks count');
  pending = true; // masked IRQ still wakes WFI (and is not taken)
  assert.equal(r.run(10).kind, 'hvc');
  assert.equal(r.cpu.getPc(), BigInt(CODE + 8));
});

test('WFI completes at once when an interrupt is already pending', () => {
  const r = rig('wfi\nhvc #0');
  r.cpu.setIrqSource({ irqPending: () => true });
  assert.equal(r.run(10).kind, 'hvc');
});

test('CNTVCT_EL0 counts retired instructions and idle ticks', () => {
  const r = rig('mrs x0, cntvct_el0\nnop\nnop\nmrs x1, cntvct_el0\nmrs x2, cntfrq_el0\nhvc #0');
  r.run();
  assert.equal(r.cpu.getX(1) - r.cpu.getX(0), 3n);
  assert.equal(r.cpu.getX(2), 100_000_000n);
});

test('C.6 injectSync: ESR/FAR/ELR/SPSR set, PC = VBAR + 0x200 (EL1h), cause reported in the event', () => {
  const r = rig('nop');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.cpu.setPstate(0x3c5n);
  const esr = (0x25n << 26n) | (1n << 25n) | 0x10n;
  r.cpu.injectSync(esr, 0x9000_0000n, 'injected');
  assert.equal(r.cpu.getSysreg('ESR_EL1'), esr);
  assert.equal(r.cpu.getSysreg('FAR_EL1'), 0x9000_0000n);
  assert.equal(r.cpu.getSysreg('ELR_EL1'), BigInt(CODE));
  assert.equal(r.cpu.getSysreg('SPSR_EL1'), 0x3c5n);
  assert.equal(r.cpu.getPc(), VBAR + 0x200n);
  const ev = r.events.last('guest-exception')!;
  assert.deepEqual(ev.fields, { vector: 'sync', esr, far: 0x9000_0000n, elr: BigInt(CODE), cause: 'injected' });
});

test('guest_exceptions stop: an UNDEFINED instruction ends the run with guest-exception and leaves state alone', () => {
  const r = rig('nop\n.inst 0x00000000', { stop: true });
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  const e = r.run();
  assert.deepEqual(e, { kind: 'guest-exception', esr: 1n << 25n, far: 0n, elr: BigInt(CODE + 4), vector: 'sync', cause: 'architectural' });
  assert.equal(r.cpu.getPc(), BigInt(CODE + 4));
  assert.equal(r.cpu.getSysreg('ESR_EL1'), 0n);
  assert.equal(r.events.count('guest-exception'), 1);
});

test('guest_exceptions stop: KVM injection stops at the next execute; SVC and BRK are delivered as usual', () => {
  let r = rig('nop', { stop: true });
  r.cpu.injectSync(0x96000010n, 0x1000n, 'injected');
  const e = r.run();
  assert.equal(e.kind, 'guest-exception');
  if (e.kind === 'guest-exception') assert.equal(e.cause, 'injected');
  r = rig('svc #0\n', { stop: true });
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  assert.equal(r.run(1).kind, 'budget');
  assert.equal(r.cpu.getPc(), VBAR + 0x200n);
});

test('guest_exceptions stop: a stage 1 alignment fault stops too', () => {
  const r = rig('ldr x0, [x1]', { stop: true });
  r.cpu.setX(1, 0x10001n);
  const e = r.run();
  assert.equal(e.kind, 'guest-exception');
  if (e.kind === 'guest-exception') {
    assert.equal(e.esr & 0x3fn, 0x21n);
    assert.equal(e.far, 0x10001n);
  }
});

test('PC alignment fault: branching to a misaligned address gives EC 0x22 with FAR = PC', () => {
  const r = rig('br x1');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.cpu.setX(1, 0x2002n);
  r.run(2);
  assert.equal(r.cpu.getSysreg('ESR_EL1') >> 26n, 0x22n);
  assert.equal(r.cpu.getSysreg('FAR_EL1'), 0x2002n);
  assert.equal(r.cpu.getSysreg('ELR_EL1'), 0x2002n);
});

test('C.4#1 pending virtual SError: taken once PSTATE.A=0 at VBAR+0x380 (EL1h) with EC 0x2F and VSESR ISS', () => {
  const r = rig('nop\nmsr daifclr, #4\nnop\nnop');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.load(Number(VBAR) + 0x380, [0xd503201f]);
  r.cpu.pendSError(1n << 24n);
  r.run(2);
  assert.equal(r.cpu.getPc(), BigInt(CODE + 8), 'masked by PSTATE.A');
  r.run(1);
  assert.equal(r.cpu.getSysreg('ESR_EL1'), (0x2fn << 26n) | (1n << 25n) | (1n << 24n));
  assert.equal(r.cpu.getSysreg('ELR_EL1'), BigInt(CODE + 8));
  assert.equal(r.cpu.getPc(), VBAR + 0x384n);
  const ev = r.events.last('guest-exception')!;
  assert.equal(ev.fields.vector, 'serror');
  assert.equal(ev.fields.cause, 'injected');
});

test('guest_exceptions stop: a virtual SError stops the run instead of being taken', () => {
  const r = rig('msr daifclr, #4\nnop', { stop: true });
  r.cpu.pendSError(0n);
  const e = r.run();
  assert.equal(e.kind, 'guest-exception');
  if (e.kind === 'guest-exception') assert.equal(e.vector, 'serror');
});

test('idle(ticks) advances the counter without executing', () => {
  const r = rig('nop');
  r.cpu.idle(500);
  assert.equal(r.cpu.ticks, 500);
  assert.equal(r.cpu.getPc(), BigInt(CODE));
});

test('SP alignment: with the KVM reset SCTLR_EL1 (SA=1) a load based on a misaligned SP faults with EC 0x26', () => {
  const r = rig('mov x0, #0x8008\nmov sp, x0\nldr x1, [sp]\nhvc #0');
  r.cpu.setSysreg('VBAR_EL1', VBAR);
  r.run(3);
  assert.equal(r.cpu.getSysreg('ESR_EL1'), (0x26n << 26n) | (1n << 25n));
  assert.equal(r.cpu.getSysreg('ELR_EL1'), BigInt(CODE + 8));
  // SA=0: allowed
  const ok = rig('mov x0, #0x8008\nmov sp, x0\nldr x1, [sp]\nhvc #0');
  ok.cpu.setSysreg('SCTLR_EL1', ok.cpu.getSysreg('SCTLR_EL1') & ~8n);
  assert.equal(ok.run().kind, 'hvc');
});
