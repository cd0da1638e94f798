// Bad input (issue 6): binary junk, a 1 MB file, half-typed statements, deep nesting — the server answers every
// request (an empty result at worst) and stays alive. No timing assertions here: test/bench/lsp.bench.ts measures.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LspClient, ROOT } from './client';

let client: LspClient;
before(async () => { client = await LspClient.start(); });
after(async () => { await client.stop(); });

const LOCK = readFileSync(resolve(ROOT, 'test', 'fixtures', 'lsp', 'lock.kvms'), 'utf8');

/** deterministic pseudo-random generator (tests must repeat) */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

/** every request kind at a few positions: each must answer (null/empty is fine) */
async function exercise(uri: string, text: string): Promise<void> {
  const lines = text.split('\n');
  const positions = [{ line: 0, character: 0 }, { line: Math.floor(lines.length / 2), character: 3 }, { line: lines.length - 1, character: (lines[lines.length - 1] ?? '').length }];
  const doc = { textDocument: { uri } };
  const whole = { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } };
  for (const position of positions) {
    await client.request('textDocument/hover', { ...doc, position });
    const c = await client.request<unknown[]>('textDocument/completion', { ...doc, position });
    assert.ok(Array.isArray(c));
    await client.request('textDocument/definition', { ...doc, position });
    await client.request('textDocument/references', { ...doc, position, context: { includeDeclaration: true } });
    await client.request('textDocument/prepareRename', { ...doc, position });
  }
  for (const [method, extra] of [
    ['textDocument/documentSymbol', {}], ['textDocument/foldingRange', {}], ['textDocument/semanticTokens/full', {}],
    ['textDocument/semanticTokens/range', { range: whole }], ['textDocument/formatting', { options: { tabSize: 4, insertSpaces: true } }],
    ['textDocument/inlayHint', { range: whole }], ['textDocument/codeLens', {}],
  ] as const) {
    const r = await client.request<unknown>(method, { ...doc, ...extra });
    assert.notEqual(r, undefined, method);
  }
  assert.equal(client.exited, false, 'the server is alive');
}

let n = 0;
async function openAndExercise(text: string): Promise<void> {
  const uri = `file:///scratch/bad-${n++}.kvms`;
  const d = await client.open(uri, text);
  assert.ok(Array.isArray(d.diagnostics));
  await exercise(uri, text);
  await client.close(uri);
}

test('random bytes: the server answers every request and stays alive', async () => {
  const r = prng(6);
  for (let k = 0; k < 3; k++) {
    const text = Array.from({ length: 20_000 }, () => String.fromCharCode(Math.floor(r() * (k === 2 ? 0x10000 : 256)))).join('');
    await openAndExercise(text);
  }
});

test('a 1 MB file (valid statements and binary junk) gets diagnostics and answers', async () => {
  const lines = [LOCK.replace(/\n}\s*$/, '\n')];
  while (lines.join('\n').length < 1 << 20) lines.push('    memslot 3 gpa=0x9000_0000 size=64K dirty_log => EEXIST   // again');
  lines.push('}');
  await openAndExercise(lines.join('\n'));
  const r = prng(7);
  await openAndExercise(Array.from({ length: 1 << 20 }, () => String.fromCharCode(Math.floor(r() * 256))).join(''));
});

test('half-typed statements, one character at a time: every version gets diagnostics', async () => {
  const uri = 'file:///scratch/typing.kvms';
  const base = LOCK.replace(/\n}\s*$/, '\n');
  await client.open(uri, base + '}\n');
  const typed = '    lock 1 read write => EP\n    expect event stage2-fault kind=per\n    memslot 9 gpa=(RAM + ';
  let version = 1;
  for (let i = 1; i <= typed.length; i += 3) {
    const text = base + typed.slice(0, i) + '\n}\n';
    const d = await client.change(uri, text, ++version);
    assert.equal(d.version, version);
    await client.request('textDocument/completion', { textDocument: { uri }, position: { line: text.split('\n').length - 3, character: 4 } });
  }
  await exercise(uri, base + typed);
  await client.close(uri);
});

test('pathological shapes: deep parentheses, a huge guest block of bad lines, unterminated strings and comments', async () => {
  await openAndExercise('host {\n    write 0 u64 ' + '('.repeat(50_000) + '\n}\n');
  await openAndExercise('guest at 0 {\n' + Array.from({ length: 5000 }, (_, i) => `l${i}: ldr x0, =l${i} + junk #`).join('\n') + '\n}\n');
  await openAndExercise('scenario "unterminated\nhost {\n /* never closed\n lock 0 read\n');
  await openAndExercise('\u0000\uffff\ud800 host { guest at { machine { } } } } } => => =>\n' + '{'.repeat(10_000));
});

test('requests for unknown documents answer empty results', async () => {
  const uri = 'file:///scratch/never-opened.kvms';
  assert.equal(await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } }), null);
  assert.deepEqual(await client.request('textDocument/documentSymbol', { textDocument: { uri } }), []);
  assert.deepEqual(await client.request('textDocument/semanticTokens/full', { textDocument: { uri } }), { data: [] });
});
