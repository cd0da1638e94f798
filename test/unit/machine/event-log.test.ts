// EventLog stores events as compact records (ARCHITECTURE.md "Events cost little") and rebuilds TraceEvents on
// demand: what comes back must be what was emitted — same kinds, seq, line, vcpu, field names in order, values
// and value types (LANGUAGE.md "Trace events": bigint -> hex, number -> JSON number).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventLog, toJson, type EventKind, type FieldValue, type Fields, type TraceEvent } from '../../../emulator/events';

const KINDS: EventKind[] = ['stage2-fault', 'pte', 'cmo', 'warning', 'tlbi'];

const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
  fc.bigInt({ min: 0n, max: (1n << 53n) + 5n }),
  fc.integer(), fc.double(), fc.constant(-0), fc.string(), fc.boolean(), fc.constant(null),
  fc.array(fc.oneof(fc.bigInt(), fc.integer(), fc.string()), { maxLength: 3 }),
);

// a few fixed field-name lists per kind (emitters use object literals), sometimes a different one
const shapes = [['ipa', 'level', 'old', 'new'], ['op', 'ipa', 'size'], ['stage', 'va', 'esr', 'write'], ['message']];
const emission = fc.record({
  kind: fc.constantFrom(...KINDS),
  shape: fc.nat({ max: shapes.length - 1 }),
  values: fc.array(fieldValue, { minLength: 4, maxLength: 4 }),
  vcpu: fc.option(fc.nat({ max: 3 }), { nil: undefined }),
  line: fc.nat({ max: 100 }),
});

function fieldsOf(shape: number, values: FieldValue[]): Fields {
  const f: { [k: string]: FieldValue } = {};
  shapes[shape].forEach((k, i) => { f[k] = values[i]; });
  return f;
}

test('event log: rebuilt events equal the emitted ones (fields, order, types, seq, line, vcpu)', () => {
  fc.assert(fc.property(fc.array(emission, { maxLength: 40 }), (ems) => {
    const log = new EventLog();
    const seen: TraceEvent[] = [];
    log.onEvent((e) => seen.push(e));
    for (const m of ems) {
      log.line = m.line;
      log.emit(m.kind, fieldsOf(m.shape, m.values), m.vcpu);
    }
    assert.equal(log.length, ems.length);
    const all = log.all();
    assert.deepEqual(all, seen);
    for (let i = 0; i < all.length; i++) {
      assert.deepEqual(Object.keys(all[i].fields), Object.keys(seen[i].fields), 'key order');
      assert.deepEqual(Object.keys(all[i]), Object.keys(seen[i]), 'event keys (vcpu only when given)');
      assert.equal(JSON.stringify(toJson(all[i])), JSON.stringify(toJson(seen[i])));
    }
    for (const k of KINDS) assert.equal(log.count(k), seen.filter((e) => e.event === k).length);
    assert.deepEqual(log.last(), seen[seen.length - 1]);
    assert.deepEqual(log.last('pte'), [...seen].reverse().find((e) => e.event === 'pte'));
    const mid = Math.floor(ems.length / 2) + 1;
    assert.deepEqual(log.since(mid), seen.slice(mid - 1));
  }));
});

test('event log: restore truncates values, counts and seq; later emits continue from there', () => {
  const log = new EventLog();
  log.emit('pte', { table: 'vm', ipa: 0x1000n, level: 3, old: 0n, new: 0x4000_0000_0000_07ffn });
  const snap = log.snapshot();
  log.emit('warning', { message: 'x', list: [1n, 2] }, 1);
  log.emit('pte', { table: 'vm', ipa: 0x2000n, level: 3, old: 0n, new: 1n });
  assert.equal(log.all().length, 3, 'all() built the events');
  log.restore(snap);
  assert.equal(log.length, 1);
  assert.equal(log.count('warning'), 0);
  assert.equal(log.count('pte'), 1);
  assert.equal(log.nextSeq, 2);
  log.emit('cmo', { op: 'dcache_clean_inval_poc', ipa: 0x3000n, size: 0x1000n }, 0);
  const all = log.all();
  assert.deepEqual(all.map((e) => [e.seq, e.event]), [[1, 'pte'], [2, 'cmo']]);
  assert.deepEqual(all[1], { seq: 2, event: 'cmo', line: 0, vcpu: 0, fields: { op: 'dcache_clean_inval_poc', ipa: 0x3000n, size: 0x1000n } });
  assert.equal(all[0].fields.new, 0x4000_0000_0000_07ffn);
});
