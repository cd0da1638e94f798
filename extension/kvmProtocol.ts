// The debug adapter's custom requests and event as the views consume them (ARCHITECTURE.md "Debug adapter shapes").
// Types only: the extension bundle never imports the adapter or the emulator.

export const DEBUG_TYPE = 'kvm-arm64';
export const LANGUAGE_ID = 'kvms';

export interface MemslotView {
  id: number;
  gpa: number;
  size: number;
  hva: number;
  readonly: boolean;
  dirtyLog: boolean;
  lock: { read: boolean; write: boolean } | null;
  pinnedPages: number;
  dirtyPages: number;
}

export interface MemslotsBody {
  memslots: MemslotView[];
  lockedVm: number;
  pendingOps: unknown;
}

export interface Stage2Entry {
  index: number;
  ipa: number;
  /** the 64-bit descriptor, "0x…" */
  raw: string;
  kind: 'table' | 'block' | 'page' | 'unmapped' | 'prot-none' | 'owner' | 'annotation' | 'locked' | 'invalid-other' | string;
  decoded: string;
}

export interface Stage2Body {
  level: number;
  tablePa: number;
  total: number;
  entries: Stage2Entry[];
}

export interface TranslateStep {
  stage: 's1' | 's2';
  level: number;
  tablePa: number;
  index: number;
  raw: string;
}

export interface TranslateBody {
  steps: TranslateStep[];
  ipa?: number;
  pa?: number;
  fault?: { stage: string; kind: string; level: number };
}

/** one trace event in JSON trace form: `seq`, `event`, `line`, optional `vcpu`, then the kind's fields */
export interface TraceEventJson {
  seq: number;
  event: string;
  line: number;
  vcpu?: number;
  [field: string]: unknown;
}

export interface EventsBody {
  events: TraceEventJson[];
}

export interface StateChangedBody {
  reason: string;
  seq: number;
}

export const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** 4096 -> "4K", 2097152 -> "2M" */
export function formatSize(bytes: number): string {
  const units: [number, string][] = [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']];
  for (const [u, s] of units) if (bytes >= u && bytes % u === 0) return `${bytes / u}${s}`;
  return `${bytes}`;
}
