// Inspection (issue "Debug adapter" §4) and the custom requests/event (§6): scopes with decoded system
// registers, KVM and Stage 2 views, setVariable, evaluate, readMemory/writeMemory over the IPA space,
// disassemble, kvm/memslots, kvm/stage2, kvm/translate, kvm/events, kvm/stateChanged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { client, evaluate, fixture, launchToStop, lineOf, topFrame, untilStopped, VCPU0 } from './harness';

const FAULTS = fixture('faults.kvms');

/** stop at the permission fault on the read-only memslot (the write at ROM + 8) */
async function atPermissionFault(dc: DebugClient): Promise<DebugProtocol.StackFrame> {
  await launchToStop(dc, { program: FAULTS }, () => dc.setExceptionBreakpointsRequest({
    filters: [], filterOptions: [{ filterId: 'stage2-fault', condition: 'kind == "permission"' }],
  }));
  return topFrame(dc, VCPU0);
}

async function variables(dc: DebugClient, ref: number): Promise<Map<string, DebugProtocol.Variable>> {
  const r = await dc.variablesRequest({ variablesReference: ref });
  return new Map(r.body.variables.map((v) => [v.name, v]));
}

describe('DAP inspection', () => {
  it('scopes: General registers, System registers with ESR_EL2 decoded into fields, KVM memslots with lock state, Stage 2 walk', async () => {
    const dc = await client();
    try {
      const f = await atPermissionFault(dc);
      const scopes = (await dc.scopesRequest({ frameId: f.id })).body.scopes;
      assert.deepEqual(scopes.map((s) => s.name), ['General registers', 'System registers', 'Event: stage2-fault', 'KVM', 'Stage 2']);
      const gpr = await variables(dc, scopes[0].variablesReference);
      assert.equal(gpr.get('x1')?.value, '0x80000000');
      assert.equal(gpr.get('x1')?.memoryReference, '0x80000000');
      assert.equal(gpr.get('pc')?.value, '0x4000001c');
      const sys = await variables(dc, scopes[1].variablesReference);
      const esr = sys.get('ESR_EL2')!;
      assert.equal(esr.value, '0x93c6804f');
      const fields = await variables(dc, esr.variablesReference);
      assert.equal(fields.get('EC')?.value, '0x24 (DABT_LOW)');
      assert.equal(fields.get('WnR')?.value, '0x1');
      assert.equal(fields.get('ISV')?.value, '0x1');
      assert.match(fields.get('FSC')!.value, /^0xf \(Permission fault, level 3\)/);
      assert.equal(fields.get('SRT')?.value, '6 (x6)');
      const hpfar = await variables(dc, sys.get('HPFAR_EL2')!.variablesReference);
      assert.match(hpfar.get('FIPA')!.value, /IPA 0x80000000/);
      const kvm = await variables(dc, scopes[3].variablesReference);
      assert.equal(kvm.get('locked_vm')?.value, '0 page(s)');
      const slots = await variables(dc, kvm.get('memslots')!.variablesReference);
      assert.deepEqual([...slots.keys()], ['memslot 0', 'memslot 1', 'memslot 2']);
      assert.match(slots.get('memslot 1')!.value, /gpa=0x80000000 size=0x10000 unlocked readonly/);
      assert.equal(slots.get('memslot 1')!.memoryReference, '0x80000000');
      const s2 = await variables(dc, scopes[4].variablesReference);
      assert.equal(s2.get('ipa')?.value, '0x80000008');
      assert.equal(s2.get('resolution')?.value, 'mmio');
      assert.match(s2.get('now')!.value, /^page oa=0x[0-9a-f]+ r /); // mapped read-only
      assert.ok([...s2.keys()].some((k) => /^L3\[0\]$/.test(k)));
    } finally {
      await dc.stop();
    }
  });

  it('setVariable on registers; evaluate x0, esr_el2.ec, *(u64*)IPA, translations and symbols', async () => {
    const dc = await client();
    try {
      const f = await atPermissionFault(dc);
      const scopes = (await dc.scopesRequest({ frameId: f.id })).body.scopes;
      const r = await dc.setVariableRequest({ variablesReference: scopes[0].variablesReference, name: 'x7', value: '0x1234 + 1' });
      assert.equal(r.body.value, '0x1235');
      assert.equal(await evaluate(dc, 'x7', f.id), '0x1235');
      assert.equal(await evaluate(dc, 'w2', f.id), '0x55667788');
      await assert.rejects(dc.setVariableRequest({ variablesReference: scopes[1].variablesReference, name: 'ESR_EL2', value: '0' }), /cannot be changed/);
      const sr = await dc.setVariableRequest({ variablesReference: scopes[1].variablesReference, name: 'FAR_EL1', value: '0xdead' });
      assert.equal(sr.body.value, '0xdead');
      assert.equal(await evaluate(dc, 'esr_el2.ec', f.id), '0x24');
      assert.equal(await evaluate(dc, 'esr_el2.ec == 0x24 && x3 == 0x55', f.id), 'true');
      assert.equal(await evaluate(dc, '*(u64*)0x8000_0000', f.id), '0x1122334455667788');
      assert.equal(await evaluate(dc, '*(u8*)(ROM + 1)', f.id), '0x77');
      assert.equal(await evaluate(dc, 'store_it', f.id), '0x40000028');
      assert.equal(await evaluate(dc, 'PSCI_SYSTEM_OFF', f.id), '0x84000008');
      assert.equal(await evaluate(dc, 'translate(0x4000_0010) == pa(0) + 0x10', f.id), 'true');
      assert.equal(await evaluate(dc, 'ipa(0x4000_0010)', f.id), '0x40000010');
      const esr = await dc.evaluateRequest({ expression: 'esr_el2', frameId: f.id, context: 'hover' });
      assert.ok(esr.body.variablesReference > 0);
      await assert.rejects(dc.evaluateRequest({ expression: '*(u64*)0x1000', frameId: f.id }), /no guest memory at IPA 0x1000/);
    } finally {
      await dc.stop();
    }
  });

  it('readMemory/writeMemory over the IPA space: memslot bytes, unreadable bytes, memory + invalidated events', async () => {
    const dc = await client();
    try {
      await atPermissionFault(dc);
      const r = await dc.customRequest('readMemory', { memoryReference: '0x80000000', count: 16 });
      assert.equal(r.body.address, '0x80000000');
      assert.deepEqual([...Buffer.from(r.body.data, 'base64')], [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0, 0, 0, 0, 0]);
      // the slot ends at 0x8001_0000: what lies beyond is unreadable
      const edge = await dc.customRequest('readMemory', { memoryReference: '0x8000fff8', count: 16 });
      assert.equal(Buffer.from(edge.body.data, 'base64').length, 8);
      assert.equal(edge.body.unreadableBytes, 8);
      const memory = dc.waitForEvent('memory');
      const invalidated = dc.waitForEvent('invalidated');
      const w = await dc.customRequest('writeMemory', { memoryReference: '0x90000000', offset: 8, data: Buffer.from([1, 2, 3, 4]).toString('base64') });
      assert.equal(w.body.bytesWritten, 4);
      const m = (await memory) as DebugProtocol.MemoryEvent;
      assert.deepEqual(m.body, { memoryReference: '0x90000000', offset: 8, count: 4 });
      await invalidated;
      assert.equal(await evaluate(dc, '*(u32*)0x9000_0008'), '0x4030201');
    } finally {
      await dc.stop();
    }
  });

  it('disassemble: real bytes, GNU text, symbols, .kvms lines and literal pools as .word', async () => {
    const dc = await client();
    try {
      await atPermissionFault(dc);
      const d = await dc.disassembleRequest({ memoryReference: '0x40000000', instructionCount: 16 });
      const ins = d.body!.instructions;
      assert.equal(ins.length, 16);
      assert.deepEqual([ins[1].address, ins[1].instructionBytes, ins[1].instruction], ['0x40000004', 'f9400022', 'ldr\tx2, [x1]']);
      assert.equal(ins[1].line, lineOf(FAULTS, 'ldr x2, [x1]'));
      assert.match(ins[3].instruction, /^bl\t40000028 <store_it>$/);
      assert.equal(ins[10].symbol, 'store_it');
      assert.equal(ins[12].instruction, 'ret');
      assert.match(ins[14].instruction, /^\.word\t0x80000000$/); // the literal pool entry of `ldr x1, =ROM`
      // negative offsets (VS Code scrolls up) and unbacked addresses
      const up = await dc.disassembleRequest({ memoryReference: '0x40000000', instructionOffset: -2, instructionCount: 3 });
      assert.deepEqual(up.body!.instructions.map((i) => i.presentationHint ?? ''), ['invalid', 'invalid', '']);
    } finally {
      await dc.stop();
    }
  });

  it('custom requests: kvm/memslots, kvm/stage2 (paged), kvm/translate, kvm/events; kvm/stateChanged after every stop', async () => {
    const dc = await client();
    try {
      const changed = dc.waitForEvent('kvm/stateChanged');
      await atPermissionFault(dc);
      const ev = await changed;
      assert.equal(ev.body.reason, 'exception');
      assert.equal(typeof ev.body.seq, 'number');
      const ms = (await dc.customRequest('kvm/memslots')).body;
      assert.deepEqual(Object.keys(ms).sort(), ['lockedVm', 'memslots', 'pendingOps']);
      assert.deepEqual(ms.memslots[1], { id: 1, gpa: 0x8000_0000, size: 0x10000, hva: ms.memslots[1].hva, readonly: true, dirtyLog: false, lock: null, pinnedPages: 0, dirtyPages: 0 });
      // the root of the VM's stage 2 (ipa_bits 40, 4K: level 1 start, 2 concatenated pages = 1024 entries)
      const root = (await dc.customRequest('kvm/stage2', { table: 'vm', path: [], start: 0, count: 4 })).body;
      assert.equal(root.level, 1);
      assert.equal(root.total, 1024);
      assert.equal(root.entries.length, 4);
      assert.deepEqual(Object.keys(root.entries[2]).sort(), ['decoded', 'index', 'ipa', 'kind', 'raw']);
      assert.equal(root.entries[2].ipa, 0x8000_0000);
      assert.equal(root.entries[2].kind, 'table');
      const l2 = (await dc.customRequest('kvm/stage2', { table: 'vm', path: [2], start: 0, count: 1 })).body;
      assert.equal(l2.level, 2);
      assert.equal(l2.total, 512);
      const l3 = (await dc.customRequest('kvm/stage2', { table: 'vm', path: [2, 0], start: 0, count: 2 })).body;
      assert.equal(l3.entries[0].kind, 'page');
      assert.equal(l3.entries[1].kind, 'unmapped');
      const tr = (await dc.customRequest('kvm/translate', { address: '0x80000008', stage: 's2' })).body;
      assert.deepEqual(tr.steps.map((s: { stage: string; level: number; index: number }) => [s.stage, s.level, s.index]), [['s2', 1, 2], ['s2', 2, 0], ['s2', 3, 0]]);
      assert.equal(tr.ipa, 0x8000_0008);
      assert.equal(tr.pa % 0x1000, 8);
      const miss = (await dc.customRequest('kvm/translate', { address: 0x8000_2000, stage: 's1+s2', vcpu: 0 })).body;
      assert.deepEqual(miss.fault, { stage: 's2', kind: 'translation', level: 3 });
      const events = (await dc.customRequest('kvm/events', { kinds: ['stage2-fault'] })).body.events;
      assert.equal(events.length, 4);
      assert.equal(events[3].ipa, '0x80000008');
      assert.equal(events[3].event, 'stage2-fault');
      const since = (await dc.customRequest('kvm/events', { since: events[3].seq })).body.events;
      assert.equal(since[0].seq, events[3].seq);
      // every stop sends kvm/stateChanged
      const next = dc.waitForEvent('kvm/stateChanged');
      await untilStopped(dc, () => dc.stepInRequest({ threadId: VCPU0 }));
      assert.equal((await next).body.reason, 'step');
    } finally {
      await dc.stop();
    }
  });
});
