// Going back (issue "Debug adapter" §5) on the session's execution layer, in process: reverse-continue visits
// every forward stop in reverse with the same machine state (deterministic replay from snapshots), across
// background vcpus, KVM exits and finished scenarios; step-back is the reverse of `next`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchScenario } from '../../debug-adapter/launch';
import { Breakpoints } from '../../debug-adapter/breakpoints';
import { Execution } from '../../debug-adapter/execution';
import { positionOf } from '../../debug-adapter/history';
import type { ScenarioTarget } from '../../debug-adapter/target';
import { fixture, lineOf } from './harness';

function setup(file: string): { t: ScenarioTarget; bps: Breakpoints; ex: Execution } {
  const r = launchScenario({ program: file });
  if (!r.ok) throw new Error(r.message);
  const t = r.target;
  const bps = new Breakpoints({
    sourceMap: t.sourceMap, sourcePath: t.file, env: (v, e) => t.env(v, e), symbol: (n) => t.symbol(n), log: () => undefined,
  });
  return { t, bps, ex: new Execution(t.machine, t.board, bps) };
}

/** everything observable about a state */
function signature(t: ScenarioTarget): string {
  const m = t.machine;
  return JSON.stringify({
    pos: positionOf(m), events: m.events.length, host: m.hostIndex, waiting: m.waitingFor,
    cpus: t.board.cpus.map((c) => [c.getPc().toString(16), c.ticks, c.getX(0).toString(16)]),
    mem: [t.readMemory(0x4010_0000n, 8)?.toString(16), t.readMemory(0x4010_1000n, 8)?.toString(16)],
  });
}

describe('DAP history (step back, reverse continue)', () => {
  for (const [name, filters] of [
    ['faults.kvms', ['stage2-fault', 'hypercall', 'mmio-exit']],
    ['spe-irq.kvms', ['spe-irq', 'stage2-fault', 'hypercall']],
    ['mmio-guard.kvms', ['hypercall', 'guest-exception', 'mmio-exit']],
  ] as const) {
    it(`reverse-continue revisits every forward stop of ${name} with the same state`, async () => {
      const { t, bps, ex } = setup(fixture(name));
      bps.setExceptionFilters([...filters], []);
      ex.arm();
      const fwd: string[] = [];
      for (;;) {
        const o = await ex.continue();
        if (o.kind !== 'stopped') break;
        fwd.push(signature(t));
      }
      assert.ok(fwd.length >= 3, `${fwd.length} stops`);
      for (let i = fwd.length - 1; i >= 0; i--) {
        const o = ex.reverseContinue();
        assert.equal(o.kind, 'stopped');
        assert.equal(signature(t), fwd[i], `stop ${i}`);
      }
      const start = ex.reverseContinue();
      assert.equal(start.kind === 'stopped' && start.stop.reason, 'entry');
    });
  }

  it('with a background vcpu: hit-count breakpoints on both vcpus, forward and back give the same states', async () => {
    const file = fixture('two-vcpus.kvms');
    const { t, bps, ex } = setup(file);
    const lines = (await import('node:fs')).readFileSync(file, 'utf8').split('\n');
    const stores = lines.flatMap((l, i) => (l.includes('str x0, [x1]') ? [i + 1] : []));
    assert.equal(stores.length, 2);
    bps.setLineBreakpoints(file, stores.map((line) => ({ line, hitCondition: '% 700' })));
    ex.arm();
    const fwd: string[] = [];
    const fwdHits: number[][] = [];
    const vcpus = new Set<number | undefined>();
    for (;;) {
      const o = await ex.continue();
      if (o.kind !== 'stopped') { assert.equal(o.kind, 'finished'); break; }
      vcpus.add(o.stop.vcpu);
      fwd.push(signature(t));
      fwdHits.push([...bps.saveHits().values()]);
    }
    assert.deepEqual([...vcpus].sort(), [0, 1]);
    assert.ok(fwd.length >= 6, `${fwd.length} stops`);
    for (let i = fwd.length - 1; i >= 0; i--) {
      ex.reverseContinue();
      assert.equal(signature(t), fwd[i], `stop ${i}`);
      // hit counts are those of that moment, so going forward again stops at the same places
      assert.deepEqual([...bps.saveHits().values()], fwdHits[i]);
    }
    const again = await ex.continue();
    assert.equal(again.kind, 'stopped');
    assert.equal(signature(t), fwd[1]);
  });

  it('stepBack on a vcpu is the reverse of next (over a call), on the host it goes back one statement', async () => {
    const file = fixture('faults.kvms');
    const { t, bps, ex } = setup(file);
    bps.setLineBreakpoints(file, [{ line: lineOf(file, 'bl store_it') }]);
    ex.arm();
    await ex.continue();
    const atBl = signature(t);
    await ex.stepVcpu(0, 'over');
    const after = signature(t);
    assert.equal(t.board.cpus[0].getPc(), 0x4000_0010n);
    ex.stepBack(0);
    assert.equal(signature(t), atBl);
    await ex.stepVcpu(0, 'over');
    assert.equal(signature(t), after);
    ex.stepBack(undefined);
    assert.equal(t.machine.waitingFor, undefined);
    assert.equal(t.machine.currentOp?.text.startsWith('run 0'), true);
  });
});
