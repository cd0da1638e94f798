// Formatting (issue 6 item 5): canonical spacing and aligned `=>` columns, idempotent.
//
// Rules (host statements and machine entries that sit alone on their line; everything else only loses its
// trailing whitespace, guest code included, whose columns are the author's):
// - one indent level (the editor's tab size / tabs) inside `machine { … }` and `host { … }`;
// - between tokens: one space where the author left any whitespace, none where there was none (so `hugetlb-2M`,
//   `a+b`, `-1` keep their meaning); no space around `=` of `key=value`, after `(` `[`, before `)` `]` `,`; one
//   space after a `,` inside `[…]`;
// - in a paragraph (consecutive non-blank lines of a host block) every `=>` starts in the same column, one space
//   after the longest statement that has one; trailing `//` comments of the paragraph line up two spaces after
//   the longest code before them (lines longer than ALIGN_*_LIMIT take part in neither: they keep one space
//   before `=>` and two before the comment).
// A document with syntax errors is not formatted, and the result is parsed again: if any statement would parse
// differently, no edit is returned.

import type { FormattingOptions, TextEdit } from 'vscode-languageserver';
import { parse, tokenize, type HostStatement, type MachineEntry, type Script } from '../emulator/scenario';
import type { Analysis } from './documents';

/** tokens of a one-line code segment joined with canonical spacing; undefined if it has lexical errors */
export function canonicalSpacing(seg: string): string | undefined {
  const toks = tokenize(seg).filter((t) => t.kind !== 'newline' && t.kind !== 'eof');
  if (toks.some((t) => t.kind === 'error')) return undefined;
  let out = '';
  let depth = 0;
  const isP = (t: (typeof toks)[number] | undefined, ...texts: string[]): boolean => !!t && t.kind === 'punct' && texts.includes(t.text);
  toks.forEach((t, i) => {
    const prev = toks[i - 1];
    if (prev) {
      let space = t.range.start.offset > prev.range.end.offset;
      if (isP(t, ',', ')', ']') || isP(prev, '(', '[') || isP(t, '=') || isP(prev, '=')) space = false;
      if (isP(prev, ',') && depth > 0) space = true;
      if (space) out += ' ';
    }
    if (isP(t, '[')) depth++;
    if (isP(t, ']')) depth = Math.max(0, depth - 1);
    out += t.text;
  });
  return out;
}

/**
 * Lines longer than this do not push the paragraph's `=>` column (they keep one space before `=>`), nor the
 * comment column: one long `enable_cap … args=[…]` line does not move every other result to the right.
 */
export const ALIGN_ARROW_LIMIT = 48;
export const ALIGN_COMMENT_LIMIT = 72;

interface LinePlan {
  /** new text, or undefined: keep the line (trailing whitespace removed) */
  indent?: string;
  body?: string;
  result?: string;
  comment?: string;
}

/** per line: is it (partly) inside a multi-line block comment? those lines are kept as they are */
function blockCommentLines(lines: readonly string[]): Set<number> {
  const out = new Set<number>();
  let open = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    let j = 0;
    if (open >= 0) out.add(i);
    while (j < l.length) {
      if (open >= 0) {
        const e = l.indexOf('*/', j);
        if (e < 0) break;
        open = -1;
        j = e + 2;
        continue;
      }
      const c = l[j];
      if (c === '"') { const e = l.indexOf('"', j + 1); j = e < 0 ? l.length : e + 1; continue; }
      if (c === '/' && l[j + 1] === '/') break;
      if (c === '/' && l[j + 1] === '*') { open = i; out.add(i); j += 2; continue; }
      j++;
    }
  }
  return out;
}

/** the trailing part of a line after column `col`: '' or a `//` comment (undefined: something else) */
function trailingComment(line: string, col: number): string | undefined {
  const rest = line.slice(col).trim();
  if (rest === '') return '';
  if (rest.startsWith('//')) return rest;
  if (rest.startsWith('/*') && rest.endsWith('*/') && rest.indexOf('*/') === rest.length - 2) return rest;
  return undefined;
}

function planStatement(line: string, s: HostStatement, indent: string): LinePlan | undefined {
  if (s.range.start.line !== s.range.end.line) return undefined;
  if (line.slice(0, s.range.start.col).trim() !== '') return undefined;
  const comment = trailingComment(line, s.range.end.col);
  if (comment === undefined) return undefined;
  const bodyEnd = s.result ? s.result.arrow.start.col : s.range.end.col;
  const body = canonicalSpacing(line.slice(s.range.start.col, bodyEnd));
  if (body === undefined) return undefined;
  let result: string | undefined;
  if (s.result) {
    result = canonicalSpacing(line.slice(s.result.arrow.end.col, s.range.end.col));
    if (result === undefined) return undefined;
  }
  return { indent, body, result, comment };
}

function planEntry(line: string, e: MachineEntry, indent: string): LinePlan | undefined {
  if (e.range.start.line !== e.range.end.line) return undefined;
  if (line.slice(0, e.range.start.col).trim() !== '') return undefined;
  const comment = trailingComment(line, e.range.end.col);
  if (comment === undefined) return undefined;
  const body = canonicalSpacing(line.slice(e.range.start.col, e.range.end.col));
  return body === undefined ? undefined : { indent, body, comment };
}

