// The `.kvms` lexer (LANGUAGE.md "Lexical"): the whole text becomes one token array up front, so the parser can
// backtrack between a statement's forms and re-join NAME-with-dash tokens by their offsets.
//
// Comments (`//…`, `/*…*/`) are whitespace; a block comment spanning lines does not end a statement.
// Lexical problems are attached to tokens (`Token.error`) instead of being reported here: guest block bodies
// are lexed too (to find their closing `}`), and only the assembler judges their text.

import { PUNCTUATORS, type Position, type Token, type TokenKind } from './tokens';

const U64_MAX = (1n << 64n) - 1n;

const SUFFIX: { [k: string]: bigint } = { K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46; // A-Z a-z _ .
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Parse a number literal's text: decimal, 0x…, 0b…, `_` separators, optional K/M/G/T suffix (×1024ⁿ).
 * Returns the value, or an error message (malformed, or above 2^64-1).
 */
export function parseNumberText(text: string): { value: bigint } | { error: string } {
  let body = text;
  let mult = 1n;
  const last = body[body.length - 1];
  let radix = 10;
  let digits: string;
  if (/^0[xX]/.test(body)) {
    radix = 16;
    digits = body.slice(2);
  } else if (/^0[bB]/.test(body)) {
    radix = 2;
    digits = body.slice(2);
  } else {
    digits = body;
  }
  // a size suffix: K M G T are not hex digits, so they are unambiguous in every radix
  if (last !== undefined && SUFFIX[last] !== undefined && digits.length > 1) {
    mult = SUFFIX[last];
    digits = digits.slice(0, -1);
    body = body.slice(0, -1);
  }
  const ok = radix === 16 ? /^[0-9a-fA-F](_?[0-9a-fA-F])*_?$/ : radix === 2 ? /^[01](_?[01])*_?$/ : /^[0-9](_?[0-9])*_?$/;
  if (digits.length === 0 || !ok.test(digits) || digits.endsWith('_')) {
    return { error: `malformed number '${text}'` };
  }
  const clean = digits.replace(/_/g, '');
  let v: bigint;
  if (radix === 16) v = BigInt('0x' + clean);
  else if (radix === 2) v = BigInt('0b' + clean);
  else v = BigInt(clean);
  v *= mult;
  if (v > U64_MAX) return { error: `number '${text}' is above 2^64-1` };
  return { value: v };
}

/** Tokenize the whole text. Always ends with one 'eof' token; never throws. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const n = text.length;
  let i = 0;
  let line = 0;
  let lineStart = 0;
  const here = (): Position => ({ line, col: i - lineStart, offset: i });
  const push = (kind: TokenKind, start: Position, extra?: Partial<Token>) => {
    out.push({ kind, text: text.slice(start.offset, i), range: { start, end: here() }, ...extra });
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) { // \n
      const start = here();
      i++;
      out.push({ kind: 'newline', text: '\n', range: { start, end: { line, col: i - lineStart, offset: i } } });
      line++;
      lineStart = i;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) { i++; continue; }
    if (c === 47 && text.charCodeAt(i + 1) === 47) { // //
      while (i < n && text.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) { // /*
      const start = here();
      i += 2;
      let closed = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 42 && text.charCodeAt(i + 1) === 47) { i += 2; closed = true; break; }
        i++;
        if (d === 10) { line++; lineStart = i; }
      }
      if (!closed) push('error', start, { error: 'unterminated comment: missing */' });
      continue;
    }
    const start = here();
    if (isDigit(c)) {
      i++;
      while (i < n && (isIdentPart(text.charCodeAt(i)) && text.charCodeAt(i) !== 46)) i++;
      const t = text.slice(start.offset, i);
      const r = parseNumberText(t);
      if ('value' in r) push('number', start, { num: r.value });
      else push('number', start, { num: null, error: r.error });
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(text.charCodeAt(i))) i++;
      push('ident', start);
      continue;
    }
    if (c === 34) { // "
      i++;
      let s = '';
      let closed = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 10) break;
        if (d === 34) { i++; closed = true; break; }
        if (d === 92 && i + 1 < n && text.charCodeAt(i + 1) !== 10) { // backslash escape
          const e = text[i + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        s += text[i];
        i++;
      }
      if (closed) push('string', start, { str: s });
      else push('error', start, { error: 'unterminated string: missing "' });
      continue;
    }
    let matched = false;
    for (const p of PUNCTUATORS) {
      if (text.startsWith(p, i)) {
        i += p.length;
        push('punct', start);
        matched = true;
        break;
      }
    }
    if (matched) continue;
    // unknown character (one UTF-16 unit, or a surrogate pair)
    i += (c >= 0xd800 && c <= 0xdbff && i + 1 < n) ? 2 : 1;
    push('error', start, { error: `unexpected character '${text.slice(start.offset, i)}'` });
  }
  const end = here();
  out.push({ kind: 'eof', text: '', range: { start: end, end } });
  return out;
}
