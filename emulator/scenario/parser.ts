// The error-tolerant `.kvms` parser: text -> Script + diagnostics, never an exception.
//
// Recovery: a bad statement gets ONE diagnostic (the furthest point any of its forms reached) and parsing
// resumes at the next newline; a bad top-level item resumes at the next line outside braces. Expression
// nesting is bounded (MAX_DEPTH) so no input can exhaust the stack.
//
// Host statements are parsed against the forms of vocabulary.ts (HOST_FORMS): each form of the keyword is
// tried in order with backtracking over the token array; the first that matches up to the end of the
// statement wins.

import type {
  Arg, BinaryOp, CompareArg, CompareOp, ConstDecl, Expr, GuestBlock, GuestLine, HostBlock, HostStatement, MachineBlock,
  MachineEntry, OptionArg, Result, ResultClause, ScenarioTitle, Script, TopItem, ValueArg, Word, WordListArg,
} from './ast';
import { DiagnosticBag, type Diagnostic } from './diagnostics';
import { Lexer } from './lexer';
import type { Position, Range, Token } from './tokens';
import {
  ERRNOS as ERRNOS_IMPORT, EVENT_FIELDS as EVENT_FIELDS_IMPORT, EXIT_OPTIONS, EXIT_REASONS, FORMS_BY_KEYWORD as FORMS_BY_KEYWORD_IMPORT,
  MACHINE_KEY_MAP, SYSTEM_EVENT_TYPES, type FieldType, type FormSpec, type OptionSpec, type PartSpec,
} from './vocabulary';

// Hot imported bindings as module-level locals: under tsx every use of an imported binding is a getter call.
const ERRNOS = ERRNOS_IMPORT;
const EVENT_FIELDS = EVENT_FIELDS_IMPORT;
const FORMS_BY_KEYWORD = FORMS_BY_KEYWORD_IMPORT;

export interface ParseResult {
  readonly ast: Script;
  readonly diagnostics: Diagnostic[];
}

/** Deepest expression nesting accepted (parentheses and unary operators); deeper is a diagnostic. */
export const MAX_DEPTH = 256;

