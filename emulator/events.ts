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

/** value tags of the compact log */
const V_REF = 0;     // refs[nums[j]]: arrays, bigints outside [0, 2^53), anything else
const V_NUMBER = 1;  // nums[j]
const V_BIGINT = 2;  // BigInt(nums[j]): a bigint in [0, 2^53), exact as a double
const V_STRING = 3;  // strings[nums[j]] (interned: event field strings repeat)
const V_TRUE = 4;
const V_FALSE = 5;
const V_NULL = 6;
const V_U64 = 7;     // BigInt (hi << 32) | lo: nums[j] = lo + 2^32 * (index of hi in highHalves); descriptors with upper attributes

/** Field names of one event shape, in emission order. */
interface Shape {
  readonly keys: readonly string[];
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let n = a.length * 2;
  while (n < need) n *= 2;
  const b = new (a.constructor as { new(n: number): T })(n);
  b.set(a);
  return b;
}

/**
 * Append-only event log with per-kind counts. `line` is the source line of the statement being executed,
 * set by the machine before each host statement (0 = the machine block / no statement).
 * Listeners see every event as it is emitted (the machine's stop conditions use this).
 *
 * Storage (ARCHITECTURE.md "Events cost little"): events are kept as compact typed records, not as objects:
 * per event its kind index, line, vcpu and field shape; per field value a tag and either a double (numbers, and
 * bigints in [0, 2^53)) or a reference (strings, booleans, null, arrays, larger bigints). A long run emits
 * several events per stage 2 fault, and keeping each one as objects and bigints made garbage collection the
 * largest cost of fault-in. `TraceEvent` objects are rebuilt on demand (`all`, `since`, `last`) with the same
 * fields, values and key order; `all()` caches the ones it built.
 */
export class EventLog implements EventSink {
  private n = 0;
  /** events per kind index */
  private readonly counts = new Float64Array(256);
  line = 0;
  private readonly listeners: ((e: TraceEvent) => void)[] = [];
  /** per listener: undefined (always listening) or a predicate telling whether it wants events now */
  private readonly listenerActive: ((() => boolean) | undefined)[] = [];

  // ---- per event ----
  /** kind names by index: EVENT_KINDS first, then any other kind an emitter used */
  private readonly kindNames: EventKind[] = [...EVENT_KINDS];
  private readonly kindIndex = new Map<EventKind, number>(EVENT_KINDS.map((k, i) => [k, i]));
  private kinds = new Uint8Array(256);
  private lines = new Float64Array(256);
  /** vcpu, or NaN when the event has none */
  private vcpus = new Float64Array(256);
  private shapeOf = new Int32Array(256);
  /** offset of the event's first value, and of its first entry in `refs` (index n: the end) */
  private valStart = new Int32Array(257);
  private refStart = new Int32Array(257);

  // ---- per field value ----
  private nv = 0;
  private tags = new Uint8Array(1024);
  private nums = new Float64Array(1024);
  /**
   * interned high halves of V_U64 values (never truncated, like `strings`): descriptors share a few upper halves
   * (attribute bits 63:51 and PA[47:32]), so each value costs one slot in `nums`
   */
  private readonly highHalves: number[] = [];
  private readonly highIds = new Map<number, number>();
  private lastHigh = -1;
  private lastHighId = -1;
  private refs: FieldValue[] = [];
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();

  // ---- shapes ----
  private readonly shapes: Shape[] = [];
  private readonly shapeIds = new Map<string, number>();
  /** the last shape seen per kind: almost every emitter of a kind uses one object literal */
  private readonly lastShape = new Int32Array(256).fill(-1);

  /** TraceEvent objects built by all(), in order (a prefix of the log) */
  private built: TraceEvent[] = [];

  emit(kind: EventKind, fields: Fields, vcpu?: number): void {
    const i = this.n;
    const k = this.startEvent(kind, vcpu);
    this.shapeOf[i] = this.storeFields(k, fields);
    this.valStart[i + 1] = this.nv;
    this.refStart[i + 1] = this.refs.length;
    this.n = i + 1;
    this.counts[k]++;
    if (this.listeners.length !== 0) this.notify(i, kind, fields, vcpu);
  }

  private notify(i: number, kind: EventKind, fields: Fields, vcpu: number | undefined): void {
    let e: TraceEvent | undefined;
    for (let x = 0; x < this.listeners.length; x++) {
      const active = this.listenerActive[x];
      if (active !== undefined && !active()) continue;
      e ??= vcpu === undefined
        ? { seq: i + 1, event: kind, line: this.line, fields }
        : { seq: i + 1, event: kind, line: this.line, vcpu, fields };
      this.listeners[x](e);
    }
  }

  // ---- records: the hot emitters' path (stage 2 map, fault report) ----
  //
  // A record is emit(kind, fields) without the fields object: `beginRecord` with a shape registered by
  // `recordShape` (the field names in order), one add* call per field in that order, `endRecord`. It stores exactly
  // what emit stores for the same fields (the trace and the rebuilt TraceEvents are identical), so an emitter may
  // use either. Records are only for when nobody listens (`recording`: no listener, or every listener's `active`
  // predicate says no): listeners get TraceEvent objects from emit.

