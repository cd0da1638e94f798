// AST positions (emulator/scenario/tokens.ts: 0-based line/col in UTF-16 units, half-open) <-> LSP positions.
// The conventions are the same, so the conversion only renames `col` to `character`.

import type { Position as LspPosition, Range as LspRange } from 'vscode-languageserver';
import type { Range } from '../emulator/scenario';

export function toLspRange(r: Range): LspRange {
  return { start: { line: r.start.line, character: r.start.col }, end: { line: r.end.line, character: r.end.col } };
}

export function lineCol(p: LspPosition): { line: number; col: number } {
  return { line: p.line, col: p.character };
}

export function lspRange(line: number, startCol: number, endCol: number, endLine = line): LspRange {
  return { start: { line, character: startCol }, end: { line: endLine, character: endCol } };
}

/** true when the LSP position touches the AST range (end inclusive, as locate() does) */
export function touches(r: Range, p: LspPosition): boolean {
  if (p.line < r.start.line || p.line > r.end.line) return false;
  if (p.line === r.start.line && p.character < r.start.col) return false;
  if (p.line === r.end.line && p.character > r.end.col) return false;
  return true;
}

/** `0x4000_0000`: hex with `_` every 4 digits, the spelling the examples use */
export function hexGrouped(v: bigint): string {
  const h = v.toString(16);
  let out = '';
  for (let i = 0; i < h.length; i++) {
    if (i > 0 && (h.length - i) % 4 === 0) out += '_';
    out += h[i];
  }
  return '0x' + out;
}

export function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

/** 2M, 64K, 1G … when the value is an exact multiple of a power of 1024, else undefined */
export function sizeForm(v: bigint): string | undefined {
  if (v === 0n) return undefined;
  const units: [string, bigint][] = [['T', 1n << 40n], ['G', 1n << 30n], ['M', 1n << 20n], ['K', 1n << 10n]];
  // the largest unit that divides it, only when that reads as a size (2M, 64K; not 1025M for 0x4010_0000)
  for (const [u, m] of units) if (v >= m && v % m === 0n) return v / m < 1024n || u === 'T' ? `${v / m}${u}` : undefined;
  return undefined;
}