const PREC: { readonly [op: string]: number } = { '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };
const AND_PREC = 3;
/** words that start a top-level item (a host block that meets one was not closed) */
const TOP_LEVEL_STARTS: ReadonlySet<string> = new Set(['scenario', 'const', 'machine', 'guest', 'host']);
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const RULE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.#-]*$/;

/**
 * Thrown (as a plain object: no stack capture) to abandon one form attempt. The message is built only when this
 * failure is the one reported (a statement's forms fail often while backtracking).
 */
interface Fail {
  readonly fail: true;
  readonly at: number;
  readonly tok: Token;
  /** the message, or the words that were expected (the message is then built if this failure is reported) */
  readonly msg: string | readonly string[];
  readonly code: string;
}
function describeToken(t: Token): string {
  if (t.kind === 'eof') return 'end of file';
  if (t.kind === 'newline') return 'end of line';
  return `'${t.text}'`;
}
const messageOf = (f: Fail): string => (typeof f.msg === 'string' ? f.msg : `expected ${f.msg.join(' or ')}, found ${describeToken(f.tok)}`);

function span(a: Range, b: Range): Range {
  return { start: a.start, end: b.end };
}

export function parse(text: string): ParseResult {
  const p = new Parser(text);
  let ast: Script;
  try {
    ast = p.parseScript();
  } catch (e) {
    // Never escapes to the user (ARCHITECTURE.md): report it; the fuzz test asserts this never happens.
    const z: Position = { line: 0, col: 0, offset: 0 };
    p.diags.error({ start: z, end: z }, `internal parser error: ${e instanceof Error ? e.message : String(e)}`, 'internal');
    ast = { kind: 'script', range: { start: z, end: z }, items: [], consts: [], guests: [] };
  }
  return { ast, diagnostics: p.diags.items };
}

class Parser {
  readonly diags = new DiagnosticBag();
  /**
   * The tokens of the current statement (a window: `compact()` drops consumed tokens at statement boundaries,
   * so a big file never has all its tokens alive). `i` indexes this window; backtracking stays inside it.
   */
  private toks: Token[] = [];
  private i = 0;
  private readonly lexer: Lexer;

  constructor(private readonly text: string) {
    this.lexer = new Lexer(text);
  }

  private fill(k: number): void {
    while (this.toks.length <= this.i + k) {
      const last = this.toks[this.toks.length - 1];
      if (last !== undefined && last.kind === 'eof') return;
      this.toks.push(this.lexer.next());
    }
  }
  /** forget consumed tokens (keeps the previous one); only at statement boundaries */
  private compact(): void {
    if (this.i > 1) {
      this.toks.splice(0, this.i - 1);
      this.i = 1;
    }
  }
  private prev(): Token {
    return this.toks[Math.max(this.i - 1, 0)];
  }

  // ------------------------------------------------------------ token helpers

  private get tok(): Token {
    if (this.i >= this.toks.length) this.fill(0);
    return this.toks[this.i];
  }
  private peek(k = 1): Token {
    this.fill(k);
    return this.toks[Math.min(this.i + k, this.toks.length - 1)];
  }
  private advance(): Token {
    const t = this.tok;
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private isPunct(t: Token, p: string): boolean { return t.kind === 'punct' && t.text === p; }
  private atLineEnd(): boolean {
    const t = this.tok;
    return t.kind === 'newline' || t.kind === 'eof';
  }
  /** end of a host statement: newline, eof, `}` or `=>` */
  private atStatementEnd(): boolean {
    const t = this.tok;
    return t.kind === 'newline' || t.kind === 'eof' || this.isPunct(t, '}') || this.isPunct(t, '=>');
  }
  private skipNewlines(): void {
    while (this.tok.kind === 'newline') this.advance();
  }
  /** skip a line, stepping over `{ … }` groups so a broken block header does not spill its body */
  private skipToplevelLine(): void {
    let depth = 0;
    while (this.tok.kind !== 'eof') {
      const t = this.tok;
      if (this.isPunct(t, '{')) depth++;
      else if (this.isPunct(t, '}')) depth = Math.max(0, depth - 1);
      else if (t.kind === 'newline' && depth === 0) return;
      this.advance();
    }
  }
  private word(t: Token): Word { return { kind: 'word', text: t.text, range: t.range }; }
  private describe(t: Token): string {
    return describeToken(t);
  }
  private fail(message: string | readonly string[], t: Token = this.tok, code = 'syntax'): never {
    const f: Fail = { fail: true, at: t.offset, tok: t, msg: message, code };
    throw f;
  }
  private isFail(e: unknown): e is Fail {
    return typeof e === 'object' && e !== null && (e as Fail).fail === true;
  }
  private lexError(t: Token): void {
    if (t.error) this.fail(t.error, t, t.kind === 'number' ? 'number' : 'syntax');
  }

  /**
   * A NAME in a name position: an identifier, with `-` allowed inside (`spe-rfc-v5`, `hugetlb-2M`,
   * `guest-exception`). Tokens are re-joined when they touch (no space between).
   */
  private nameToken(allowHash = false): Word {
    const first = this.tok;
    if (first.kind !== 'ident') this.fail(`expected a name, found ${this.describe(first)}`);
    let end = first.range.end;
    this.advance();
    for (;;) {
      const t = this.tok;
      if (t.offset !== end.offset) break;
      const joinable = t.kind === 'ident' || t.kind === 'number' || (t.kind === 'punct' && (t.text === '-' || (allowHash && t.text === '#')));
      if (!joinable) break;
      if (t.kind === 'punct') {
        const n = this.peek();
        if (n.offset !== t.endOffset || (n.kind !== 'ident' && n.kind !== 'number')) break;
      }
      end = t.range.end;
      this.advance();
    }
    const text = this.text.slice(first.range.start.offset, end.offset);
    if (!(allowHash ? RULE_NAME_RE : NAME_RE).test(text)) this.fail(`'${text}' is not a valid name`, first);
    return { kind: 'word', text, range: { start: first.range.start, end } };
  }

  // ------------------------------------------------------------ top level

  parseScript(): Script {
    const items: TopItem[] = [];
    const consts: ConstDecl[] = [];
    const guests: GuestBlock[] = [];
    let title: ScenarioTitle | undefined;
    let machine: MachineBlock | undefined;
    let host: HostBlock | undefined;
    this.skipNewlines();
    const start = this.tok.range.start;
    while (this.tok.kind !== 'eof') {
      this.compact();
      const t = this.tok;
      if (t.kind === 'newline') { this.advance(); continue; }
      try {
        if (t.kind === 'ident' && t.text === 'scenario') {
          const s = this.parseTitle();
          if (title) this.diags.error(s.range, 'a second `scenario` title (at most one)', 'duplicate', [{ range: title.range, message: 'first title' }]);
          else title = s;
          items.push(s);
        } else if (t.kind === 'ident' && t.text === 'const') {
          const c = this.parseConst();
          consts.push(c);
          items.push(c);
        } else if (t.kind === 'ident' && t.text === 'machine') {
          const m = this.parseMachine();
          if (machine) this.diags.error(m.keyword.range, 'a second `machine` block (at most one)', 'duplicate', [{ range: machine.keyword.range, message: 'first machine block' }]);
          else machine = m;
          items.push(m);
        } else if (t.kind === 'ident' && t.text === 'guest') {
          const g = this.parseGuest();
          guests.push(g);
          items.push(g);
        } else if (t.kind === 'ident' && t.text === 'host') {
          const h = this.parseHost();
          if (host) this.diags.error(h.keyword.range, 'a second `host` block (at most one)', 'duplicate', [{ range: host.keyword.range, message: 'first host block' }]);
          else host = h;
          items.push(h);
        } else {
          if (t.error) this.fail(t.error, t);
          this.fail(`expected scenario, const, machine, guest or host, found ${this.describe(t)}`, t);
        }
        this.expectLineEnd();
      } catch (e) {
        if (!this.isFail(e)) throw e;
        this.diags.error(e.tok.range, messageOf(e), e.code);
        this.skipToplevelLine();
      }
    }
    const end = this.tok.range.end;
    return { kind: 'script', range: { start, end }, items, title, consts, machine, guests, host };
  }

  private expectLineEnd(): void {
    // (an unclosed block stops at the start of the next item's line: nothing to check then)
    if (!this.atLineEnd() && this.prev().kind !== 'newline') {
      const t = this.tok;
      this.lexError(t);
      this.fail(`expected end of line, found ${this.describe(t)}`, t);
    }
  }

  private parseTitle(): ScenarioTitle {
    const kw = this.word(this.advance());
    const t = this.tok;
    this.lexError(t);
    if (t.kind !== 'string') this.fail(`expected a "title" string after scenario, found ${this.describe(t)}`);
    this.advance();
    return { kind: 'scenario', keyword: kw, title: t.str ?? '', titleRange: t.range, range: span(kw.range, t.range) };
  }

  private parseConst(): ConstDecl {
    const kw = this.word(this.advance());
    const n = this.tok;
    if (n.kind !== 'ident') this.fail(`expected a constant name after const, found ${this.describe(n)}`);
    this.advance();
    if (!this.isPunct(this.tok, '=')) this.fail(`expected '=' after the constant name, found ${this.describe(this.tok)}`);
    this.advance();
    let value: Expr;
    try {
      value = this.parseExpr(0, 0);
    } catch (e) {
      // keep the constant (with an error value) so its uses are not reported as undefined names too
      if (!this.isFail(e)) throw e;
      this.diags.error(e.tok.range, messageOf(e), e.code);
      const from = this.tok;
      while (!this.atLineEnd()) this.advance();
      const last = this.prev();
      value = { kind: 'error', range: { start: from.range.start, end: last.offset >= from.offset ? last.range.end : from.range.start } };
    }
    return { kind: 'const', keyword: kw, name: this.word(n), value, range: span(kw.range, value.range) };
  }

  private expectOpenBrace(what: string): Token {
    this.skipNewlines();
    const t = this.tok;
    if (!this.isPunct(t, '{')) this.fail(`expected '{' after ${what}, found ${this.describe(t)}`);
    return this.advance();
  }

  private parseMachine(): MachineBlock {
    const kw = this.word(this.advance());
    this.expectOpenBrace('machine');
    const entries: MachineEntry[] = [];
    const seen = new Map<string, MachineEntry>();
    for (;;) {
      const t = this.tok;
      if (t.kind === 'newline') { this.advance(); continue; }
      if (t.kind === 'eof') {
        this.diags.error(kw.range, "machine block is not closed: missing '}'", 'syntax');
        return { kind: 'machine', keyword: kw, entries, range: span(kw.range, t.range) };
      }
      if (this.isPunct(t, '}')) {
        this.advance();
        return { kind: 'machine', keyword: kw, entries, range: span(kw.range, t.range) };
      }
      this.compact();
      try {
        const e = this.parseMachineEntry();
        const prev = seen.get(e.key.text);
        if (prev) this.diags.error(e.key.range, `machine key '${e.key.text}' given twice`, 'duplicate', [{ range: prev.range, message: 'first value' }]);
        else seen.set(e.key.text, e);
        entries.push(e);
      } catch (e) {
        if (!this.isFail(e)) throw e;
        this.diags.error(e.tok.range, messageOf(e), e.code);
        while (!this.atLineEnd() && !this.isPunct(this.tok, '}')) this.advance();
      }
    }
  }

  private parseMachineEntry(): MachineEntry {
    const k = this.tok;
    this.lexError(k);
    if (k.kind !== 'ident') this.fail(`expected a machine key, found ${this.describe(k)}`);
    const spec = MACHINE_KEY_MAP.get(k.text);
    if (!spec) this.fail(`unknown machine key '${k.text}' (keys: ${[...MACHINE_KEY_MAP.keys()].join(' ')})`, k, 'undefined-name');
    this.advance();
    const key = this.word(k);
    const v = this.tok;
    if (v.kind === 'newline' || v.kind === 'eof' || this.isPunct(v, '}')) this.fail(`machine key '${k.text}' needs a value`, v);
    let value: MachineEntry['value'];
    if (spec.key === 'memlock' && v.kind === 'ident' && v.text === 'unlimited') {
      this.advance();
      value = { kind: 'word', role: spec.key, word: this.word(v), range: v.range };
    } else if (spec.value === 'expr') {
      const expr = this.parseExpr(0, 0);
      value = { kind: 'expr', role: spec.key, expr, range: expr.range };
    } else if (spec.value === 'name') {
      const w = this.nameToken();
      value = { kind: 'word', role: spec.key, word: w, range: w.range };
    } else {
      if (v.kind !== 'ident' || !spec.words!.includes(v.text)) this.fail(`'${k.text}' takes ${spec.words!.join(' or ')}, found ${this.describe(v)}`, v);
      this.advance();
      value = { kind: 'word', role: spec.key, word: this.word(v), range: v.range };
    }
    return { kind: 'machine-entry', key, value, range: span(key.range, value.range) };
  }

  private parseGuest(): GuestBlock {
    const kw = this.word(this.advance());
    const a = this.tok;
    if (!(a.kind === 'ident' && a.text === 'at')) this.fail(`expected 'at ADDRESS' after guest, found ${this.describe(a)}`);
    this.advance();
    const at = this.parseExpr(0, 0);
    const open = this.expectOpenBrace('guest at …');
    // The body is raw assembly: find the first `}` (A64 syntax has no braces) without judging the tokens between.
    while (this.tok.kind !== 'eof' && !this.isPunct(this.tok, '}')) {
      this.advance();
      this.compact();
    }
    const close = this.tok;
    const bodyStart = open.range.end;
    const bodyEnd = close.range.start;
    if (close.kind === 'eof') this.diags.error(kw.range, "guest block is not closed: missing '}'", 'syntax');
    else this.advance();
    const source = this.text.slice(bodyStart.offset, bodyEnd.offset);
    return {
      kind: 'guest', keyword: kw, at, source, sourceStart: bodyStart, lines: guestLines(source, bodyStart),
      range: span(kw.range, close.range),
    };
  }

  private parseHost(): HostBlock {
    const kw = this.word(this.advance());
    this.expectOpenBrace('host');
    const statements: HostStatement[] = [];
    for (;;) {
      const t = this.tok;
      if (t.kind === 'newline') { this.advance(); continue; }
      if (t.kind === 'eof') {
        this.diags.error(kw.range, "host block is not closed: missing '}'", 'syntax');
        return { kind: 'host', keyword: kw, statements, range: span(kw.range, t.range) };
      }
      if (this.isPunct(t, '}')) {
        this.advance();
        return { kind: 'host', keyword: kw, statements, range: span(kw.range, t.range) };
      }
      if (t.kind === 'ident' && TOP_LEVEL_STARTS.has(t.text) && !FORMS_BY_KEYWORD.has(t.text)) {
        // `guest at …` / `machine {` inside host: the host block was not closed; stop here so the item parses
        this.diags.error(kw.range, "host block is not closed: missing '}'", 'syntax');
        return { kind: 'host', keyword: kw, statements, range: span(kw.range, this.prev().range) };
      }
      this.compact();
      const s = this.parseStatement();
      if (s) statements.push(s);
    }
  }

  // ------------------------------------------------------------ host statements

  /** One statement (up to the newline); on error: one diagnostic, skip to the newline, return a form-less node. */
  private parseStatement(): HostStatement | undefined {
    const kwTok = this.tok;
    if (kwTok.kind !== 'ident') {
      this.diags.error(kwTok.range, kwTok.error ?? `expected a host statement, found ${this.describe(kwTok)}`, 'syntax');
      this.advance();
      while (!this.atLineEnd() && !this.isPunct(this.tok, '}')) this.advance();
      return undefined;
    }
    const keyword = this.word(kwTok);
    const forms = FORMS_BY_KEYWORD.get(kwTok.text);
    this.advance();
    if (!forms) {
      this.diags.error(kwTok.range, `unknown host statement '${kwTok.text}'`, 'undefined-name');
      this.skipStatement();
      return { kind: 'statement', keyword, form: '', args: [], range: keyword.range };
    }
    const bodyStart = this.i;
    let best: Fail | undefined;
    // Forms whose fixed words are absent from the line are not attempted (attempts that fail cost a throw);
    // when that leaves none, every form is attempted so the diagnostic points at the real mistake.
    let candidates: readonly FormSpec[] = forms;
    if (forms.length > 1) {
      const words = this.statementWords();
      const kept: FormSpec[] = [];
      for (let k = 0; k < forms.length; k++) {
        const f = forms[k];
        if (!this.quickReject(f) && fixedWordsPresent(f, words)) kept.push(f);
      }
      this.i = bodyStart;
      if (kept.length > 0) candidates = kept;
    }
    for (const form of candidates) {
      this.i = bodyStart;
      try {
        const args: Arg[] = [];
        this.matchParts(form.parts, args, 0);
        this.parseOptions(form, args);
        if (form.tail) this.matchParts(form.tail, args, 0);
        let background: Range | undefined;
        if (form.background && this.isPunct(this.tok, '&')) background = this.advance().range;
        let result: ResultClause | undefined;
        if (this.isPunct(this.tok, '=>')) result = this.parseResult();
        if (!this.atStatementEnd()) {
          this.lexError(this.tok);
          this.fail(`unexpected ${this.describe(this.tok)} in ${form.syntax}`);
        }
        this.checkRequired(form, args, keyword);
        const last = this.prev();
        return { kind: 'statement', keyword, form: form.id, args, background, result, range: span(keyword.range, last.range) };
      } catch (e) {
        if (!this.isFail(e)) throw e;
        if (!best || e.at > best.at) best = e;
      }
    }
    this.i = bodyStart;
    const f = best!;
    this.diags.error(f.tok.range, messageOf(f), f.code);
    this.skipStatement();
    return { kind: 'statement', keyword, form: '', args: [], range: span(keyword.range, this.prev().range) };
  }

  /**
   * the identifiers from here to the end of the line (a statement's words, for choosing forms); one array
   * reused for every statement (a statement has a dozen words: a list beats a Set)
   */
  private readonly lineWords: string[] = [];
  private statementWords(): readonly string[] {
    const out = this.lineWords;
    out.length = 0;
    const start = this.i;
    for (let k = 0; ; k++) {
      const t = this.peek(k);
      if (t.kind === 'newline' || t.kind === 'eof') break;
      if (t.kind === 'ident') out.push(t.text);
      if (k > 10_000) break;
    }
    this.i = start;
    return out;
  }

  /**
   * Cheap look-ahead so most forms of a keyword are rejected without a parse attempt: the fixed word at the
   * start (`expect event`), or right after a one-token argument (`memslot 0 delete`). Conservative: it only
   * rejects what the full attempt would reject at the same token.
   */
  private quickReject(form: FormSpec): Fail | undefined {
    const parts = form.parts;
    if (parts.length === 0) return undefined;
    let k = 0;
    let t = this.tok;
    if (parts[0].t === 'expr' && parts.length > 1 && parts[1].t === 'word') {
      const n = this.peek();
      const single = (t.kind === 'number' || t.kind === 'ident') && !(n.kind === 'punct' && (PREC[n.text] !== undefined || n.text === '('));
      if (!single) return undefined;
      k = 1;
      t = n;
    }
    const p = parts[k];
    if (p.t !== 'word') return undefined;
    if (t.kind === 'ident' && p.words.includes(t.text)) return undefined;
    return { fail: true, at: t.offset, tok: t, msg: p.words, code: 'syntax' };
  }

  private skipStatement(): void {
    while (!this.atLineEnd() && !this.isPunct(this.tok, '}')) this.advance();
  }

  // (plain loops here and in parseOptions: a closure per statement and option shows up on big files)
  private checkRequired(form: FormSpec, args: Arg[], keyword: Word): void {
    const options = form.options;
    if (options !== undefined) {
      for (let k = 0; k < options.length; k++) {
        const o = options[k];
        if (o.required && !hasOption(args, o.key)) this.fail(`${keyword.text} needs ${o.key}= (${form.syntax})`, this.prev());
      }
    }
    if (form.id === 'lock' && !hasArgKind(args, 'flag')) {
      this.fail('lock needs read, write or both (exactly the listed bits are sent)', this.prev());
    }
    if (form.freeOptions === 'register' && !hasArgKind(args, 'option')) {
      this.fail('set_reg needs at least one REG=V', this.prev());
    }
  }

  private matchParts(parts: readonly PartSpec[], args: Arg[], k: number): void {
    for (; k < parts.length; k++) {
      const p = parts[k];
      if (p.t === 'opt') {
        // try the group present (and the rest after it), then absent; skip the attempt when it cannot start here
        if (!canStart(p.parts[0], this.tok)) continue;
        const save = this.i;
        const n = args.length;
        try {
          this.matchParts([...p.parts, ...parts.slice(k + 1)], args, 0);
          return;
        } catch (e) {
          if (!this.isFail(e)) throw e;
          this.i = save;
          args.length = n;
          try {
            this.matchParts(parts, args, k + 1);
            return;
          } catch (e2) {
            if (!this.isFail(e2)) throw e2;
            throw e2.at >= e.at ? e2 : e;
          }
        }
      }
      this.matchPart(p, args);
    }
  }

  private matchPart(p: Exclude<PartSpec, { t: 'opt' }>, args: Arg[]): void {
    const t = this.tok;
    switch (p.t) {
      case 'expr': {
        const expr = this.parseExpr(p.noAnd ? AND_PREC + 1 : 0, 0);
        args.push({ kind: 'expr', role: p.role, expr, range: expr.range });
        return;
      }
      case 'word':
        if (t.kind !== 'ident' || !p.words.includes(t.text)) this.fail(p.words);
        this.advance();
        args.push({ kind: 'word', role: p.role, word: this.word(t), range: t.range });
        return;
      case 'name': {
        const w = p.dash ? this.nameToken() : this.plainName();
        args.push({ kind: 'word', role: p.role, word: w, range: w.range });
        return;
      }
      case 'string':
        this.lexError(t);
        if (t.kind !== 'string') this.fail(`expected a "string", found ${this.describe(t)}`);
        this.advance();
        args.push({ kind: 'string', role: p.role, value: t.str ?? '', range: t.range });
        return;
      case 'list':
        args.push(this.parseList(p.role));
        return;
      case 'compare': {
        if (t.kind !== 'punct' || !(p.ops as readonly string[]).includes(t.text)) this.fail(p.ops);
        this.advance();
        const c: CompareArg = { kind: 'compare', role: p.role, op: t.text as CompareOp, range: t.range };
        args.push(c);
        return;
      }
      case 'punct':
        if (!this.isPunct(t, p.text)) this.fail(`expected '${p.text}', found ${this.describe(t)}`);
        this.advance();
        return;
      case 'wordseq': {
        const items: Word[] = [];
        while (this.tok.kind === 'ident' && p.words.includes(this.tok.text)) items.push(this.word(this.advance()));
        if (items.length === 0) this.fail(`expected ${p.words.join(' or ')}, found ${this.describe(this.tok)}`);
        const wl: WordListArg = { kind: 'wordlist', role: p.role, items, range: span(items[0].range, items[items.length - 1].range) };
        args.push(wl);
        return;
      }
    }
  }

  private plainName(): Word {
    const t = this.tok;
    this.lexError(t);
    if (t.kind !== 'ident') this.fail(`expected a name, found ${this.describe(t)}`);
    this.advance();
    return this.word(t);
  }

  /** `key=value` options and bare flags, in any order, until the end of the statement (or a tail part) */
  private parseOptions(form: FormSpec, args: Arg[]): void {
    let seen: string[] | undefined; // the keys and flags so far (a handful: a list beats a Map)
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'ident') return;
      const isOption = this.isPunct(this.peek(), '=');
      if (isOption) {
        let spec: OptionSpec | undefined = findOption(form.options, t.text);
        let fieldType: FieldType | undefined;
        if (!spec && form.freeOptions === 'register') spec = { key: t.text, value: 'expr' };
        if (!spec && form.freeOptions === 'event-field') {
          const kindArg = args.find((a) => a.kind === 'word' && a.role === 'kind');
          const kind = kindArg && kindArg.kind === 'word' ? kindArg.word.text : '';
          fieldType = (EVENT_FIELDS as { [k: string]: { [f: string]: FieldType } })[kind]?.[t.text];
          spec = { key: t.text, value: 'expr' };
        }
        if (!spec) {
          const keys = (form.options ?? []).map((o) => o.key + '=');
          this.fail(`unknown option '${t.text}=' for ${form.keyword}${keys.length ? ` (options: ${keys.join(' ')})` : ''}`, t);
        }
        if (seen !== undefined && seen.includes(t.text)) this.fail(`option '${t.text}=' given twice`, t);
        (seen ??= []).push(t.text);
        const key = this.word(this.advance());
        const eq = this.advance().range;
        const value = form.freeOptions === 'event-field' && findOption(form.options, t.text) === undefined
          ? this.parseFieldValue(t.text, fieldType)
          : this.parseOptionValue(spec);
        const o: OptionArg = { kind: 'option', key, eq, value, range: span(key.range, value.range) };
        args.push(o);
        continue;
      }
      if (form.flags?.includes(t.text)) {
        if (seen !== undefined && seen.includes(t.text)) this.fail(`'${t.text}' given twice`, t);
        (seen ??= []).push(t.text);
        this.advance();
        args.push({ kind: 'flag', word: this.word(t), range: t.range });
        continue;
      }
      return;
    }
  }

  private parseOptionValue(spec: OptionSpec): ValueArg {
    const t = this.tok;
    switch (spec.value) {
      case 'expr': {
        const expr = this.parseExpr(0, 0);
        return { kind: 'expr', role: spec.key, expr, range: expr.range };
      }
      case 'name': {
        const w = this.nameToken();
        return { kind: 'word', role: spec.key, word: w, range: w.range };
      }
      case 'word':
        if (t.kind !== 'ident' || !spec.words!.includes(t.text)) this.fail(`${spec.key}= takes ${spec.words!.join(' or ')}, found ${this.describe(t)}`);
        this.advance();
        return { kind: 'word', role: spec.key, word: this.word(t), range: t.range };
      case 'wordlist': {
        const items: Word[] = [];
        for (;;) {
          const w = this.tok;
          if (w.kind !== 'ident') this.fail(`${spec.key}= takes a list of ${spec.words!.join(' ')}, found ${this.describe(w)}`);
          this.advance();
          items.push(this.word(w));
          if (!this.isPunct(this.tok, ',')) break;
          this.advance();
        }
        return { kind: 'wordlist', role: spec.key, items, range: span(items[0].range, items[items.length - 1].range) };
      }
      case 'list':
        return this.parseList(spec.key);
    }
  }

  /** an event field value: typed by the event kind's field table (names stay names even if a symbol has that name) */
  private parseFieldValue(key: string, type: FieldType | undefined): ValueArg {
    const t = this.tok;
    this.lexError(t);
    if (t.kind === 'string') {
      this.advance();
      return { kind: 'string', role: key, value: t.str ?? '', range: t.range };
    }
    if (this.isPunct(t, '[')) {
      if (type === 'names') {
        const open = this.advance();
        const items: Word[] = [];
        while (!this.isPunct(this.tok, ']')) {
          items.push(this.nameToken());
          if (this.isPunct(this.tok, ',')) this.advance();
          else if (!this.isPunct(this.tok, ']')) this.fail(`expected ',' or ']', found ${this.describe(this.tok)}`);
        }
        const close = this.advance();
        return { kind: 'wordlist', role: key, items, range: span(open.range, close.range) };
      }
      return this.parseList(key);
    }
    if (t.kind === 'ident' && (type === 'name' || type === 'names' || type === 'bool' || type === 'string')) {
      const w = this.nameToken(key === 'rule');
      return { kind: 'word', role: key, word: w, range: w.range };
    }
    if (t.kind === 'ident' && type === undefined) {
      // a field the checker does not know (it reports the field): keep the value as a name
      const w = this.nameToken(true);
      return { kind: 'word', role: key, word: w, range: w.range };
    }
    const expr = this.parseExpr(0, 0);
    return { kind: 'expr', role: key, expr, range: expr.range };
  }

  private parseList(role: string): ValueArg {
    const open = this.tok;
    if (!this.isPunct(open, '[')) this.fail(`expected '[', found ${this.describe(open)}`);
    this.advance();
    const items: Expr[] = [];
    while (!this.isPunct(this.tok, ']')) {
      items.push(this.parseExpr(0, 0));
      if (this.isPunct(this.tok, ',')) this.advance();
      else if (!this.isPunct(this.tok, ']')) this.fail(`expected ',' or ']', found ${this.describe(this.tok)}`);
    }
    const close = this.advance();
    return { kind: 'list', role, items, range: span(open.range, close.range) };
  }

  // ------------------------------------------------------------ results

  private parseResult(): ResultClause {
    const arrow = this.advance().range;
    const t = this.tok;
    let result: Result;
    if (t.kind === 'ident' && t.text === 'ok') {
      this.advance();
      result = { kind: 'ok', range: t.range };
    } else if (t.kind === 'ident' && t.text === 'hyp_panic') {
      this.advance();
      result = { kind: 'hyp_panic', range: t.range };
    } else if (t.kind === 'ident' && ERRNOS.includes(t.text)) {
      this.advance();
      result = { kind: 'errno', name: t.text, range: t.range };
    } else if (t.kind === 'ident' && /^E[A-Z0-9]{2,}$/.test(t.text)) {
      this.fail(`unknown errno '${t.text}' (one of ${ERRNOS.join(' ')})`, t, 'undefined-name');
    } else if (t.kind === 'ident' && t.text === 'exit') {
      this.advance();
      const r = this.tok;
      if (r.kind !== 'ident' || !(EXIT_REASONS as readonly string[]).includes(r.text)) this.fail(`expected an exit reason (${EXIT_REASONS.join(' ')}), found ${this.describe(r)}`);
      this.advance();
      const reason = this.word(r);
      const args: Arg[] = [];
      if (r.text === 'mmio' && this.tok.kind === 'ident' && (this.tok.text === 'read' || this.tok.text === 'write') && !this.isPunct(this.peek(), '=')) {
        const d = this.advance();
        args.push({ kind: 'flag', word: this.word(d), range: d.range });
      }
      if (r.text === 'system_event') {
        const ty = this.tok;
        if (ty.kind !== 'ident' || !(SYSTEM_EVENT_TYPES as readonly string[]).includes(ty.text)) this.fail(`expected shutdown or reset, found ${this.describe(ty)}`);
        this.advance();
        args.push({ kind: 'word', role: 'type', word: this.word(ty), range: ty.range });
      }
      const allowed = EXIT_OPTIONS[r.text];
      const seen = new Set<string>();
      while (this.tok.kind === 'ident' && this.isPunct(this.peek(), '=')) {
        const k = this.tok;
        if (!allowed.includes(k.text)) this.fail(`unknown option '${k.text}=' for exit ${r.text}${allowed.length ? ` (options: ${allowed.map((a) => a + '=').join(' ')})` : ''}`, k);
        if (seen.has(k.text)) this.fail(`option '${k.text}=' given twice`, k);
        seen.add(k.text);
        const key = this.word(this.advance());
        const eq = this.advance().range;
        const expr = this.parseExpr(0, 0);
        args.push({ kind: 'option', key, eq, value: { kind: 'expr', role: k.text, expr, range: expr.range }, range: span(key.range, expr.range) });
      }
      const last = this.prev();
      result = { kind: 'exit', reason, args, range: span(t.range, last.range) };
    } else if (t.kind === 'ident' && t.text === 'pages' && this.isPunct(this.peek(), '[')) {
      this.advance();
      const list = this.parseList('pages');
      result = { kind: 'pages', items: list.kind === 'list' ? list.items : [], range: span(t.range, list.range) };
    } else {
      if (this.atStatementEnd()) this.fail(`expected a result after '=>' (ok, an errno, exit …, pages […], hyp_panic or a value)`);
      const expr = this.parseExpr(0, 0);
      result = { kind: 'value', expr, range: expr.range };
    }
    return { kind: 'result', arrow, result, range: span({ start: arrow.start, end: arrow.end }, result.range) };
  }

  // ------------------------------------------------------------ expressions

  /** precedence climbing; `minPrec` 0 = any binary operator; depth bounds nesting */
  private parseExpr(minPrec: number, depth: number): Expr {
    let left = this.parseUnary(depth);
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'punct') break;
      const prec = PREC[t.text];
      if (prec === undefined || prec < minPrec) break;
      // `run 0 &` : a trailing `&` is the background marker, not an operator
      if (t.text === '&') {
        const n = this.peek();
        if (n.kind === 'newline' || n.kind === 'eof' || this.isPunct(n, '=>') || this.isPunct(n, '}')) break;
      }
      this.advance();
      // a long operator chain counts as nesting too: evaluation recurses along it
      depth++;
      if (depth > MAX_DEPTH) this.fail(`expression nested deeper than ${MAX_DEPTH} levels`, t, 'depth');
      const right = this.parseExpr(prec + 1, depth + 1);
      left = { kind: 'binary', op: t.text as BinaryOp, opRange: t.range, left, right, range: span(left.range, right.range) };
    }
    return left;
  }

  private parseUnary(depth: number): Expr {
    const t = this.tok;
    if (depth > MAX_DEPTH) this.fail(`expression nested deeper than ${MAX_DEPTH} levels`, t, 'depth');
    this.lexError(t);
    if (t.kind === 'number') {
      this.advance();
      return { kind: 'number', value: t.num ?? null, raw: t.text, range: t.range };
    }
    if (t.kind === 'punct' && (t.text === '-' || t.text === '~')) {
      this.advance();
      const operand = this.parseUnary(depth + 1);
      return { kind: 'unary', op: t.text, operand, range: span(t.range, operand.range) };
    }
    if (t.kind === 'punct' && t.text === '(') {
      this.advance();
      const inner = this.parseExpr(0, depth + 1);
      const c = this.tok;
      if (!this.isPunct(c, ')')) this.fail(`expected ')', found ${this.describe(c)}`, c);
      this.advance();
      return { kind: 'paren', expr: inner, range: span(t.range, c.range) };
    }
    if (t.kind === 'ident') {
      this.advance();
      if ((t.text === 'hva' || t.text === 'pa') && this.isPunct(this.tok, '(')) {
        this.advance();
        const arg = this.parseExpr(0, depth + 1);
        const c = this.tok;
        if (!this.isPunct(c, ')')) this.fail(`expected ')', found ${this.describe(c)}`, c);
        this.advance();
        return { kind: 'call', callee: this.word(t), arg, range: span(t.range, c.range) };
      }
      return { kind: 'ref', name: t.text, range: t.range };
    }
    this.fail(`expected an expression, found ${this.describe(t)}`, t);
  }
}

