#!/usr/bin/env node
// `npm test`: every test suite that exists, in order: typecheck, unit (node:test via tsx), grammar, then
// (after a build) dap, lsp and e2e. It first installs the Debian packages the suites need (scripts/system-deps.mjs);
// the e2e suite installs code-server and Node 24 into .tools/ itself. `node scripts/test.mjs unit dap` runs only the named suites.
// Each suite reports its counts; the last line is the plain total "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSystemPackages } from './system-deps.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
// binutils, QEMU, Chromium…: installed with apt-get when we are root (CI), otherwise named
ensureSystemPackages(only);

function files(dir, suffix) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p, suffix));
    else if (p.endsWith(suffix)) out.push(p);
  }
  return out.sort();
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

/** node:test over `list`, spec output to the terminal, TAP to a file for the counts */
function nodeTests(name, list, extraArgs = []) {
  if (list.length === 0) return null;
  const tap = join(mkdtempSync(join(tmpdir(), 'kvms-test-')), `${name}.tap`);
  const status = run(process.execPath, [
    '--import', 'tsx', '--test', '--test-concurrency=2',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...extraArgs, ...list,
  ]);
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const num = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)`, 'm')) ?? [])[1] ?? 0);
  const passed = num('pass');
  const failed = num('fail') + num('cancelled') + (status !== 0 && num('fail') === 0 ? 1 : 0);
  return { passed, failed };
}

const results = [];
let built = false;
function build() {
  if (built) return true;
  built = run(process.execPath, ['esbuild.mjs']) === 0;
  return built;
}

if (want('typecheck')) {
  const s = run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
  results.push(['typecheck', s === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 }]);
}
if (want('unit')) {
  const r = nodeTests('unit', files('test/unit', '.test.ts'));
  if (r) results.push(['unit', r]);
}
if (want('grammar') && files('test/grammar', '.test.kvms').length > 0) {
  const s = run(process.execPath, ['node_modules/vscode-tmgrammar-test/dist/unit.js', '-g', 'syntaxes/kvms.tmLanguage.json', ...files('test/grammar', '.test.kvms')]);
  results.push(['grammar', s === 0 ? { passed: files('test/grammar', '.test.kvms').length, failed: 0 } : { passed: 0, failed: 1 }]);
}
for (const suite of ['dap', 'lsp']) {
  if (!want(suite)) continue;
  const list = files(`test/${suite}`, '.test.ts');
  if (list.length === 0) continue;
  if (!build()) { results.push([suite, { passed: 0, failed: 1 }]); continue; }
  const r = nodeTests(suite, list);
  if (r) results.push([suite, r]);
}
if (want('e2e') && existsSync('test/e2e/run.mjs')) {
  if (!build()) results.push(['e2e', { passed: 0, failed: 1 }]);
  else {
    // the suite runs mocha inside VS Code; its summary lines ("N passing", "N failing") give the counts
    const r = spawnSync(process.execPath, ['test/e2e/run.mjs'], { stdio: ['inherit', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
    const count = (k) => Number((out.match(new RegExp(`^\\s*(\\d+) ${k}\\b`, 'm')) ?? [])[1] ?? 0);
    // no mocha summary at all (the editor never started): one failure, or one pass if it exited 0
    const passed = count('passing') || (r.status === 0 && count('failing') === 0 ? 1 : 0);
    const failed = count('failing') + (r.status !== 0 && count('failing') === 0 ? 1 : 0);
    results.push(['e2e', { passed, failed }]);
  }
}

let passed = 0, failed = 0;
console.log('');
for (const [name, r] of results) {
  console.log(`${name}: ${r.passed} passed, ${r.failed} failed`);
  passed += r.passed; failed += r.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
