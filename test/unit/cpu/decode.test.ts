// decode(): the Insn contract the interpreter compiles (insn.ts). Field values are checked against hand-derived
// encodings (confirmed with aarch64-linux-gnu-as) so a change of meaning is caught here, not in the interpreter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../emulator/cpu/decode';

test('guest blocks: ADD/SUB immediate: shifted imm12, SP operands, flags', () => {
  const i = decode(0x91448c20); // add x0, x1, #0x123, lsl #12
  assert.equal(i.op, 'ADD_IMM');
  assert.equal(i.sf, true);
  assert.equal(i.imm, 0x123000);
  assert.equal(i.shiftAmount, 12);
  const c = decode(0xf100101f); // cmp x0, #4
  assert.equal(c.op, 'SUB_IMM');
  assert.equal(c.setFlags, true);
  assert.equal(c.rd, 31);
});

test('guest blocks: logical immediates are expanded to bigint bimm (32-bit ops: low 32 bits only)', () => {
  assert.equal(decode(0xb200f3e0).bimm, 0x5555_5555_5555_5555n); // mov x0, #0x5555…
  assert.equal(decode(0x12010420).bimm, 0x8000_0001n); // and w0, w1, #0x80000001
  assert.equal(decode(0x9278dc20).bimm, 0xffff_ffff_ffff_ff00n);
  assert.equal(decode(0x1240fc20).op, 'UNDEFINED'); // 32-bit op with N=1 is reserved
});

test('guest blocks: MOVZ/MOVN/MOVK carry imm16 and hw*16', () => {
  const i = decode(0xd2c00240); // movz x0, #0x12, lsl #32
  assert.equal(i.op, 'MOVZ');
  assert.equal(i.imm, 0x12);
  assert.equal(i.shiftAmount, 32);
  assert.equal(decode(0x52c00240).op, 'UNDEFINED'); // 32-bit with hw=2
});

test('guest blocks: loads: size, sign extension, destination width, addressing modes', () => {
  const post = decode(0x38dff462); // ldrsb w2, [x3], #-1
  assert.deepEqual([post.op, post.size, post.signed, post.sf, post.mode, post.imm, post.rt, post.rn], ['LDR', 1, true, false, 'post', -1, 2, 3]);
  const sw = decode(0xb8900020); // ldursw x0, [x1, #-256]
  assert.deepEqual([sw.size, sw.signed, sw.sf, sw.mode, sw.unscaled, sw.imm], [4, true, true, 'offset', true, -256]);
  const reg = decode(0xb8625801); // ldr w1, [x0, w2, uxtw #2]
  assert.deepEqual([reg.mode, reg.rm, reg.extend, reg.shiftAmount], ['reg', 2, 'UXTW', 2]);
  const lit = decode(0x58000920); // ldr x0, . + 0x124
  assert.deepEqual([lit.mode, lit.imm, lit.size], ['literal', 0x124, 8]);
  const pair = decode(0xa9ff07e0); // ldp x0, x1, [sp, #-16]!
  assert.deepEqual([pair.op, pair.mode, pair.imm, pair.rt, pair.rt2, pair.rn, pair.size], ['LDP', 'pre', -16, 0, 1, 31, 8]);
  const uoff = decode(0xf97ffc20); // ldr x0, [x1, #32760]
  assert.deepEqual([uoff.mode, uoff.imm, uoff.unscaled], ['offset', 32760, false]);
});

