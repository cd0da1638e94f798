// Threads and stepping (issue "Debug adapter" §2) and going back (§5): host statements, guest instructions, next
// over `bl`, stepOut by return, pause of a runaway guest, stepBack to the faulting store, reverseContinue.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { client, evaluate, fixture, launchToStop, lineOf, topFrame, untilStopped, HOST, VCPU0 } from './harness';

const FAULTS = fixture('faults.kvms');

describe('DAP stepping and going back', () => {
  it('host next executes one statement; stepIn on `run 0` enters the guest at its first instruction', async () => {
    const dc = await client();
    try {
      await launchToStop(dc, { program: FAULTS }, () => dc.setBreakpointsRequest({ source: { path: FAULTS }, breakpoints: [{ line: lineOf(FAULTS, 'vcpu_init 0') }] }));
      const s1 = await untilStopped(dc, () => dc.nextRequest({ threadId: HOST }));
      assert.equal(s1.body.reason, 'step');
      assert.equal(s1.body.threadId, HOST);
      assert.equal((await topFrame(dc, HOST)).line, lineOf(FAULTS, 'run 0 => exit mmio'));
      const s2 = await untilStopped(dc, () => dc.stepInRequest({ threadId: HOST }));
      assert.equal(s2.body.reason, 'step');
      assert.equal(s2.body.threadId, VCPU0);
      const f = await topFrame(dc, VCPU0);
      assert.equal(f.line, lineOf(FAULTS, 'ldr x1, =ROM'));
      assert.equal(f.instructionPointerReference, '0x40000000');
    } finally {
      await dc.stop();
    }
  });

  it('vcpu stepIn executes one instruction; next steps over `bl`; stepIn enters it; stepOut returns to the caller', async () => {
    const dc = await client();
    try {
      const blLine = lineOf(FAULTS, 'bl store_it');
      await launchToStop(dc, { program: FAULTS }, () => dc.setBreakpointsRequest({ source: { path: FAULTS }, breakpoints: [{ line: blLine }] }));
      assert.equal((await topFrame(dc, VCPU0)).line, blLine);
      // step over the call: x4 (set inside store_it) changes, we land on the next line
      await untilStopped(dc, () => dc.nextRequest({ threadId: VCPU0 }));
      let f = await topFrame(dc, VCPU0);
      assert.equal(f.line, blLine + 1);
      assert.equal(await evaluate(dc, 'x4', f.id), '0x90000100');
      // back to the bl and into it this time
      await untilStopped(dc, () => dc.stepBackRequest({ threadId: VCPU0 }));
      assert.equal((await topFrame(dc, VCPU0)).line, blLine);
      await untilStopped(dc, () => dc.stepInRequest({ threadId: VCPU0 }));
      f = await topFrame(dc, VCPU0);
      assert.equal(f.line, lineOf(FAULTS, 'ldr x4, =RAM + 0x100'));
      const st = await dc.stackTraceRequest({ threadId: VCPU0 });
      assert.equal(st.body.stackFrames[1].line, blLine);
      const s = await untilStopped(dc, () => dc.stepOutRequest({ threadId: VCPU0 }));
      assert.equal(s.body.reason, 'step');
      assert.equal((await topFrame(dc, VCPU0)).line, blLine + 1);
      // one instruction
      await untilStopped(dc, () => dc.stepInRequest({ threadId: VCPU0 }));
      assert.equal((await topFrame(dc, VCPU0)).line, blLine + 2);
    } finally {
      await dc.stop();
    }
  });

  it('pause stops a `b .` guest within milliseconds; continue and pause again', async () => {
    const dc = await client();
    try {
      const file = fixture('spin.kvms');
      await launchToStop(dc, { program: file, stopOnEntry: true });
      for (let i = 0; i < 2; i++) {
        await dc.continueRequest({ threadId: HOST });
        await new Promise((r) => setTimeout(r, 100));
        const t0 = Date.now();
        const s = await untilStopped(dc, () => dc.pauseRequest({ threadId: HOST }));
        const ms = Date.now() - t0;
        assert.equal(s.body.reason, 'pause');
        assert.equal(s.body.threadId, VCPU0);
        assert.ok(ms < 1000, `pause took ${ms} ms`);
        const f = await topFrame(dc, VCPU0);
        assert.ok([lineOf(file, 'add x0, x0, #1'), lineOf(file, 'b spin')].includes(f.line), String(f.line));
      }
    } finally {
      await dc.stop();
    }
  });

  it('a guest that never stops is bounded by the step budget (maxSteps): a pause stop says so', async () => {
    const dc = await client();
    try {
      const s = await launchToStop(dc, { program: fixture('spin.kvms'), maxSteps: 300_000 });
      assert.equal(s.body.reason, 'pause');
      assert.equal(s.body.threadId, VCPU0);
      assert.match(s.body.text ?? '', /ran 300000 steps without stopping/);
      // the session goes on: one more instruction
      await untilStopped(dc, () => dc.stepInRequest({ threadId: VCPU0 }));
    } finally {
      await dc.stop();
    }
  });

  it('stepBack from a stage 2 fault walks back to the faulting store and the instruction before it', async () => {
    const dc = await client();
    try {
      const store = lineOf(FAULTS, 'str x3, [x4]');
      await launchToStop(dc, { program: FAULTS }, () => dc.setExceptionBreakpointsRequest({
        filters: [], filterOptions: [{ filterId: 'stage2-fault', condition: 'write && va == 0x9000_0100' }],
      }));
      let f = await topFrame(dc, VCPU0);
      assert.equal(f.line, store); // the fault: PC still at the store
      assert.equal(await evaluate(dc, '*(u64*)0x9000_0100', f.id), '0x0');
      await untilStopped(dc, () => dc.nextRequest({ threadId: VCPU0 }));
      f = await topFrame(dc, VCPU0);
      assert.equal(f.line, store + 1);
      assert.equal(await evaluate(dc, '*(u64*)0x9000_0100', f.id), '0x55');
      const s = await untilStopped(dc, () => dc.stepBackRequest({ threadId: VCPU0 }));
      assert.equal(s.body.threadId, VCPU0);
      f = await topFrame(dc, VCPU0);
      assert.equal(f.line, store);
      assert.equal(await evaluate(dc, '*(u64*)0x9000_0100', f.id), '0x0'); // memory went back too
      await untilStopped(dc, () => dc.stepBackRequest({ threadId: VCPU0 }));
      assert.equal((await topFrame(dc, VCPU0)).line, store - 1);
      // the host thread steps back one statement: to before `run 0`
      await untilStopped(dc, () => dc.stepBackRequest({ threadId: HOST }));
      assert.equal((await topFrame(dc, HOST)).line, lineOf(FAULTS, 'run 0 => exit mmio'));
      assert.equal(await evaluate(dc, 'pc'), '0x40000000');
    } finally {
      await dc.stop();
    }
  });

  it('reverseContinue lands on the latest earlier stop condition hit (and at the start when there is none)', async () => {
    const dc = await client();
    try {
      await launchToStop(dc, { program: FAULTS }, () => dc.setExceptionBreakpointsRequest({ filters: ['stage2-fault'] }));
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        seen.push(await evaluate(dc, 'ipa'));
        if (i < 3) await untilStopped(dc, () => dc.continueRequest({ threadId: VCPU0 }));
      }
      assert.deepEqual(seen, ['0x40000000', '0x80000000', '0x90000000', '0x80000008']);
      const back = await untilStopped(dc, () => dc.reverseContinueRequest({ threadId: VCPU0 }));
      assert.equal(back.body.reason, 'exception');
      assert.equal(await evaluate(dc, 'ipa'), '0x90000000');
      assert.equal((await topFrame(dc, VCPU0)).line, lineOf(FAULTS, 'str x3, [x4]')); // in store_it: RAM's first touch
      await untilStopped(dc, () => dc.reverseContinueRequest({ threadId: VCPU0 }));
      assert.equal(await evaluate(dc, 'ipa'), '0x80000000');
      // and forward again reaches the same next fault (deterministic replay)
      await untilStopped(dc, () => dc.continueRequest({ threadId: VCPU0 }));
      assert.equal(await evaluate(dc, 'ipa'), '0x90000000');
      await dc.setExceptionBreakpointsRequest({ filters: [] });
      const start = await untilStopped(dc, () => dc.reverseContinueRequest({ threadId: VCPU0 }));
      assert.equal(start.body.reason, 'entry');
      assert.equal(start.body.threadId, HOST);
      assert.equal((await topFrame(dc, HOST)).line, lineOf(FAULTS, 'memslot 0 gpa'));
    } finally {
      await dc.stop();
    }
  });
});
