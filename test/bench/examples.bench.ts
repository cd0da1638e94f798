// End-to-end wall time of `kvms test examples/` (issue 4 benchmark), in-process and as a fresh CLI process.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { main } from '../../cli/main';

const runs: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const code = main(['test', 'examples/'], () => {}, () => {});
  runs.push(performance.now() - t0);
  if (code !== 0) throw new Error(`kvms test examples/ exited ${code}`);
}
console.log(`kvms test examples/ in-process: ${runs.map((r) => r.toFixed(0)).join(', ')} ms (first run includes JIT warm-up)`);

if (existsSync('dist/kvms.js')) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['dist/kvms.js', 'test', 'examples/'], { encoding: 'utf8' });
  console.log(`node dist/kvms.js test examples/ (fresh process): ${(performance.now() - t0).toFixed(0)} ms, exit ${r.status}`);
} else {
  console.log('dist/kvms.js not built (npm run build): fresh-process figure skipped');
}
