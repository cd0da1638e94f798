// Every kind of breakpoint the adapter offers (ARCHITECTURE.md "Debug adapter shapes"), turned into the machine's
// stop conditions: line breakpoints on host statements (checked before the statement runs) and on guest
// instructions (CPU instruction breakpoints at the line's address), function breakpoints on hypercall names/IDs
// (the `hypercall` event) and ioctl names (before the statement), exception filters over trace events, data
// breakpoints on IPA ranges and instruction breakpoints. Conditions, hit counts and logpoints are decided here.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { HostOp, StopReason } from '../emulator/machine';
import type { TraceEvent } from '../emulator/events';
import type { DataRange } from '../emulator/cpu/cpu';
import { describeEvent } from '../emulator/scenario/event-match';
import { ConditionError, evalCondition, formatValue, namesOf, parseCondition, truthy, type CondEnv, type CondExpr } from './conditions';
import { fieldNames, filterById, type FilterId } from './exception-filters';
import type { SourceMap } from './source-map';

type HitCondition = { readonly op: string; readonly n: number };

interface Rule {
  readonly id: number;
  readonly condition?: CondExpr;
  readonly hit?: HitCondition;
  readonly logMessage?: string;
  hits: number;
}

interface LineRule extends Rule { readonly line: number; readonly target: 'host' | 'guest'; readonly opIndex?: number; readonly addr?: bigint }
interface FunctionRule extends Rule { readonly name: string; readonly kind: 'hypercall' | 'ioctl'; readonly fnId?: bigint }
interface FilterRule extends Rule { readonly filter: FilterId }
interface DataRule extends Rule { readonly range: DataRange }
interface InstructionRule extends Rule { readonly addr: bigint }

export interface StopDecision { readonly reason: StopReason; readonly text?: string; readonly ids: number[]; readonly filter?: FilterId }

/** What conditions and logpoints need from the session. */
export interface BreakpointHost {
  readonly sourceMap: SourceMap;
  /** names for a condition: the vcpu's registers and the symbols (and the event's fields, first) */
  env(vcpu: number | undefined, event?: TraceEvent): CondEnv;
  /** a symbol value (hypercall names -> function ids for function breakpoints) */
  symbol(name: string): bigint | undefined;
  /** logpoint output */
  log(text: string, line?: number): void;
  readonly sourcePath: string;
}

let nextId = 1;

