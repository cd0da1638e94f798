// The `.kvms` front end's public surface (LANGUAGE.md): parse -> Script (AST with ranges) + diagnostics,
// check -> diagnostics + resolved facts. The loader/runner, the language server, the debugger and the CLI
// import from here.
//
//   const { ast, diagnostics } = parse(text);
//   const { diagnostics: more, info } = check(ast, { flavourOverride });
//
// Both never throw, whatever the input.

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

/** parse + check in one call: all diagnostics, parser's first */
export function analyse(text: string, opts?: CheckOptions): { ast: Script; diagnostics: Diagnostic[]; info: CheckResult['info'] } {
  const p = parse(text);
  const c = check(p.ast, opts);
  return { ast: p.ast, diagnostics: [...p.diagnostics, ...c.diagnostics], info: c.info };
}
