// A64 codec throughput: decode (once per guest PC, cached by the interpreter), encode, disassemble (debugger
// disassembly view), and the assembler over the generated corpus (scenario load time).
import { performance } from 'node:perf_hooks';
import { corpus } from '../unit/cpu/a64-corpus';
import { assembleProgram } from '../../emulator/cpu/assembler';
import { decode } from '../../emulator/cpu/decode';
import { disassemble } from '../../emulator/cpu/disasm';
import { encode } from '../../emulator/cpu/encode';

const src = corpus().map((l) => l.src).filter((s) => !s.startsWith('adrp')).join('\n');
const prog = assembleProgram([{ base: 0x4000_0000n, source: src, line: 1 }], () => undefined);
const bytes = prog.blocks[0]!.bytes;
const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const words: number[] = [];
for (let i = 0; i < bytes.length; i += 4) words.push(dv.getUint32(i, true));

function bench(name: string, unit: string, n: number, fn: () => void): void {
  fn(); // warm up
  const t0 = performance.now();
  let reps = 0;
  while (performance.now() - t0 < 1000) {
    fn();
    reps++;
  }
  const dt = (performance.now() - t0) / 1000;
  console.log(`${name.padEnd(28)} ${((n * reps) / dt / 1e6).toFixed(2)} M${unit}/s`);
}

console.log(`corpus: ${words.length} instructions`);
bench('decode', 'insn', words.length, () => {
  for (const w of words) decode(w);
});
const insns = words.map(decode);
bench('encode', 'insn', insns.length, () => {
  for (const i of insns) encode(i);
});
bench('disassemble', 'insn', words.length, () => {
  for (let k = 0; k < words.length; k++) disassemble(words[k]!, 0x4000_0000n + BigInt(k * 4));
});
bench('assembleProgram (corpus)', 'line', words.length, () => {
  assembleProgram([{ base: 0x4000_0000n, source: src, line: 1 }], () => undefined);
});