  /** true when emitters may write records (no listener needs the fields object) */
  get recording(): boolean {
    for (let x = 0; x < this.listeners.length; x++) {
      const active = this.listenerActive[x];
      if (active === undefined || active()) return false;
    }
    return true;
  }

  /** The shape id for `keys` of `kind` (registered once per emitter, then passed to beginRecord). */
  recordShape(kind: EventKind, keys: readonly string[]): number {
    this.kindIndex.get(kind) ?? this.addKind(kind);
    const sig = keys.join('\u0000');
    let id = this.shapeIds.get(sig);
    if (id === undefined) {
      id = this.shapes.length;
      this.shapes.push({ keys: [...keys] });
      this.shapeIds.set(sig, id);
    }
    return id;
  }

  /** The interned id of a string field value, for addStringId. */
  stringId(v: string): number {
    let id = this.stringIds.get(v);
    if (id === undefined) { id = this.strings.length; this.strings.push(v); this.stringIds.set(v, id); }
    return id;
  }

  beginRecord(kind: EventKind, shape: number, vcpu?: number): void {
    this.startEvent(kind, vcpu);
    this.shapeOf[this.n] = shape;
  }

  /** Room for event n, and its kind, line and vcpu columns; returns the kind index. */
  private startEvent(kind: EventKind, vcpu: number | undefined): number {
    const i = this.n;
    const k = this.kindIndex.get(kind) ?? this.addKind(kind);
    if (i === this.kinds.length) {
      this.kinds = grow(this.kinds, i + 1);
      this.lines = grow(this.lines, this.kinds.length);
      this.vcpus = grow(this.vcpus, this.kinds.length);
      this.shapeOf = grow(this.shapeOf, this.kinds.length);
      this.valStart = grow(this.valStart, this.kinds.length + 1);
      this.refStart = grow(this.refStart, this.kinds.length + 1);
    }
    this.kinds[i] = k;
    this.lines[i] = this.line;
    this.vcpus[i] = vcpu === undefined ? NaN : vcpu;
    return k;
  }

  endRecord(): void {
    const i = this.n;
    this.valStart[i + 1] = this.nv;
    this.refStart[i + 1] = this.refs.length;
    this.n = i + 1;
    this.counts[this.kinds[i]]++;
  }

  /** a number field */
  addNumber(v: number): void {
    const j = this.slot();
    this.tags[j] = V_NUMBER; this.nums[j] = v;
  }

  /** a bigint field given as a number in [0, 2^53) (an address): stored as emit stores BigInt(v) */
  addAddress(v: number): void {
    const j = this.slot();
    this.tags[j] = V_BIGINT; this.nums[j] = v;
  }

  /** a bigint field given as its unsigned 32-bit halves (a descriptor): the value (hi << 32) | lo */
  addU64(lo: number, hi: number): void {
    if (hi < 0x20_0000) {
      const j = this.slot();
      this.tags[j] = V_BIGINT; this.nums[j] = hi * 4294967296 + lo;
      return;
    }
    let id = this.lastHighId;
    if (hi !== this.lastHigh) {
      const known = this.highIds.get(hi);
      if (known === undefined) {
        if (this.highHalves.length >= 0x20_0000) {
          // 2^21 distinct upper halves: the index no longer fits beside lo in a double; keep the bigint
          this.storeValue((BigInt(hi) << 32n) | BigInt(lo));
          return;
        }
        id = this.highHalves.length;
        this.highHalves.push(hi);
        this.highIds.set(hi, id);
      } else {
        id = known;
      }
      this.lastHigh = hi;
      this.lastHighId = id;
    }
    const j = this.slot();
    this.tags[j] = V_U64; this.nums[j] = id * 4294967296 + lo;
  }

  /** a string field, by its stringId */
  addStringId(id: number): void {
    const j = this.slot();
    this.tags[j] = V_STRING; this.nums[j] = id;
  }

  /** any field value, stored as emit stores it */
  addValue(v: FieldValue): void { this.storeValue(v); }

  /** the next value slot (grown on demand) */
  private slot(): number {
    const j = this.nv;
    if (j === this.tags.length) {
      this.tags = grow(this.tags, j + 1);
      this.nums = grow(this.nums, j + 1);
    }
    this.nv = j + 1;
    return j;
  }

  private addKind(kind: EventKind): number {
    if (this.kindNames.length >= 256) throw new RangeError(`too many event kinds (${String(kind)})`);
    this.kindNames.push(kind);
    this.kindIndex.set(kind, this.kindNames.length - 1);
    return this.kindNames.length - 1;
  }

