// The trace event vocabulary (LANGUAGE.md "Trace events") and the log every part of the machine emits into.
//
// Field encoding rule, applied once in `toJson`: a `bigint` field is an address / register / descriptor /
// syndrome / function id / data value and serialises as a lowercase unpadded "0x…" string; a `number` is a
// count, index, line, level, len or intid and serialises as a JSON number. So emitters choose the type, and
// the schema follows from it.
//
// One clash in the schema: every event has `line` (the statement), and `spe-irq` also has `line` (the interrupt
// line, 0/1). The statement keeps `line`; the interrupt line is the field `level` (0/1) of `spe-irq`, and
// `expect event spe-irq line=1` / breakpoint conditions read `line` of an spe-irq event as that level.

export type EventKind =
  | 'ioctl'
  | 'kvm-exit'
  | 'stage2-fault'
  | 'hypercall'
  | 'mmio-guard'
  | 'spe-irq'
  | 'guest-exception'
  | 'cmo'
  | 'tlbi'
  | 'pte'
  | 'pending-ops'
  | 'warning'
  | 'expect';

export const EVENT_KINDS: readonly EventKind[] = [
  'ioctl', 'kvm-exit', 'stage2-fault', 'hypercall', 'mmio-guard', 'spe-irq', 'guest-exception',
  'cmo', 'tlbi', 'pte', 'pending-ops', 'warning', 'expect',
];

export type FieldValue = bigint | number | string | boolean | null | readonly FieldValue[];
export type Fields = { readonly [name: string]: FieldValue };

export interface TraceEvent {
  readonly seq: number;
  readonly event: EventKind;
  readonly line: number;
  readonly vcpu?: number;
  readonly fields: Fields;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export function fieldToJson(v: FieldValue): JsonValue {
  if (typeof v === 'bigint') return '0x' + BigInt.asUintN(64, v).toString(16);
  if (Array.isArray(v)) return (v as readonly FieldValue[]).map(fieldToJson);
  return v as JsonValue;
}

/** The JSON trace form: `seq`, `event`, `line`, `vcpu` where one applies, then the kind's fields. */
export function toJson(e: TraceEvent): { [k: string]: JsonValue } {
  const out: { [k: string]: JsonValue } = { seq: e.seq, event: e.event, line: e.line };
  if (e.vcpu !== undefined) out.vcpu = e.vcpu;
  for (const k of Object.keys(e.fields)) {
    out[k] = fieldToJson(e.fields[k]);
  }
  return out;
}

export interface EventLogSnapshot {
  readonly length: number;
  readonly line: number;
}

export interface EventSink {
  emit(kind: EventKind, fields: Fields, vcpu?: number): void;
}

/**
 * Append-only event log with per-kind counts. `line` is the source line of the statement being executed,
 * set by the machine before each host statement (0 = the machine block / no statement).
 * Listeners see every event as it is emitted (the machine's stop conditions use this).
 */
export class EventLog implements EventSink {
  private readonly events: TraceEvent[] = [];
  private readonly counts = new Map<EventKind, number>();
  private seqNext = 1;
  line = 0;
  private readonly listeners: ((e: TraceEvent) => void)[] = [];

  emit(kind: EventKind, fields: Fields, vcpu?: number): void {
    const e: TraceEvent = vcpu === undefined
      ? { seq: this.seqNext++, event: kind, line: this.line, fields }
      : { seq: this.seqNext++, event: kind, line: this.line, vcpu, fields };
    this.events.push(e);
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    for (const l of this.listeners) l(e);
  }

  onEvent(listener: (e: TraceEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get length(): number { return this.events.length; }
  get nextSeq(): number { return this.seqNext; }
  count(kind: EventKind): number { return this.counts.get(kind) ?? 0; }
  all(): readonly TraceEvent[] { return this.events; }
  since(seq: number): readonly TraceEvent[] {
    // seq numbers are dense and start at 1, so the index is seq - 1
    return this.events.slice(Math.max(0, seq - 1));
  }
  last(kind?: EventKind): TraceEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      if (kind === undefined || this.events[i].event === kind) return this.events[i];
    }
    return undefined;
  }

  /** Snapshot = the length and the current statement line; restore truncates (the log is append-only). */
  snapshot(): EventLogSnapshot { return { length: this.events.length, line: this.line }; }
  restore(s: EventLogSnapshot): void {
    const len = s.length;
    this.line = s.line;
    while (this.events.length > len) {
      const e = this.events.pop()!;
      this.counts.set(e.event, (this.counts.get(e.event) ?? 1) - 1);
    }
    this.seqNext = len + 1;
  }
}
