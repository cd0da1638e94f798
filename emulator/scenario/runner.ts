// Runner: text -> diagnostics -> machine -> outcome, headless (the CLI, the Test Explorer through the debug
// adapter's noDebug launch, tests). Exit codes per LANGUAGE.md "Execution model": 0 all expectations held, 1 an
// expectation (or an ioctl without `=>`) failed, 2 the scenario has errors.

import { parse } from './parser';
import { check } from './checker';
import type { CheckInfo } from './checker';
import type { AssembleProgram } from './symbols';
import type { Diagnostic } from './diagnostics';
import { assembleProgram } from '../cpu/assembler';
import { disassemble } from '../cpu/disasm';
import { loadScenario, type LoadedScenario } from './loader';
import type { TraceEvent } from '../events';
import type { FlavourName } from '../kvm/flavours';
import type { Script } from './ast';

export interface RunOptions {
  /** shown in messages only; the emulator does no I/O */
  readonly file?: string;
  readonly flavour?: FlavourName;
  readonly readFile?: (path: string) => { data?: Uint8Array; error?: string };
  /** keep the event stream in the outcome (CLI --json / trace) */
  readonly keepEvents?: boolean;
  /** instruction/step limit for the whole scenario, so a runaway scenario always ends (default 200 M) */
  readonly maxSteps?: number;
}

export interface ScenarioOutcome {
  readonly exitCode: 0 | 1 | 2;
  readonly title?: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly failure?: { readonly line: number; readonly message: string; readonly expected?: string; readonly actual?: string };
  readonly events: readonly TraceEvent[];
}

export const DEFAULT_MAX_STEPS = 200_000_000;

/**
 * Parse and check with the real assembler wired in. `maxAssemblerDiagnostics` caps the assembler's errors (an
 * editor does not need 20,000 of them for a pasted binary) and adds one `info` saying how many were left out.
 */
export function analyseScenario(text: string, flavour?: FlavourName, opts: { maxAssemblerDiagnostics?: number } = {}): { ast: Script; diagnostics: Diagnostic[]; info: CheckInfo } {
  const max = opts.maxAssemblerDiagnostics ?? Number.POSITIVE_INFINITY;
  let dropped = 0;
  const assemble: AssembleProgram = (blocks, symbols) => {
    const r = assembleProgram(blocks, symbols);
    if (r.diagnostics.length <= max) return r;
    dropped = r.diagnostics.length - max;
    return { ...r, diagnostics: r.diagnostics.slice(0, max) };
  };
  const { ast, diagnostics: parseDiags } = parse(text);
  const { diagnostics, info } = check(ast, {
    flavourOverride: flavour,
    environment: { assembleProgram: assemble, assemblerLineBase: 1 },
  });
  const all = [...parseDiags, ...diagnostics];
  if (dropped > 0) {
    const last = [...all].reverse().find((d) => d.code === 'assemble');
    if (last) all.push({ range: last.range, severity: 'info', message: `${dropped} more assembler errors not shown`, code: 'assemble' });
  }
  return { ast, diagnostics: all, info };
}

export type PreparedScenario =
  | { readonly ok: true; readonly loaded: LoadedScenario; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly outcome: ScenarioOutcome };

/** Everything up to a ready machine (the debugger starts here). */
export function prepareScenario(text: string, opts: RunOptions = {}): PreparedScenario {
  let analysed;
  try {
    analysed = analyseScenario(text, opts.flavour);
  } catch (e) {
    return { ok: false, outcome: internalError(e) };
  }
  const { ast, diagnostics, info } = analysed;
  const title = ast.title?.title;
  if (diagnostics.some((d) => d.severity === 'error')) {
    return { ok: false, outcome: { exitCode: 2, title, diagnostics, events: [] } };
  }
  const r = loadScenario(ast, info, { readFile: opts.readFile, source: text });
  if (!r.ok) {
    if ('failure' in r) {
      return { ok: false, outcome: { exitCode: 1, title, diagnostics: [...diagnostics, ...r.diagnostics], failure: r.failure, events: r.events.all() } };
    }
    return { ok: false, outcome: { exitCode: 2, title, diagnostics: [...diagnostics, ...r.diagnostics], events: [] } };
  }
  return { ok: true, loaded: r.loaded, diagnostics };
}

