// Human-readable trace lines for `kvms run` (the JSON form is emulator/events.ts toJson).
import { toJson, type TraceEvent } from '../emulator/events';

const ORDER_FIRST = ['name', 'reason', 'op', 'kind', 'resolution'];

export function formatEvent(e: TraceEvent): string {
  const j = toJson(e);
  const head = `${String(e.seq).padStart(5)}  L${String(e.line).padEnd(4)} ${e.vcpu !== undefined ? `vcpu${e.vcpu} ` : '      '}${e.event.padEnd(15)}`;
  const keys = Object.keys(j).filter((k) => !['seq', 'event', 'line', 'vcpu'].includes(k));
  keys.sort((a, b) => rank(a) - rank(b));
  const parts = keys.map((k) => `${k}=${formatValue(j[k])}`);
  return `${head} ${parts.join(' ')}`.trimEnd();
}

function rank(k: string): number {
  const i = ORDER_FIRST.indexOf(k);
  return i < 0 ? ORDER_FIRST.length : i;
}

function formatValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')}}`;
  }
  if (typeof v === 'string' && /\s/.test(v)) return JSON.stringify(v);
  return String(v);
}
