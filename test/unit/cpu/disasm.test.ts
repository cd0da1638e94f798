// disassemble(): objdump text details the debugger's disassembly view relies on (the full corpus comparison is in
// binutils.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { disassemble, disassembleDataWord } from '../../../emulator/cpu/disasm';

const sym = (a: bigint): string | undefined => (a >= 0x4000_0000n && a < 0x4000_0100n ? (a === 0x4000_0000n ? 'start' : `start+0x${(a - 0x4000_0000n).toString(16)}`) : undefined);

test('guest blocks: branch targets print as hex address plus <symbol> (objdump)', () => {
  assert.equal(disassemble(0x54000001 | (4 << 5), 0x4000_0000n, sym), 'b.ne\t40000010 <start+0x10>  // b.any');
  assert.equal(disassemble(0x17ffffff, 0x4000_0004n, sym), 'b\t40000000 <start>');
  assert.equal(disassemble(0x17ffffff, 0x5000_0004n, sym), 'b\t50000000');
  assert.equal(disassemble(0x94000000, 0x4000_0000n), 'bl\t40000000');
});

test('guest blocks: objdump comments and padding (mov immediates, condition aliases)', () => {
  assert.equal(disassemble(0xd2a00020, 0n), 'mov\tx0, #0x10000               \t// #65536');
  assert.equal(disassemble(0x12800023, 0n), 'mov\tw3, #0xfffffffe            \t// #-2');
  assert.equal(disassemble(0x9a822020, 0n), 'csel\tx0, x1, x2, cs\t// cs = hs, nlast');
  assert.equal(disassemble(0x54000003, 0n), 'b.cc\t0  // b.lo, b.ul, b.last');
  assert.equal(disassemble(0x5400000c, 0n), 'b.gt\t0');
});

test('guest blocks: undefined words and literal-pool data print like objdump', () => {
  assert.equal(disassemble(0x00000000, 0n), 'udf\t#0');
  assert.equal(disassemble(0x0000ffff, 0n), 'udf\t#65535');
  assert.equal(disassemble(0xffffffff, 0n), '.inst\t0xffffffff ; undefined');
  assert.equal(disassembleDataWord(0x12), '.word\t0x00000012');
});

test('guest blocks: system instructions print lower-case names', () => {
  assert.equal(disassemble(0xd5189a00, 0n), 'msr\tpmblimitr_el1, x0');
  assert.equal(disassemble(0xd538f200, 0n), 'mrs\tx0, s3_0_c15_c2_0');
  assert.equal(disassemble(0xd50b7420, 0n), 'dc\tzva, x0');
  assert.equal(disassemble(0xd508751f, 0n), 'ic\tiallu');
  assert.equal(disassemble(0xd503223f, 0n), 'psb\tcsync');
  assert.equal(disassemble(0xd50342df, 0n), 'msr\tdaifset, #0x2');
  assert.equal(disassemble(0xd5087c00, 0n), 'sys\t#0, C7, C12, #0, x0');
});
