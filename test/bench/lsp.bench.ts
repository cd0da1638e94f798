// Language server latency over stdio (issue 6 "Benchmark"): server start (spawn -> initialize result),
// didChange -> publishDiagnostics on a 5,000-line scenario (target p50 < 100 ms), completion latency (target
// < 30 ms), hover and semantic tokens on the same document. Needs dist/language-server.js (node esbuild.mjs).
// Prints figures; asserts nothing.

import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { LspClient, ROOT } from '../lsp/client';
import { bigScenario } from './big-scenario';

const scenario = (lines: number): string => bigScenario(lines, 100);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))];
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p90 ${pct(xs, 0.9).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('build failed');
  // ---- start time
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c = await LspClient.start();
    starts.push(performance.now() - t0);
    await c.stop();
  }
  const client = await LspClient.start();
  const text = scenario(5000);
  const lines = text.split('\n');
  const uri = 'file:///bench/5000.kvms';
  let t0 = performance.now();
  const first = await client.open(uri, text);
  const openMs = performance.now() - t0;
  // ---- didChange -> publishDiagnostics (edits spaced beyond the 150 ms throttle: one keystroke after a pause)
  const change: number[] = [];
  let version = 1;
  const edited = lines.findIndex((l) => l.startsWith('    write '));
  for (let i = 0; i < 25; i++) {
    const next = [...lines];
    next[edited] = `    write 0x1_0020_0000 u64 ${i}`;
    const v = ++version;
    t0 = performance.now();
    await client.change(uri, next.join('\n'), v);
    change.push(performance.now() - t0);
    await sleep(170);
  }
  // ---- completion (host line start, after `=>`, option value, expect event, guest operand)
  const positions = [
    { line: lines.length - 3, character: 4 }, { line: lines.findIndex((l) => l.includes('=> EINTR')), character: lines.find((l) => l.includes('=> EINTR'))!.indexOf('=>') + 3 },
    { line: lines.findIndex((l) => l.includes('expect event')), character: 17 }, { line: 6, character: 10 }, { line: 2000, character: 14 },
  ];
  const completion: number[] = [];
  for (let i = 0; i < 60; i++) {
    const position = positions[i % positions.length];
    t0 = performance.now();
    await client.request('textDocument/completion', { textDocument: { uri }, position });
    completion.push(performance.now() - t0);
  }
  // ---- hover and semantic tokens on the analysed document
  const hover: number[] = [];
  for (let i = 0; i < 30; i++) {
    t0 = performance.now();
    await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 100 + i * 150, character: 6 } });
    hover.push(performance.now() - t0);
  }
  const tokens: number[] = [];
  for (let i = 0; i < 10; i++) {
    t0 = performance.now();
    await client.request('textDocument/semanticTokens/full', { textDocument: { uri } });
    tokens.push(performance.now() - t0);
  }
  await client.stop();
  console.log(`language server (stdio), ${lines.length - 1}-line scenario, ${first.diagnostics.length} diagnostics; ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`  server start (spawn -> initialize):     ${fmt(starts)}`);
  console.log(`  didOpen -> publishDiagnostics:           ${openMs.toFixed(1)} ms`);
  console.log(`  didChange -> publishDiagnostics:         ${fmt(change)} (target p50 < 100 ms)`);
  console.log(`  completion:                              ${fmt(completion)} (target < 30 ms)`);
  console.log(`  hover:                                   ${fmt(hover)}`);
  console.log(`  semantic tokens (full):                  ${fmt(tokens)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
