import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, parseNumberText } from '../../../emulator/scenario/lexer';

const kinds = (s: string) => tokenize(s).map((t) => `${t.kind}:${t.text}`);

test('Lexical: numbers with _ separators, 0x/0b and K/M/G/T suffixes (×1024ⁿ)', () => {
  const v = (s: string) => { const r = parseNumberText(s); return 'value' in r ? r.value : r.error; };
  assert.equal(v('0x4000_0000'), 0x4000_0000n);
  assert.equal(v('0b1010'), 10n);
  assert.equal(v('1_000'), 1000n);
  assert.equal(v('2M'), 2n << 20n);
  assert.equal(v('64K'), 65536n);
  assert.equal(v('1G'), 1n << 30n);
  assert.equal(v('1T'), 1n << 40n);
  assert.equal(v('0xffff_ffff_ffff_ffff'), (1n << 64n) - 1n);
  assert.match(String(v('0x1_0000_0000_0000_0000')), /above 2\^64-1/);
  assert.match(String(v('16T') === (16n << 40n) ? 'ok' : 'bad'), /ok/);
  assert.match(String(v('12abc')), /malformed/);
  assert.match(String(v('0x')), /malformed/);
  assert.match(String(v('0b102')), /malformed/);
});

test('Lexical: a number token keeps its value; malformed/too big carry an error, never throw', () => {
  const [t] = tokenize('0x4000_0000');
  assert.equal(t.kind, 'number');
  assert.equal(t.num, 0x40000000n);
  const [big] = tokenize('99999999999999999999999');
  assert.equal(big.num, null);
  assert.match(big.error!, /above 2\^64-1/);
});

test('Lexical: strings with \\" and \\\\ escapes; unterminated string is an error token', () => {
  const [s] = tokenize('"a \\"q\\" b\\\\c"');
  assert.equal(s.kind, 'string');
  assert.equal(s.str, 'a "q" b\\c');
  const [u] = tokenize('"open');
  assert.equal(u.kind, 'error');
  assert.match(u.error!, /unterminated string/);
});

test('Lexical: // and /* */ comments are skipped; newlines end statements', () => {
  assert.deepEqual(kinds('a // x\nb /* y\nz */ c'), ['ident:a', 'newline:\n', 'ident:b', 'ident:c', 'eof:']);
  const t = tokenize('/* never closed');
  assert.equal(t[0].kind, 'error');
});

test('Lexical: identifiers [A-Za-z_.][A-Za-z0-9_.]*, operators longest first', () => {
  assert.deepEqual(kinds('b.eq x<<2 => == != <= >= >> & ~'), [
    'ident:b.eq', 'ident:x', 'punct:<<', 'number:2', 'punct:=>', 'punct:==', 'punct:!=', 'punct:<=', 'punct:>=', 'punct:>>', 'punct:&', 'punct:~', 'eof:',
  ]);
});

test('Lexical: NAME-with-dash is several touching tokens with exact positions (the parser joins them)', () => {
  const t = tokenize('flavour spe-rfc-v5\n  mainline-5.15');
  const texts = t.map((x) => x.text);
  assert.deepEqual(texts, ['flavour', 'spe', '-', 'rfc', '-', 'v5', '\n', 'mainline', '-', '5', '.15', '']);
  const v5 = t[5];
  assert.deepEqual([v5.range.start.line, v5.range.start.col, v5.range.end.col], [0, 16, 18]);
  const m = t[7];
  assert.deepEqual([m.range.start.line, m.range.start.col, m.range.start.offset], [1, 2, 21]);
});

test('Lexical: 0-based line/col, col in UTF-16 units, unknown characters are error tokens', () => {
  const t = tokenize('x\n  @ y');
  assert.equal(t[2].kind, 'error');
  assert.deepEqual([t[2].range.start.line, t[2].range.start.col], [1, 2]);
  assert.deepEqual([t[3].range.start.line, t[3].range.start.col], [1, 4]);
});

test('Lexical: number literals agree with BigInt for random values in every radix, with _ and suffixes', async () => {
  const fc = (await import('fast-check')).default;
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(2, 10, 16), fc.nat({ max: 5 }), (v, radix, us) => {
    let digits = v.toString(radix);
    if (us > 0 && digits.length > us) digits = digits.slice(0, us) + '_' + digits.slice(us);
    const text = (radix === 16 ? '0x' : radix === 2 ? '0b' : '') + digits;
    const r = parseNumberText(text);
    assert.ok('value' in r && r.value === v, text);
    const k = parseNumberText(`${v % 1000n}K`);
    assert.ok('value' in k && k.value === (v % 1000n) * 1024n);
  }), { numRuns: 500 });
});