function internalError(e: unknown): ScenarioOutcome {
  const message = `internal error: ${(e as Error)?.message ?? String(e)}`;
  return {
    exitCode: 2,
    diagnostics: [{ range: { start: { line: 0, col: 0, offset: 0 }, end: { line: 0, col: 1, offset: 1 } }, severity: 'error', message, code: 'internal' } as Diagnostic],
    events: [],
  };
}

export function runScenario(text: string, opts: RunOptions = {}): ScenarioOutcome {
  const p = prepareScenario(text, opts);
  if (!p.ok) return p.outcome;
  const { loaded, diagnostics } = p;
  const status = loaded.machine.run(opts.maxSteps ?? DEFAULT_MAX_STEPS);
  const events = opts.keepEvents ? loaded.machine.events.all() : [];
  if (status.state === 'finished') {
    return { exitCode: status.exitCode, title: loaded.title, diagnostics, failure: status.failure, events };
  }
  const line = loaded.machine.currentOp?.range.start.line ?? 0;
  return {
    exitCode: 1, title: loaded.title, diagnostics, events,
    failure: { line, message: `the scenario did not finish within ${opts.maxSteps ?? DEFAULT_MAX_STEPS} steps` },
  };
}

/** `kvms disasm`: the assembled guest code with addresses, encodings and GNU-style text. */
export function disassembleScenario(text: string, opts: RunOptions = {}): { exitCode: 0 | 2; diagnostics: readonly Diagnostic[]; lines: string[] } {
  const { ast, diagnostics, info } = analyseScenario(text, opts.flavour);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) return { exitCode: 2, diagnostics, lines: [] };
  const program = assembleProgram(
    ast.guests.map((g) => ({ base: info.guestBases[ast.guests.indexOf(g)] ?? 0n, source: g.source, line: g.sourceStart.line + 1, col: g.sourceStart.col + 1 })),
    // labels come from the assembler itself; the checker's lookup knows them too, so leave them out here
    (name) => (info.labels.has(name) ? undefined : info.lookup(name)),
  );
  const byAddr = new Map<bigint, string>();
  for (const [name, addr] of program.labels) byAddr.set(addr, name);
  const srcLines = text.split('\n');
  const lineAt = new Map<bigint, number>();
  for (const l of program.lines) if (!lineAt.has(l.addr)) lineAt.set(l.addr, l.line);
  const pools = program.pools ?? [];
  const inPool = (a: bigint) => pools.some((p) => a >= p.addr && a < p.addr + BigInt(p.size));
  const out: string[] = [];
  program.blocks.forEach((b, bi) => {
    out.push(`guest block ${bi} at 0x${b.base.toString(16)} (${b.bytes.length} bytes):`);
    for (let off = 0; off + 4 <= b.bytes.length; off += 4) {
      const addr = b.base + BigInt(off);
      const label = byAddr.get(addr);
      if (label) out.push(`\n${addr.toString(16).padStart(16, '0')} <${label}>:`);
      const word = (b.bytes[off] | (b.bytes[off + 1] << 8) | (b.bytes[off + 2] << 16) | (b.bytes[off + 3] << 24)) >>> 0;
      const text2 = inPool(addr) ? `.word\t0x${word.toString(16).padStart(8, '0')}` : disassemble(word, addr, (a) => byAddr.get(a));
      const src = lineAt.get(addr);
      const comment = src !== undefined ? `\t// ${opts.file ?? ''}:${src}: ${srcLines[src - 1]?.trim() ?? ''}` : '';
      out.push(`${addr.toString(16).padStart(8, ' ')}:\t${word.toString(16).padStart(8, '0')} \t${text2}${comment}`);
    }
  });
  return { exitCode: 0, diagnostics, lines: out };
}
