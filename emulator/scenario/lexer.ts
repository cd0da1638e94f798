// The `.kvms` lexer (LANGUAGE.md "Lexical"): the whole text becomes one token array up front, so the parser can
// backtrack between a statement's forms and re-join NAME-with-dash tokens by their offsets.
//
// Comments (`//…`, `/*…*/`) are whitespace; a block comment spanning lines does not end a statement.
// Lexical problems are attached to tokens (`Token.error`) instead of being reported here: guest block bodies
// are lexed too (to find their closing `}`), and only the assembler judges their text.

import { PUNCTUATORS, type Range, type Token, type TokenKind } from './tokens';

/** A token; its Range objects are built on first use (most tokens never need them: guest bodies, keywords). */
class LexToken implements Token {
  private r: Range | undefined;
  constructor(
    readonly kind: TokenKind, readonly text: string,
    private readonly line: number, private readonly col: number, readonly offset: number, readonly endOffset: number,
    readonly num: bigint | null | undefined, readonly str: string | undefined, readonly error: string | undefined,
  ) {}
  /** every token lies on one line (a newline token ends just after its "\n", on the same line) */
  get range(): Range {
    return (this.r ??= {
      start: { line: this.line, col: this.col, offset: this.offset },
      end: { line: this.line, col: this.col + this.endOffset - this.offset, offset: this.endOffset },
    });
  }
}

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
  const r = numberValue(text);
  return typeof r === 'bigint' ? { value: r } : { error: r };
}

/** parseNumberText without the result object (the lexer calls it for every number): the value or the error */
function numberValue(text: string): bigint | string {
  // one pass over the characters (no regexes: numbers are the most common token after names)
  let k = 0;
  let radix = 10;
  if (text.length > 1 && text.charCodeAt(0) === 48) {
    const p = text.charCodeAt(1) | 0x20;
    if (p === 120) { radix = 16; k = 2; } // 0x
    else if (p === 98) { radix = 2; k = 2; } // 0b
  }
  let end = text.length;
  let mult = 1n;
  // a size suffix: K M G T are not hex digits, so they are unambiguous in every radix
  const suffix = SUFFIX[text[end - 1]];
  if (suffix !== undefined && end - 1 > k) {
    mult = suffix;
    end--;
  }
  let acc = 0;
  let big: bigint | undefined;
  let digits = 0;
  let lastUnderscore = true; // no leading `_`
  const R = BigInt(radix);
  for (let i = k; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 95) { // _ between digits only
      if (lastUnderscore) return `malformed number '${text}'`;
      lastUnderscore = true;
      continue;
    }
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if ((c | 0x20) >= 97 && (c | 0x20) <= 102) d = (c | 0x20) - 87;
    else d = 99;
    if (d >= radix) return `malformed number '${text}'`;
    lastUnderscore = false;
    digits++;
    if (big === undefined) {
      acc = acc * radix + d;
      if (acc > 2 ** 48) big = BigInt(acc);
    } else {
      big = big * R + BigInt(d);
    }
  }
  if (digits === 0 || lastUnderscore) return `malformed number '${text}'`;
  const v = (big ?? BigInt(acc)) * mult;
  if (v > U64_MAX) return `number '${text}' is above 2^64-1`;
  return v;
}

/** punctuators by their first character, longest first */
const PUNCT_BY_CHAR: (string[] | undefined)[] = (() => {
  const t: (string[] | undefined)[] = new Array(128).fill(undefined);
  for (const p of PUNCTUATORS) (t[p.charCodeAt(0)] ??= []).push(p);
  return t;
})();

/**
 * Incremental lexer: `next()` returns one token at a time (the parser keeps only the current statement's tokens
 * alive, which keeps big files cheap). After 'eof' it keeps returning 'eof'.
 */
export class Lexer {
  private i = 0;
  private line = 0;
  private lineStart = 0;
  private sLine = 0;
  private sCol = 0;
  private sOff = 0;
  private eof: Token | undefined;

  constructor(private readonly text: string) {}

