// Helpers for the LSP tests: positions by text search, applying edits, decoding semantic tokens.

import type { Position, TextEdit } from 'vscode-languageserver-protocol';
import { SEMANTIC_TOKENS_LEGEND } from '../../language-server/semanticTokens';

/** the position of `needle` (its `occurrence`-th match) plus `delta` characters */
export function at(text: string, needle: string, delta = 0, occurrence = 0): Position {
  let idx = -1;
  for (let k = 0; k <= occurrence; k++) {
    idx = text.indexOf(needle, idx + 1);
    if (idx < 0) throw new Error(`'${needle}' (#${occurrence}) not in text`);
  }
  const off = idx + delta;
  const before = text.slice(0, off);
  const line = before.split('\n').length - 1;
  return { line, character: off - (before.lastIndexOf('\n') + 1) };
}

export function lineOf(text: string, needle: string, occurrence = 0): number {
  return at(text, needle, 0, occurrence).line;
}

export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const lines = text.split('\n');
  const offset = (p: Position) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  const sorted = [...edits].sort((x, y) => offset(y.range.start) - offset(x.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}

export interface DecodedToken {
  line: number;
  char: number;
  length: number;
  type: string;
  modifiers: string[];
  text: string;
}

export function decodeTokens(text: string, data: readonly number[]): DecodedToken[] {
  const lines = text.split('\n');
  const out: DecodedToken[] = [];
  let line = 0;
  let char = 0;
  for (let i = 0; i + 4 < data.length + 1 && i < data.length; i += 5) {
    line += data[i];
    char = data[i] === 0 ? char + data[i + 1] : data[i + 1];
    const mods = SEMANTIC_TOKENS_LEGEND.tokenModifiers.filter((_, k) => (data[i + 4] & (1 << k)) !== 0);
    out.push({ line, char, length: data[i + 2], type: SEMANTIC_TOKENS_LEGEND.tokenTypes[data[i + 3]], modifiers: mods, text: (lines[line] ?? '').slice(char, char + data[i + 2]) });
  }
  return out;
}