function hasOption(args: readonly Arg[], key: string): boolean {
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (a.kind === 'option' && a.key.text === key) return true;
  }
  return false;
}
function hasArgKind(args: readonly Arg[], kind: Arg['kind']): boolean {
  for (let k = 0; k < args.length; k++) if (args[k].kind === kind) return true;
  return false;
}
function findOption(options: readonly OptionSpec[] | undefined, key: string): OptionSpec | undefined {
  if (options === undefined) return undefined;
  for (let k = 0; k < options.length; k++) if (options[k].key === key) return options[k];
  return undefined;
}

/** can this part begin with token t? (false only when an attempt would fail at t) */
function canStart(p: PartSpec, t: Token): boolean {
  switch (p.t) {
    case 'name': return t.kind === 'ident';
    case 'word': case 'wordseq': return t.kind === 'ident' && p.words.includes(t.text);
    case 'punct': return t.kind === 'punct' && t.text === p.text;
    case 'compare': return t.kind === 'punct' && (p.ops as readonly string[]).includes(t.text);
    case 'string': return t.kind === 'string';
    case 'list': return t.kind === 'punct' && t.text === '[';
    default: return true;
  }
}

/** every non-optional fixed word part of the form has one of its words on the line */
function fixedWordsPresent(f: FormSpec, words: readonly string[]): boolean {
  const parts = f.parts;
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k];
    if (p.t !== 'word') continue;
    let found = false;
    for (let j = 0; j < p.words.length && !found; j++) found = words.includes(p.words[j]);
    if (!found) return false;
  }
  return true;
}

