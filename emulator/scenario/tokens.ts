// Tokens and source positions of the `.kvms` language (LANGUAGE.md "Lexical").
//
// Position convention (the LSP's): `line` and `col` are 0-based; `col` counts UTF-16 code units (JS string
// indices), so a Position converts to an LSP Position as-is. `offset` is the index into the whole text.
// A Range is half-open: `end` is the position just after the last character.

export interface Position {
  readonly line: number;
  readonly col: number;
  readonly offset: number;
}

export interface Range {
  readonly start: Position;
  readonly end: Position;
}

export type TokenKind =
  | 'ident'   // [A-Za-z_.][A-Za-z0-9_.]*
  | 'number'  // decimal / 0x / 0b, `_` separators, K M G T suffix; `value` is null when malformed or > 2^64-1
  | 'string'  // "…" with \" and \\ ; `value` is the unescaped text
  | 'punct'   // operators and brackets; `text` is the operator
  | 'newline' // ends a statement
  | 'error'   // an unknown character, unterminated string or comment
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** the source text of the token (for 'newline' "\n", for 'eof' "") */
  readonly text: string;
  /** text offsets of the first character and just after the last (cheap: `range` is built on first use) */
  readonly offset: number;
  readonly endOffset: number;
  readonly range: Range;
  /** number tokens: the value (null if malformed or too big: see `error`) */
  readonly num?: bigint | null;
  /** string tokens: the unescaped value */
  readonly str?: string;
  /**
   * A lexical problem with this token (malformed number, literal above 2^64-1, unterminated string/comment,
   * unknown character). The lexer does not report it: the parser does, when the token is part of host syntax
   * (guest block bodies are re-read by the assembler, which has its own rules).
   */
  readonly error?: string;
}

export const PUNCTUATORS: readonly string[] = [
  // longest first: the lexer takes the first match
  '=>', '==', '!=', '<=', '>=', '<<', '>>',
  '{', '}', '(', ')', '[', ']', ',', '=', '&', '|', '^', '~', '+', '-', '*', '/', '%', '<', '>', '!', ':', '#',
];

export function pos(line: number, col: number, offset: number): Position {
  return { line, col, offset };
}

export function rangeOf(start: Position, end: Position): Range {
  return { start, end };
}

/** true when `p` lies inside `r` (end inclusive, as an editor cursor right after a token still "touches" it) */
export function rangeContains(r: Range, p: { line: number; col: number }): boolean {
  if (p.line < r.start.line || p.line > r.end.line) return false;
  if (p.line === r.start.line && p.col < r.start.col) return false;
  if (p.line === r.end.line && p.col > r.end.col) return false;
  return true;
}
