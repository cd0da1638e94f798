// The execution model of LANGUAGE.md, on fake CPUs: round-robin turns, background runs, budgets, slicing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLog } from '../../../emulator/events';
import { Machine, TURN, type HostOp, type KvmRunPort, type OpOutcome, type RunResult } from '../../../emulator/machine';
import type { CpuExit } from '../../../emulator/kvm/guest';

/** A CPU that retires one instruction per tick and exits with HVC after `exitAfter` instructions (if set). */
class FakeCpu {
  ticks = 0;
  stopRequested = false;
  constructor(readonly index: number, private readonly log: string[], public exitAfter?: number) {}
  execute(budget: number): CpuExit {
    for (let i = 0; i < budget; i++) {
      if (this.stopRequested) { this.stopRequested = false; return { kind: 'stop', reason: 'pause' }; }
      this.ticks++;
      this.log.push(`v${this.index}`);
      if (this.exitAfter !== undefined && this.ticks === this.exitAfter) return { kind: 'hvc', esr: 0x5a000000n, imm: 0 };
    }
    return { kind: 'budget' };
  }
  requestStop(): void { this.stopRequested = true; }
}

function setup(nvcpus: number, exitAfter: (number | undefined)[]) {
  const log: string[] = [];
  const events = new EventLog();
  const cpus = Array.from({ length: nvcpus }, (_, i) => new FakeCpu(i, log, exitAfter[i]));
  const inIoctl = new Set<number>();
  const kvm: KvmRunPort = {
    enter: () => null,
    runGuest: (v, budget) => cpus[v].execute(budget),
    handleExit: (v, exit) => {
      events.emit('hypercall', { conduit: 'hvc', fn: 0n }, v);
      return exit.kind === 'hvc' ? { kind: 'exit', exit: { reason: 'system_event', type: 'shutdown' } } : 'resume';
    },
    setInIoctl: (v, inside) => { if (inside) inIoctl.add(v); else inIoctl.delete(v); },
  };
  return { log, events, cpus, kvm, inIoctl };
}

const range = (line: number) => ({ start: { line, col: 0 }, end: { line, col: 1 } });
function op(line: number, f: (m: Machine) => OpOutcome, isExpect = false): HostOp {
  return { range: range(line), text: `op${line}`, isExpect, execute: f };
}
const results: RunResult[] = [];
const runOp = (line: number, vcpu: number, steps: number, background = false) =>
  op(line, () => ({ kind: 'run', vcpu, steps, background, complete: (r) => { results.push(r); return { kind: 'done' }; } }));

test('run N: round-robin in index order, TURN instructions per turn, until N returns', () => {
  const s = setup(2, [2500, undefined]);
  const m = new Machine({ events: s.events, cpus: s.cpus, kvm: s.kvm, stateful: [] },
    [runOp(1, 1, 10_000, true), runOp(2, 0, 10_000)]);
  const st = m.run();
  assert.equal(st.state, 'finished');
  // vcpu 1 takes one background turn after statement 1; the rotation of statement 2 starts at vcpu 0; after
  // statement 2 completes, the background vcpu takes its turn again
  const order: string[] = [];
  for (const x of s.log) if (order[order.length - 1] !== x) order.push(x);
  assert.deepEqual(order, ['v1', 'v0', 'v1', 'v0', 'v1', 'v0', 'v1']);
  assert.equal(s.cpus[0].ticks, 2500);
  assert.equal(s.cpus[1].ticks, TURN * 4);
});

test('a step budget that runs out returns EINTR', () => {
  const s = setup(1, [undefined]);
  results.length = 0;
  const m = new Machine({ events: s.events, cpus: s.cpus, kvm: s.kvm, stateful: [] }, [runOp(1, 0, 1234)]);
  m.run();
  assert.equal(s.cpus[0].ticks, 1234);
  assert.deepEqual(results[0], { kind: 'errno', errno: 'EINTR', message: "the run's step budget ran out" });
});

test('slicing a run never changes the trace (deterministic resume)', () => {
  const whole = setup(2, [7777, 5000]);
  new Machine({ events: whole.events, cpus: whole.cpus, kvm: whole.kvm, stateful: [] },
    [runOp(1, 1, 100_000, true), runOp(2, 0, 100_000)]).run();
  const sliced = setup(2, [7777, 5000]);
  const m = new Machine({ events: sliced.events, cpus: sliced.cpus, kvm: sliced.kvm, stateful: [] },
    [runOp(1, 1, 100_000, true), runOp(2, 0, 100_000)]);
  let st = m.run(333);
  let guard = 0;
  while (st.state === 'ready' && guard++ < 10_000) st = m.run(333);
  assert.equal(st.state, 'finished');
  assert.deepEqual(sliced.log, whole.log);
  assert.deepEqual(sliced.events.all().map((e) => [e.seq, e.vcpu, e.line]), whole.events.all().map((e) => [e.seq, e.vcpu, e.line]));
});

test('run N while N runs in the background is a scenario error (exit code 2)', () => {
  const s = setup(1, [undefined]);
  const m = new Machine({ events: s.events, cpus: s.cpus, kvm: s.kvm, stateful: [] },
    [runOp(1, 0, 100_000, true), runOp(2, 0, 10)]);
  const st = m.run();
  assert.equal(st.state, 'finished');
  assert.equal(st.state === 'finished' && st.exitCode, 2);
});

test('join collects a background run; expect statements give no background turn', () => {
  const s = setup(1, [1500]);
  let joined: RunResult | undefined;
  const m = new Machine({ events: s.events, cpus: s.cpus, kvm: s.kvm, stateful: [] }, [
    runOp(1, 0, 100_000, true),
    op(2, () => ({ kind: 'done' }), true),
    op(3, () => ({ kind: 'join', vcpu: 0, complete: (r) => { joined = r; return { kind: 'done' }; } })),
  ]);
  assert.equal(m.run().state, 'finished');
  assert.deepEqual(joined, { kind: 'exit', exit: { reason: 'system_event', type: 'shutdown' } });
  assert.equal(s.cpus[0].ticks, 1500);
  // the background turn after statement 1 ran TURN instructions; the rest ran under the join (statement 3)
  const hv = s.events.all().find((e) => e.event === 'hypercall')!;
  assert.equal(hv.line, 4);
});

test('an event stop condition stops the vcpu at the next instruction boundary; continuing resumes', () => {
  const s = setup(1, [400]);
  const m = new Machine({ events: s.events, cpus: s.cpus, kvm: s.kvm, stateful: [] }, [runOp(1, 0, 1000)]);
  m.conditions = { onEvent: (e) => (e.event === 'hypercall' ? { reason: 'exception' } : undefined) };
  const st = m.run();
  assert.equal(st.state, 'stopped');
  assert.equal(st.state === 'stopped' && st.stop.event?.event, 'hypercall');
  assert.equal(m.run().state, 'finished');
});

test('a failing statement ends the scenario with exit code 1 at its line', () => {
  const s = setup(1, [undefined]);
  const m = new Machine({ events: s.events, cpus: s.cpus, kvm: s.kvm, stateful: [] }, [
    op(4, () => ({ kind: 'fail', message: 'expected ok, got EINVAL', expected: 'ok', actual: 'EINVAL' })),
    op(5, () => { throw new Error('must not run'); }),
  ]);
  const st = m.run();
  assert.deepEqual(st, { state: 'finished', exitCode: 1, failure: { line: 4, message: 'expected ok, got EINVAL', expected: 'ok', actual: 'EINVAL' } });
});
