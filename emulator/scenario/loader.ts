// Loader: a parsed scenario -> a running machine (ARCHITECTURE.md "How data flows"). Resolves the machine block
// (LANGUAGE.md `machine` keys and defaults, "Flavour precedence"), assembles the guest blocks, builds the board
// (KVM_CREATE_VM and the other implicit ioctls at the `machine` line), and compiles the host statements to
// `HostOp`s (host-ops.ts). Static problems are the checker's; what only shows at run time is reported here.

import type { Script, GuestBlock, Expr } from './ast';
import type { CheckInfo, MachineConfig } from './checker';
import type { Diagnostic } from './diagnostics';
import { evaluate, type EvalEnv } from './expr';
import { assembleProgram, type AsmResult } from '../cpu/assembler';
import { getFlavour, type Flavour, type FlavourName } from '../kvm/flavours';
import { Board, type BoardConfig } from '../board';
import { EventLog } from '../events';
import { Machine, type HostOp } from '../machine';
import type { Stage2PageSize } from '../arch/stage2';
import { compileHostStatements, ScenarioRuntime } from './host-ops';
import type { Range } from './tokens';

export interface LoadOptions {
  /** reads a `load` statement's file (the caller enforces the folder rule); absent: `load` is a scenario error */
  readonly readFile?: (path: string) => { data?: Uint8Array; error?: string };
  /** the scenario text, for statement texts in views and traces */
  readonly source?: string;
}

export interface MachineSettings extends BoardConfig {
  readonly flavourName: FlavourName;
  readonly s1Tables: number | undefined;
  readonly machineLine: number;
}

export interface LoadedScenario {
  readonly script: Script;
  readonly title?: string;
  readonly settings: MachineSettings;
  readonly board: Board;
  readonly machine: Machine;
  readonly ops: readonly HostOp[];
  readonly program: AsmResult;
  readonly runtime: ScenarioRuntime;
}

export type LoadResult =
  | { readonly ok: true; readonly loaded: LoadedScenario }
  /** scenario errors (exit code 2) */
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[]; readonly events?: EventLog }
  /** the machine block's ioctls failed (KVM_CREATE_VM refused): the scenario fails at the machine line (exit code 1) */
  | { readonly ok: false; readonly failure: { line: number; message: string; expected?: string; actual?: string }; readonly diagnostics: readonly Diagnostic[]; readonly events: EventLog };

function rangeDiag(range: Range, message: string, code = 'load'): Diagnostic {
  return { range, severity: 'error', message, code } as Diagnostic;
}

/**
 * Names at run time: what the checker resolved (constants, labels, predefined symbols of the flavour, SPE field
 * masks), plus cap names for `enable_cap`/`check_extension`, plus `hva(ID)` / `pa(ID)` once memslots exist.
 */
export class SymbolTable {
  private readonly caps = new Map<string, bigint>();
  /** hva(ID) / pa(ID) at run time */
  memslotAddr?: (fn: 'hva' | 'pa', slot: bigint) => bigint | undefined;

  constructor(private readonly info: CheckInfo, flavour: Flavour) {
    for (const [k, v] of Object.entries(flavour.caps)) this.caps.set(k, BigInt(v));
  }

  lookup = (name: string): bigint | undefined => this.info.lookup(name) ?? this.caps.get(name);

  readonly env: EvalEnv = {
    lookup: (name) => this.lookup(name) ?? 'undefined',
    hva: (slot) => this.memslotAddr?.('hva', slot),
    pa: (slot) => this.memslotAddr?.('pa', slot),
  };

  /** value of an expression, or an error message */
  value(e: Expr): bigint | string {
    const r = evaluate(e, this.env);
    if (r.problems.length > 0) return r.problems[0].message;
    if (r.value === undefined) return 'this value is not known';
    return r.value;
  }
}

/** The board configuration from the checker's resolved machine block (defaults and flavour precedence applied). */
function machineSettings(script: Script, m: MachineConfig): MachineSettings {
  const flavour = getFlavour(m.flavour);
  return {
    flavour,
    flavourName: m.flavour,
    ipaBits: m.ipaBits,
    pageSize: (m.pageSize === 16384 || m.pageSize === 65536 ? m.pageSize : 4096) as Stage2PageSize,
    vcpus: m.vcpus,
    memlockBytes: m.memlock === null ? Number.POSITIVE_INFINITY : Number(m.memlock),
    fwb: m.fwb,
    gic: m.gic === 'v3',
    spe: flavour.spe !== null && m.spe,
    speIrq: m.speIrq,
    mmioGuard: flavour.mmioGuard !== null && m.mmioGuard,
    nisvToUser: m.nisvToUser,
    protectedMode: m.mode === 'protected' && flavour.protectedMode !== null,
    guestExceptions: m.guestExceptions,
    s1Tables: m.s1Tables === null ? undefined : Number(m.s1Tables),
    machineLine: script.machine ? script.machine.range.start.line : 0,
  };
}

/** Assemble every guest block (labels are global; the symbols are constants and predefined names). */
export function assembleGuests(guests: readonly GuestBlock[], symbols: SymbolTable, info: CheckInfo): { program: AsmResult; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const inputs = guests.map((g) => {
    const base = symbols.value(g.at);
    if (typeof base === 'string') diagnostics.push(rangeDiag(g.at.range, `guest at: ${base}`));
    return { base: typeof base === 'bigint' ? base : 0n, source: g.source, line: g.sourceStart.line + 1, col: g.sourceStart.col + 1 };
  });
  // labels are the assembler's own (the checker's lookup knows them too, from its own assembly)
  const program = assembleProgram(inputs, (name) => (info.labels.has(name) ? undefined : symbols.lookup(name)));
  for (const d of program.diagnostics) {
    diagnostics.push(rangeDiag({
      start: { line: d.line - 1, col: d.col - 1, offset: 0 },
      end: { line: d.line - 1, col: Math.max(d.endCol - 1, d.col), offset: 0 },
    } as Range, d.message, 'asm'));
  }
  return { program, diagnostics };
}

export function loadScenario(script: Script, info: CheckInfo, opts: LoadOptions = {}): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const settings = machineSettings(script, info.machine);
  const symbols = new SymbolTable(info, settings.flavour);
  const { program, diagnostics: asmDiags } = assembleGuests(script.guests, symbols, info);
  diagnostics.push(...asmDiags);
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  const events = new EventLog();
  events.line = settings.machineLine + 1;
  const created = Board.create(settings, events);
  if (!created.board) {
    const r = created.result;
    const message = r.ok ? 'KVM_CREATE_VM failed' : `KVM_CREATE_VM failed with ${r.errno} (spec ${r.rule}): ${r.message}`;
    return { ok: false, diagnostics, events, failure: { line: settings.machineLine, message, expected: 'ok', actual: r.ok ? 'ok' : r.errno } };
  }
  const board = created.board;
  symbols.memslotAddr = (fn, slot) => {
    const s = board.vm.memslots.get(Number(slot));
    if (s === undefined) return undefined;
    if (fn === 'hva') return BigInt(s.hva);
    const pa = board.vm.hostMemory.hvaToPa(s.hva);
    return pa === undefined ? undefined : BigInt(pa);
  };
  const runtime = new ScenarioRuntime(board, settings, symbols, program, opts.readFile);
  const ops = compileHostStatements(script.host?.statements ?? [], runtime, opts.source);
  const machine = new Machine({ events, cpus: board.cpus, kvm: board.kvmRun, stateful: [board, runtime] }, ops);
  return {
    ok: true,
    loaded: { script, title: script.title?.title, settings, board, machine, ops, program, runtime },
  };
}
