// Guest-block assembler behaviour (LANGUAGE.md "guest blocks" and "Lexical"): labels, expressions, directives,
// literal pools, source mapping and diagnostics. Byte-exactness versus GNU as is in binutils.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleProgram, AsmBlockInput } from '../../../emulator/cpu/assembler';
import { decode } from '../../../emulator/cpu/decode';
import { disassemble } from '../../../emulator/cpu/disasm';

const SYMS: Record<string, bigint> = { PSCI_CPU_ON: 0xc400_0003n, PMBLIMITR_E: 1n, DATA: 0x8000_0000n };
const sym = (n: string): bigint | undefined => SYMS[n];
const asm = (blocks: AsmBlockInput[] | string) =>
  assembleProgram(typeof blocks === 'string' ? [{ base: 0x4000_0000n, source: blocks, line: 1 }] : blocks, sym);
const word = (b: Uint8Array, i = 0): number => new DataView(b.buffer, b.byteOffset).getUint32(i * 4, true);
const text = (src: string, i = 0): string => {
  const r = asm(src);
  assert.deepEqual(r.diagnostics, []);
  return disassemble(word(r.blocks[0]!.bytes, i), 0x4000_0000n + BigInt(i * 4));
};

test('guest blocks: labels are global across blocks (two passes, forward references)', () => {
  const r = asm([
    { base: 0x4000_0000n, source: 'start:\n  b other\n  ldr x0, =other\n', line: 3 },
    { base: 0x4010_0000n, source: 'other: bl start\n  b other\n', line: 10 },
  ]);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.labels.get('start'), 0x4000_0000n);
  assert.equal(r.labels.get('other'), 0x4010_0000n);
  assert.equal(disassemble(word(r.blocks[0]!.bytes), 0x4000_0000n), 'b\t40100000');
  assert.equal(disassemble(word(r.blocks[1]!.bytes), 0x4010_0000n), 'bl\t40000000');
  // pool of block 0 holds the other block's address, 8-aligned after the code
  assert.equal(r.blocks[0]!.bytes.length, 16);
  assert.equal(new DataView(r.blocks[0]!.bytes.buffer).getBigUint64(8, true), 0x4010_0000n);
});

test('guest blocks: source lines map to addresses (breakpoints, stepping)', () => {
  const r = asm([{ base: 0x4000_0000n, source: '\n  nop // one\nl1:\n  .quad 1\n  ldr x1, =5\n', line: 7 }]);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(
    r.lines.map((l) => [l.line, l.addr, l.size, l.block]),
    [
      [8, 0x4000_0000n, 4, 0],
      [10, 0x4000_0004n, 8, 0],
      [11, 0x4000_000cn, 4, 0],
    ],
  );
  assert.deepEqual(r.pools, [{ block: 0, addr: 0x4000_0010n, size: 8 }]);
});

test('LANGUAGE Lexical: numbers with _, K/M/G suffixes, symbols, C precedence, 64-bit wrap', () => {
  const r = asm(
    [
      '.quad 0x4000_0000, 2M, 64K, 1G, 0b1010, 1 + 2 * 3, (1 + 2) * 3, 1 << 4 | 1, ~0, -1, 7 % 4, 100 / 7',
      '.quad PSCI_CPU_ON, DATA + 4K, 0xff & ~0xf, 6 ^ 3, 1 << 63 >> 63, label - .',
      'label:',
    ].join('\n'),
  );
  assert.deepEqual(r.diagnostics, []);
  const dv = new DataView(r.blocks[0]!.bytes.buffer);
  const q = (i: number): bigint => dv.getBigUint64(i * 8, true);
  const want = [
    0x4000_0000n, 2n << 20n, 64n << 10n, 1n << 30n, 10n, 7n, 9n, 17n, (1n << 64n) - 1n, (1n << 64n) - 1n, 3n, 14n,
    0xc400_0003n, 0x8000_1000n, 0xf0n, 5n, 1n, 8n, // `.` is each item's own address (GAS)
  ];
  want.forEach((v, i) => assert.equal(q(i), v, `quad ${i}`));
});

