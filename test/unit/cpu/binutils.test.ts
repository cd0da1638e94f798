// The A64 codec against GNU binutils 2.x (aarch64-linux-gnu-as -march=armv8.2-a+lse+profile / objdump), the
// reference for "real encodings" (LANGUAGE.md "guest blocks") and the literal-pool layout (ARCHITECTURE.md
// "Packaging"). The corpus is generated (a64-corpus.ts); binutils runs from here through node:child_process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpus } from './a64-corpus';
import { binutilsAvailable, gasAssemble, textSymbolizer, words } from './gnu-binutils';
import { assembleProgram } from '../../../emulator/cpu/assembler';
import { decode } from '../../../emulator/cpu/decode';
import { disassemble, labelSymbolizer } from '../../../emulator/cpu/disasm';
import { encode } from '../../../emulator/cpu/encode';
import { guestWords } from './guest-words';

assert.ok(binutilsAvailable(), 'aarch64-linux-gnu-as must be installed (Debian binutils-aarch64-linux-gnu)');

const LINES = corpus();
// ADRP needs a link step (GAS leaves a relocation); those lines are checked separately below
const LOCAL = LINES.filter((l) => !l.src.startsWith('adrp'));
const ADRP = LINES.filter((l) => l.src.startsWith('adrp'));
const gas = gasAssemble(LOCAL.map((l) => l.src).join('\n'));
const ours = assembleProgram([{ base: 0n, source: LOCAL.map((l) => l.src).join('\n'), line: 1 }], () => undefined);

test(`corpus covers ${new Set(LINES.map((l) => l.form)).size} instruction forms in ${LINES.length} lines`, () => {
  assert.ok(gas.ok, gas.stderr);
  assert.ok(new Set(LINES.map((l) => l.form)).size > 500);
});

test('guest blocks: our assembler emits the same bytes as GNU as for every corpus line', () => {
  assert.deepEqual(ours.diagnostics, []);
  const g = words(gas.bytes);
  const o = words(ours.blocks[0]!.bytes);
  assert.equal(o.length, LOCAL.length);
  const diffs: string[] = [];
  LOCAL.forEach((l, i) => {
    if (g[i] !== o[i]) diffs.push(`${l.src}: gas ${g[i]?.toString(16)} ours ${o[i]?.toString(16)}`);
  });
  assert.deepEqual(diffs, []);
});

test('guest blocks: our disassembly equals objdump line by line for every corpus word', () => {
  assert.equal(gas.disasm.length, LOCAL.length);
  const diffs: string[] = [];
  for (const d of gas.disasm) {
    const t = disassemble(d.word, BigInt(d.offset), textSymbolizer);
    if (t !== d.text) diffs.push(`${d.word.toString(16)}: objdump ${JSON.stringify(d.text)} ours ${JSON.stringify(t)}`);
  }
  assert.deepEqual(diffs, []);
});

test('guest blocks: decode(encode(decode(w))) round-trips every corpus word', () => {
  for (const w of words(gas.bytes)) {
    const i = decode(w);
    if (w >>> 16 !== 0) assert.notEqual(i.op, 'UNDEFINED', w.toString(16)); // only `udf #n` is UNDEFINED
    assert.equal(encode(i) >>> 0, w, `${w.toString(16)} ${i.op}`);
  }
});

test('adrp: bytes and text match GNU as + ld (linked at 0x40000000)', () => {
  const base = 0x4000_0000n;
  const src = ADRP.map((l) => l.src).join('\n');
  const g = gasAssemble(src, { link: base });
  assert.ok(g.ok, g.stderr);
  const o = assembleProgram([{ base, source: src, line: 1 }], () => undefined);
  assert.deepEqual(o.diagnostics, []);
  assert.deepEqual(words(o.blocks[0]!.bytes), words(g.bytes));
  const strip = (s: string): string => s.replace(/ <[^>]*>/, '');
  for (const d of g.disasm) assert.equal(disassemble(d.word, base + BigInt(d.offset)), strip(d.text));
});

