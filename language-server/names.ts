// Where names occur in a scenario: constants, labels, predefined symbols, SPE field masks (in host expressions
// and in guest operands), memslot ids (the slot argument of memslot statements, lock/unlock, get_dirty_log,
// expect memslot, hva()/pa()), pgtable names, registers. Navigation, semantic tokens and inlay hints read this
// one index, built once per analysis.

import type { Expr, GuestLine, HostStatement, Range, Script } from '../emulator/scenario';
import { exprOf, optionOf } from '../emulator/scenario';
import { predefinedSymbols } from '../emulator/arch/smccc';
import { lookupSysreg, speFieldSymbols } from '../emulator/arch/sysregs';
import type { Analysis } from './documents';

export type NameKind = 'label' | 'const' | 'predefined' | 'spe-field' | 'register' | 'sysreg' | 'undefined';

export interface NameOccurrence {
  readonly name: string;
  readonly kind: NameKind;
  readonly range: Range;
  readonly declaration: boolean;
  /** where it was written: a host/const/machine expression or a guest operand */
  readonly where: 'expr' | 'guest';
}

export interface MemslotOccurrence {
  readonly slot: bigint;
  readonly range: Range;
  /** the statement that creates the memslot (info.memslots) */
  readonly declaration: boolean;
}

export interface NameIndex {
  readonly names: readonly NameOccurrence[];
  readonly memslots: readonly MemslotOccurrence[];
  /** pgtable NAME in pgtable statements and expect stage2/pte */
  readonly pgtables: readonly { readonly name: string; readonly range: Range; readonly declaration: boolean }[];
  readonly predefined: ReadonlyMap<string, bigint>;
  readonly speFields: ReadonlyMap<string, bigint>;
  kindOf(name: string): NameKind;
}

const cache = new WeakMap<Analysis, NameIndex>();
const SPE_FIELDS = speFieldSymbols();

/** every expression of the script, in source order */
export function forEachExpr(script: Script, fn: (e: Expr) => void): void {
  const walk = (e: Expr): void => {
    fn(e);
    switch (e.kind) {
      case 'binary': walk(e.left); walk(e.right); break;
      case 'unary': walk(e.operand); break;
      case 'paren': walk(e.expr); break;
      case 'call': walk(e.arg); break;
      default: break;
    }
  };
  for (const item of script.items) {
    switch (item.kind) {
      case 'const': walk(item.value); break;
      case 'machine': for (const m of item.entries) if (m.value.kind === 'expr') walk(m.value.expr); break;
      case 'guest': walk(item.at); break;
      case 'host':
        for (const s of item.statements) forEachStatementExpr(s, walk);
        break;
      default: break;
    }
  }
}

export function forEachStatementExpr(s: HostStatement, walk: (e: Expr) => void): void {
  const args = [...s.args, ...(s.result?.result.kind === 'exit' ? s.result.result.args : [])];
  for (const a of args) {
    const v = a.kind === 'option' ? a.value : a;
    if (v.kind === 'expr') walk(v.expr);
    else if (v.kind === 'list') v.items.forEach(walk);
  }
  const r = s.result?.result;
  if (r?.kind === 'value') walk(r.expr);
  if (r?.kind === 'pages') r.items.forEach(walk);
}

/** the guest line's code (comments blanked, same length) and the column of its first character */
export function guestCode(l: GuestLine): { code: string; colBase: number } {
  const text = l.text;
  const first = text.search(/\S/);
  const colBase = l.range.start.col - Math.max(0, first);
  const code = text.replace(/\/\/.*$/, (m) => ' '.repeat(m.length)).replace(/\/\*.*?\*\//g, (m) => ' '.repeat(m.length));
  return { code, colBase };
}

const GUEST_TOKEN = /0[xXbB][0-9A-Fa-f_]+|[0-9][0-9A-Za-z_]*|[A-Za-z_.$][A-Za-z0-9_.$]*|"(?:[^"\\]|\\.)*"|\S/g;
const REGISTER = /^(?:[xw](?:[12]?[0-9]|30)|sp|wsp|xzr|wzr|lr)$/i;

export function isGpRegister(name: string): boolean {
  return REGISTER.test(name);
}

