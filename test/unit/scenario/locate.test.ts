import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../../emulator/scenario/parser';
import { locate, statementAtLine, tokenAt } from '../../../emulator/scenario/locate';

const text = [
  'const DATA = 0x8000_0000',                               // 0
  'machine { flavour spe-rfc-v5  vcpus 2 }',                // 1
  'guest at DATA {',                                        // 2
  'start: nop',                                             // 3
  '}',                                                      // 4
  'host {',                                                 // 5
  '    memslot 0 gpa=DATA + 0x1000 size=2M readonly',       // 6
  '    lock 0 read         => EPERM',                       // 7
  '    run 0 => exit mmio addr=0x10',                       // 8
  '}',
].join('\n');
const ast = parse(text).ast;

test('locate: machine key and value, statement keyword, option key/value, flag, names in expressions', () => {
  assert.equal(locate(ast, { line: 1, col: 12 }).role, 'machine-key');
  const fv = locate(ast, { line: 1, col: 22 });
  assert.equal(fv.role, 'machine-value');
  assert.equal(fv.word?.text, 'spe-rfc-v5');
  const kw = locate(ast, { line: 6, col: 6 });
  assert.equal(kw.role, 'statement-keyword');
  assert.equal(kw.statement?.form, 'memslot');
  assert.equal(locate(ast, { line: 6, col: 15 }).role, 'option-key');
  const ref = locate(ast, { line: 6, col: 20 });
  assert.equal(ref.role, 'option-value');
  assert.equal(ref.expr?.kind === 'ref' ? ref.expr.name : '', 'DATA');
  const flag = locate(ast, { line: 6, col: 44 });
  assert.equal(flag.role, 'flag');
  assert.equal(flag.word?.text, 'readonly');
});

test('locate: results (errno, exit options), guest lines with labels, const names', () => {
  const r = locate(ast, { line: 7, col: 30 });
  assert.equal(r.role, 'result');
  assert.equal(r.result?.kind, 'errno');
  const ex = locate(ast, { line: 8, col: 24 });
  assert.equal(ex.role, 'option-key');
  const g = locate(ast, { line: 3, col: 2 });
  assert.equal(g.role, 'guest-line');
  assert.equal(g.word?.text, 'start');
  assert.equal(locate(ast, { line: 0, col: 7 }).role, 'const-name');
  assert.equal(locate(ast, { line: 20, col: 0 }).role, 'none');
});

test('statementAtLine (debugger line -> statement) and tokenAt', () => {
  assert.equal(statementAtLine(ast.host!.statements, 7)?.form, 'lock');
  assert.equal(statementAtLine(ast.host!.statements, 5), undefined);
  assert.equal(tokenAt(text, { line: 7, col: 6 })?.text, 'lock');
  assert.equal(tokenAt(text, { line: 1, col: 18 })?.text, 'spe');
});
