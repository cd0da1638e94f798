// The pure parts the server's features are built on: canonical spacing (formatting) and the completion context
// scan (which block, what was typed), without a server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalSpacing } from '../../language-server/formatting';
import { contextAt } from '../../language-server/completion';
import { hexGrouped, sizeForm } from '../../language-server/positions';

test('canonical spacing: one space between words, none around = and inside brackets, a space after list commas', () => {
  assert.equal(canonicalSpacing('memslot   1 gpa = 0x8000_0000  size=64K'), 'memslot 1 gpa=0x8000_0000 size=64K');
  assert.equal(canonicalSpacing('enable_cap 207 flags=1 args=[ 4,1 ,0,0 ]'), 'enable_cap 207 flags=1 args=[4, 1, 0, 0]');
  assert.equal(canonicalSpacing('vcpu_init 0 features=spe,pmu_v3'), 'vcpu_init 0 features=spe,pmu_v3');
  assert.equal(canonicalSpacing('memslot 0 gpa=0 size=2M backing=hugetlb-2M'), 'memslot 0 gpa=0 size=2M backing=hugetlb-2M');
  // whether there was whitespace is kept: `-1` stays unary, `a - b` stays binary
  assert.equal(canonicalSpacing('write 0x1000 u64 -1'), 'write 0x1000 u64 -1');
  assert.equal(canonicalSpacing('write  0x1000   u64 (1 << 12)   |  0xff'), 'write 0x1000 u64 (1 << 12) | 0xff');
  assert.equal(canonicalSpacing('load 0 file "a  b.bin"'), 'load 0 file "a  b.bin"');
  assert.equal(canonicalSpacing('lock 0 read "unterminated'), undefined);
});

test('completion context: the enclosing block by a backward brace scan', () => {
  const lines = ['machine { flavour spe-rfc-v5 }', 'guest at 0x4000_0000 {', 'start: mov x0, #1', '}', 'host {', '    memslot 0 gpa=0 size=2M // { not a block', '    lock ', '}', ''];
  assert.deepEqual(contextAt(lines, { line: 6, character: 9 }), { block: 'host', prefix: '    lock ' });
  assert.deepEqual(contextAt(lines, { line: 2, character: 10 }), { block: 'guest', prefix: 'start: mov' });
  assert.deepEqual(contextAt(lines, { line: 0, character: 17 }), { block: 'machine', prefix: ' flavour' });
  assert.equal(contextAt(lines, { line: 8, character: 0 }).block, 'top');
  assert.equal(contextAt(['host {', '    load 0 file "}"', '    '], { line: 2, character: 4 }).block, 'host', 'braces in strings do not count');
});

test('number forms: grouped hex and sizes that read as sizes', () => {
  assert.equal(hexGrouped(0x4000_0000n), '0x4000_0000');
  assert.equal(hexGrouped(0xc6000004n), '0xc600_0004');
  assert.equal(hexGrouped(0x123n), '0x123');
  assert.equal(sizeForm(2n << 20n), '2M');
  assert.equal(sizeForm(64n << 10n), '64K');
  assert.equal(sizeForm(0x4010_0000n), undefined);
  assert.equal(sizeForm(3n), undefined);
});
