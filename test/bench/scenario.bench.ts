// Parse + check time of a 10,000-line scenario (target < 100 ms). Prints figures; asserts nothing.
import { parse } from '../../emulator/scenario/parser';
import { check } from '../../emulator/scenario/checker';
import { PerformanceObserver } from 'node:perf_hooks';
import { bigScenario } from './big-scenario';

const text = bigScenario(10_000);
const lineCount = text.split('\n').length - 1;
// warm up the JIT like an editor session does, then measure; min and median (the machine may be shared)
for (let i = 0; i < 3; i++) check(parse(text).ast);
const runs = 15;
// garbage collection pauses during the measured runs (the AST of 10,000 lines is ~20 MB of small objects, most of
// them Positions: its collection is a large, structural part of the time)
const gcPauses: { start: number; ms: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, ms: e.duration });
});
gcObserver.observe({ entryTypes: ['gc'] });
const parseT: number[] = [];
const checkT: number[] = [];
const totalT: number[] = [];
const cpuT: number[] = [];
let diags = 0;
const measureStart = performance.now();
for (let i = 0; i < runs; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const p = parse(text);
  const t1 = performance.now();
  const c = check(p.ast);
  const t2 = performance.now();
  parseT.push(t1 - t0);
  checkT.push(t2 - t1);
  totalT.push(t2 - t0);
  const used = process.cpuUsage(c0);
  cpuT.push((used.user + used.system) / 1000);
  diags = p.diagnostics.length + c.diagnostics.length;
}
const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0].toFixed(1)} ms, median ${s[s.length >> 1].toFixed(1)} ms`;
};
console.log(`scenario front end, ${lineCount} lines (${(text.length / 1024).toFixed(0)} KiB), ${diags} diagnostics, ${runs} runs`);
console.log(`  parse  ${stat(parseT)}`);
console.log(`  check  ${stat(checkT)} (includes assembling 200 guest lines)`);
console.log(`  total  ${stat(totalT)} (target < 100 ms)`);
// wall time counts waiting for a CPU on a shared machine; CPU time (all threads, incl. GC helpers) does not
console.log(`  total CPU time  ${stat(cpuT)}`);
const measureEnd = performance.now();
// gc entries arrive asynchronously: count the pauses that started during the measured runs once they are in
setTimeout(() => {
  gcObserver.disconnect();
  const during = gcPauses.filter((g) => g.start >= measureStart && g.start <= measureEnd);
  const ms = during.reduce((a, g) => a + g.ms, 0);
  console.log(`  GC pauses  ${during.length} in ${runs} runs, ${(ms / runs).toFixed(1)} ms per run (main thread)`);
}, 50);
