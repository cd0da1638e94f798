// The `.kvms` syntax tree (LANGUAGE.md). Contract for the checker, the loader/runner, the language server and
// the debugger.
//
// Every node has `range` (tokens.ts: 0-based line/col, UTF-16 columns, half-open, plus `offset`s). Names,
// numbers, option keys and values, `=>` and its result, and each guest line carry their own ranges.
//
// Host statements are uniform: `keyword` + `form` (the id of the matched form in vocabulary.ts HOST_FORMS, e.g.
// "memslot.delete", "expect.stage2.mapped") + `args` in source order. A positional argument has the `role`
// given by its form ("slot", "vcpu", "addr", …); a `key=value` option is an OptionArg whose value has the key as
// its role; a bare word such as `readonly` is a FlagArg. Use the accessors at the end of this file.

import type { Range } from './tokens';

export interface Node {
  readonly range: Range;
}

/** A name or keyword as written (identifier, or a NAME-with-dash in name positions) */
export interface Word extends Node {
  readonly kind: 'word';
  readonly text: string;
}

// ---------------------------------------------------------------- expressions

export type BinaryOp = '*' | '/' | '%' | '+' | '-' | '<<' | '>>' | '&' | '^' | '|';
export type UnaryOp = '-' | '~';

export interface NumberExpr extends Node {
  readonly kind: 'number';
  /** null when the literal is malformed or above 2^64-1 (the parser reported it) */
  readonly value: bigint | null;
  readonly raw: string;
}
/** a constant, label or predefined symbol */
export interface RefExpr extends Node {
  readonly kind: 'ref';
  readonly name: string;
}
/** `hva(ID)` / `pa(ID)`: a memslot's backing address / first host-physical address (known only at run time) */
export interface CallExpr extends Node {
  readonly kind: 'call';
  readonly callee: Word;
  readonly arg: Expr;
}
export interface UnaryExpr extends Node {
  readonly kind: 'unary';
  readonly op: UnaryOp;
  readonly operand: Expr;
}
export interface BinaryExpr extends Node {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly opRange: Range;
  readonly left: Expr;
  readonly right: Expr;
}
export interface ParenExpr extends Node {
  readonly kind: 'paren';
  readonly expr: Expr;
}
/** placeholder where an expression was expected but could not be parsed (a diagnostic was reported) */
export interface ErrorExpr extends Node {
  readonly kind: 'error';
}
export type Expr = NumberExpr | RefExpr | CallExpr | UnaryExpr | BinaryExpr | ParenExpr | ErrorExpr;

// ---------------------------------------------------------------- statement arguments

export interface ExprArg extends Node { readonly kind: 'expr'; readonly role: string; readonly expr: Expr }
/** a keyword in a fixed position (`delete`, `u32`, `mapped`) or a name value (`flavour`, `backing=`, KIND) */
export interface WordArg extends Node { readonly kind: 'word'; readonly role: string; readonly word: Word }
export interface StringArg extends Node { readonly kind: 'string'; readonly role: string; readonly value: string }
/** `[e, e, …]` */
export interface ListArg extends Node { readonly kind: 'list'; readonly role: string; readonly items: readonly Expr[] }
/** `a,b,c` (features=, prot=) or a word sequence (`pending_ops flush_dcache inval_icache`) */
export interface WordListArg extends Node { readonly kind: 'wordlist'; readonly role: string; readonly items: readonly Word[] }
/** `[a, b]` of names (event fields that are lists of names, e.g. pending-ops `now=[flush_dcache]`) */
export interface CompareArg extends Node { readonly kind: 'compare'; readonly role: string; readonly op: CompareOp }
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type ValueArg = ExprArg | WordArg | StringArg | ListArg | WordListArg;
/** `key=value` */
export interface OptionArg extends Node {
  readonly kind: 'option';
  readonly key: Word;
  readonly eq: Range;
  readonly value: ValueArg;
}
/** a bare word option (`readonly`, `read`, `present`) */
export interface FlagArg extends Node { readonly kind: 'flag'; readonly word: Word }
export type Arg = ValueArg | CompareArg | OptionArg | FlagArg;

// ---------------------------------------------------------------- `=>` results

export type Result =
  | (Node & { readonly kind: 'ok' })
  | (Node & { readonly kind: 'errno'; readonly name: string })
  | (Node & { readonly kind: 'hyp_panic' })
  /** `exit mmio …`, `exit system_event shutdown`, `exit arm_nisv …`, `exit guest_exception` */
  | (Node & { readonly kind: 'exit'; readonly reason: Word; readonly args: readonly Arg[] })
  | (Node & { readonly kind: 'pages'; readonly items: readonly Expr[] })
  | (Node & { readonly kind: 'value'; readonly expr: Expr });
