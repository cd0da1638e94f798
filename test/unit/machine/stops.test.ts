// Stop conditions on the real machine: an event emitted inside the CPU (an exception taken to EL1) stops the vcpu
// before it executes anything else; continuing resumes with the same result as an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareScenario } from '../../../emulator/scenario/runner';

const text = `
guest at 0x4000_0000 {
    ldr x1, =vectors
    msr vbar_el1, x1
    svc #7
    mov x5, #1
    ldr x0, =PSCI_SYSTEM_OFF
    hvc #0
    .align 11
vectors:
    .space 0x200
    mov x4, #0x44          // current EL with SP_ELx, synchronous
    mrs x6, elr_el1
    msr elr_el1, x6
    eret
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    vcpu_init 0
    run 0 => exit system_event shutdown
    expect reg 0 x4 == 0x44
    expect reg 0 x5 == 1
}`;

test('a guest-exception event stops the vcpu at the vector, before the handler runs', () => {
  const p = prepareScenario(text);
  assert.ok(p.ok);
  const { machine, board } = p.loaded;
  machine.conditions = { onEvent: (e) => (e.event === 'guest-exception' ? { reason: 'exception' } : undefined) };
  const st = machine.run();
  assert.equal(st.state, 'stopped');
  assert.equal(st.state === 'stopped' && st.stop.event?.event, 'guest-exception');
  const cpu = board.cpus[0];
  assert.equal(cpu.getPc(), 0x4000_0800n + 0x200n, 'at VBAR_EL1 + 0x200');
  assert.equal(cpu.getX(4), 0n, 'the handler has not run');
  machine.conditions = {};
  const end = machine.run();
  assert.deepEqual(end, { state: 'finished', exitCode: 0, failure: undefined });
});

test('snapshot and restore replay to the same result', () => {
  const p = prepareScenario(text);
  assert.ok(p.ok);
  const { machine } = p.loaded;
  machine.run(3); // machine block is done; a few statements in
  const snap = machine.snapshot();
  const first = machine.run();
  const eventsA = machine.events.all().map((e) => `${e.seq} ${e.event} ${e.line}`);
  machine.restore(snap);
  const second = machine.run();
  const eventsB = machine.events.all().map((e) => `${e.seq} ${e.event} ${e.line}`);
  assert.deepEqual(second, first);
  assert.deepEqual(eventsB, eventsA);
});