/** Split a guest block body into its non-blank lines, with ranges, labels and mnemonics. */
export function guestLines(source: string, start: Position): GuestLine[] {
  const out: GuestLine[] = [];
  let offset = 0;
  const raw = source.split('\n');
  for (let k = 0; k < raw.length; k++) {
    const lineText = raw[k];
    const line = start.line + k;
    const colBase = k === 0 ? start.col : 0;
    const offBase = start.offset + offset;
    offset += lineText.length + 1;
    const code = lineText.replace(/\/\/.*$/, '').replace(/\r$/, '');
    const first = code.search(/\S/);
    if (first < 0) continue;
    const lastNonBlank = code.replace(/\s+$/, '').length;
    const at = (c: number): Position => ({ line, col: colBase + c, offset: offBase + c });
    let label: Word | undefined;
    let mnemonic: Word | undefined;
    let rest = first;
    const lm = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*:/.exec(code.slice(first));
    if (lm) {
      label = { kind: 'word', text: lm[1], range: { start: at(first), end: at(first + lm[1].length) } };
      rest = first + lm[0].length;
    }
    const mm = /^\s*([A-Za-z_.][A-Za-z0-9_.]*)/.exec(code.slice(rest));
    if (mm) {
      const s = rest + mm[0].length - mm[1].length;
      mnemonic = { kind: 'word', text: mm[1], range: { start: at(s), end: at(s + mm[1].length) } };
    }
    out.push({ kind: 'guest-line', text: lineText.replace(/\r$/, ''), label, mnemonic, range: { start: at(first), end: at(lastNonBlank) } });
  }
  return out;
}
