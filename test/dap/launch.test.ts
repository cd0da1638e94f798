// Launch, capabilities, threads, terminate/restart, noDebug, bad requests (issue "Debug adapter" §1, §7, Bad input).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { client, fixture, launchToStop, lineOf, HOST, VCPU0 } from './harness';

describe('DAP launch and session', () => {
  it('initialize: the capabilities and the six exception filters, each supportsCondition (ARCHITECTURE.md contracts)', async () => {
    const dc = await client();
    try {
      const r = await dc.initializeRequest();
      const c = r.body!;
      for (const k of ['supportsExceptionFilterOptions', 'supportsConditionalBreakpoints', 'supportsHitConditionalBreakpoints',
        'supportsLogPoints', 'supportsFunctionBreakpoints', 'supportsDataBreakpoints', 'supportsDataBreakpointBytes',
        'supportsInstructionBreakpoints', 'supportsDisassembleRequest', 'supportsReadMemoryRequest', 'supportsWriteMemoryRequest',
        'supportsStepBack', 'supportsExceptionInfoRequest', 'supportsSetVariable', 'supportsEvaluateForHovers',
        'supportsSteppingGranularity', 'supportsConfigurationDoneRequest'] as const) {
        assert.equal(c[k], true, k);
      }
      const filters = c.exceptionBreakpointFilters!;
      assert.deepEqual(filters.map((f) => f.filter), ['stage2-fault', 'hypercall', 'spe-irq', 'mmio-exit', 'guest-exception', 'kvm-error']);
      assert.ok(filters.every((f) => f.supportsCondition === true));
    } finally {
      await dc.stop();
    }
  });

  it('a scenario with errors is a failed launch listing file:line:col diagnostics, not a crash', async () => {
    const dc = await client();
    try {
      const file = fixture('broken.kvms');
      await assert.rejects(dc.launch({ program: file }), (e: Error) => {
        assert.match(e.message, /broken\.kvms:4:\d+: error: /);
        assert.match(e.message, /broken\.kvms:5:\d+: error: .*frobnicate/);
        return true;
      });
      // the session is still alive
      const t = await dc.threadsRequest();
      assert.equal(t.body.threads[0].name, 'host (VMM)');
    } finally {
      await dc.stop();
    }
  });

  it('a missing program or an unknown flavour is a failed launch with a message', async () => {
    const dc = await client();
    try {
      await assert.rejects(dc.launch({ program: fixture('no-such-file.kvms') }), /cannot read/);
      await assert.rejects(dc.launchRequest({ program: fixture('faults.kvms'), flavour: 'linux-9.9' } as DebugProtocol.LaunchRequestArguments), /unknown flavour 'linux-9.9'/);
    } finally {
      await dc.stop();
    }
  });

  it('stopOnEntry stops on the host thread; threads are 1 = host (VMM), 2+N = vcpu N', async () => {
    const dc = await client();
    try {
      const s = await launchToStop(dc, { program: fixture('faults.kvms'), stopOnEntry: true });
      assert.equal(s.body.reason, 'entry');
      assert.equal(s.body.threadId, HOST);
      const t = await dc.threadsRequest();
      assert.deepEqual(t.body.threads.map((x) => [x.id, x.name]), [[1, 'host (VMM)'], [VCPU0, 'vcpu 0']]);
      const st = await dc.stackTraceRequest({ threadId: HOST });
      assert.equal(st.body.stackFrames[0].line, lineOf(fixture('faults.kvms'), 'memslot 0 gpa'));
      assert.equal(st.body.stackFrames[0].name, 'memslot 0 gpa=0x4000_0000 size=2M');
    } finally {
      await dc.stop();
    }
  });

  it('continue runs to the end: exited with the exit code, then terminated', async () => {
    const dc = await client();
    try {
      await launchToStop(dc, { program: fixture('faults.kvms'), stopOnEntry: true });
      const exited = dc.waitForEvent('exited');
      const terminated = dc.waitForEvent('terminated');
      await dc.continueRequest({ threadId: HOST });
      assert.equal(((await exited) as DebugProtocol.ExitedEvent).body.exitCode, 0);
      await terminated;
    } finally {
      await dc.stop();
    }
  });

  it('noDebug (Test Explorer): runs without stopping; a failed expectation is output with its line, exit code 1', async () => {
    const dc = await client();
    try {
      const outputs: DebugProtocol.OutputEvent[] = [];
      dc.on('output', (e) => outputs.push(e as DebugProtocol.OutputEvent));
      const exited = dc.waitForEvent('exited');
      const terminated = dc.waitForEvent('terminated');
      await Promise.all([
        dc.waitForEvent('initialized').then(() => dc.configurationDoneRequest()),
        dc.launch({ program: fixture('failing.kvms'), noDebug: true }),
      ]);
      assert.equal(((await exited) as DebugProtocol.ExitedEvent).body.exitCode, 1);
      await terminated;
      const fail = outputs.find((o) => o.body.category === 'stderr' && /failing\.kvms:8:/.test(o.body.output));
      assert.ok(fail, outputs.map((o) => o.body.output).join(''));
      assert.equal(fail.body.line, 8);
      assert.match(fail.body.output, /expected: == 0x2/);
      assert.match(fail.body.output, /actual: {3}0x1/);
    } finally {
      await dc.stop();
    }
  });

  it('terminate ends the session; restart relaunches and keeps the breakpoints', async () => {
    const dc = await client();
    try {
      await launchToStop(dc, { program: fixture('faults.kvms') }, () =>
        dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'KVM_ARM_VCPU_INIT' }] }));
      const stopped = dc.waitForEvent('stopped');
      await dc.customRequest('restart', { arguments: { program: fixture('faults.kvms') } });
      const s = (await stopped) as DebugProtocol.StoppedEvent;
      assert.equal(s.body.reason, 'function breakpoint');
      const terminated = dc.waitForEvent('terminated');
      await dc.terminateRequest({});
      await terminated;
    } finally {
      await dc.stop();
    }
  });

  it('bad input: unknown request, malformed arguments, bad memory reference -> error responses; the session continues', async () => {
    const dc = await client();
    try {
      await launchToStop(dc, { program: fixture('faults.kvms'), stopOnEntry: true });
      await assert.rejects(dc.customRequest('frobnicate', {}), /unknown request 'frobnicate'/);
      await assert.rejects(dc.customRequest('kvm/stage2', { table: 'vm', path: ['x'] }), /path/);
      await assert.rejects(dc.customRequest('kvm/stage2', { table: 'nope' }), /no stage 2 table 'nope'/);
      await assert.rejects(dc.customRequest('kvm/translate', { address: 'banana' }), /address/);
      await assert.rejects(dc.customRequest('kvm/events', { kinds: ['no-such-kind'] }), /kinds/);
      await assert.rejects(dc.customRequest('readMemory', { memoryReference: 'not-an-address', count: 4 }), /bad memory reference/);
      await assert.rejects(dc.customRequest('writeMemory', { memoryReference: '0x1000', data: 'AAAA' }), /not backed by a memslot/);
      await assert.rejects(dc.disassembleRequest({ memoryReference: '', instructionCount: 1 }), /bad memory reference/);
      await assert.rejects(dc.variablesRequest({ variablesReference: 999_999 }), /unknown variablesReference/);
      await assert.rejects(dc.stackTraceRequest({ threadId: 77 }), /no thread 77/);
      await assert.rejects(dc.evaluateRequest({ expression: 'x1 +' }), /incomplete/);
      await assert.rejects(dc.evaluateRequest({ expression: 'no_such_name' }), /unknown name 'no_such_name'/);
      // still alive and answering
      const t = await dc.threadsRequest();
      assert.equal(t.body.threads.length, 2);
    } finally {
      await dc.stop();
    }
  });
});

describe('DAP launch options', () => {
  it('trace: true writes <scenario>.trace.jsonl beside the file (one JSON event per line, trace form)', async () => {
    const { mkdtempSync, copyFileSync, readFileSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'kvms-dap-'));
    const file = join(dir, 'faults.kvms');
    copyFileSync(fixture('faults.kvms'), file);
    const dc = await client();
    try {
      const terminated = dc.waitForEvent('terminated');
      await Promise.all([
        dc.waitForEvent('initialized').then(() => dc.configurationDoneRequest()),
        dc.launch({ program: file, trace: true }),
      ]);
      await terminated;
      const out = join(dir, 'faults.trace.jsonl');
      assert.ok(existsSync(out));
      const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines[0].seq, 1);
      assert.equal(lines[0].event, 'ioctl');
      const fault = lines.find((e) => e.event === 'stage2-fault' && e.kind === 'permission');
      assert.equal(fault.ipa, '0x80000008');
      assert.equal(fault.vcpu, 0);
    } finally {
      await dc.stop();
    }
  });
});
