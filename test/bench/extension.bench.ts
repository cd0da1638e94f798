// Extension bundle size and activation cost (targets: bundle < 1 MB, activation < 50 ms).
// - size of dist/extension.js as `node esbuild.mjs` builds it, and minified as `npm run package` builds it (+ gzip);
// - load (module evaluation) and activate() of the bundle against a stub `vscode` module: the cost of our own
//   code and of vscode-languageclient, without an editor. The real activation time in VS Code is printed by the
//   e2e suite (test/e2e, "activation took … ms").
// Run: node --import tsx test/bench/extension.bench.ts   (or `npm run bench extension`; builds dist/ if missing)
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';

// the child: plain node (no tsx hooks on require), a `vscode` stand-in where every property is a callable,
// constructible stub; esbuild's ESM interop copies the module's own keys, so the namespaces used are own keys
const CHILD = `
const Module = require('node:module');
const NAMESPACES = ['window', 'workspace', 'debug', 'commands', 'languages', 'tests', 'extensions', 'env', 'Uri', 'EventEmitter',
  'ThemeIcon', 'ThemeColor', 'TreeItem', 'TreeItemCollapsibleState', 'StatusBarAlignment', 'DebugAdapterInlineImplementation',
  'DebugAdapterExecutable', 'DebugConfigurationProviderTriggerKind', 'TestRunProfileKind', 'ViewColumn', 'Disposable', 'Position',
  'Range', 'Location', 'Selection', 'MarkdownString', 'TestMessage', 'TestRunRequest', 'CancellationTokenSource', 'DiagnosticSeverity'];
const stub = new Proxy(function stubFn() {}, {
  get: (_t, p) => (typeof p === 'symbol' || p === 'then' ? undefined : p === 'version' ? '1.95.0' : stub),
  ownKeys: (t) => [...Reflect.ownKeys(t), ...NAMESPACES],
  getOwnPropertyDescriptor: (t, p) => Reflect.getOwnPropertyDescriptor(t, p) ?? { configurable: true, enumerable: true, writable: true, value: stub },
  apply: () => stub, construct: () => stub, set: () => true,
});
const load = Module._load;
Module._load = (req, parent, isMain) => (req === 'vscode' ? stub : load(req, parent, isMain));
const file = process.argv[1];
const context = { subscriptions: [], extensionUri: stub, workspaceState: { get: () => undefined, update: async () => undefined } };
const t0 = performance.now();
const ext = require(file);
const t1 = performance.now();
const api = ext.activate(context);
const t2 = performance.now();
console.log(JSON.stringify({ load: t1 - t0, activate: t2 - t1, own: api.activationMs }));
process.exit(0);
`;

const root = join(__dirname, '..', '..');

async function main(): Promise<void> {
const dev = join(root, 'dist', 'extension.js');
if (!existsSync(dev)) spawnSync(process.execPath, [join(root, 'esbuild.mjs')], { stdio: 'inherit', cwd: root });
if (!existsSync(dev)) {
  console.error('dist/extension.js missing and `node esbuild.mjs` did not make it');
  process.exit(1);
}
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
const prodDir = mkdtempSync(join(tmpdir(), 'kvms-bench-'));
const prod = join(prodDir, 'extension.js');
await build({ entryPoints: [join(root, 'extension', 'extension.ts')], outfile: prod, bundle: true, platform: 'node', format: 'cjs', target: 'node18', minify: true, external: ['vscode', './debug-adapter.js'], logLevel: 'warning' });
console.log(`extension bundle: ${kb(statSync(dev).size)} (development build), ${kb(statSync(prod).size)} minified, ${kb(gzipSync(readFileSync(prod)).length)} minified+gzip (target < 1024 KB)`);
const emulatorInside = readFileSync(dev, 'utf8').includes('emulator/');
console.log(`emulator code inside extension.js: ${emulatorInside ? 'YES (dependency rule broken)' : 'no (loaded lazily from dist/debug-adapter.js)'}`);

for (const [label, file] of [['development', dev], ['minified', prod]] as const) {
  const runs: { load: number; activate: number; own: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(process.execPath, ['-e', CHILD, file], { encoding: 'utf8' });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try { runs.push(JSON.parse(line)); } catch { console.log(`child failed: ${r.stdout}${r.stderr}`); break; }
  }
  if (runs.length === 0) continue;
  const med = (k: 'load' | 'activate' | 'own'): string => runs.map((x) => x[k]).sort((x, y) => x - y)[runs.length >> 1].toFixed(1);
  console.log(`${label}: load ${med('load')} ms + activate() ${med('activate')} ms (activate's own measure ${med('own')} ms), median of ${runs.length} fresh processes, stub vscode API (target < 50 ms)`);
}
process.exit(0);
}

void main();
