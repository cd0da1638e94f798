#!/usr/bin/env node
// `npm start`: build the bundles, install code-server + Node 24 into .tools/ if needed (never in package.json,
// ARCHITECTURE.md "Packaging"), and open this extension in code-server with examples/ as the workspace.
// The extension is linked into code-server's extensions folder (.tools/start/extensions), so `node esbuild.mjs`
// followed by "Developer: Reload Window" picks up changes. Prints the URL; Ctrl+C stops the server.
// Options: --port N (default 8080, or the next free one), --host H (default 127.0.0.1), --no-build.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { installCodeServer } from './install-code-server.mjs';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const args = process.argv.slice(2);
const arg = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const host = arg('host', '127.0.0.1');

function portFree(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, host, () => s.close(() => res(true)));
  });
}

if (!args.includes('--no-build')) {
  const b = spawnSync(process.execPath, [join(root, 'esbuild.mjs')], { stdio: 'inherit', cwd: root });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
console.log('[start] code-server + Node 24 in .tools/ (first time: a few minutes)');
const cs = installCodeServer({ quiet: false });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const base = join(root, '.tools', 'start');
const extensions = join(base, 'extensions');
mkdirSync(extensions, { recursive: true });
const link = join(extensions, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
try { if (lstatSync(link)) rmSync(link, { recursive: true, force: true }); } catch { /* none yet */ }
symlinkSync(root, link, 'dir');
// a stale extensions.json would hide the link from the scanner; let code-server rebuild it
rmSync(join(extensions, 'extensions.json'), { force: true });
const settingsDir = join(base, 'user-data', 'User');
mkdirSync(settingsDir, { recursive: true });
if (!existsSync(join(settingsDir, 'settings.json'))) {
  writeFileSync(join(settingsDir, 'settings.json'), JSON.stringify({ 'workbench.startupEditor': 'none', 'workbench.colorTheme': 'Default Dark Modern' }, null, 2));
}

let port = Number(arg('port', '8080'));
while (!(await portFree(port))) port++;
const workspace = join(root, 'examples');
const child = spawn(cs.node, [cs.entry,
  '--auth', 'none', '--bind-addr', `${host}:${port}`,
  '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
  // the workspace is this repository's own examples/ folder
  '--disable-workspace-trust',
  '--user-data-dir', join(base, 'user-data'), '--extensions-dir', extensions,
  workspace,
], { stdio: ['ignore', 'pipe', 'pipe'] });
child.stderr.pipe(process.stderr);
let announced = false;
child.stdout.on('data', (d) => {
  const text = d.toString();
  if (process.env.KVMS_START_VERBOSE) process.stdout.write(text);
  if (!announced && /HTTP server listening/.test(text)) {
    announced = true;
    console.log(`\n  KVM arm64 Lab ${pkg.version} in code-server (VS Code ${cs.vscodeVersion}):\n\n    http://${host}:${port}/?folder=${encodeURIComponent(workspace)}\n\n  Open an example, press F5. Ctrl+C stops the server.\n`);
  }
});
const stop = () => { child.kill('SIGTERM'); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => process.exit(code ?? 0));
