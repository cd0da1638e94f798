// The exception breakpoint filters (ARCHITECTURE.md "Contracts" / "Debug adapter shapes"): each filter is a set
// of trace events (LANGUAGE.md "Trace events"); a filter's condition is an expression over that event's fields.
//   stage2-fault hypercall spe-irq guest-exception -> the event of that name
//   mmio-exit -> kvm-exit with reason mmio or arm_nisv
//   kvm-error -> an ioctl with an errno result, or a warning

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { EventKind, FieldValue, TraceEvent } from '../emulator/events';
import { EVENT_FIELDS } from '../emulator/scenario/vocabulary';
import { fieldOf } from '../emulator/scenario/event-match';

export type FilterId = 'stage2-fault' | 'hypercall' | 'spe-irq' | 'mmio-exit' | 'guest-exception' | 'kvm-error';

interface FilterDef {
  readonly id: FilterId;
  readonly label: string;
  readonly description: string;
  readonly kinds: readonly EventKind[];
  readonly matches: (e: TraceEvent) => boolean;
  /** where the behaviour is specified (exceptionInfo cites it) */
  readonly spec: string;
}

export const FILTERS: readonly FilterDef[] = [
  {
    id: 'stage2-fault', label: 'Stage 2 faults', description: 'a guest access faulted at stage 2 (after KVM handled it)',
    kinds: ['stage2-fault'], matches: (e) => e.event === 'stage2-fault', spec: 'spec C.4',
  },
  {
    id: 'hypercall', label: 'Hypercalls', description: 'an HVC/SMC handled by KVM (ret already in x0-x3)',
    kinds: ['hypercall'], matches: (e) => e.event === 'hypercall', spec: 'spec D',
  },
  {
    id: 'spe-irq', label: 'SPE buffer interrupt', description: 'the SPE buffer management interrupt line changed',
    kinds: ['spe-irq'], matches: (e) => e.event === 'spe-irq', spec: 'spec E.2',
  },
  {
    id: 'mmio-exit', label: 'MMIO exits', description: 'KVM_RUN returns to the VMM with KVM_EXIT_MMIO or KVM_EXIT_ARM_NISV',
    kinds: ['kvm-exit'], matches: (e) => e.event === 'kvm-exit' && (e.fields.reason === 'mmio' || e.fields.reason === 'arm_nisv'),
    spec: 'spec C.5',
  },
  {
    id: 'guest-exception', label: 'Guest exceptions', description: 'an exception taken to guest EL1 (injected or architectural)',
    kinds: ['guest-exception'], matches: (e) => e.event === 'guest-exception', spec: 'spec C.6',
  },
  {
    id: 'kvm-error', label: 'KVM errors and warnings', description: 'an ioctl failed with an errno, or the kernel warned',
    kinds: ['ioctl', 'warning'],
    matches: (e) => (e.event === 'ioctl' && e.fields.result !== 'ok' && e.fields.result !== undefined) || e.event === 'warning',
    spec: 'spec A',
  },
];

export function filterById(id: string): FilterDef | undefined {
  return FILTERS.find((f) => f.id === id);
}

/** the `exceptionBreakpointFilters` capability */
export function exceptionBreakpointFilters(): DebugProtocol.ExceptionBreakpointsFilter[] {
  return FILTERS.map((f) => ({
    filter: f.id, label: f.label, description: f.description, default: false, supportsCondition: true,
    conditionDescription: `an expression over the ${f.kinds.join('/')} event's fields, e.g. ${exampleCondition(f.id)}`,
  }));
}

function exampleCondition(id: FilterId): string {
  switch (id) {
    case 'stage2-fault': return 'kind == "permission" && ipa >= 0x8000_0000';
    case 'hypercall': return 'name == "MMIO_GUARD_MAP"';
    case 'spe-irq': return 'hw_ec == 0x25';
    case 'mmio-exit': return 'addr == 0x0900_0000 && write';
    case 'guest-exception': return 'cause == "injected"';
    case 'kvm-error': return 'result == "EBUSY"';
  }
}

/** field names a condition of this filter may read (the event kinds' fields plus the common ones) */
export function fieldNames(id: FilterId): Set<string> {
  const out = new Set<string>(['seq', 'event', 'line', 'vcpu']);
  for (const k of filterById(id)!.kinds) for (const f of Object.keys(EVENT_FIELDS[k])) out.add(f);
  return out;
}

/** An event field as a condition value: numbers/addresses as bigint, names as strings, booleans as booleans. */
export function eventField(e: TraceEvent, name: string): bigint | string | boolean | undefined {
  if (name === 'event') return e.event;
  const v: FieldValue | undefined = fieldOf(e, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint' || typeof v === 'string' || typeof v === 'boolean') return v;
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? '0x' + x.toString(16) : x));
}
