// LDRSW (literal) reads one word (Arm ARM C6.2 "LDRSW (literal)": datasize 32) and sign-extends it. Found by the
// QEMU differential test (qemu-diff.test.ts, MMU-off batches): the interpreter read 8 bytes, so with the MMU off
// (Device memory) a literal that is 4- but not 8-byte aligned took an alignment fault, and a literal in the last
// word of a page also touched the next one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE, asm, rig } from './harness';

test('LDRSW (literal): a 4-byte aligned literal with the MMU off loads without an alignment fault', () => {
  // the literal on its own data page (never fetched from), at 4 mod 8: Device memory with the MMU off
  const lit = CODE + 0x1004;
  const r = rig('ldrsw x0, . + 0x1004\nhvc #0');
  r.mem.write32(lit, 0x8000_0001);
  const e = r.run();
  assert.equal(e.kind, 'hvc', JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v)));
  assert.equal(r.cpu.getX(0), 0xffff_ffff_8000_0001n);
});

test('LDRSW (literal): a literal in the last word of a page does not touch the next (unmapped) page', () => {
  const r = rig();
  const page = 0x3000;
  r.s2.unmap(page + 0x1000, 0x1000);
  // nop at page, ldrsw at page+4 and ldr at page+8, both naming the literal in the page's last word (page+0xffc)
  r.load(page, asm('nop\nldrsw x0, . + 0xff8\nldr w1, . + 0xff4\nhvc #0'));
  r.mem.write32(page + 0xffc, 0x7fff_fffe);
  r.cpu.setPc(BigInt(page));
  const e = r.run();
  assert.equal(e.kind, 'hvc', JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v)));
  assert.equal(r.cpu.getX(0), 0x7fff_fffen);
  assert.equal(r.cpu.getX(1), 0x7fff_fffen);
});