  private mark(): void {
    this.sLine = this.line;
    this.sCol = this.i - this.lineStart;
    this.sOff = this.i;
  }
  private make(kind: TokenKind, num?: bigint | null, str?: string, error?: string, interned?: string): Token {
    return new LexToken(kind, interned ?? this.text.slice(this.sOff, this.i), this.sLine, this.sCol, this.sOff, this.i, num, str, error);
  }

  next(): Token {
    const text = this.text;
    const n = text.length;
    while (this.i < n) {
      const c = text.charCodeAt(this.i);
      if (c === 10) { // \n
        this.mark();
        this.i++;
        const t = this.make('newline', undefined, undefined, undefined, '\n');
        this.line++;
        this.lineStart = this.i;
        return t;
      }
      if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) { this.i++; continue; }
      if (c === 47 && text.charCodeAt(this.i + 1) === 47) { // //
        while (this.i < n && text.charCodeAt(this.i) !== 10) this.i++;
        continue;
      }
      if (c === 47 && text.charCodeAt(this.i + 1) === 42) { // /*
        this.mark();
        this.i += 2;
        let closed = false;
        while (this.i < n) {
          const d = text.charCodeAt(this.i);
          if (d === 42 && text.charCodeAt(this.i + 1) === 47) { this.i += 2; closed = true; break; }
          this.i++;
          if (d === 10) { this.line++; this.lineStart = this.i; }
        }
        // the error token is the `/*` (tokens are single-line)
        if (!closed) return new LexToken('error', '/*', this.sLine, this.sCol, this.sOff, this.sOff + 2, undefined, undefined, 'unterminated comment: missing */');
        continue;
      }
      this.mark();
      if (isDigit(c)) {
        this.i++;
        while (this.i < n && (isIdentPart(text.charCodeAt(this.i)) && text.charCodeAt(this.i) !== 46)) this.i++;
        const raw = text.slice(this.sOff, this.i);
        const r = numberValue(raw);
        return typeof r === 'bigint' ? this.make('number', r, undefined, undefined, raw) : this.make('number', null, undefined, r, raw);
      }
      if (isIdentStart(c)) {
        this.i++;
        while (this.i < n && isIdentPart(text.charCodeAt(this.i))) this.i++;
        return this.make('ident');
      }
      if (c === 34) { // "
        this.i++;
        let s = '';
        let closed = false;
        while (this.i < n) {
          const d = text.charCodeAt(this.i);
          if (d === 10) break;
          if (d === 34) { this.i++; closed = true; break; }
          if (d === 92 && this.i + 1 < n && text.charCodeAt(this.i + 1) !== 10) { // backslash escape
            const e = text[this.i + 1];
            s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
            this.i += 2;
            continue;
          }
          s += text[this.i];
          this.i++;
        }
        return closed ? this.make('string', undefined, s) : this.make('error', undefined, undefined, 'unterminated string: missing "');
      }
      const cands = c < 128 ? PUNCT_BY_CHAR[c] : undefined;
      if (cands !== undefined) {
        let p = cands[cands.length - 1];
        const c2 = text.charCodeAt(this.i + 1);
        for (let k = 0; k < cands.length; k++) {
          const x = cands[k];
          if (x.length === 1 || c2 === x.charCodeAt(1)) { p = x; break; }
        }
        this.i += p.length;
        return this.make('punct', undefined, undefined, undefined, p);
      }
      // unknown character (one UTF-16 unit, or a surrogate pair)
      this.i += (c >= 0xd800 && c <= 0xdbff && this.i + 1 < n) ? 2 : 1;
      return this.make('error', undefined, undefined, `unexpected character '${text.slice(this.sOff, this.i)}'`);
    }
    if (!this.eof) {
      this.mark();
      this.eof = this.make('eof', undefined, undefined, undefined, '');
    }
    return this.eof;
  }
}

/** Tokenize the whole text. Always ends with one 'eof' token; never throws. */
export function tokenize(text: string): Token[] {
  const lx = new Lexer(text);
  const out: Token[] = [];
  for (;;) {
    const t = lx.next();
    out.push(t);
    if (t.kind === 'eof') return out;
  }
}
