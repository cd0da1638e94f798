// `expect event|no event|total KIND field=V …` matching (LANGUAGE.md "Expectations"): numbers numerically
// (`esr=0x9600_0010` matches "0x96000010"), booleans and names as written; a list field matches when it holds the
// value (or equals a list). The `spe-irq` event's interrupt line is stored as `level` (emulator/events.ts), and
// `line=` on an spe-irq expectation reads it.
import type { EventKind, FieldValue, TraceEvent } from '../events';

export type ExpectedValue = bigint | string | boolean | readonly ExpectedValue[];
export interface FieldExpectation { readonly name: string; readonly value: ExpectedValue }

export function fieldOf(e: TraceEvent, name: string): FieldValue | undefined {
  if (name === 'line') return e.event === 'spe-irq' ? e.fields.level : e.line;
  if (name === 'vcpu') return e.vcpu;
  if (name === 'seq') return e.seq;
  return e.fields[name];
}

export function valueMatches(actual: FieldValue | undefined, expected: ExpectedValue): boolean {
  if (actual === undefined || actual === null) return false;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return false;
    const a = actual as readonly FieldValue[];
    return a.length === expected.length && expected.every((x, i) => valueMatches(a[i], x as ExpectedValue));
  }
  if (Array.isArray(actual)) return (actual as readonly FieldValue[]).some((x) => valueMatches(x, expected));
  if (typeof expected === 'bigint') {
    if (typeof actual === 'bigint') return BigInt.asUintN(64, actual) === BigInt.asUintN(64, expected);
    if (typeof actual === 'number') return BigInt(actual) === expected;
    if (typeof actual === 'boolean') return (actual ? 1n : 0n) === expected;
    return false;
  }
  if (typeof expected === 'boolean') return actual === expected;
  // a name
  if (typeof actual === 'boolean') return String(actual) === expected;
  return String(actual) === expected;
}

export function eventMatches(e: TraceEvent, kind: EventKind, fields: readonly FieldExpectation[]): boolean {
  if (e.event !== kind) return false;
  return fields.every((f) => valueMatches(fieldOf(e, f.name), f.value));
}

export function describeEvent(e: TraceEvent): string {
  const parts = Object.entries(e.fields).map(([k, v]) => `${k}=${show(v)}`);
  return `${e.event} ${parts.join(' ')}`.trim();
}

function show(v: FieldValue): string {
  if (typeof v === 'bigint') return '0x' + BigInt.asUintN(64, v).toString(16);
  if (Array.isArray(v)) return `[${(v as readonly FieldValue[]).map(show).join(', ')}]`;
  return String(v);
}