/** the operand tokens of a guest line after its label and mnemonic: [text, startCol (file column)] */
export function guestOperandTokens(l: GuestLine): { text: string; col: number }[] {
  const { code, colBase } = guestCode(l);
  const after = l.mnemonic ? l.mnemonic.range.end.col - colBase : l.label ? l.label.range.end.col - colBase + 1 : 0;
  const out: { text: string; col: number }[] = [];
  GUEST_TOKEN.lastIndex = Math.max(0, after);
  for (let m = GUEST_TOKEN.exec(code); m; m = GUEST_TOKEN.exec(code)) out.push({ text: m[0], col: colBase + m.index });
  return out;
}

const SLOT_FORMS = new Set(['memslot', 'memslot.delete', 'memslot.move', 'memslot.flags', 'lock', 'unlock', 'get_dirty_log', 'expect.memslot']);

export function nameIndex(a: Analysis): NameIndex {
  const hit = cache.get(a);
  if (hit) return hit;
  const info = a.info;
  const predefined = predefinedSymbols(info.flavour);
  const kindOf = (name: string): NameKind => {
    if (info.constants.has(name)) return 'const';
    if (info.labelDefinitions.has(name)) return 'label';
    if (predefined.has(name)) return 'predefined';
    if (SPE_FIELDS.has(name)) return 'spe-field';
    return 'undefined';
  };
  const names: NameOccurrence[] = [];
  const memslots: MemslotOccurrence[] = [];
  const pgtables: { name: string; range: Range; declaration: boolean }[] = [];
  for (const c of a.ast.consts) names.push({ name: c.name.text, kind: 'const', range: c.name.range, declaration: true, where: 'expr' });
  forEachExpr(a.ast, (e) => {
    if (e.kind === 'ref') names.push({ name: e.name, kind: kindOf(e.name), range: e.range, declaration: false, where: 'expr' });
  });
  for (const g of a.ast.guests) {
    for (const l of g.lines) {
      if (l.label) names.push({ name: l.label.text, kind: 'label', range: l.label.range, declaration: true, where: 'guest' });
      const sysOperands = /^(msr|mrs)$/i.test(l.mnemonic?.text ?? '');
      for (const t of guestOperandTokens(l)) {
        if (!/^[A-Za-z_.$]/.test(t.text)) continue;
        const line = l.range.start.line;
        const range: Range = { start: { line, col: t.col, offset: 0 }, end: { line, col: t.col + t.text.length, offset: 0 } };
        const k = kindOf(t.text);
        if (k !== 'undefined') names.push({ name: t.text, kind: k, range, declaration: false, where: 'guest' });
        else if (REGISTER.test(t.text)) names.push({ name: t.text, kind: 'register', range, declaration: false, where: 'guest' });
        else if (sysOperands && lookupSysreg(t.text)) names.push({ name: t.text, kind: 'sysreg', range, declaration: false, where: 'guest' });
      }
    }
  }
  // memslot ids: the creating statements are the declarations (checker's MemslotDeclaration)
  const created = new Set(info.memslots.map((m) => m.statement));
  for (const r of info.statements) {
    const s = r.statement;
    let e: Expr | undefined;
    if (SLOT_FORMS.has(s.form)) e = exprOf(s, 'slot');
    else if (s.form === 'set_memory_region') {
      const o = optionOf(s.args, 'slot');
      e = o?.value.kind === 'expr' ? o.value.expr : undefined;
    }
    const slot = r.values.get('slot');
    if (e && slot !== undefined) memslots.push({ slot, range: e.range, declaration: created.has(s) });
    forEachStatementExpr(s, (x) => {
      if (x.kind === 'call' && (x.callee.text === 'hva' || x.callee.text === 'pa')) {
        const v = x.arg.kind === 'number' ? x.arg.value : x.arg.kind === 'ref' ? info.lookup(x.arg.name) : undefined;
        if (v !== undefined && v !== null) memslots.push({ slot: v, range: x.arg.range, declaration: false });
      }
    });
    // pgtable names
    for (const arg of s.args) {
      if (arg.kind === 'word' && (arg.role === 'name' || arg.role === 'table') && arg.word.text !== 'host' && arg.word.text !== 'vm') {
        pgtables.push({ name: arg.word.text, range: arg.word.range, declaration: s.form === 'pgtable' });
      }
    }
  }
  const idx: NameIndex = { names, memslots, pgtables, predefined, speFields: SPE_FIELDS, kindOf };
  cache.set(a, idx);
  return idx;
}

