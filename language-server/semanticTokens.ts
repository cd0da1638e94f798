// Semantic tokens (issue 6 item 5), consistent with the TextMate grammar (syntaxes/README.md "Semantic tokens").
// The grammar cannot tell a label from a constant or an undefined name, nor a pgtable name from any other word;
// these tokens add that, and give the other words the type whose scope the grammar already uses, so a theme
// colours both the same.
//
// Legend (token type [modifiers] -> TextMate scope of syntaxes/README.md; custom types declare a superType in
// the manifest's `semanticTokenTypes`):
//   label [declaration]                  -> entity.name.label.kvms          label       -> variable.other.label.kvms
//   variable [readonly, declaration]     -> entity.name.constant.kvms       variable [readonly] -> variable.other.constant.kvms
//   enumMember [defaultLibrary]          -> support.constant.hypercall.kvms / support.constant.spe-field.kvms
//   mnemonic (keyword)                   -> keyword.mnemonic.kvms           directive (keyword) -> keyword.other.directive.kvms
//   register (variable)                  -> variable.language.register.kvms sysreg (variable)   -> support.variable.sysreg.kvms
//   statement (keyword)                  -> keyword.other.statement.kvms    keyword             -> keyword.control.kvms
//   parameter (option key, event field)  -> variable.parameter.kvms         property (machine key) -> support.type.property-name.kvms
//   errno (enumMember)                   -> constant.language.errno.kvms    event (event KIND)  -> entity.name.type.event.kvms
//   type [declaration] (pgtable NAME)    -> entity.name.type.pgtable.kvms   type -> variable.other.pgtable.kvms
//   number -> constant.numeric.kvms      string -> string.quoted.double.kvms
//   comment, operator: in the legend for completeness; comments and operators are left to the grammar.
// Undefined names get no token (the grammar's guess stays, the diagnostic says what is wrong).

import { SemanticTokensBuilder, type Range as LspRange, type SemanticTokens, type SemanticTokensLegend } from 'vscode-languageserver';
import type { Expr, Range } from '../emulator/scenario';
import { vocabulary } from '../emulator/scenario';
import type { Analysis } from './documents';
import { forEachExpr, nameIndex, type NameKind } from './names';

export const TOKEN_TYPES = [
  'label', 'variable', 'enumMember', 'mnemonic', 'directive', 'register', 'sysreg', 'statement', 'keyword',
  'parameter', 'property', 'errno', 'event', 'type', 'number', 'string', 'comment', 'operator',
] as const;
export const TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];
export type TokenModifier = (typeof TOKEN_MODIFIERS)[number];

export const SEMANTIC_TOKENS_LEGEND: SemanticTokensLegend = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] };

export interface SemanticToken {
  readonly line: number;
  readonly col: number;
  readonly length: number;
  readonly type: TokenType;
  readonly modifiers: readonly TokenModifier[];
}

const NAME_TOKEN: { [K in NameKind]?: [TokenType, TokenModifier[]] } = {
  label: ['label', []],
  const: ['variable', ['readonly']],
  predefined: ['enumMember', ['defaultLibrary']],
  'spe-field': ['enumMember', ['defaultLibrary']],
  register: ['register', []],
  sysreg: ['sysreg', []],
};

/** a KVM core register (x0…, pc, sp_el1 …: LANGUAGE.md set_reg) or a system register */
function registerType(name: string): TokenType {
  return vocabulary.CORE_REGISTERS.includes(name.toLowerCase()) ? 'register' : 'sysreg';
}

const EVENT_FORMS = new Set(['expect.event', 'expect.no_event', 'expect.total']);

/** every token of the document, sorted, non-overlapping, single-line */
export function collectTokens(a: Analysis): SemanticToken[] {
  const out: SemanticToken[] = [];
  const add = (r: Range, type: TokenType, modifiers: TokenModifier[] = []): void => {
    if (r.start.line !== r.end.line || r.end.col <= r.start.col) return;
    out.push({ line: r.start.line, col: r.start.col, length: r.end.col - r.start.col, type, modifiers });
  };
  const idx = nameIndex(a);
  for (const n of idx.names) {
    const t = NAME_TOKEN[n.kind];
    if (!t) continue;
    add(n.range, t[0], n.declaration ? [...t[1], 'declaration'] : t[1]);
  }
  for (const p of idx.pgtables) add(p.range, 'type', p.declaration ? ['declaration'] : []);
  forEachExpr(a.ast, (e: Expr) => { if (e.kind === 'number') add(e.range, 'number'); });
  for (const item of a.ast.items) {
    // block keywords (keyword.control.block.*); `const` stays the grammar's storage.type.const
    if (item.kind !== 'const') add(item.keyword.range, 'keyword');
    switch (item.kind) {
      case 'scenario': add(item.titleRange, 'string'); break;
      case 'machine': for (const m of item.entries) add(m.key.range, 'property'); break;
      case 'guest':
        for (const l of item.lines) if (l.mnemonic) add(l.mnemonic.range, l.mnemonic.text.startsWith('.') ? 'directive' : 'mnemonic');
        break;
      case 'host':
        for (const s of item.statements) {
          add(s.keyword.range, s.keyword.text === 'expect' ? 'keyword' : 'statement');
          for (const arg of s.args) {
            if (arg.kind === 'option') {
              const reg = s.form === 'set_reg';
              add(arg.key.range, reg ? registerType(arg.key.text) : 'parameter');
            } else if (arg.kind === 'word' && arg.role === 'kind' && EVENT_FORMS.has(s.form)) add(arg.word.range, 'event');
            else if (arg.kind === 'word' && arg.role === 'reg') add(arg.word.range, registerType(arg.word.text));
            else if (arg.kind === 'string') add(arg.range, 'string');
          }
          const r = s.result?.result;
          if (r?.kind === 'errno') add(r.range, 'errno');
        }
        break;
      default: break;
    }
  }
  out.sort((x, y) => x.line - y.line || x.col - y.col);
  // drop overlaps (first wins)
  const clean: SemanticToken[] = [];
  for (const t of out) {
    const last = clean[clean.length - 1];
    if (last && last.line === t.line && t.col < last.col + last.length) continue;
    clean.push(t);
  }
  return clean;
}

export function semanticTokens(a: Analysis, range?: LspRange): SemanticTokens {
  const b = new SemanticTokensBuilder();
  for (const t of collectTokens(a)) {
    if (range && (t.line < range.start.line || t.line > range.end.line)) continue;
    let mods = 0;
    for (const m of t.modifiers) mods |= 1 << TOKEN_MODIFIERS.indexOf(m);
    b.push(t.line, t.col, t.length, TOKEN_TYPES.indexOf(t.type), mods);
  }
  return b.build();
}