test('guest blocks: mnemonics, registers and directives are case-insensitive; labels are not', () => {
  assert.equal(text('MOV X0, #0x10\n'), text('mov x0, #0x10\n'));
  assert.equal(text('LDR W1, [SP, #4]'), 'ldr\tw1, [sp, #4]');
  assert.equal(text('.WORD 0xd503201f'), 'nop');
  const r = asm('Loop: b loop');
  assert.equal(r.ok, false);
  assert.match(r.diagnostics[0]!.message, /undefined symbol 'loop'/);
});

test('LANGUAGE Lexical: // and /* */ comments (multi-line) are ignored', () => {
  const r = asm('nop // c\n/* a\n  b */ wfi /* x */\n');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.blocks[0]!.bytes.length, 8);
  assert.deepEqual(r.lines.map((l) => l.line), [1, 3]);
});

test('guest blocks: aliases accepted by the assembler', () => {
  assert.equal(text('ret'), 'ret');
  assert.equal(text('mov x0, sp'), 'mov\tx0, sp');
  assert.equal(text('cmp x0, #4'), 'cmp\tx0, #0x4');
  assert.equal(text('cmn w1, w2'), 'cmn\tw1, w2');
  assert.equal(text('tst x0, #0xff'), 'tst\tx0, #0xff');
  assert.equal(text('neg x0, x1'), 'neg\tx0, x1');
  assert.equal(text('mvn w0, w1'), 'mvn\tw0, w1');
  assert.equal(text('lsl x0, x1, #3'), 'lsl\tx0, x1, #3');
  assert.equal(text('lsr w0, w1, w2'), 'lsr\tw0, w1, w2');
  assert.equal(text('ubfx x0, x1, #4, #8'), 'ubfx\tx0, x1, #4, #8');
  assert.equal(text('sbfx w0, w1, #1, #3'), 'sbfx\tw0, w1, #1, #3');
  assert.equal(text('mul x0, x1, x2'), 'mul\tx0, x1, x2');
  assert.equal(text('cset w0, ne'), 'cset\tw0, ne\t// ne = any');
  assert.equal(text('mov x0, #-1'), 'mov\tx0, #0xffffffffffffffff    \t// #-1');
  assert.equal(text('add x0, x1, #-16'), 'sub\tx0, x1, #0x10');
  assert.equal(text('ldr x0, [x1, #-8]'), 'ldur\tx0, [x1, #-8]');
  assert.equal(text('mov x0, #PMBLIMITR_E'), 'mov\tx0, #0x1                   \t// #1');
  assert.equal(text('msr s3_0_c9_c10_0, x0'), 'msr\tpmblimitr_el1, x0');
  assert.equal(text('b .'), 'b\t40000000');
});

test('guest blocks: each block gets its own literal pool after its code', () => {
  const r = asm([
    { base: 0x4000_0000n, source: 'ldr w0, =7\nldr x1, =7', line: 1 },
    { base: 0x5000_0000n, source: 'ldr x2, =7', line: 5 },
  ]);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.blocks[0]!.bytes.length, 24); // 2 insns, w-entry @8, pad, x-entry @16
  assert.equal(r.blocks[1]!.bytes.length, 16);
  const i = decode(word(r.blocks[1]!.bytes));
  assert.equal(i.op, 'LDR');
  assert.equal(i.mode, 'literal');
  assert.equal(i.imm, 8);
});

test('guest blocks: errors carry line, 1-based columns and say what was expected', () => {
  const r = asm([{ base: 0x4000_0000n, source: 'nop\n  add x0, #1, x2', line: 20, col: 9 }]);
  assert.equal(r.ok, false);
  assert.deepEqual(r.diagnostics, [{ line: 21, col: 11, endCol: 13, message: "expected a register, got '#1'" }]);
  const first = asm([{ base: 0n, source: 'frob x1', line: 4, col: 30 }]);
  assert.deepEqual(first.diagnostics, [{ line: 4, col: 30, endCol: 34, message: "unknown instruction 'frob'" }]);
});