test('guest blocks: exclusives, acquire/release and LSE flags', () => {
  const ldaxr = decode(0x085ffc20); // ldaxrb w0, [x1]
  assert.deepEqual([ldaxr.op, ldaxr.acquire, ldaxr.size], ['LDXR', true, 1]);
  const stlxr = decode(0xc800fc41); // stlxr w0, x1, [x2]
  assert.deepEqual([stlxr.op, stlxr.release, stlxr.rs, stlxr.rt, stlxr.rn, stlxr.size], ['STXR', true, 0, 1, 2, 8]);
  const casal = decode(0x88e0fc41); // casal w0, w1, [x2]
  assert.deepEqual([casal.op, casal.acquire, casal.release, casal.rs, casal.rt, casal.size], ['CAS', true, true, 0, 1, 4]);
  const ldaddal = decode(0xb8e003e1); // ldaddal w0, w1, [sp]
  assert.deepEqual([ldaddal.op, ldaddal.acquire, ldaddal.release, ldaddal.rn], ['LDADD', true, true, 31]);
  assert.equal(decode(0xf8608041).op, 'SWP'); // swpl x0, x1, [x2]
  assert.equal(decode(0xf8608041).release, true);
});

test('guest blocks: branches carry signed byte offsets; TBZ carries the bit number', () => {
  assert.equal(decode(0x17ffffff).imm, -4); // b .-4
  assert.equal(decode(0x94000400).imm, 0x1000); // bl .+0x1000
  const bc = decode(0x54000001); // b.ne .
  assert.deepEqual([bc.op, bc.cond, bc.imm], ['B_COND', 1, 0]);
  const tb = decode(0xb7f80000); // tbnz x0, #63, .
  assert.deepEqual([tb.op, tb.bit], ['TBNZ', 63]);
  assert.equal(decode(0xd65f03c0).op, 'RET');
  assert.equal(decode(0xd65f03c0).rn, 30);
  const adrp = decode(0xb0000001); // adrp x1, . + 0x1000 (page)
  assert.deepEqual([adrp.op, adrp.imm], ['ADRP', 0x1000]);
});

test('guest blocks: system instructions: sysreg names, PSTATE fields, SYS ops, hints, barriers', () => {
  const mrs = decode(0xd5381000);
  assert.equal(mrs.op, 'MRS');
  assert.deepEqual(mrs.sys, { op0: 3, op1: 0, crn: 1, crm: 0, op2: 0, name: 'SCTLR_EL1' });
  assert.equal(decode(0xd538f200).sys!.name, 'S3_0_C15_C2_0');
  assert.equal(decode(0xd5189a00).sys!.name, 'PMBLIMITR_EL1'); // spec E.1 3,0,9,10,0
  const daif = decode(0xd50342df); // msr daifset, #2
  assert.deepEqual([daif.op, daif.pstate, daif.imm], ['MSR_IMM', 'DAIFSET', 2]);
  const dc = decode(0xd50b7420); // dc zva, x0
  assert.deepEqual([dc.op, dc.sys!.name, dc.rt], ['SYS', 'DC ZVA', 0]);
  assert.equal(decode(0xd508871f).sys!.name, 'TLBI VMALLE1');
  assert.equal(decode(0xd503223f).op, 'PSB_CSYNC');
  assert.equal(decode(0xd503207f).op, 'WFI');
  assert.equal(decode(0xd50320ff).op, 'HINT'); // xpaclri executes as a NOP hint
  assert.deepEqual([decode(0xd5033b9f).op, decode(0xd5033b9f).imm], ['DSB', 11]);
  assert.deepEqual([decode(0xd4024682).op, decode(0xd4024682).imm], ['HVC', 0x1234]);
});

test('guest blocks: unallocated and out-of-set encodings decode to UNDEFINED (EC 0x00)', () => {
  for (const w of [0x00000000, 0xffffffff, 0x1e202800 /* fadd */, 0x00001234 /* udf */, 0x69c00420 /* ldpsw wb overlap */,
    0xd69f0000 /* eret with Rn != 31 */, 0x9ac01020 /* unallocated dp-2src */, 0x38201020 /* ldclrb: LSE outside the set */]) {
    assert.equal(decode(w).op, 'UNDEFINED', w.toString(16));
  }
  assert.equal(decode(0xffffffff).raw, 0xffffffff);
});
