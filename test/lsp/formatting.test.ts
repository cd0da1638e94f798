// Formatting (issue 6 item 5): aligned `=>` columns and canonical spacing, idempotent on every fixture and
// example, and never changing what a statement means.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TextEdit } from 'vscode-languageserver-protocol';
import { LspClient, ROOT } from './client';
import { applyEdits } from './util';

let client: LspClient;
before(async () => { client = await LspClient.start(); });
after(async () => { await client.stop(); });

const OPTIONS = { tabSize: 4, insertSpaces: true };
let n = 0;

async function format(text: string): Promise<string> {
  const uri = `file:///scratch/format-${n++}.kvms`;
  await client.open(uri, text);
  const edits = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: OPTIONS });
  await client.close(uri);
  return applyEdits(text, edits);
}

const dirFiles = (dir: string) => existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.kvms')).map((f) => resolve(dir, f)) : [];
const files = [...dirFiles(resolve(ROOT, 'test', 'fixtures', 'lsp')), ...dirFiles(resolve(ROOT, 'examples'))];

test('formatting is idempotent on every fixture and example', async () => {
  assert.ok(files.length >= 3);
  for (const f of files) {
    const once = await format(readFileSync(f, 'utf8'));
    const twice = await format(once);
    assert.equal(twice, once, `${f}: formatting the formatted text changes it`);
  }
});

test('formatting aligns `=>` in a paragraph, normalises spacing and indentation, keeps comments', async () => {
  const out = await format(readFileSync(resolve(ROOT, 'test', 'fixtures', 'lsp', 'messy.kvms'), 'utf8'));
  const lines = out.split('\n');
  assert.ok(lines.includes('    flavour spe-rfc-v5'));
  assert.ok(lines.includes('    memslot 1 gpa=0x8000_0000 size=64K readonly'));
  const para = ['    lock 0 read write => ok', '    lock 1 read write => EPERM', '    lock 9 read       => EINVAL'];
  for (const p of para) assert.ok(lines.some((l) => l.startsWith(p)), p);
  assert.ok(lines.includes('    enable_cap KVM_CAP_ARM_LOCK_USER_MEMORY_REGION flags=1 args=[4, 1, 0, 0] => EINVAL'));
  assert.ok(lines.includes('    // a comment line'));
  // trailing comments of a paragraph share a column
  const c1 = lines.find((l) => l.includes('// the code'))!.indexOf('//');
  const c2 = lines.find((l) => l.includes('// E.3#6'))!.indexOf('//');
  assert.equal(c1, c2);
  assert.ok(!lines.some((l) => /\s$/.test(l)), 'no trailing whitespace');
});

test('formatting leaves guest code columns and a document with syntax errors alone', async () => {
  const text = 'guest at 0x4000_0000 {\nstart:   mov   x0,   #1   \n}\nhost {\n  memslot 0 gpa=0 size=\n}\n';
  assert.equal(await format(text), text, 'syntax error: no edits');
  const ok = 'guest at 0x4000_0000 {\nstart:   mov   x0,   #1   \n}\n';
  assert.equal(await format(ok), 'guest at 0x4000_0000 {\nstart:   mov   x0,   #1\n}\n');
});

test('formatting with tabs indents host statements with a tab', async () => {
  const uri = 'file:///scratch/format-tabs.kvms';
  const text = 'host {\n  memslot 0 gpa=0x4000_0000 size=2M\n}\n';
  await client.open(uri, text);
  const edits = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 8, insertSpaces: false } });
  assert.equal(applyEdits(text, edits), 'host {\n\tmemslot 0 gpa=0x4000_0000 size=2M\n}\n');
  await client.close(uri);
});
