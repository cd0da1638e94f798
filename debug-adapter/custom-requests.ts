// Custom DAP requests for the tree views (ARCHITECTURE.md "Debug adapter shapes"):
//   kvm/memslots  -> {memslots:[{id,gpa,size,hva,readonly,dirtyLog,lock:{read,write}|null,pinnedPages,dirtyPages}],lockedVm,pendingOps}
//   kvm/stage2    {table:"vm"|"host"|NAME, path, start, count} -> {level,tablePa,total,entries:[{index,ipa,raw,kind,decoded}]}
//   kvm/translate {address, stage:"s1"|"s2"|"s1+s2", vcpu?} -> {steps:[{stage,level,tablePa,index,raw}], ipa?, pa?, fault?}
//   kvm/events    {since?, kinds?} -> {events:[…]} in trace form
// Numbers that are addresses inside the 52-bit space are JSON numbers here (as memslotsView gives them); raw
// 64-bit descriptors are trace-style "0x…" strings; `decoded` is the descriptor's text (describePte).

import { EVENT_KINDS, toJson, type EventKind, type JsonValue } from '../emulator/events';
import type { ScenarioTarget } from './target';
import { stage2Page, walkStage2View, hex, type WalkStepView } from './stage2-walk';
import { parseAddress } from './disassembly';

export const CUSTOM_REQUESTS = ['kvm/memslots', 'kvm/stage2', 'kvm/events', 'kvm/translate'] as const;
/** kvm/events answers at most this many (the latest); the full stream is the `trace` file */
export const EVENTS_WINDOW = 10_000;

export class BadArguments extends Error {}

type Args = { [k: string]: unknown } | undefined;

export function handleCustomRequest(t: ScenarioTarget, command: string, args: Args): unknown {
  switch (command) {
    case 'kvm/memslots': return t.board.vm.memslotsView();
    case 'kvm/stage2': return stage2Request(t, args ?? {});
    case 'kvm/translate': return translateRequest(t, args ?? {});
    case 'kvm/events': return eventsRequest(t, args ?? {});
    default: return undefined;
  }
}

function intArg(args: { [k: string]: unknown }, name: string, dflt: number): number {
  const v = args[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new BadArguments(`'${name}' must be a non-negative integer`);
  return v;
}

function stage2Request(t: ScenarioTarget, args: { [k: string]: unknown }): unknown {
  const vm = t.board.vm;
  const name = args.table ?? 'vm';
  if (typeof name !== 'string') throw new BadArguments("'table' must be \"vm\", \"host\" or a pgtable name");
  const table = name === 'vm' ? vm.stage2 : name === 'host' ? vm.hostStage2 : vm.pgtables.get(name);
  if (!table) throw new BadArguments(`no stage 2 table '${name}'${name === 'host' ? ' (mode protected only)' : ''}`);
  const path = args.path ?? [];
  if (!Array.isArray(path) || !path.every((x) => typeof x === 'number' && Number.isInteger(x))) throw new BadArguments("'path' must be an array of entry indices");
  const start = intArg(args, 'start', 0);
  const count = Math.min(intArg(args, 'count', 512), 8192);
  const page = stage2Page(table, path as number[], start, count);
  if (!page) throw new BadArguments(`path [${(path as number[]).join(', ')}] does not lead to a table in '${name}'`);
  return page;
}

function addressArg(v: unknown): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string') {
    const a = parseAddress(v);
    if (a !== undefined) return a;
  }
  throw new BadArguments("'address' must be a number or a \"0x…\" string");
}

function translateRequest(t: ScenarioTarget, args: { [k: string]: unknown }): unknown {
  const address = addressArg(args.address);
  const stage = args.stage ?? 's1+s2';
  if (stage !== 's1' && stage !== 's2' && stage !== 's1+s2') throw new BadArguments("'stage' must be \"s1\", \"s2\" or \"s1+s2\"");
  const vcpu = intArg(args, 'vcpu', 0);
  const vm = t.board.vm;
  if (stage === 's2') {
    const w = walkStage2View(vm.stage2, Number(address));
    return { steps: w.steps, ipa: Number(address), pa: w.pa, fault: w.fault };
  }
  const cpu = t.board.cpus[vcpu];
  if (!cpu) throw new BadArguments(`no vcpu ${vcpu}`);
  const r = cpu.translate(address);
  const steps: WalkStepView[] = r.steps.map((s) => ({
    stage: 's1', level: s.level, tablePa: s.descIpa - (s.descIpa % 4096), index: (s.descIpa % 4096) / 8,
    raw: s.descriptor === undefined ? '' : hex(s.descriptor),
  }));
  const fault = r.fault ? { stage: r.fault.stage === 1 ? 's1' : 's2', kind: r.fault.kind, level: r.fault.level } : undefined;
  if (stage === 's1') return { steps, ipa: r.ipa, fault: r.fault?.stage === 1 ? fault : undefined };
  if (r.ipa !== undefined && !(r.fault && r.fault.stage === 1)) {
    const w = walkStage2View(vm.stage2, r.ipa);
    return { steps: [...steps, ...w.steps], ipa: r.ipa, pa: w.pa ?? r.pa, fault: w.fault ?? fault };
  }
  return { steps, ipa: r.ipa, pa: r.pa, fault };
}

function eventsRequest(t: ScenarioTarget, args: { [k: string]: unknown }): { events: { [k: string]: JsonValue }[] } {
  const since = intArg(args, 'since', 1);
  const kinds = args.kinds;
  if (kinds !== undefined && (!Array.isArray(kinds) || !kinds.every((k) => typeof k === 'string' && (EVENT_KINDS as readonly string[]).includes(k)))) {
    throw new BadArguments(`'kinds' must be a list of event kinds (${EVENT_KINDS.join(', ')})`);
  }
  const want = kinds ? new Set(kinds as EventKind[]) : undefined;
  const all = t.machine.events.since(since);
  const out: { [k: string]: JsonValue }[] = [];
  for (let i = all.length - 1; i >= 0 && out.length < EVENTS_WINDOW; i--) {
    if (!want || want.has(all[i].event)) out.push(toJson(all[i]));
  }
  out.reverse();
  return { events: out };
}