/** forms, argument count and result kind of every statement: formatting must not change any of these */
function signature(ast: Script): string {
  const host = ast.host?.statements.map((s) => `${s.form}/${s.args.length}/${s.result?.result.kind ?? ''}/${s.background ? '&' : ''}`) ?? [];
  const machine = ast.machine?.entries.map((e) => `${e.key.text}=${e.value.kind}`) ?? [];
  return [...machine, ...host, `${ast.items.length}`, `${ast.consts.length}`, `${ast.guests.length}`].join('|');
}

export function formatText(a: Pick<Analysis, 'text' | 'ast' | 'diagnostics'>, options: Pick<FormattingOptions, 'tabSize' | 'insertSpaces'>): string | undefined {
  if (a.diagnostics.some((d) => d.code === 'syntax' || d.code === 'number' || d.code === 'depth')) return undefined;
  const rawLines = a.text.split('\n');
  const cr = rawLines.map((l) => l.endsWith('\r'));
  const lines = rawLines.map((l, i) => (cr[i] ? l.slice(0, -1) : l));
  const unit = options.insertSpaces === false ? '\t' : ' '.repeat(Math.max(1, Math.min(16, options.tabSize || 4)));
  const inComment = blockCommentLines(lines);
  const plans = new Map<number, LinePlan>();
  /** lines of host blocks and machine blocks (inside the braces), for comment-line indentation and paragraphs */
  const blockLines: { first: number; last: number; host: boolean }[] = [];
  for (const item of a.ast.items) {
    if (item.kind !== 'host' && item.kind !== 'machine') continue;
    if (item.range.end.line <= item.range.start.line) continue;
    blockLines.push({ first: item.range.start.line + 1, last: item.range.end.line - 1, host: item.kind === 'host' });
    if (item.kind === 'host') {
      for (const s of item.statements) {
        if (inComment.has(s.range.start.line) || plans.has(s.range.start.line)) continue;
        const p = planStatement(lines[s.range.start.line] ?? '', s, unit);
        if (p) plans.set(s.range.start.line, p);
      }
    } else {
      const perLine = new Map<number, number>();
      for (const e of item.entries) perLine.set(e.range.start.line, (perLine.get(e.range.start.line) ?? 0) + 1);
      for (const e of item.entries) {
        const l = e.range.start.line;
        if (perLine.get(l) !== 1 || l === item.range.start.line || l === item.range.end.line || inComment.has(l)) continue;
        const p = planEntry(lines[l] ?? '', e, unit);
        if (p) plans.set(l, p);
      }
    }
  }
  // comment-only lines inside the blocks take the block's indentation
  for (const b of blockLines) {
    for (let i = b.first; i <= b.last; i++) {
      if (plans.has(i) || inComment.has(i)) continue;
      const t = lines[i].trim();
      if (t.startsWith('//')) plans.set(i, { indent: unit, body: '', comment: t });
    }
  }
  // alignment per paragraph of a host block
  const out = lines.map((l) => l.replace(/\s+$/, ''));
  for (const b of blockLines) {
    let i = b.first;
    while (i <= b.last) {
      if (lines[i].trim() === '') { i++; continue; }
      let j = i;
      while (j + 1 <= b.last && lines[j + 1].trim() !== '') j++;
      const para: [number, LinePlan][] = [];
      for (let k = i; k <= j; k++) { const p = plans.get(k); if (p) para.push([k, p]); }
      const withResult = para.filter(([, p]) => p.result !== undefined);
      const aligned = withResult.map(([, p]) => p.indent!.length + p.body!.length).filter((n) => n <= ALIGN_ARROW_LIMIT);
      const arrowCol = b.host && aligned.length ? Math.max(...aligned) + 1 : 0;
      const code = (p: LinePlan): string => {
        if (!p.body) return '';
        const head = p.indent! + p.body;
        return p.result === undefined ? head : head + ' '.repeat(Math.max(1, arrowCol - head.length)) + '=> ' + p.result;
      };
      const commented = para.filter(([, p]) => p.body && p.comment);
      const codeEnds = commented.map(([, p]) => code(p).length).filter((n) => n <= ALIGN_COMMENT_LIMIT);
      const commentCol = codeEnds.length ? Math.max(...codeEnds) + 2 : 0;
      for (const [k, p] of para) {
        const c = code(p);
        if (!p.body) out[k] = p.indent! + p.comment!;
        else out[k] = p.comment ? c + ' '.repeat(Math.max(2, commentCol - c.length)) + p.comment : c;
      }
      i = j + 1;
    }
  }
  const text = out.map((l, i) => (cr[i] ? l + '\r' : l)).join('\n');
  if (text === a.text) return text;
  // safety net: the formatted text must parse to the same statements
  if (signature(parse(text).ast) !== signature(a.ast)) return undefined;
  return text;
}

export function formatDocument(a: Analysis, options: FormattingOptions): TextEdit[] {
  const text = formatText(a, options);
  if (text === undefined || text === a.text) return [];
  const next = text.split('\n');
  const edits: TextEdit[] = [];
  for (let i = 0; i < a.lines.length; i++) {
    const oldLine = a.lines[i];
    const newLine = next[i] ?? '';
    if (oldLine === newLine) continue;
    edits.push({ range: { start: { line: i, character: 0 }, end: { line: i, character: oldLine.length } }, newText: newLine });
  }
  return edits;
}
