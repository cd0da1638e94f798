// Breakpoints (issue "Debug adapter" §3): exception filters with conditions over event fields, function
// breakpoints (hypercalls, ioctls), line breakpoints in host and guest code, conditions / hit counts / logpoints,
// data and instruction breakpoints.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { client, evaluate, fixture, launchToStop, lineOf, topFrame, untilStopped, HOST, VCPU0 } from './harness';

const FAULTS = fixture('faults.kvms');
const GUARD = fixture('mmio-guard.kvms');
const SPE = fixture('spe-irq.kvms');

describe('DAP breakpoints', () => {
  it('stage2-fault filter with `kind == "permission" && ipa >= 0x8000_0000` stops at the faulting store; exceptionInfo decodes ESR', async () => {
    const dc = await client();
    try {
      let verified: DebugProtocol.Breakpoint[] = [];
      const s = await launchToStop(dc, { program: FAULTS }, async () => {
        const r = await dc.setExceptionBreakpointsRequest({
          filters: [], filterOptions: [{ filterId: 'stage2-fault', condition: 'kind == "permission" && ipa >= 0x8000_0000' }],
        });
        verified = r.body?.breakpoints ?? [];
      });
      assert.equal(verified[0].verified, true);
      assert.equal(s.body.reason, 'exception');
      assert.equal(s.body.threadId, VCPU0);
      const f = await topFrame(dc, VCPU0);
      assert.equal(f.line, lineOf(FAULTS, 'str x6, [x1, #8]'));
      assert.equal(f.instructionPointerReference, '0x4000001c');
      assert.equal(await evaluate(dc, 'ipa', f.id), '0x80000008');
      assert.equal(await evaluate(dc, 'kind', f.id), '"permission"');
      const info = await dc.exceptionInfoRequest({ threadId: VCPU0 });
      assert.equal(info.body.exceptionId, 'stage2-fault');
      assert.match(info.body.description!, /DABT_LOW .*WnR FSC=0x0f \(Permission fault, level 3\)/);
      assert.match(info.body.description!, /resolved it: mmio/);
      assert.match(info.body.description!, /spec C\.5/);
    } finally {
      await dc.stop();
    }
  });

  it('a stage2-fault condition on va skips the other faults (translation faults of code and ROM reads)', async () => {
    const dc = await client();
    try {
      const s = await launchToStop(dc, { program: FAULTS }, () => dc.setExceptionBreakpointsRequest({
        filters: [], filterOptions: [{ filterId: 'stage2-fault', condition: 'va == 0x9000_0100 && write' }],
      }));
      assert.equal(s.body.reason, 'exception');
      const f = await topFrame(dc, VCPU0);
      assert.equal(f.line, lineOf(FAULTS, 'str x3, [x4]'));
      // the frames: store_it (top), the caller at its bl, then the host statement in KVM_RUN
      const st = await dc.stackTraceRequest({ threadId: VCPU0 });
      const frames = st.body.stackFrames;
      assert.equal(frames[0].name, 'store_it+0x4');
      assert.equal(frames[1].line, lineOf(FAULTS, 'bl store_it'));
      assert.equal(frames[2].line, lineOf(FAULTS, 'run 0 => exit mmio'));
      assert.match(frames[2].name, /^KVM_RUN: run 0/);
    } finally {
      await dc.stop();
    }
  });

  it('invalid conditions leave the breakpoint unverified with a message (unknown field, syntax error, bad hit count)', async () => {
    const dc = await client();
    try {
      await launchToStop(dc, { program: FAULTS, stopOnEntry: true });
      const r = await dc.setExceptionBreakpointsRequest({
        filters: ['hypercall'],
        filterOptions: [
          { filterId: 'stage2-fault', condition: 'bogus == 1' },
          { filterId: 'hypercall', condition: 'name == ' },
          { filterId: 'spe-irq', condition: 'hw_ec == 0x25' },
          { filterId: 'no-such-filter' },
        ],
      });
      const b = r.body!.breakpoints!;
      assert.equal(b[0].verified, true); // plain `hypercall`
      assert.equal(b[1].verified, false);
      assert.match(b[1].message!, /unknown field 'bogus' of stage2-fault events/);
      assert.equal(b[2].verified, false);
      assert.match(b[2].message!, /invalid condition/);
      assert.equal(b[3].verified, true);
      assert.equal(b[4].verified, false);
      const line = lineOf(FAULTS, 'vcpu_init 0');
      const lb = await dc.setBreakpointsRequest({ source: { path: FAULTS }, breakpoints: [{ line, condition: 'x1 ==' }, { line, hitCondition: 'often' }, { line, condition: 'nope > 1' }] });
      assert.deepEqual(lb.body.breakpoints.map((x) => x.verified), [false, false, false]);
      assert.match(lb.body.breakpoints[2].message!, /unknown name 'nope'/);
    } finally {
      await dc.stop();
    }
  });

  it('hypercall filter `name == "MMIO_GUARD_MAP"`: stops after KVM handled it, frame at the HVC, ret in x0', async () => {
    const dc = await client();
    try {
      const s = await launchToStop(dc, { program: GUARD }, () => dc.setExceptionBreakpointsRequest({
        filters: [], filterOptions: [{ filterId: 'hypercall', condition: 'name == "MMIO_GUARD_MAP"' }],
      }));
      assert.equal(s.body.reason, 'exception');
      const f = await topFrame(dc, VCPU0);
      assert.equal(f.line, lineOf(GUARD, 'mov x2, #0') + 1); // the hvc #0 after it
      assert.equal(await evaluate(dc, 'x0', f.id), '0x0'); // SMCCC success already in x0
      assert.equal(await evaluate(dc, 'fn', f.id), '0xc6000004');
    } finally {
      await dc.stop();
    }
  });

  it('function breakpoint MMIO_GUARD_MAP (by name and by id) stops with reason "function breakpoint"', async () => {
    for (const name of ['MMIO_GUARD_MAP', '0xC6000004']) {
      const dc = await client();
      try {
        let bp: DebugProtocol.Breakpoint[] = [];
        const s = await launchToStop(dc, { program: GUARD }, async () => {
          bp = (await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name }] })).body.breakpoints;
        });
        assert.equal(bp[0].verified, true);
        assert.equal(s.body.reason, 'function breakpoint');
        assert.deepEqual(s.body.hitBreakpointIds, [bp[0].id]);
        assert.match(s.body.text ?? '', /MMIO_GUARD_MAP/);
      } finally {
        await dc.stop();
      }
    }
  });

  it('function breakpoint on an ioctl stops before the statement runs; an unknown name is unverified', async () => {
    const dc = await client();
    try {
      let bps: DebugProtocol.Breakpoint[] = [];
      const s = await launchToStop(dc, { program: FAULTS }, async () => {
        bps = (await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'KVM_ARM_VCPU_INIT' }, { name: 'NOT_A_HYPERCALL' }] })).body.breakpoints;
      });
      assert.equal(bps[1].verified, false);
      assert.equal(s.body.reason, 'function breakpoint');
      assert.equal(s.body.threadId, HOST);
      const f = await topFrame(dc, HOST);
      assert.equal(f.line, lineOf(FAULTS, 'vcpu_init 0'));
      // before it ran: the vcpu is not initialised, so no PC yet
      assert.equal(await evaluate(dc, 'pc'), '0x0');
    } finally {
      await dc.stop();
    }
  });

  it('spe-irq filter `hw_ec == 0x25`: the SPE buffer interrupt, PMBSR rewritten to an external abort (spec E.2)', async () => {
    const dc = await client();
    try {
      const s = await launchToStop(dc, { program: SPE }, () => dc.setExceptionBreakpointsRequest({
        filters: [], filterOptions: [{ filterId: 'spe-irq', condition: 'hw_ec == 0x25 && line == 1' }],
      }));
      assert.equal(s.body.reason, 'exception');
      assert.equal(s.body.threadId, VCPU0);
      const f = await topFrame(dc, VCPU0);
      assert.equal(await evaluate(dc, 'intid', f.id), '0x15');
      assert.equal(await evaluate(dc, 'ec', f.id), '0x24');
      assert.equal(await evaluate(dc, 'pmbsr_el1.ec', f.id), '0x24');
      const info = await dc.exceptionInfoRequest({ threadId: VCPU0 });
      assert.equal(info.body.exceptionId, 'spe-irq');
      assert.match(info.body.description!, /hardware said EC=0x25, the guest sees EC=0x24/);
    } finally {
      await dc.stop();
    }
  });

  it('guest-exception filter: an architectural exception raised inside the CPU stops before the handler runs, frame at ELR', async () => {
    const dc = await client();
    try {
      const file = fixture('undef.kvms');
      const s = await launchToStop(dc, { program: file }, () => dc.setExceptionBreakpointsRequest({
        filters: [], filterOptions: [{ filterId: 'guest-exception', condition: 'cause == "architectural" && vector == "sync"' }],
      }));
      assert.equal(s.body.reason, 'exception');
      const f = await topFrame(dc, VCPU0);
      assert.equal(f.line, lineOf(file, '.word 0'));
      assert.equal(await evaluate(dc, 'x2', f.id), '0x0'); // the handler has not run
      assert.equal(await evaluate(dc, 'pc - vectors', f.id), '0x200');
      assert.equal(await evaluate(dc, 'esr_el1.ec', f.id), '0x0'); // UNKNOWN reason
      // and the run goes on exactly as without the stop
      await untilStopped(dc, () => dc.stepInRequest({ threadId: VCPU0 }));
      assert.equal(await evaluate(dc, 'x2'), '0x77');
    } finally {
      await dc.stop();
    }
  });

  it('mmio-exit and kvm-error filters map onto kvm-exit (mmio) and failed ioctls / warnings', async () => {
    const dc = await client();
    try {
      const s = await launchToStop(dc, { program: FAULTS }, () => dc.setExceptionBreakpointsRequest({ filters: ['mmio-exit'] }));
      assert.equal(s.body.reason, 'exception');
      assert.equal(await evaluate(dc, 'reason'), '"mmio"');
      assert.equal(await evaluate(dc, 'addr'), '0x80000008');
    } finally {
      await dc.stop();
    }
    const dc2 = await client();
    try {
      const s = await launchToStop(dc2, { program: fixture('lock-errors.kvms') }, () => dc2.setExceptionBreakpointsRequest({
        filters: [], filterOptions: [{ filterId: 'kvm-error', condition: 'result == "EPERM"' }],
      }));
      assert.equal(s.body.reason, 'exception');
      const f = await topFrame(dc2, HOST);
      assert.equal(f.line, lineOf(fixture('lock-errors.kvms'), 'lock 1 read write'));
    } finally {
      await dc2.stop();
    }
  });

  it('line breakpoints: host statement lines and guest instruction lines, moved to the nearest line with code', async () => {
    const dc = await client();
    try {
      const hostLine = lineOf(FAULTS, 'vcpu_init 0');
      const guestLine = lineOf(FAULTS, 'ldr x5, =RAM');
      const blank = lineOf(FAULTS, 'store_it:') - 1; // an empty line inside the guest block
      let bps: DebugProtocol.Breakpoint[] = [];
      const s = await launchToStop(dc, { program: FAULTS }, async () => {
        bps = (await dc.setBreakpointsRequest({ source: { path: FAULTS }, breakpoints: [{ line: hostLine }, { line: guestLine }, { line: blank }] })).body.breakpoints;
      });
      assert.deepEqual(bps.map((b) => b.verified), [true, true, true]);
      assert.equal(bps[2].line, lineOf(FAULTS, 'ldr x4, =RAM + 0x100')); // store_it: label line -> its first instruction
      assert.equal(bps[1].instructionReference, '0x40000010');
      assert.equal(s.body.reason, 'breakpoint');
      assert.equal(s.body.threadId, HOST);
      assert.equal((await topFrame(dc, HOST)).line, hostLine);
      const s2 = await untilStopped(dc, () => dc.continueRequest({ threadId: HOST }));
      assert.equal(s2.body.reason, 'breakpoint');
      assert.equal(s2.body.threadId, VCPU0);
      assert.deepEqual(s2.body.hitBreakpointIds, [bps[2].id]);
      assert.equal((await topFrame(dc, VCPU0)).line, bps[2].line);
      const s3 = await untilStopped(dc, () => dc.continueRequest({ threadId: VCPU0 }));
      assert.deepEqual(s3.body.hitBreakpointIds, [bps[1].id]);
      assert.equal((await topFrame(dc, VCPU0)).line, guestLine);
    } finally {
      await dc.stop();
    }
  });

  it('conditional and hit-count guest breakpoints, and logpoints that print instead of stopping', async () => {
    const dc = await client();
    try {
      const loop = fixture('counting.kvms');
      const line = lineOf(loop, 'add x0, x0, #1');
      const outputs: string[] = [];
      dc.on('output', (e) => outputs.push((e as DebugProtocol.OutputEvent).body.output));
      await launchToStop(dc, { program: loop }, () => dc.setBreakpointsRequest({
        source: { path: loop },
        breakpoints: [
          { line, condition: 'x0 == 5' },
          { line: lineOf(loop, 'cmp x0, #10'), logMessage: 'x0 is {x0}' },
        ],
      }));
      assert.equal(await evaluate(dc, 'x0', (await topFrame(dc, VCPU0)).id), '0x5');
      assert.ok(outputs.some((o) => o === 'x0 is 0x5\n'), outputs.join('|'));
      await dc.setBreakpointsRequest({ source: { path: loop }, breakpoints: [{ line, hitCondition: '3' }] });
      await untilStopped(dc, () => dc.continueRequest({ threadId: VCPU0 }));
      // resuming executes the add at x0 = 5 first; the hits are then x0 = 6, 7, 8
      assert.equal(await evaluate(dc, 'x0', (await topFrame(dc, VCPU0)).id), '0x8');
    } finally {
      await dc.stop();
    }
  });

  it('a guest breakpoint is hit on every pass, also where a scheduler turn (1,000 instructions) begins', async () => {
    const dc = await client();
    try {
      const file = fixture('loop3000.kvms');
      let hits = 0;
      dc.on('output', (e) => { if ((e as DebugProtocol.OutputEvent).body.output === 'hit\n') hits++; });
      const exited = dc.waitForEvent('exited', 30_000);
      await Promise.all([
        dc.waitForEvent('initialized').then(async () => {
          await dc.setBreakpointsRequest({ source: { path: file }, breakpoints: [{ line: lineOf(file, 'add x0, x0, #1'), logMessage: 'hit' }] });
          await dc.configurationDoneRequest();
        }),
        dc.launch({ program: file }),
      ]);
      await exited;
      assert.equal(hits, 3000);
    } finally {
      await dc.stop();
    }
  });

  it('data breakpoint on an IPA range (dataBreakpointInfo asAddress) stops after the store', async () => {
    const dc = await client();
    try {
      await launchToStop(dc, { program: FAULTS, stopOnEntry: true });
      const info = await dc.customRequest('dataBreakpointInfo', { name: '0x9000_0100', asAddress: true, bytes: 8 });
      assert.equal(info.body.dataId, 'ipa:0x90000100:8');
      assert.deepEqual(info.body.accessTypes, ['read', 'write', 'readWrite']);
      const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId, accessType: 'write' }] });
      assert.equal(set.body.breakpoints[0].verified, true);
      const s = await untilStopped(dc, () => dc.continueRequest({ threadId: HOST }));
      assert.equal(s.body.reason, 'data breakpoint');
      assert.equal(s.body.threadId, VCPU0);
      const f = await topFrame(dc, VCPU0);
      assert.equal(f.line, lineOf(FAULTS, 'str x3, [x4]') + 1); // the store completed: PC after it
      assert.equal(await evaluate(dc, '*(u64*)0x9000_0100', f.id), '0x55');
    } finally {
      await dc.stop();
    }
  });

  it('instruction breakpoints at an address (from disassemble) stop before that instruction', async () => {
    const dc = await client();
    try {
      await launchToStop(dc, { program: FAULTS, stopOnEntry: true });
      const r = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x40000018' }, { instructionReference: 'zz' }] });
      assert.equal(r.body.breakpoints[0].verified, true);
      assert.equal(r.body.breakpoints[0].line, lineOf(FAULTS, 'add x6, x3, #1'));
      assert.equal(r.body.breakpoints[1].verified, false);
      const s = await untilStopped(dc, () => dc.continueRequest({ threadId: HOST }));
      assert.equal(s.body.reason, 'instruction breakpoint');
      const f = await topFrame(dc, VCPU0);
      assert.equal(f.instructionPointerReference, '0x40000018');
    } finally {
      await dc.stop();
    }
  });
});