test('ARCHITECTURE Packaging: literal pool layout, directives and labels byte-identical to GNU as', () => {
  const base = 0x4000_0000n;
  const src = [
    'start:',
    '  ldr x0, =1',
    '  ldr w1, =2',
    '  ldr x2, =0x123456789',
    '  ldr w3, =0x12345678',
    '  ldr x4, =0x123456789', // merged with x2
    '  ldr x5, =0xffffffffffffffff',
    '  ldr w6, =2', // merged with w1
    '  ldr x7, =0x12345678', // 8-byte entry, not merged with the 4-byte one
    '  ldr x8, =data',
    '  ldr x9, =data+4',
    '  ldr x10, =data', // merged with x8
    '  ldr w11, =-1',
    '  ldr x12, =-1', // not merged with x5 (GAS signedness)
    '  ldr x13, =0-1', // merged with x5
    '  ldr x14, =~0', // merged with x5
    '  ldrsw x15, =-5',
    '  ldr w16, =0xfffffffb',
    '  b start',
    '  bl data',
    '  adr x0, msg',
    '  adrp x1, msg',
    '  add x1, x1, #:lo12:msg',
    'data:',
    '  .byte 1, 2, 0xff',
    '  .align 3',
    '  .quad 0x1122334455667788, data',
    '  .word 7, -1',
    '  .hword 0x1234, -2',
    'msg: .asciz "hi\\n\\"q\\"\\\\"',
    '  .align 4',
    '  .space 5',
    '  .space 3, 0xaa',
    '  nop', // aligned to 4 with zeros first
    '  .byte 9',
    '  cbz x0, start',
  ].join('\n');
  const g = gasAssemble(src, { link: base });
  assert.ok(g.ok, g.stderr);
  const o = assembleProgram([{ base, source: src, line: 1 }], () => undefined);
  assert.deepEqual(o.diagnostics, []);
  assert.equal(Buffer.from(o.blocks[0]!.bytes).toString('hex'), Buffer.from(g.bytes).toString('hex'));
  assert.equal(o.pools.length, 1);
});

test('ARCHITECTURE Packaging: a lone 8-byte literal is 8-aligned with zero padding (GAS)', () => {
  for (const src of ['ldr x0, =5', 'ldr x0, =5\nnop', 'ldr w0, =5\n.byte 1', '.byte 1\nldr x0, =5', 'ldr x0, =5\nldr w1, =6\nnop']) {
    const g = gasAssemble(src);
    const o = assembleProgram([{ base: 0n, source: src, line: 1 }], () => undefined);
    assert.deepEqual(o.diagnostics, []);
    assert.equal(Buffer.from(o.blocks[0]!.bytes).toString('hex'), Buffer.from(g.bytes).toString('hex'), src);
  }
});

test('decoder agrees with objdump on random words of the guest encoding groups', () => {
  const ws = [...guestWords(12345, 6000)];
  const g = gasAssemble(ws.map((w) => `.inst 0x${w.toString(16)}`).join('\n'));
  assert.ok(g.ok, g.stderr);
  const strip = (s: string): string => s.replace(/ <[^>]*>/, '');
  let known = 0;
  const diffs: string[] = [];
  for (const d of g.disasm) {
    const i = decode(d.word);
    if (i.op === 'UNDEFINED') {
      // objdump may know it (outside the guest set), but never as one of our mnemonics with our operands
      continue;
    }
    known++;
    const ours = disassemble(d.word, BigInt(d.offset));
    // system registers / SYS operations outside our table print generically here, by name in objdump
    if (/^(mrs|msr|sys|dc|ic|at|tlbi)\b/.test(ours) && /\bs[0-3]_\d|^sys\t/.test(ours) && !/\bs[0-3]_\d|^sys\t/.test(d.text)) continue;
    if (strip(ours) !== strip(d.text)) diffs.push(`${d.word.toString(16)}: objdump ${JSON.stringify(d.text)} ours ${JSON.stringify(ours)}`);
  }
  assert.deepEqual(diffs.slice(0, 20), []);
  assert.ok(known > 2000, `only ${known} words decoded`);
});

