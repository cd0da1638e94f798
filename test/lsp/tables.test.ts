// The language server's own tables stay in step with the emulator: every rule id the emulator or the checker
// cites has an errno-rule entry (hover on errnos and on `lock`), and every mnemonic/directive offered by
// completion assembles with the real assembler.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './client';
import { ERRNO_RULES } from '../../language-server/errnoRules';
import { DIRECTIVES, MNEMONICS, mnemonicDoc } from '../../language-server/mnemonics';
import { assembleProgram } from '../../emulator/cpu/assembler';
import { vocabulary } from '../../emulator/scenario';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('every (errno, rule) the emulator fails with or the checker predicts has a hover entry', () => {
  const pairs = new Set<string>();
  for (const f of sources(resolve(ROOT, 'emulator'))) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/fail\(\s*'(E[A-Z]+)',\s*'([A-H](?:\.\d+)?#?[\w-]*)'/g)) pairs.add(`${m[1]} ${m[2]}`);
    for (const m of text.matchAll(/errno:\s*'(E[A-Z]+)',\s*rule:\s*'([A-H](?:\.\d+)?#?[\w-]*)'/g)) pairs.add(`${m[1]} ${m[2]}`);
  }
  assert.ok(pairs.size > 40, `found ${pairs.size} rule ids`);
  const known = new Set(ERRNO_RULES.map((r) => `${r.errno} ${r.rule}`));
  const missing = [...pairs].filter((p) => !known.has(p));
  assert.deepEqual(missing, [], 'rules without an errnoRules.ts entry');
});

test('errno rules use only errno names of the language', () => {
  for (const r of ERRNO_RULES) assert.ok(vocabulary.ERRNOS.includes(r.errno), r.errno);
});

test('every completion mnemonic and directive assembles (the assembler is the authority)', () => {
  const all = [...MNEMONICS.map((m) => m.example), ...DIRECTIVES.map((d) => d.example)];
  for (const line of all) {
    const r = assembleProgram([{ base: 0x4000_0000n, source: `\n${line}\n`, line: 1 }], () => undefined);
    assert.deepEqual(r.diagnostics.map((d) => d.message), [], line);
  }
});

test('mnemonic docs cover condition and size variants', () => {
  assert.equal(mnemonicDoc('b.ne')?.name, 'b.eq');
  assert.equal(mnemonicDoc('LDADDALH')?.name, 'ldadd');
  assert.equal(mnemonicDoc('.quad')?.name, '.quad');
  assert.equal(mnemonicDoc('frobnicate'), undefined);
});