test('guest blocks: range and validity errors', () => {
  const cases: [string, RegExp][] = [
    ['mov w0, x1', /expected a w register, got 'x1'/],
    ['and x0, x1, #5', /not a valid logical immediate/],
    ['ldr w0, =0x100000000', /does not fit in 32 bits/],
    ['msr foo_el1, x0', /unknown system register 'foo_el1'/],
    ['b.xx 0', /unknown condition 'xx'/],
    ['.byte 256', /does not fit in 1 byte/],
    ['add x0, x1, #0x1001', /out of range/],
    ['ldp x0, x1, [x2, #4]', /multiple of 8/],
    ['ldr x0, [x1, #256]!', /out of range \[-256, 255\]/],
    ['tbz w0, #32, .', /bit number 32 out of range/],
    ['b .+2', /not 4-byte aligned/],
    ['cbz x0, .+0x100000', /out of range/],
    ['x: nop\nx: nop', /already defined/],
    ['PSCI_CPU_ON: nop', /already defined/],
    ['.quad 1/0', /division by zero/],
    ['.space undefined_thing', /must be known/],
    ['ldr x0, [x1', /missing '\]'/],
    ['mov x0, #0x12345678', /cannot move/],
    ['add x0, xzr, #1', /xzr is not allowed/],
    ['.frob 1', /unknown directive/],
    ['1: b 1b', /numeric local labels are not supported/],
  ];
  for (const [src, re] of cases) {
    const r = asm(src);
    assert.equal(r.ok, false, src);
    assert.match(r.diagnostics[0]!.message, re, src);
  }
});

test('guest blocks: .asciz escapes, .align fill (zeros then NOPs), .space fill', () => {
  const r = asm('.asciz "a\\n\\x41"\n.align 3\nnop\n.align 4\n.space 2, 0x5a');
  assert.deepEqual(r.diagnostics, []);
  const b = Buffer.from(r.blocks[0]!.bytes);
  // "a\nA\0", .align 3 -> one NOP (already 4-aligned), nop, .align 4 -> one NOP, then 2 x 0x5a
  assert.equal(b.toString('hex'), '610a4100' + '1f2003d5' + '1f2003d5' + '1f2003d5' + '5a5a');
});

test('guest blocks: malformed input never throws, every diagnostic has a sane 1-based range', async () => {
  const { corpus } = await import('./a64-corpus');
  const lines = corpus().map((l) => l.src).concat(['ldr x0, =5', '.asciz "x"', '.align 3', 'lab2: .quad lab', '.space 4, 1']);
  let seed = 7;
  const r = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const junk = ['', ' ', ',', '[', ']', '!', '#', '=', ':', '(', ')', '-', '~', 'x0', 'w1', 'sp', 'xzr', '#1', 'lsl', 'uxtw', '"', '/*', '//', 'lab', '.', '0x', '1K', '99999999999999999999999', 'c7', 's3_0_c1_c0_0'];
  for (let k = 0; k < 20_000; k++) {
    let s = lines[r(lines.length)]!;
    for (let j = 1 + r(3); j > 0; j--) {
      const p = r(s.length + 1);
      s = r(3) === 0 ? s.slice(0, p) + s.slice(p + 1 + r(4)) : s.slice(0, p) + junk[r(junk.length)] + s.slice(p);
    }
    const res = assembleProgram([{ base: 0n, source: 'lab:\n' + s, line: 1 }], () => undefined);
    for (const d of res.diagnostics) {
      assert.ok(d.line === 2 && d.col >= 1 && d.endCol > d.col && d.message.length > 0, `${JSON.stringify(s)} -> ${JSON.stringify(d)}`);
    }
  }
});

test('guest blocks: .align and literal-pool alignment are of addresses (block base not aligned)', () => {
  const r = asm([{ base: 0x4000_0004n, source: 'ldr x0, =1\n.align 4\nvec: nop', line: 1 }]);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.labels.get('vec'), 0x4000_0010n);
  // code ends at 0x40000014; the 8-byte literal goes to 0x40000018 (8-aligned address); the pool range
  // includes the zero padding
  assert.equal(r.blocks[0]!.bytes.length, 0x1c);
  assert.deepEqual(r.pools, [{ block: 0, addr: 0x4000_0014n, size: 12 }]);
  assert.equal(decode(word(r.blocks[0]!.bytes)).imm, 0x14);
});
