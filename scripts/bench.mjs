#!/usr/bin/env node
// `npm run bench [name…]`: runs test/bench/*.bench.ts (or the named ones) one after another; each prints figures.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';

process.chdir(new URL('..', import.meta.url).pathname);
const only = process.argv.slice(2);
const all = existsSync('test/bench') ? readdirSync('test/bench').filter((f) => f.endsWith('.bench.ts')).sort() : [];
const chosen = only.length ? all.filter((f) => only.some((o) => f.startsWith(o))) : all;
let failed = 0;
for (const f of chosen) {
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', `test/bench/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
