import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../../emulator/scenario/parser';
import { evaluate, compare } from '../../../emulator/scenario/expr';
import type { Expr } from '../../../emulator/scenario/ast';

function expr(text: string): Expr {
  const r = parse(`const X = ${text}\n`);
  assert.deepEqual(r.diagnostics, [], text);
  return r.ast.consts[0].value;
}
const env = { lookup: (n: string) => (n === 'A' ? 0x10n : n === 'U' ? undefined : 'undefined' as const) };
const val = (text: string) => evaluate(expr(text), env).value;

test('Expressions: arithmetic is modulo 2^64 and -1 is 0xffff_ffff_ffff_ffff', () => {
  assert.equal(val('-1'), 0xffff_ffff_ffff_ffffn);
  assert.equal(val('0xffff_ffff_ffff_ffff + 2'), 1n);
  assert.equal(val('0 - 1'), 0xffff_ffff_ffff_ffffn);
  assert.equal(val('~0'), 0xffff_ffff_ffff_ffffn);
  assert.equal(val('1 << 64'), 0n);
  assert.equal(val('0x8000_0000_0000_0000 * 2'), 0n);
});

test('Expressions: >> is logical and / % are unsigned', () => {
  assert.equal(val('-1 >> 60'), 0xfn);
  assert.equal(val('-2 / 2'), 0x7fff_ffff_ffff_ffffn);
  assert.equal(val('-1 % 10'), 5n);
});

test('Expressions: C precedence (* / % > + - > << >> > & > ^ > |) and parentheses', () => {
  assert.equal(val('1 + 2 * 3'), 7n);
  assert.equal(val('(1 + 2) * 3'), 9n);
  assert.equal(val('1 << 2 + 1'), 8n);
  assert.equal(val('0xf0 | 0x0f & 0x3c'), 0xfcn);
  assert.equal(val('1 | 2 ^ 3'), 1n | (2n ^ 3n));
  assert.equal(val('6 & 3 ^ 1'), (6n & 3n) ^ 1n);
  assert.equal(val('10 - 3 - 2'), 5n);
  assert.equal(val('A * 2'), 0x20n);
});

test('Expressions: division by zero and undefined names are problems; unknown values stay undefined', () => {
  const d = evaluate(expr('4 / (A - A)'), env);
  assert.equal(d.value, undefined);
  assert.equal(d.problems[0].code, 'division');
  const u = evaluate(expr('NOPE + 1'), env);
  assert.equal(u.problems[0].code, 'undefined-name');
  const k = evaluate(expr('U + 1'), env);
  assert.equal(k.value, undefined);
  assert.deepEqual(k.problems, []);
});

test('Expressions: == != compare bit patterns, < <= > >= are unsigned', () => {
  assert.equal(compare('==', -1n, 0xffff_ffff_ffff_ffffn), true);
  assert.equal(compare('<', 1n, 0xffff_ffff_ffff_ffffn), true);
  assert.equal(compare('>', 0x8000_0000_0000_0000n, 1n), true);
  assert.equal(compare('!=', 1n, 2n), true);
  assert.equal(compare('<=', 2n, 2n), true);
  assert.equal(compare('>=', 1n, 2n), false);
});

test('Expressions: a literal above 2^64-1 is a diagnostic', () => {
  const r = parse('const X = 0x1_0000_0000_0000_0000\n');
  assert.equal(r.diagnostics.length, 1);
  assert.match(r.diagnostics[0].message, /above 2\^64-1/);
});
