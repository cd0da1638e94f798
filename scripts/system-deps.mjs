#!/usr/bin/env node
// The Debian packages the test suites need (`npm test` installs them when run as root, as CI does; otherwise it
// says what to install): GNU binutils for aarch64 (the assembler/disassembler are checked against them), QEMU user
// mode (the interpreter is checked against it), Chromium and libkrb5-dev (the real-editor suite runs code-server,
// whose install builds a kerberos module with make/g++/python3).
import { spawnSync } from 'node:child_process';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const installed = (pkg) => spawnSync('dpkg', ['-s', pkg], { stdio: 'ignore' }).status === 0;

/** [package, present?] for the suites about to run */
function needed(suites) {
  const want = (s) => suites.length === 0 || suites.includes(s);
  const list = [];
  if (want('unit')) {
    list.push(['binutils-aarch64-linux-gnu', has('aarch64-linux-gnu-as')]);
    list.push(['qemu-user', has('qemu-aarch64')]);
  }
  if (want('e2e')) {
    list.push(['chromium', has('chromium')]);
    list.push(['libkrb5-dev', installed('libkrb5-dev')]);
    list.push(['make', has('make')], ['g++', has('g++')], ['python3', has('python3')]);
  }
  return list.filter(([, ok]) => !ok).map(([p]) => p);
}

export function ensureSystemPackages(suites = []) {
  const missing = needed(suites);
  if (missing.length === 0) return true;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !has('apt-get')) {
    console.error(`[system-deps] missing Debian packages: ${missing.join(' ')} — install them (apt-get install ${missing.join(' ')}); the tests that need them will fail`);
    return false;
  }
  console.error(`[system-deps] installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  return r.status === 0;
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  process.exit(ensureSystemPackages(process.argv.slice(2)) ? 0 : 1);
}
