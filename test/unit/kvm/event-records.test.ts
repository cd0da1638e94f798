// The hot emitters (stage 2 map: pte / cmo / tlbi; kvm_handle_guest_abort: stage2-fault) write EventLog records
// instead of field objects when nobody listens. LANGUAGE.md "Trace events": the trace must not depend on which path
// an event took, so a log with a listener (emit path) and one without (records) must hold the same events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventLog, toJson, type TraceEvent } from '../../../emulator/events';
import { handleGuestAbort } from '../../../emulator/kvm/abort';
import { abortExit, makeWorld, type SlotSpec } from './abort-fixture.test';

const RAM = 0x4000_0000;
const ROM = 0x8000_0000;
const slots: SlotSpec[] = [
  { id: 0, gpa: RAM, size: 4 * 2 ** 21 },
  { id: 1, gpa: ROM, size: 64 * 1024, readonly: true },
];

test('LANGUAGE trace events: records (no listener) rebuild to the same events as emit, through snapshot/restore', () => {
  const a = new EventLog();
  const b = new EventLog();
  b.onEvent(() => undefined);
  assert.equal(a.recording, true);
  assert.equal(b.recording, false);
  const shape = a.recordShape('pte', ['table', 'ipa', 'level', 'old', 'new']);
  const vm = a.stringId('vm');
  const values: [number, number, number][] = [[0x4000_0000, 0x4000_0743, 0x0040_0000], [0x8000_0000, 0x1000_07c3, 0], [0, 3, 0x001f_ffff]];
  const s = a.snapshot();
  b.emit('warning', { message: 'x' });
  a.emit('warning', { message: 'x' });
  for (const [ipa, lo, hi] of values) {
    a.line = b.line = ipa % 7;
    a.beginRecord('pte', shape, 1);
    a.addStringId(vm); a.addAddress(ipa); a.addNumber(3); a.addU64(0, 0); a.addU64(lo, hi);
    a.endRecord();
    b.emit('pte', { table: 'vm', ipa: BigInt(ipa), level: 3, old: 0n, new: (BigInt(hi) << 32n) | BigInt(lo) }, 1);
  }
  const json = (l: EventLog): unknown[] => l.all().map(toJson);
  assert.deepEqual(json(a), json(b));
  assert.equal(a.count('pte'), 3);
  assert.equal((a.last('pte')!.fields.new as bigint), 0x001f_ffff_0000_0003n);
  assert.equal((a.all()[1].fields.new as bigint), 0x0040_0000_4000_0743n, 'a value above 2^53 keeps every bit');
  a.restore(s);
  assert.equal(a.length, 0);
  assert.equal(a.count('pte'), 0);
  a.emit('warning', { message: 'x' });
  assert.deepEqual(json(a), json(b).slice(0, 1));
});

test('EventLog.onEvent active predicate: an idle listener sees nothing and lets emitters record', () => {
  const log = new EventLog();
  let on = false;
  const seen: TraceEvent[] = [];
  const off = log.onEvent((e) => seen.push(e), () => on);
  assert.equal(log.recording, true);
  log.emit('warning', { message: 'a' });
  on = true;
  assert.equal(log.recording, false);
  log.emit('warning', { message: 'b' });
  assert.deepEqual(seen.map((e) => [e.seq, e.fields.message]), [[2, 'b']]);
  const always: TraceEvent[] = [];
  const off2 = log.onEvent((e) => always.push(e));
  on = false;
  assert.equal(log.recording, false, 'a listener without a predicate always listens');
  log.emit('warning', { message: 'c' });
  assert.equal(seen.length, 1);
  assert.equal(always.length, 1);
  off2();
  off();
  assert.equal(log.recording, true);
});

interface AbortCase {
  page: number; where: 'ram' | 'rom' | 'mmio'; fsc: number; wnr: boolean; s1ptw: boolean; iabt: boolean;
  isv: boolean; sas: number; off: number;
}

test('C.4 stage2-fault / pte / cmo / tlbi: aborts with records equal aborts through emit (random syndromes)', () => {
  const arb: fc.Arbitrary<AbortCase> = fc.record({
    page: fc.integer({ min: 0, max: 15 }),
    where: fc.constantFrom('ram' as const, 'ram' as const, 'rom' as const, 'mmio' as const),
    fsc: fc.constantFrom(0x07, 0x07, 0x06, 0x0f, 0x0b, 0x0a, 0x10, 0x30),
    wnr: fc.boolean(), s1ptw: fc.boolean(), iabt: fc.boolean(), isv: fc.boolean(),
    sas: fc.integer({ min: 0, max: 3 }), off: fc.integer({ min: 0, max: 0xfff }),
  });
  fc.assert(fc.property(fc.array(arb, { minLength: 1, maxLength: 30 }), (cases) => {
    const rec = makeWorld({ slots });
    const emit = makeWorld({ slots });
    emit.log.onEvent(() => undefined);
    for (const c of cases) {
      const base = c.where === 'ram' ? RAM : c.where === 'rom' ? ROM : 0x900_0000;
      const ipa = base + c.page * 4096;
      const exit = abortExit({
        ipa, va: 0xffff_8000_0000_0000n + BigInt(ipa + c.off), fsc: c.fsc, wnr: c.wnr, s1ptw: c.s1ptw, iabt: c.iabt,
        isv: c.isv, sas: c.sas,
      });
      const r1 = handleGuestAbort(rec.vm, rec.cpu, exit);
      const r2 = handleGuestAbort(emit.vm, emit.cpu, exit);
      assert.deepEqual(r1, r2);
    }
    assert.deepEqual(rec.log.all().map(toJson), emit.log.all().map(toJson));
    assert.deepEqual(rec.pt.checkInvariants(), []);
  }), { numRuns: 60, seed: 0xab07 });
});
