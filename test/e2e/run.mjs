#!/usr/bin/env node
// `npm test`'s e2e suite: the extension-host tests in test/e2e/suite run by @vscode/test-electron's runTests inside
// a real VS Code. Offline here, `vscodeExecutablePath` is test/e2e/launcher.mjs (code-server on Node 24 + headless
// Chromium, ARCHITECTURE.md "Tests and tools"); with E2E_DESKTOP=1 runTests downloads a desktop VS Code instead.
// Steps: install code-server + Node 24 into .tools/ if needed, bundle the suite (out/e2e), copy examples/ to a
// scratch workspace, run, print the extension's bundle size. Always bounded in time.
import { build } from 'esbuild';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { installCodeServer } from '../../scripts/install-code-server.mjs';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
process.chdir(root);
const started = Date.now();
const say = (m) => console.log(`[e2e] ${m}`);

for (const f of ['dist/extension.js', 'dist/debug-adapter.js', 'dist/language-server.js']) {
  if (!existsSync(f)) { say(`missing ${f}: run \`node esbuild.mjs\` first`); process.exit(1); }
}
const kb = (f) => (statSync(f).size / 1024).toFixed(1);
say(`bundle sizes: extension.js ${kb('dist/extension.js')} KB (target < 1024 KB), debug-adapter.js ${kb('dist/debug-adapter.js')} KB, language-server.js ${kb('dist/language-server.js')} KB`);

// the suite, bundled (vscode and mocha stay external: the extension host provides vscode, mocha comes from node_modules)
const out = join(root, 'out', 'e2e');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const suiteDir = join(root, 'test', 'e2e', 'suite');
await build({
  entryPoints: readdirSync(suiteDir).filter((f) => f === 'index.ts' || f.endsWith('.test.ts')).map((f) => join(suiteDir, f)),
  outdir: out, bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: 'inline',
  external: ['vscode', 'mocha'], logLevel: 'warning',
});

const desktop = process.env.E2E_DESKTOP === '1';
let vscodeExecutablePath;
if (!desktop) {
  say('installing code-server + Node 24 into .tools/ if needed');
  try { installCodeServer({ quiet: true }); } catch (e) { say(`cannot install code-server: ${e.message}`); process.exit(1); }
  vscodeExecutablePath = join(root, 'test', 'e2e', 'launcher.mjs');
}

// packaging: the .vsix that `npm run package` builds installs in code-server (here with the development bundles)
if (!desktop) {
  const vsixDir = mkdtempSync(join(tmpdir(), 'kvms-vsix-'));
  const vsix = join(vsixDir, 'kvm-arm64-lab.vsix');
  const p = spawnSync(process.execPath, [join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license',
    '--allow-missing-repository', '--no-rewrite-relative-links', '--out', vsix], { encoding: 'utf8' });
  const cs = installCodeServer({ quiet: true });
  const inst = p.status === 0
    ? spawnSync(cs.node, [cs.entry, '--extensions-dir', join(vsixDir, 'ext'), '--user-data-dir', join(vsixDir, 'ud'), '--install-extension', vsix], { encoding: 'utf8' })
    : undefined;
  const listed = inst?.status === 0
    ? spawnSync(cs.node, [cs.entry, '--extensions-dir', join(vsixDir, 'ext'), '--user-data-dir', join(vsixDir, 'ud'), '--list-extensions'], { encoding: 'utf8' }).stdout
    : '';
  rmSync(vsixDir, { recursive: true, force: true });
  if (!listed.includes('kvm-arm64-lab.kvm-arm64-lab')) {
    say(`FAILED: packaging: ${p.status !== 0 ? `vsce package failed:\n${p.stdout}${p.stderr}` : `code-server --install-extension failed:\n${inst?.stdout ?? ''}${inst?.stderr ?? ''}`}`);
    process.exit(1);
  }
  say('packaging: vsce package builds a .vsix that code-server installs (kvm-arm64-lab.kvm-arm64-lab)');
}

// a scratch copy of examples/ named "examples": runs write traces beside the scenarios
const scratch = mkdtempSync(join(tmpdir(), 'kvms-e2e-ws-'));
const workspace = join(scratch, 'examples');
cpSync(join(root, 'examples'), workspace, { recursive: true });
for (const f of readdirSync(workspace)) if (f.endsWith('.trace.jsonl')) rmSync(join(workspace, f));

const hardStop = setTimeout(() => { say('TIMEOUT: the e2e run took more than 9 minutes'); process.exit(1); }, 9 * 60_000);
hardStop.unref();
let code = 0;
try {
  await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(out, 'index.js'),
    launchArgs: [workspace, '--disable-extensions'],
    extensionTestsEnv: { KVMS_E2E_ROOT: root, KVMS_E2E_WORKSPACE: workspace },
  });
} catch (e) {
  say(`FAILED: ${e instanceof Error ? e.message : e} (logs: test-results/code-server.log, test-results/workbench-console.log)`);
  code = 1;
}
rmSync(scratch, { recursive: true, force: true });
// the README's pictures: taken on every run into test-results/, copied to docs/images/ when missing or asked for
// (KVMS_UPDATE_SCREENSHOTS=1), so a test run does not dirty the tree with a new PNG each time
for (const name of ['debug-stage2-fault.png', 'ipa-map.png']) {
  const shot = join(root, 'test-results', name);
  const doc = join(root, 'docs', 'images', name);
  if (code === 0 && existsSync(shot) && (process.env.KVMS_UPDATE_SCREENSHOTS === '1' || !existsSync(doc))) {
    mkdirSync(dirname(doc), { recursive: true });
    copyFileSync(shot, doc);
    say(`screenshot: docs/images/${name}`);
  }
}
say(`e2e run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(code);
