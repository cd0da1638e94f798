// DAP latency benchmark (issue "Debug adapter" §Benchmark): `next` -> `stopped` (p50/p95) on the host and vcpu
// threads, `launch` -> stop on entry, and reverse-continue over 1 M instructions, against the stdio adapter
// (dist/debug-adapter.js; run `node esbuild.mjs` first). Targets: step p50 < 5 ms, launch < 300 ms.
// Run: node --import tsx test/bench/dap.bench.ts
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

const ROOT = resolve(__dirname, '..', '..');
const ADAPTER = join(ROOT, 'dist', 'debug-adapter.js');
const fixture = (n: string) => join(ROOT, 'test', 'fixtures', 'dap', n);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function start(): Promise<DebugClient> {
  const dc = new DebugClient('node', ADAPTER, 'kvm-arm64');
  dc.defaultTimeout = 60_000;
  await dc.start();
  return dc;
}

async function launch(dc: DebugClient, args: Record<string, unknown>, configure?: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped', 60_000);
  await Promise.all([
    dc.waitForEvent('initialized').then(async () => { await configure?.(); await dc.configurationDoneRequest(); }),
    dc.launch(args),
  ]);
  return (await stopped) as DebugProtocol.StoppedEvent;
}

async function timedStop(dc: DebugClient, go: () => Promise<unknown>): Promise<number> {
  const stopped = dc.waitForEvent('stopped', 60_000);
  const t0 = performance.now();
  await go();
  await stopped;
  return performance.now() - t0;
}

async function main(): Promise<void> {
  if (!existsSync(ADAPTER)) throw new Error(`${ADAPTER} missing: run node esbuild.mjs`);

  // launch -> stop on entry
  const launches: number[] = [];
  for (let i = 0; i < 10; i++) {
    const dc = await start();
    const t0 = performance.now();
    await launch(dc, { program: fixture('faults.kvms'), stopOnEntry: true });
    launches.push(performance.now() - t0);
    await dc.stop();
  }
  console.log(`launch -> stopped(entry): p50 ${ms(pct(launches, 50))}  p95 ${ms(pct(launches, 95))}  (n=${launches.length})`);

  // next -> stopped on the vcpu thread (one guest instruction per step) and the host thread
  {
    const dc = await start();
    const file = fixture('million.kvms');
    await launch(dc, { program: file }, () => dc.setBreakpointsRequest({ source: { path: file }, breakpoints: [{ line: 6 }] }));
    const steps: number[] = [];
    for (let i = 0; i < 300; i++) steps.push(await timedStop(dc, () => dc.nextRequest({ threadId: 2 })));
    console.log(`next (vcpu 0) -> stopped: p50 ${ms(pct(steps, 50))}  p95 ${ms(pct(steps, 95))}  (n=${steps.length})`);
    await dc.stop();
  }
  {
    const dc = await start();
    const file = fixture('lock-errors.kvms');
    const hostSteps: number[] = [];
    await launch(dc, { program: file, stopOnEntry: true });
    for (let i = 0; i < 14; i++) hostSteps.push(await timedStop(dc, () => dc.nextRequest({ threadId: 1 })));
    console.log(`next (host) -> stopped: p50 ${ms(pct(hostSteps, 50))}  p95 ${ms(pct(hostSteps, 95))}  (n=${hostSteps.length})`);
    await dc.stop();
  }

  // continue over 1 M instructions, then reverse-continue back across them
  {
    const dc = await start();
    await launch(dc, { program: fixture('million.kvms') }, () => dc.setExceptionBreakpointsRequest({
      filters: [], filterOptions: [{ filterId: 'stage2-fault', condition: 'exec' }, { filterId: 'hypercall' }],
    }));
    const fwd = await timedStop(dc, () => dc.continueRequest({ threadId: 2 }));
    const x1 = (await dc.evaluateRequest({ expression: 'x1' })).body.result;
    const back = await timedStop(dc, () => dc.reverseContinueRequest({ threadId: 2 }));
    const pc = (await dc.evaluateRequest({ expression: 'pc' })).body.result;
    const again = await timedStop(dc, () => dc.continueRequest({ threadId: 2 }));
    const sb = await timedStop(dc, () => dc.stepBackRequest({ threadId: 2 }));
    console.log(`continue over 1 M instructions: ${ms(fwd)} (x1 = ${x1})`);
    console.log(`reverse-continue over 1 M instructions: ${ms(back)} (landed at pc ${pc}); forward again ${ms(again)}; stepBack ${ms(sb)}`);
    await dc.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