export type ResultKind = Result['kind'];

export interface ResultClause extends Node {
  readonly kind: 'result';
  /** the `=>` token */
  readonly arrow: Range;
  readonly result: Result;
}

// ---------------------------------------------------------------- statements and top level

export interface HostStatement extends Node {
  readonly kind: 'statement';
  /** the first word (`memslot`, `expect`, …) */
  readonly keyword: Word;
  /** id of the matched form in vocabulary.ts HOST_FORMS; '' when no form matched (a syntax error was reported) */
  readonly form: string;
  readonly args: readonly Arg[];
  /** the trailing `&` of `run N &` */
  readonly background?: Range;
  readonly result?: ResultClause;
}

export interface ScenarioTitle extends Node { readonly kind: 'scenario'; readonly keyword: Word; readonly title: string; readonly titleRange: Range }
export interface ConstDecl extends Node { readonly kind: 'const'; readonly keyword: Word; readonly name: Word; readonly value: Expr }
export interface MachineEntry extends Node {
  readonly kind: 'machine-entry';
  readonly key: Word;
  /** expression values (ipa_bits, vcpus, memlock, page_size, spe_irq, s1_tables) or words (flavour NAME, on/off, …) */
  readonly value: ExprArg | WordArg;
}
export interface MachineBlock extends Node { readonly kind: 'machine'; readonly keyword: Word; readonly entries: readonly MachineEntry[] }

/** One line of a guest block (only lines with text; comments are kept in `text`) */
export interface GuestLine extends Node {
  readonly kind: 'guest-line';
  /** the line's text inside the block (without the newline) */
  readonly text: string;
  /** `label:` at the start of the line, if any */
  readonly label?: Word;
  /** the first word after the label (mnemonic or directive), if any */
  readonly mnemonic?: Word;
}
export interface GuestBlock extends Node {
  readonly kind: 'guest';
  readonly keyword: Word;
  readonly at: Expr;
  /**
   * The raw text between `{` and `}`, exactly as in the file (starts right after `{`). Its first character
   * is at `sourceStart` (0-based line and col); line k of `source` is file line sourceStart.line + k.
   */
  readonly source: string;
  readonly sourceStart: { readonly line: number; readonly col: number; readonly offset: number };
  readonly lines: readonly GuestLine[];
}
export interface HostBlock extends Node { readonly kind: 'host'; readonly keyword: Word; readonly statements: readonly HostStatement[] }

export type TopItem = ScenarioTitle | ConstDecl | MachineBlock | GuestBlock | HostBlock;

export interface Script extends Node {
  readonly kind: 'script';
  /** every top-level item in source order */
  readonly items: readonly TopItem[];
  readonly title?: ScenarioTitle;
  readonly consts: readonly ConstDecl[];
  readonly machine?: MachineBlock;
  readonly guests: readonly GuestBlock[];
  readonly host?: HostBlock;
}

// ---------------------------------------------------------------- accessors

/** the positional argument with this role */
export function argOf(s: HostStatement, role: string): Arg | undefined {
  for (const a of s.args) if (a.kind !== 'option' && a.kind !== 'flag' && a.role === role) return a;
  return undefined;
}
/** the expression of the positional argument with this role */
export function exprOf(s: HostStatement, role: string): Expr | undefined {
  const a = argOf(s, role);
  return a && a.kind === 'expr' ? a.expr : undefined;
}
/** the word of the positional argument with this role */
export function wordOf(s: HostStatement, role: string): string | undefined {
  const a = argOf(s, role);
  return a && a.kind === 'word' ? a.word.text : undefined;
}
/** the `key=value` option with this key */
export function optionOf(args: readonly Arg[], key: string): OptionArg | undefined {
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (a.kind === 'option' && a.key.text === key) return a;
  }
  return undefined;
}
export function optionsOf(args: readonly Arg[]): OptionArg[] {
  const out: OptionArg[] = [];
  for (const a of args) if (a.kind === 'option') out.push(a);
  return out;
}
export function hasFlag(args: readonly Arg[], word: string): boolean {
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (a.kind === 'flag' && a.word.text === word) return true;
  }
  return false;
}
export function flagsOf(args: readonly Arg[]): string[] {
  const out: string[] = [];
  for (const a of args) if (a.kind === 'flag') out.push(a.word.text);
  return out;
}
