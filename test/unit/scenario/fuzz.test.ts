import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { analyse } from '../../../emulator/scenario/index';
import { locate } from '../../../emulator/scenario/locate';
import type { Diagnostic } from '../../../emulator/scenario/diagnostics';
import { HOST_FORMS, MACHINE_KEYS } from '../../../emulator/scenario/vocabulary';

const fixtures = ['lock-api', 'mmio-guard'].map((n) => readFileSync(new URL(`./fixtures/${n}.kvms`, import.meta.url), 'utf8'));

/** parse + check never throw, never report an internal error, and every range lies inside the text */
function wellBehaved(text: string): void {
  const lines = text.split('\n');
  let r: ReturnType<typeof analyse>;
  try {
    r = analyse(text);
  } catch (e) {
    assert.fail(`threw on ${JSON.stringify(text.slice(0, 200))}: ${e}`);
  }
  const bad = (d: Diagnostic) => {
    const { start, end } = d.range;
    if (d.code === 'internal') return true;
    if (start.line < 0 || end.line < start.line || end.line >= lines.length + 1) return true;
    if (start.line === end.line && end.col < start.col) return true;
    return start.col < 0 || start.col > (lines[start.line]?.length ?? 0);
  };
  const wrong = r.diagnostics.filter(bad);
  assert.deepEqual(wrong, [], JSON.stringify(text.slice(0, 300)));
  // the language server's lookups never throw either
  locate(r.ast, { line: Math.floor(lines.length / 2), col: 3 });
}

const TOKENS = [
  ...HOST_FORMS.map((f) => f.keyword), ...MACHINE_KEYS.map((k) => k.key), 'machine', 'host', 'guest', 'at', 'const', 'scenario',
  '{', '}', '(', ')', '[', ']', '=', '=>', '==', '&', '|', '<<', '>>', '-', '~', ',', '\n', '\n', '\n', '"s"', '"', '/*', '*/', '//',
  '0', '0x4000_0000', '2M', '99999999999999999999999', '0b2', 'x0', 'read', 'write', 'delete', 'gpa=', 'size=', 'slot=', 'EINVAL',
  'exit', 'mmio', 'pages', 'ok', 'event', 'stage2', 'mapped', 'spe-rfc-v5', 'hugetlb-2M', 'backing=', 'features=', 'hva(0)', 'pa(',
  'nop', 'b', 'start:', 'ldr', 'x1,', '#1', '=MMIO_GUARD_MAP',
];

test('fuzz: random strings never throw and give well-formed diagnostics', () => {
  fc.assert(fc.property(fc.string({ maxLength: 300, unit: 'binary' }), wellBehaved), { numRuns: 400 });
});

test('fuzz: token soup (language words in random order) never throws', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 120 }), fc.constantFrom(' ', '', '  '), (ts, sep) => wellBehaved(ts.join(sep))), { numRuns: 600 });
});

test('fuzz: mutations of the LANGUAGE.md examples (delete / insert / replace) never throw', () => {
  const mutation = fc.record({
    which: fc.nat({ max: fixtures.length - 1 }),
    edits: fc.array(fc.record({ at: fc.nat(), del: fc.nat({ max: 8 }), ins: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...TOKENS)) }), { minLength: 1, maxLength: 6 }),
  });
  fc.assert(fc.property(mutation, ({ which, edits }) => {
    let t = fixtures[which];
    for (const e of edits) {
      const at = e.at % (t.length + 1);
      t = t.slice(0, at) + e.ins + t.slice(at + e.del);
    }
    wellBehaved(t);
  }), { numRuns: 600 });
});

test('fuzz: lines of host statements with random arguments are checked without exceptions', () => {
  const value = fc.oneof(fc.constantFrom('0', '1', '-1', '0x4000_0000', '2M', '4K', 'hva(0)', 'pa(1)', 'start', '1/0', '(1<<64)', 'EINVAL'), fc.bigInt({ min: 0n, max: (1n << 70n) }).map(String));
  const line = fc.tuple(fc.constantFrom(...HOST_FORMS), fc.array(value, { maxLength: 4 }), fc.array(fc.constantFrom('read', 'write', 'readonly', 'dirty_log', 'gpa=', 'size=', 'steps=', '&', '=> EBUSY', '=> ok', '=> exit mmio'), { maxLength: 3 }))
    .map(([f, vs, ws]) => `${f.syntax.split(' ').slice(0, 2).join(' ')} ${vs.join(' ')} ${ws.join(' ')}`);
  fc.assert(fc.property(fc.constantFrom('', 'flavour mainline-5.15', 'flavour pkvm-v3 mode protected', 'vcpus 2 page_size 64K'), fc.array(line, { maxLength: 25 }), (m, ls) => {
    wellBehaved(`machine { ${m} }\nguest at 0x4000_0000 {\nstart: nop\n}\nhost {\n${ls.join('\n')}\n}\n`);
  }), { numRuns: 300 });
});
