// `kvms` — run, test and disassemble .kvms scenarios headless (ARCHITECTURE.md "Contracts": CLI).
// Node I/O lives here; the emulator stays pure and receives file contents through callbacks.
import { readFileSync, statSync, readdirSync, existsSync, realpathSync } from 'node:fs';
import { resolve, dirname, join, relative, isAbsolute } from 'node:path';
import { runScenario, disassembleScenario, type ScenarioOutcome } from '../emulator/scenario/runner';
import { toJson } from '../emulator/events';
import { isFlavourName, FLAVOUR_NAMES, type FlavourName } from '../emulator/kvm/flavours';
import { formatEvent } from './trace-format';
import { scenarioFileReader } from '../emulator/scenario/load-path';
import { reporters, type TestCaseResult, type ReporterName } from './reporters';

const USAGE = `usage:
  kvms run FILE [--json] [--flavour F] [--root DIR]
  kvms test FILES|DIRS... [--reporter spec|tap|junit] [--flavour F] [--root DIR]
  kvms disasm FILE
exit codes: 0 all expectations held, 1 an expectation (or an ioctl without =>) failed, 2 scenario errors`;

interface Args { cmd: string; files: string[]; json: boolean; flavour?: FlavourName; root?: string; reporter: ReporterName }

function parseArgs(argv: string[]): Args | string {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') return USAGE;
  const a: Args = { cmd, files: [], json: false, reporter: 'spec' };
  for (let i = 0; i < rest.length; i++) {
    const x = rest[i];
    if (x === '--json') a.json = true;
    else if (x === '--flavour') {
      const f = rest[++i];
      if (!f || !isFlavourName(f)) return `kvms: --flavour takes one of ${FLAVOUR_NAMES.join(', ')}`;
      a.flavour = f;
    } else if (x === '--root') {
      const r = rest[++i];
      if (!r) return 'kvms: --root takes a directory';
      a.root = resolve(r);
    } else if (x === '--reporter') {
      const r = rest[++i];
      if (r !== 'spec' && r !== 'tap' && r !== 'junit') return 'kvms: --reporter takes spec, tap or junit';
      a.reporter = r;
    } else if (x.startsWith('--')) return `kvms: unknown option ${x}\n${USAGE}`;
    else a.files.push(x);
  }
  if (!['run', 'test', 'disasm'].includes(cmd)) return `kvms: unknown command ${cmd}\n${USAGE}`;
  if (a.files.length === 0) return `kvms ${cmd}: no file given\n${USAGE}`;
  if ((cmd === 'run' || cmd === 'disasm') && a.files.length !== 1) return `kvms ${cmd}: exactly one FILE`;
  return a;
}

/** `load`'s file access on this machine (the rule itself is emulator/scenario/load-path.ts) */
function fileReader(scenarioPath: string, root: string | undefined) {
  return scenarioFileReader({ dirname, resolve, relative, isAbsolute, exists: existsSync, realpath: realpathSync,
    read: (p) => new Uint8Array(readFileSync(p)) }, scenarioPath, root);
}

function runFile(file: string, a: Args, keepEvents: boolean): ScenarioOutcome {
  const text = readFileSync(file, 'utf8');
  return runScenario(text, { file, flavour: a.flavour, readFile: fileReader(resolve(file), a.root), keepEvents });
}

function printDiagnostics(file: string, o: ScenarioOutcome, out: (s: string) => void): void {
  for (const d of o.diagnostics) {
    out(`${file}:${d.range.start.line + 1}:${d.range.start.col + 1}: ${d.severity}: ${d.message}`);
  }
}

function collect(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) { out.push(p); continue; }
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) {
        const full = join(p, e);
        if (statSync(full).isDirectory()) out.push(...collect([full]));
        else if (e.endsWith('.kvms')) out.push(full);
      }
    } else out.push(p);
  }
  return out;
}

export function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n'),
  err: (s: string) => void = (s) => process.stderr.write(s + '\n')): number {
  const a = parseArgs(argv);
  if (typeof a === 'string') { (a === USAGE ? out : err)(a); return a === USAGE ? 0 : 2; }

  if (a.cmd === 'disasm') {
    const file = a.files[0];
    if (!existsSync(file)) { err(`kvms: no such file ${file}`); return 2; }
    const r = disassembleScenario(readFileSync(file, 'utf8'), { file, flavour: a.flavour });
    printDiagnostics(file, { ...r, exitCode: r.exitCode, events: [] } as ScenarioOutcome, err);
    for (const l of r.lines) out(l);
    return r.exitCode;
  }

  if (a.cmd === 'run') {
    const file = a.files[0];
    if (!existsSync(file)) { err(`kvms: no such file ${file}`); return 2; }
    const o = runFile(file, a, true);
    printDiagnostics(file, o, err);
    for (const e of o.events) out(a.json ? JSON.stringify(toJson(e)) : formatEvent(e));
    if (o.failure) err(`${file}:${o.failure.line + 1}: ${o.failure.message}`);
    if (!a.json) out(o.exitCode === 0 ? 'PASS' : o.exitCode === 1 ? 'FAIL' : 'ERROR');
    return o.exitCode;
  }

  // test
  const files = collect(a.files);
  const results: TestCaseResult[] = [];
  for (const file of files) {
    if (!existsSync(file)) {
      results.push({ file, exitCode: 2, message: `no such file ${file}`, durationMs: 0 });
      continue;
    }
    const t0 = performance.now();
    const o = runFile(file, a, false);
    const durationMs = performance.now() - t0;
    const diag = o.diagnostics.filter((d) => d.severity === 'error')
      .map((d) => `${file}:${d.range.start.line + 1}:${d.range.start.col + 1}: error: ${d.message}`);
    results.push({
      file, exitCode: o.exitCode, durationMs, line: o.failure ? o.failure.line + 1 : undefined,
      message: o.failure ? o.failure.message : diag.join('\n') || undefined,
      expected: o.failure?.expected, actual: o.failure?.actual, title: o.title,
    });
  }
  for (const line of reporters[a.reporter](results)) out(line);
  return results.reduce((m, r) => Math.max(m, r.exitCode), 0);
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
