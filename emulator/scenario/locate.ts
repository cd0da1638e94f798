// Position -> syntax, for the language server (hover, completion, go to definition) and the debugger (line ->
// statement). Positions are 0-based line/col like the AST (tokens.ts).

import type { Arg, Expr, GuestBlock, GuestLine, HostStatement, MachineEntry, Node, Result, Script, TopItem, Word } from './ast';
import { tokenize } from './lexer';
import { rangeContains, type Token } from './tokens';

export interface LinePosition {
  readonly line: number;
  readonly col: number;
}

/**
 * What is at a position, innermost last. `path` holds every node whose range contains the position, from the
 * top-level item down (items, statements, args, expressions, words). `role` says what the innermost thing is
 * for completion/hover:
 * - 'top-keyword', 'machine-key', 'machine-value', 'statement-keyword', 'positional' (a positional argument; see
 *   `arg.role`), 'option-key', 'option-value', 'flag', 'result', 'guest-line', 'title', 'const-name', 'expr'
 *   (a name or number inside an expression: see `expr`), or 'none'.
 */
export interface Located {
  readonly path: readonly Node[];
  readonly role:
    | 'top-keyword' | 'machine-key' | 'machine-value' | 'statement-keyword' | 'positional' | 'option-key' | 'option-value'
    | 'flag' | 'result' | 'guest-line' | 'title' | 'const-name' | 'expr' | 'none';
  readonly item?: TopItem;
  readonly statement?: HostStatement;
  readonly machineEntry?: MachineEntry;
  readonly arg?: Arg;
  readonly expr?: Expr;
  readonly word?: Word;
  readonly guestBlock?: GuestBlock;
  readonly guestLine?: GuestLine;
  readonly result?: Result;
}

const inside = (n: { range: Node['range'] }, p: LinePosition): boolean => rangeContains(n.range, p);

/** the innermost expression node containing p */
function exprAt(e: Expr, p: LinePosition, path: Node[]): Expr {
  let cur = e;
  for (;;) {
    path.push(cur);
    let next: Expr | undefined;
    switch (cur.kind) {
      case 'binary': next = inside(cur.left, p) ? cur.left : inside(cur.right, p) ? cur.right : undefined; break;
      case 'unary': next = inside(cur.operand, p) ? cur.operand : undefined; break;
      case 'paren': next = inside(cur.expr, p) ? cur.expr : undefined; break;
      case 'call': next = inside(cur.arg, p) ? cur.arg : undefined; break;
      default: next = undefined;
    }
    if (!next) return cur;
    cur = next;
  }
}

function argAt(a: Arg, p: LinePosition, path: Node[], base: Omit<Located, 'path' | 'role'>): Located {
  path.push(a);
  if (a.kind === 'option') {
    if (inside(a.key, p)) return { ...base, path, role: 'option-key', arg: a, word: a.key };
    const v = a.value;
    path.push(v);
    if (v.kind === 'expr') return { ...base, path, role: 'option-value', arg: a, expr: exprAt(v.expr, p, path) };
    if (v.kind === 'word') return { ...base, path, role: 'option-value', arg: a, word: v.word };
    if (v.kind === 'wordlist') return { ...base, path, role: 'option-value', arg: a, word: v.items.find((w) => inside(w, p)) };
    if (v.kind === 'list') {
      const x = v.items.find((i) => inside(i, p));
      return { ...base, path, role: 'option-value', arg: a, expr: x ? exprAt(x, p, path) : undefined };
    }
    return { ...base, path, role: 'option-value', arg: a };
  }
  if (a.kind === 'flag') return { ...base, path, role: 'flag', arg: a, word: a.word };
  if (a.kind === 'expr') return { ...base, path, role: 'positional', arg: a, expr: exprAt(a.expr, p, path) };
  if (a.kind === 'word') return { ...base, path, role: 'positional', arg: a, word: a.word };
  if (a.kind === 'wordlist') return { ...base, path, role: 'positional', arg: a, word: a.items.find((w) => inside(w, p)) };
  if (a.kind === 'list') {
    const x = a.items.find((i) => inside(i, p));
    return { ...base, path, role: 'positional', arg: a, expr: x ? exprAt(x, p, path) : undefined };
  }
  return { ...base, path, role: 'positional', arg: a };
}

