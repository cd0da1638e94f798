// Navigation (issue 6 item 4): go to definition and find references for labels, constants, memslot ids (and
// pgtable names); rename for labels and constants (with prepareRename); folding ranges.

import { FoldingRangeKind, type FoldingRange, type Location, type Position, type Range as LspRange, type WorkspaceEdit } from 'vscode-languageserver';
import type { Range } from '../emulator/scenario';
import type { Analysis } from './documents';
import { nameIndex } from './names';
import { toLspRange, touches } from './positions';

export type Target =
  | { readonly kind: 'label' | 'const'; readonly name: string; readonly range: Range }
  | { readonly kind: 'memslot'; readonly slot: bigint; readonly range: Range }
  | { readonly kind: 'pgtable'; readonly name: string; readonly range: Range };

/** the navigable name at a position */
export function targetAt(a: Analysis, p: Position): Target | undefined {
  const idx = nameIndex(a);
  for (const n of idx.names) {
    if ((n.kind === 'label' || n.kind === 'const') && touches(n.range, p)) return { kind: n.kind, name: n.name, range: n.range };
  }
  for (const m of idx.memslots) if (touches(m.range, p)) return { kind: 'memslot', slot: m.slot, range: m.range };
  for (const t of idx.pgtables) if (touches(t.range, p)) return { kind: 'pgtable', name: t.name, range: t.range };
  return undefined;
}

/** every occurrence of the target: [range, is the declaration] */
function occurrences(a: Analysis, t: Target): { range: Range; declaration: boolean }[] {
  const idx = nameIndex(a);
  switch (t.kind) {
    case 'label':
    case 'const':
      return idx.names.filter((n) => n.kind === t.kind && n.name === t.name);
    case 'memslot':
      return idx.memslots.filter((m) => m.slot === t.slot);
    case 'pgtable':
      return idx.pgtables.filter((x) => x.name === t.name);
  }
}

const loc = (a: Analysis, r: Range): Location => ({ uri: a.uri, range: toLspRange(r) });

export function definition(a: Analysis, p: Position): Location[] {
  const t = targetAt(a, p);
  if (!t) return [];
  if (t.kind === 'label') {
    const d = a.info.labelDefinitions.get(t.name);
    return d ? [loc(a, d)] : [];
  }
  return occurrences(a, t).filter((o) => o.declaration).map((o) => loc(a, o.range));
}

export function references(a: Analysis, p: Position, includeDeclaration: boolean): Location[] {
  const t = targetAt(a, p);
  if (!t) return [];
  return occurrences(a, t).filter((o) => includeDeclaration || !o.declaration).map((o) => loc(a, o.range));
}

export function prepareRename(a: Analysis, p: Position): { range: LspRange; placeholder: string } | null {
  const t = targetAt(a, p);
  if (!t || (t.kind !== 'label' && t.kind !== 'const')) return null;
  return { range: toLspRange(t.range), placeholder: t.name };
}

/** LANGUAGE.md names: constants are identifiers; labels may also use `.` and `$` (GNU as) */
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_RE = /^[A-Za-z_.$][A-Za-z0-9_.$]*$/;

export function rename(a: Analysis, p: Position, newName: string): WorkspaceEdit | null {
  const t = targetAt(a, p);
  if (!t || (t.kind !== 'label' && t.kind !== 'const')) return null;
  if (!(t.kind === 'const' ? NAME_RE : LABEL_RE).test(newName)) return null;
  // the new name must not be taken by another constant, label or a predefined symbol
  if (newName !== t.name && nameIndex(a).kindOf(newName) !== 'undefined') return null;
  const edits = occurrences(a, t).map((o) => ({ range: toLspRange(o.range), newText: newName }));
  return { changes: { [a.uri]: edits } };
}

export function foldingRanges(a: Analysis): FoldingRange[] {
  const out: FoldingRange[] = [];
  for (const item of a.ast.items) {
    if ((item.kind === 'machine' || item.kind === 'guest' || item.kind === 'host') && item.range.end.line > item.range.start.line) {
      // keep the closing brace visible
      out.push({ startLine: item.range.start.line, endLine: Math.max(item.range.start.line, item.range.end.line - 1), kind: FoldingRangeKind.Region });
    }
  }
  // runs of `//` comment lines and `/* … */` block comments
  let runStart = -1;
  let inBlock = -1;
  const lines = a.lines;
  for (let i = 0; i <= lines.length; i++) {
    const l = i < lines.length ? lines[i].trim() : '';
    if (inBlock >= 0) {
      if (l.includes('*/')) {
        if (i > inBlock) out.push({ startLine: inBlock, endLine: i, kind: FoldingRangeKind.Comment });
        inBlock = -1;
      }
      continue;
    }
    const isLine = i < lines.length && l.startsWith('//');
    if (isLine && runStart < 0) runStart = i;
    if (!isLine && runStart >= 0) {
      if (i - 1 > runStart) out.push({ startLine: runStart, endLine: i - 1, kind: FoldingRangeKind.Comment });
      runStart = -1;
    }
    if (l.startsWith('/*') && !l.includes('*/')) inBlock = i;
  }
  return out;
}