  /** Append the values of `fields` and return its shape id. */
  private storeFields(kindIdx: number, fields: Fields): number {
    const start = this.nv, refsAt = this.refs.length;
    // fast path: the kind's last shape, checked key by key while the values are stored
    const last = this.lastShape[kindIdx];
    if (last >= 0) {
      const keys = this.shapes[last].keys;
      let j = 0;
      let same = true;
      for (const key in fields) {
        if (j >= keys.length || keys[j] !== key) { same = false; break; }
        this.storeValue(fields[key]);
        j++;
      }
      if (same && j === keys.length) return last;
      this.nv = start;
      this.refs.length = refsAt;
    }
    const keys = Object.keys(fields);
    const sig = keys.join('\u0000');
    let id = this.shapeIds.get(sig);
    if (id === undefined) {
      id = this.shapes.length;
      this.shapes.push({ keys });
      this.shapeIds.set(sig, id);
    }
    for (const key of keys) this.storeValue(fields[key]);
    this.lastShape[kindIdx] = id;
    return id;
  }

  private storeValue(v: FieldValue): void {
    const j = this.nv;
    if (j === this.tags.length) {
      this.tags = grow(this.tags, j + 1);
      this.nums = grow(this.nums, j + 1);
    }
    if (typeof v === 'number') {
      this.tags[j] = V_NUMBER; this.nums[j] = v;
    } else if (typeof v === 'bigint' && v >= 0n && v <= 0x1f_ffff_ffff_ffffn) {
      this.tags[j] = V_BIGINT; this.nums[j] = Number(v);
    } else if (typeof v === 'string') {
      let id = this.stringIds.get(v);
      if (id === undefined) { id = this.strings.length; this.strings.push(v); this.stringIds.set(v, id); }
      this.tags[j] = V_STRING; this.nums[j] = id;
    } else if (v === true) {
      this.tags[j] = V_TRUE;
    } else if (v === false) {
      this.tags[j] = V_FALSE;
    } else if (v === null) {
      this.tags[j] = V_NULL;
    } else {
      this.tags[j] = V_REF; this.nums[j] = this.refs.length; this.refs.push(v);
    }
    this.nv = j + 1;
  }

  /** Rebuild event `i` (0-based) as a TraceEvent. */
  private build(i: number): TraceEvent {
    const keys = this.shapes[this.shapeOf[i]].keys;
    const fields: { [name: string]: FieldValue } = {};
    let j = this.valStart[i];
    for (const key of keys) {
      fields[key] = this.valueAt(j++);
    }
    const event = this.kindNames[this.kinds[i]];
    const line = this.lines[i];
    const vcpu = this.vcpus[i];
    return Number.isNaN(vcpu) ? { seq: i + 1, event, line, fields } : { seq: i + 1, event, line, vcpu, fields };
  }

  private valueAt(j: number): FieldValue {
    switch (this.tags[j]) {
      case V_NUMBER: return this.nums[j];
      case V_BIGINT: return BigInt(this.nums[j]);
      case V_STRING: return this.strings[this.nums[j]];
      case V_TRUE: return true;
      case V_FALSE: return false;
      case V_NULL: return null;
      case V_U64: {
        const v = this.nums[j];
        const id = Math.floor(v / 4294967296);
        return (BigInt(this.highHalves[id]) << 32n) | BigInt(v - id * 4294967296);
      }
      default: return this.refs[this.nums[j]];
    }
  }

  private eventAt(i: number): TraceEvent {
    return i < this.built.length ? this.built[i] : this.build(i);
  }

  /**
   * Call `listener` with every event as it is emitted. With `active`, only while `active()` is true (events emitted
   * while it is false are not delivered): a listener that is usually idle (stop conditions) then lets hot emitters
   * write records instead of field objects.
   */
  onEvent(listener: (e: TraceEvent) => void, active?: () => boolean): () => void {
    this.listeners.push(listener);
    this.listenerActive.push(active);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) {
        this.listeners.splice(i, 1);
        this.listenerActive.splice(i, 1);
      }
    };
  }

  get length(): number { return this.n; }
  get nextSeq(): number { return this.n + 1; }
  count(kind: EventKind): number {
    const k = this.kindIndex.get(kind);
    return k === undefined ? 0 : this.counts[k];
  }
  all(): readonly TraceEvent[] {
    const b = this.built;
    for (let i = b.length; i < this.n; i++) b.push(this.build(i));
    return b;
  }
  since(seq: number): readonly TraceEvent[] {
    // seq numbers are dense and start at 1, so the index is seq - 1
    const out: TraceEvent[] = [];
    for (let i = Math.max(0, seq - 1); i < this.n; i++) out.push(this.eventAt(i));
    return out;
  }
  last(kind?: EventKind): TraceEvent | undefined {
    const k = kind === undefined ? -1 : this.kindIndex.get(kind) ?? -2;
    for (let i = this.n - 1; i >= 0; i--) {
      if (k === -1 || this.kinds[i] === k) return this.eventAt(i);
    }
    return undefined;
  }

  /** Snapshot = the length and the current statement line; restore truncates (the log is append-only). */
  snapshot(): EventLogSnapshot { return { length: this.n, line: this.line }; }
  restore(s: EventLogSnapshot): void {
    const len = s.length;
    this.line = s.line;
    while (this.n > len) {
      this.counts[this.kinds[--this.n]]--;
    }
    this.nv = this.valStart[this.n];
    this.refs.length = this.refStart[this.n];
    if (this.built.length > this.n) this.built.length = this.n;
  }
}