/** Find what is at `p` in the script. Binary search over statements, so it is cheap on big files. */
export function locate(script: Script, p: LinePosition): Located {
  const path: Node[] = [];
  const item = script.items.find((i) => inside(i, p));
  if (!item) return { path, role: 'none' };
  path.push(item);
  switch (item.kind) {
    case 'scenario':
      return inside(item.keyword, p) ? { path, role: 'top-keyword', item, word: item.keyword } : { path, role: 'title', item };
    case 'const':
      if (inside(item.keyword, p)) return { path, role: 'top-keyword', item, word: item.keyword };
      if (inside(item.name, p)) return { path, role: 'const-name', item, word: item.name };
      if (inside(item.value, p)) return { path, role: 'expr', item, expr: exprAt(item.value, p, path) };
      return { path, role: 'none', item };
    case 'machine': {
      if (inside(item.keyword, p)) return { path, role: 'top-keyword', item, word: item.keyword };
      const e = item.entries.find((x) => inside(x, p));
      if (!e) return { path, role: 'machine-key', item };
      path.push(e);
      if (inside(e.key, p)) return { path, role: 'machine-key', item, machineEntry: e, word: e.key };
      if (e.value.kind === 'expr') return { path, role: 'machine-value', item, machineEntry: e, expr: exprAt(e.value.expr, p, path) };
      return { path, role: 'machine-value', item, machineEntry: e, word: e.value.word };
    }
    case 'guest': {
      if (inside(item.keyword, p)) return { path, role: 'top-keyword', item, word: item.keyword };
      if (inside(item.at, p)) return { path, role: 'expr', item, expr: exprAt(item.at, p, path) };
      const l = item.lines.find((x) => x.range.start.line === p.line);
      if (l) path.push(l);
      return { path, role: 'guest-line', item, guestBlock: item, guestLine: l, word: l && [l.label, l.mnemonic].find((w) => w && inside(w, p)) };
    }
    case 'host': {
      if (inside(item.keyword, p)) return { path, role: 'top-keyword', item, word: item.keyword };
      const s = statementAtLine(item.statements, p.line);
      if (!s || !inside(s, p)) return { path, role: 'statement-keyword', item };
      path.push(s);
      const base = { item, statement: s };
      if (inside(s.keyword, p)) return { ...base, path, role: 'statement-keyword', word: s.keyword };
      if (s.result && inside(s.result, p)) {
        path.push(s.result, s.result.result);
        const r = s.result.result;
        if (r.kind === 'value') return { ...base, path, role: 'result', result: r, expr: exprAt(r.expr, p, path) };
        if (r.kind === 'exit') {
          const a = r.args.find((x) => inside(x, p));
          if (a) return argAt(a, p, path, { ...base, result: r });
        }
        return { ...base, path, role: 'result', result: r };
      }
      const a = s.args.find((x) => inside(x, p));
      if (a) return argAt(a, p, path, base);
      return { ...base, path, role: 'none' };
    }
  }
}

/** the statement on a line (the debugger maps a stop line to it), by binary search */
export function statementAtLine(statements: readonly HostStatement[], line: number): HostStatement | undefined {
  let lo = 0;
  let hi = statements.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = statements[mid];
    if (line < s.range.start.line) hi = mid - 1;
    else if (line > s.range.end.line) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** the token at a position (for word-based completion), or undefined between tokens */
export function tokenAt(text: string, p: LinePosition): Token | undefined {
  for (const t of tokenize(text)) {
    if (t.kind === 'newline' || t.kind === 'eof') continue;
    if (rangeContains(t.range, p)) return t;
    if (t.range.start.line > p.line) break;
  }
  return undefined;
}