export function parseHitCondition(text: string): HitCondition {
  const m = /^\s*(==|!=|>=|<=|>|<|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ConditionError(`hit count '${text}' is not N, == N, >= N, > N, < N, <= N, != N or % N`);
  return { op: m[1] ?? '==', n: Number(m[2]) };
}

function hitMatches(h: HitCondition | undefined, count: number): boolean {
  if (!h) return true;
  switch (h.op) {
    case '==': return count === h.n;
    case '!=': return count !== h.n;
    case '>=': return count >= h.n;
    case '<=': return count <= h.n;
    case '>': return count > h.n;
    case '<': return count < h.n;
    case '%': return h.n !== 0 && count % h.n === 0;
    default: return false;
  }
}

export class Breakpoints {
  private lines: LineRule[] = [];
  private functions: FunctionRule[] = [];
  private filters: FilterRule[] = [];
  private data: DataRule[] = [];
  private instructions: InstructionRule[] = [];
  /** replaying for step-back: no logpoint output */
  quiet = false;
  /** runtime condition errors already reported (once per breakpoint) */
  private reported = new Set<number>();

  constructor(private readonly host: BreakpointHost) {}

  // ------------------------------------------------------------------------------------------------ setting

  private rule(b: { condition?: string; hitCondition?: string; logMessage?: string }, check: (e: CondExpr) => string | undefined):
    { rule: Omit<Rule, 'id'> & { id: number } } | { message: string; id: number } {
    const id = nextId++;
    try {
      const condition = b.condition && b.condition.trim() !== '' ? parseCondition(b.condition) : undefined;
      if (condition) {
        const problem = check(condition);
        if (problem) return { message: problem, id };
      }
      const hit = b.hitCondition && b.hitCondition.trim() !== '' ? parseHitCondition(b.hitCondition) : undefined;
      if (b.logMessage) for (const part of logParts(b.logMessage)) if (part.expr) parseCondition(part.expr);
      return { rule: { id, condition, hit, logMessage: b.logMessage || undefined, hits: 0 } };
    } catch (e) {
      return { message: e instanceof ConditionError ? `invalid condition: ${e.message}` : String(e), id };
    }
  }

  /** names the condition reads must exist now (registers, fields, symbols) */
  private checkNames(vcpu: number | undefined): (e: CondExpr) => string | undefined {
    return (e) => {
      const env = this.host.env(vcpu);
      for (const n of namesOf(e)) {
        if (n === 'true' || n === 'false') continue;
        if (env.resolve(n) === undefined) return `unknown name '${n}' (a register, a register field or a symbol)`;
      }
      return undefined;
    };
  }

  setLineBreakpoints(path: string | undefined, bps: readonly DebugProtocol.SourceBreakpoint[]): DebugProtocol.Breakpoint[] {
    const same = path !== undefined && normalise(path) === normalise(this.host.sourcePath);
    this.lines = [];
    return bps.map((b) => {
      if (!same) return { verified: false, line: b.line, message: 'breakpoints are set in the launched scenario only', id: nextId++ };
      const target = this.host.sourceMap.resolveLine(b.line);
      if (!target) return { verified: false, line: b.line, message: 'no host statement or guest instruction here', id: nextId++ };
      const r = this.rule(b, this.checkNames(target.kind === 'guest' ? 0 : undefined));
      if ('message' in r) return { verified: false, line: b.line, message: r.message, id: r.id };
      this.lines.push(target.kind === 'host'
        ? { ...r.rule, line: target.line, target: 'host', opIndex: target.opIndex }
        : { ...r.rule, line: target.line, target: 'guest', addr: target.addr });
      return { verified: true, line: target.line, id: r.rule.id, source: { path: this.host.sourcePath }, instructionReference: target.kind === 'guest' ? '0x' + target.addr.toString(16) : undefined };
    });
  }

  setFunctionBreakpoints(bps: readonly DebugProtocol.FunctionBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.functions = [];
    return bps.map((b) => {
      const name = b.name.trim();
      let kind: 'hypercall' | 'ioctl';
      let fnId: bigint | undefined;
      if (/^KVM_[A-Z0-9_]+$/.test(name)) kind = 'ioctl';
      else if (/^(0x[0-9a-fA-F_]+|\d+)$/.test(name)) { kind = 'hypercall'; fnId = BigInt(name.replace(/_/g, '')); }
      else {
        kind = 'hypercall';
        fnId = this.host.symbol(name);
        if (fnId === undefined) return { verified: false, message: `'${name}' is neither a hypercall of this flavour nor an ioctl name (KVM_…)`, id: nextId++ };
      }
      const r = this.rule(b, this.checkNames(undefined));
      if ('message' in r) return { verified: false, message: r.message, id: r.id };
      this.functions.push({ ...r.rule, name, kind, fnId });
      return { verified: true, id: r.rule.id };
    });
  }

  /** `filters` and `filterOptions` (VS Code sends conditions only in the latter) */
  setExceptionFilters(filters: readonly string[], options: readonly DebugProtocol.ExceptionFilterOptions[]): DebugProtocol.Breakpoint[] {
    this.filters = [];
    const all = [...filters.map((f) => ({ filterId: f, condition: undefined as string | undefined })), ...options];
    return all.map((o) => {
      const def = filterById(o.filterId);
      if (!def) return { verified: false, message: `unknown exception filter '${o.filterId}'`, id: nextId++ };
      const known = fieldNames(def.id);
      const r = this.rule({ condition: o.condition }, (e) => {
        for (const n of namesOf(e)) {
          if (known.has(n) || n === 'true' || n === 'false' || this.host.symbol(n) !== undefined) continue;
          return `unknown field '${n}' of ${def.kinds.join('/')} events (fields: ${[...known].join(', ')})`;
        }
        return undefined;
      });
      if ('message' in r) return { verified: false, message: r.message, id: r.id };
      this.filters.push({ ...r.rule, filter: def.id });
      return { verified: true, id: r.rule.id };
    });
  }

  setDataBreakpoints(bps: readonly DebugProtocol.DataBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.data = [];
    return bps.map((b) => {
      const range = parseDataId(b.dataId);
      if (!range) return { verified: false, message: `bad data breakpoint id '${b.dataId}'`, id: nextId++ };
      const r = this.rule(b, this.checkNames(0));
      if ('message' in r) return { verified: false, message: r.message, id: r.id };
      this.data.push({ ...r.rule, range: { ...range, access: b.accessType ?? 'write' } });
      return { verified: true, id: r.rule.id, description: `IPA 0x${range.ipaStart.toString(16)}..0x${range.ipaEnd.toString(16)} ${b.accessType ?? 'write'}` };
    });
  }

  setInstructionBreakpoints(bps: readonly DebugProtocol.InstructionBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.instructions = [];
    return bps.map((b) => {
      let addr: bigint;
      try {
        addr = BigInt(b.instructionReference) + BigInt(b.offset ?? 0);
      } catch {
        return { verified: false, message: `bad instruction reference '${b.instructionReference}'`, id: nextId++ };
      }
      const r = this.rule(b, this.checkNames(0));
      if ('message' in r) return { verified: false, message: r.message, id: r.id };
      this.instructions.push({ ...r.rule, addr });
      const line = this.host.sourceMap.lineOf(addr);
      return { verified: true, id: r.rule.id, instructionReference: '0x' + addr.toString(16), line, source: line ? { path: this.host.sourcePath } : undefined };
    });
  }

  // ------------------------------------------------------------------------------------------------ machine side

  /** CPU breakpoints: guest line breakpoints and instruction breakpoints (PCs), data breakpoints (IPA ranges) */
  cpuBreakpoints(): { pcs: Set<bigint>; dataRanges: DataRange[] } {
    const pcs = new Set<bigint>();
    for (const l of this.lines) if (l.addr !== undefined) pcs.add(l.addr);
    for (const i of this.instructions) pcs.add(i.addr);
    return { pcs, dataRanges: this.data.map((d) => d.range) };
  }

  /** decide one rule: condition, hit count, logpoint. true = stop */
  private fire(r: Rule, env: CondEnv, line?: number): boolean {
    if (r.condition) {
      let ok: boolean;
      try {
        ok = truthy(evalCondition(r.condition, env));
      } catch (e) {
        if (!this.reported.has(r.id) && !this.quiet) {
          this.reported.add(r.id);
          this.host.log(`breakpoint condition failed: ${(e as Error).message}\n`, line);
        }
        ok = false;
      }
      if (!ok) return false;
    }
    r.hits++;
    if (!hitMatches(r.hit, r.hits)) return false;
    if (r.logMessage !== undefined) {
      if (!this.quiet) this.host.log(interpolate(r.logMessage, env) + '\n', line);
      return false;
    }
    return true;
  }

  /** before host statement `index` runs: line and ioctl breakpoints */
  beforeOp(op: HostOp, index: number): StopDecision | undefined {
    const ids: number[] = [];
    let reason: StopReason | undefined;
    let text: string | undefined;
    for (const l of this.lines) {
      if (l.opIndex === index && this.fire(l, this.host.env(undefined), l.line)) { ids.push(l.id); reason ??= 'breakpoint'; }
    }
    if (op.ioctl) {
      for (const f of this.functions) {
        if (f.kind === 'ioctl' && f.name === op.ioctl && this.fire(f, this.host.env(undefined), op.range.start.line + 1)) {
          ids.push(f.id); reason ??= 'function breakpoint'; text ??= `${op.ioctl} (${op.text})`;
        }
      }
    }
    return reason ? { reason, text, ids } : undefined;
  }

  /** an event was emitted: hypercall function breakpoints, then the exception filters */
  onEvent(e: TraceEvent): StopDecision | undefined {
    if (this.functions.length === 0 && this.filters.length === 0) return undefined;
    if (e.event === 'hypercall') {
      for (const f of this.functions) {
        if (f.kind !== 'hypercall') continue;
        const fn = e.fields.fn;
        const matches = (typeof fn === 'bigint' && f.fnId !== undefined && fn === f.fnId) || e.fields.name === f.name;
        if (matches && this.fire(f, this.host.env(e.vcpu, e), e.line)) {
          return { reason: 'function breakpoint', text: `${String(e.fields.name)} (${describeEvent(e)})`, ids: [f.id] };
        }
      }
    }
    for (const r of this.filters) {
      const def = filterById(r.filter)!;
      if (!def.matches(e)) continue;
      if (this.fire(r, this.host.env(e.vcpu, e), e.line)) return { reason: 'exception', text: describeEvent(e), ids: [r.id], filter: r.filter };
    }
    return undefined;
  }

  /** the CPU stopped at an instruction / data breakpoint: do its rules want the stop? */
  onCpuStop(reason: StopReason, vcpu: number, pc: bigint, access?: { ipa: number; size: number; write: boolean }): StopDecision | undefined {
    const env = this.host.env(vcpu);
    const ids: number[] = [];
    if (reason === 'instruction breakpoint') {
      let kind: StopReason | undefined;
      for (const l of this.lines) if (l.addr === pc && this.fire(l, env, l.line)) { ids.push(l.id); kind ??= 'breakpoint'; }
      for (const i of this.instructions) if (i.addr === pc && this.fire(i, env)) { ids.push(i.id); kind ??= 'instruction breakpoint'; }
      return kind ? { reason: kind, ids } : undefined;
    }
    if (reason === 'data breakpoint' && access) {
      for (const d of this.data) {
        const r = d.range;
        const hit = access.ipa < r.ipaEnd && access.ipa + access.size > r.ipaStart && (r.access === 'readWrite' || (r.access === 'write') === access.write);
        if (hit && this.fire(d, env)) ids.push(d.id);
      }
      return ids.length > 0
        ? { reason: 'data breakpoint', ids, text: `${access.write ? 'write' : 'read'} of ${access.size} bytes at IPA 0x${access.ipa.toString(16)}` }
        : undefined;
    }
    return { reason, ids };
  }

  /** hit counts, saved around a reverse scan (which replays hits that already happened) */
  saveHits(): Map<number, number> {
    const m = new Map<number, number>();
    for (const r of [...this.lines, ...this.functions, ...this.filters, ...this.data, ...this.instructions]) m.set(r.id, r.hits);
    return m;
  }

  restoreHits(m: Map<number, number>): void {
    // a rule made after the snapshot had not been hit then
    for (const r of [...this.lines, ...this.functions, ...this.filters, ...this.data, ...this.instructions]) r.hits = m.get(r.id) ?? 0;
  }

  resetHits(): void {
    for (const r of [...this.lines, ...this.functions, ...this.filters, ...this.data, ...this.instructions]) r.hits = 0;
  }
}

function normalise(p: string): string {
  return p.replace(/\\/g, '/').replace(/\/+/g, '/').toLowerCase();
}

/** `ipa:0x80000000:8` */
export function dataId(ipa: number, bytes: number): string {
  return `ipa:0x${ipa.toString(16)}:${bytes}`;
}

function parseDataId(id: string): { ipaStart: number; ipaEnd: number } | undefined {
  const m = /^ipa:(0x[0-9a-f]+):(\d+)$/i.exec(id);
  if (!m) return undefined;
  const start = Number(BigInt(m[1]));
  const len = Number(m[2]);
  if (!Number.isSafeInteger(start) || len <= 0) return undefined;
  return { ipaStart: start, ipaEnd: start + len };
}

function logParts(msg: string): { text?: string; expr?: string }[] {
  const out: { text?: string; expr?: string }[] = [];
  const re = /\{([^{}]+)\}/g;
  let last = 0;
  for (let m = re.exec(msg); m; m = re.exec(msg)) {
    if (m.index > last) out.push({ text: msg.slice(last, m.index) });
    out.push({ expr: m[1] });
    last = m.index + m[0].length;
  }
  if (last < msg.length) out.push({ text: msg.slice(last) });
  return out;
}

/** a logpoint message with `{expression}` parts evaluated */
export function interpolate(msg: string, env: CondEnv): string {
  return logParts(msg).map((p) => {
    if (p.text !== undefined) return p.text;
    try {
      return formatValue(evalCondition(parseCondition(p.expr!), env));
    } catch (e) {
      return `<${(e as Error).message}>`;
    }
  }).join('');
}
