// `launch` (ARCHITECTURE.md "Contracts": program, stopOnEntry, flavour, trace, noDebug): read the `.kvms` file,
// prepare the machine (scenario/runner.ts), and report scenario errors as `file:line:col: message` diagnostics
// for a failed launch. Node I/O lives here, never in emulator/.

import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { prepareScenario, type ScenarioOutcome } from '../emulator/scenario/runner';
import { isFlavourName, type FlavourName } from '../emulator/kvm/flavours';
import type { Diagnostic } from '../emulator/scenario/diagnostics';
import { toJson, type TraceEvent } from '../emulator/events';
import { ScenarioTarget } from './target';
import { scenarioFileReader as makeReader, type ScenarioFileReader } from '../emulator/scenario/load-path';

export interface KvmLaunchArguments {
  program?: string;
  stopOnEntry?: boolean;
  flavour?: string;
  trace?: boolean;
  noDebug?: boolean;
  /** folder `load` may also read from (the workspace folder) */
  root?: string;
  /** an addition to the contract: stop a runaway scenario after this many steps (default 200 M, like the CLI) */
  maxSteps?: number;
}

export type Launched =
  | { readonly ok: true; readonly target: ScenarioTarget; readonly warnings: string[] }
  | { readonly ok: false; readonly message: string; readonly diagnostics: string[]; readonly outcome?: ScenarioOutcome };

/** `file:line:col: severity: message` with 1-based line and column */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.range.start.line + 1}:${d.range.start.col + 1}: ${d.severity}: ${d.message}`;
}

/** `load`'s file access on this machine (the rule itself is emulator/scenario/load-path.ts) */
export function scenarioFileReader(scenarioPath: string, root?: string): ScenarioFileReader {
  return makeReader({ dirname, resolve, relative, isAbsolute, exists: existsSync, realpath: realpathSync,
    read: (p) => new Uint8Array(readFileSync(p)) }, scenarioPath, root);
}

export function launchScenario(args: KvmLaunchArguments): Launched {
  const program = args.program;
  if (typeof program !== 'string' || program === '') {
    return { ok: false, message: "launch: 'program' (the .kvms file) is missing", diagnostics: [] };
  }
  const file = resolve(program);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, message: `launch: cannot read ${program}: ${(e as Error).message}`, diagnostics: [] };
  }
  let flavour: FlavourName | undefined;
  if (args.flavour !== undefined && args.flavour !== '') {
    if (!isFlavourName(args.flavour)) return { ok: false, message: `launch: unknown flavour '${args.flavour}'`, diagnostics: [] };
    flavour = args.flavour;
  }
  const p = prepareScenario(text, { file, flavour, readFile: scenarioFileReader(file, args.root) });
  if (!p.ok) {
    const o = p.outcome;
    const diags = o.diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(file, d));
    if (o.failure) diags.push(`${file}:${o.failure.line + 1}:1: error: ${o.failure.message}`);
    const head = o.exitCode === 2 ? 'the scenario has errors' : 'the scenario failed while loading';
    return { ok: false, message: `${head}:\n${diags.join('\n')}`, diagnostics: diags, outcome: o };
  }
  const warnings = p.diagnostics.filter((d) => d.severity === 'warning').map((d) => formatDiagnostic(file, d));
  return { ok: true, target: new ScenarioTarget(p.loaded, file, text), warnings };
}

/** `trace: true`: `<scenario>.trace.jsonl` beside the file, one event per line */
export function writeTrace(file: string, events: readonly TraceEvent[]): string {
  const out = file.replace(/\.kvms$/, '') + '.trace.jsonl';
  writeFileSync(out, events.map((e) => JSON.stringify(toJson(e))).join('\n') + (events.length ? '\n' : ''));
  return out;
}
