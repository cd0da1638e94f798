// The `.kvms` front end's public surface (LANGUAGE.md): parse -> Script (AST with ranges) + diagnostics,
// check -> diagnostics + resolved facts. The loader/runner, the language server, the debugger and the CLI
// import from here.
//
//   const { ast, diagnostics } = parse(text);                       // never throws
//   const { diagnostics: more, info } = check(ast, { flavourOverride }); // never throws
//   // or: analyse(text, opts) -> { ast, diagnostics (parser's first), info }
//
// Contracts:
// - Positions (tokens.ts): 0-based `line` and `col` (UTF-16 code units, as LSP), plus `offset` into the text;
//   ranges are half-open. Every AST node has one; words, numbers, option keys/values, `=>`, results and guest
//   lines have their own. (Diagnostics converted from the assembler carry the offset too.)
// - Host statements (ast.ts): `keyword`, `form` (an id of vocabulary.ts HOST_FORMS, '' after a syntax error),
//   `args` in source order (positional by `role`, `key=value` options, bare flags), `background`, `result`.
//   Accessors: argOf / exprOf / wordOf / optionOf / hasFlag / flagsOf.
// - Diagnostic (diagnostics.ts): { range, severity 'error'|'warning'|'info', message, code?, related? }.
//   `code` is a spec rule ("A.2#11", "E.3#6": a predicted errno, always a warning) or a problem id
//   ('syntax', 'undefined-name', 'flavour', 'range', 'vcpu-index', 'assemble', 'result', …). Severity follows
//   LANGUAGE.md "Checker" (see checker.ts).
// - CheckInfo (checker.ts): effective flavour (override > machine > default), machine config with defaults,
//   constants, labels (assembler), guest code addresses per 0-based line, memslot declarations, and every host
//   statement with its numeric arguments evaluated (undefined = known only at run time, e.g. hva()).
// - Guest blocks keep their raw `source` and `sourceStart`; the checker assembles them with cpu/assembler.ts
//   (injectable through CheckOptions.environment).
// - locate.ts maps a position to the syntax there (LSP hover/completion, debugger line -> statement);
//   vocabulary.ts lists every word per context (completion, hover, the TextMate grammar tests).

export { parse, MAX_DEPTH, guestLines, type ParseResult } from './parser';
export { check, describeResult, type CheckOptions, type CheckResult, type CheckInfo, type MachineConfig, type MemslotDeclaration, type ResolvedStatement } from './checker';
export { evaluate, binary, compare, refsOf, u64, U64_MASK, type EvalEnv, type EvalResult, type EvalProblem, type NameValue } from './expr';
export { tokenize, parseNumberText } from './lexer';
export { locate, statementAtLine, tokenAt, type Located, type LinePosition } from './locate';
export { DiagnosticBag, hasErrors, formatDiagnostic, type Diagnostic, type Severity, type RelatedInformation } from './diagnostics';
export { defaultEnvironment, isRegisterName, type CheckEnvironment, type AssembleProgram, type AssembledProgram, type AssemblerBlock, type AssemblerDiagnostic } from './symbols';
export * from './ast';
export * from './tokens';
export * as vocabulary from './vocabulary';

import type { Diagnostic } from './diagnostics';
import { parse } from './parser';
import { check, type CheckOptions, type CheckResult } from './checker';
import type { Script } from './ast';

/** parse + check in one call: all diagnostics in text order (parser's first on the same position) */
export function analyse(text: string, opts?: CheckOptions): { ast: Script; diagnostics: Diagnostic[]; info: CheckResult['info'] } {
  const p = parse(text);
  const c = check(p.ast, opts);
  const all = [...p.diagnostics, ...c.diagnostics];
  // stable sort by start position
  const order = all.map((d, k) => ({ d, k }));
  order.sort((a, b) => a.d.range.start.line - b.d.range.start.line || a.d.range.start.col - b.d.range.start.col || a.k - b.k);
  return { ast: p.ast, diagnostics: order.map((x) => x.d), info: c.info };
}