test('guest blocks: labelSymbolizer picks the symbols objdump prints (nearest label, ASCII order at ties)', () => {
  const base = 0x4000_0000n;
  const src = ['zz:', 'aa:', '  b mid', '  b zz', 'a2:', 'a1:', '  b a1', '  b .+4', 'mid: nop', '  b .+0x100', '  b .-0x8', '  .space 0x100'].join('\n');
  const g = gasAssemble(src, { link: base });
  assert.ok(g.ok, g.stderr);
  const o = assembleProgram([{ base, source: src, line: 1 }], () => undefined);
  const sym = labelSymbolizer(o.labels, o.blocks);
  const branches = g.disasm.filter((d) => d.text.startsWith('b\t'));
  assert.equal(branches.length, 6);
  for (const d of branches) assert.equal(disassemble(d.word, base + BigInt(d.offset), sym), d.text);
});

test('guest blocks: mutated corpus lines: GAS accepts <=> we accept, and the bytes agree', () => {
  // registers swapped for other kinds (w/x/sp/zr) and immediates replaced by edge values: GAS's verdict
  // (Error vs assembled, warnings included) must be ours, byte for byte
  let seed = 4242;
  const r = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const base = LOCAL.map((l) => l.src).filter((s) => !/\. ?[+-]/.test(s));
  const regs = ['x0', 'w0', 'sp', 'wsp', 'xzr', 'wzr', 'x30', 'w30', 'x15'];
  const imms = ['0', '1', '-1', '7', '8', '12', '16', '31', '32', '63', '64', '255', '256', '-256', '-257', '4095', '4096', '4104', '0x1000',
    '0xfff000', '0x1001000', '0xffff', '0x10000', '0x12345', '-8', '-9', '504', '512', '-512', '-520', '32760', '32768', '0xff', '0xfff', '0x3f'];
  const lines: string[] = [];
  for (let k = 0; k < 4000; k++) {
    let s = base[r(base.length)]!;
    if (r(3) === 0) {
      const toks = s.match(/\b[xw]([0-9]|[12][0-9]|30)\b|\b(sp|wsp|xzr|wzr)\b/g);
      if (toks) s = s.replace(new RegExp('\\b' + toks[r(toks.length)]! + '\\b'), regs[r(regs.length)]!);
    } else {
      const toks = s.match(/#-?(0x[0-9a-f]+|\d+)/g);
      if (toks) s = s.replace(toks[r(toks.length)]!, '#' + imms[r(imms.length)]!);
    }
    lines.push(s);
  }
  const all = gasAssemble(lines.join('\n'), { objdump: false });
  const rejected = new Set<number>();
  for (const l of all.stderr.split('\n')) {
    const m = /:(\d+): Error: /.exec(l);
    if (m) rejected.add(+m[1]! - 1);
  }
  assert.ok(rejected.size > 500 && rejected.size < 3500, `${rejected.size} rejected`);
  const accepted = lines.filter((_, i) => !rejected.has(i));
  const g = gasAssemble(accepted.join('\n'), { objdump: false });
  assert.ok(g.ok, g.stderr);
  const gw = words(g.bytes);
  const problems: string[] = [];
  accepted.forEach((s, i) => {
    const o = assembleProgram([{ base: 0n, source: s, line: 1 }], () => undefined);
    if (!o.ok) problems.push(`GAS accepts, we reject: ${s}: ${o.diagnostics[0]!.message}`);
    else if (words(o.blocks[0]!.bytes)[0] !== gw[i]) problems.push(`bytes differ: ${s}`);
  });
  for (const i of rejected) {
    const o = assembleProgram([{ base: 0n, source: lines[i]!, line: 1 }], () => undefined);
    if (o.ok) problems.push(`GAS rejects, we accept: ${lines[i]}`);
  }
  assert.deepEqual(problems, []);
});
