// The diagnostics API shared by the parser, the checker, the CLI and the language server.
// Ranges use the convention of tokens.ts: 0-based line and col (UTF-16 units), half-open.

import type { Range } from './tokens';

export type Severity = 'error' | 'warning' | 'info';

export interface RelatedInformation {
  readonly range: Range;
  readonly message: string;
}

export interface Diagnostic {
  readonly range: Range;
  /**
   * LANGUAGE.md "Checker": 'error' = the scenario does not run (syntax, undefined names, values that do not fit
   * their C type, guest code that cannot be assembled, vcpu index >= vcpus, something the flavour lacks, `=>`
   * results that cannot happen for the statement). 'warning' = it runs, but something will go differently than
   * written (a predicted errno the `=>` does not state, a feature key the flavour lacks, code outside memslots).
   */
  readonly severity: Severity;
  readonly message: string;
  /**
   * A spec rule ("A.2#11", "E.3#6") for predicted errnos, or a stable id for the kind of problem:
   * 'syntax', 'undefined-name', 'flavour', 'range' (value does not fit its C type), 'vcpu-index', 'assemble',
   * 'duplicate-label', 'duplicate', 'result' (impossible `=>` result), 'hugetlb', 's1map', 'layout', 'depth',
   * 'feature', 'runtime', 'internal'.
   */
  readonly code?: string;
  readonly related?: readonly RelatedInformation[];
}

/** Collects diagnostics; `error`/`warning` are shorthands used by the parser and the checker. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  add(d: Diagnostic): void { this.items.push(d); }
  error(range: Range, message: string, code?: string, related?: RelatedInformation[]): void {
    this.items.push(related ? { range, severity: 'error', message, code, related } : { range, severity: 'error', message, code });
  }
  warning(range: Range, message: string, code?: string, related?: RelatedInformation[]): void {
    this.items.push(related ? { range, severity: 'warning', message, code, related } : { range, severity: 'warning', message, code });
  }
  info(range: Range, message: string, code?: string): void {
    this.items.push({ range, severity: 'info', message, code });
  }
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

/** "3:5: error: …" with 1-based line and column, for the CLI and test messages */
export function formatDiagnostic(d: Diagnostic, file = ''): string {
  const where = `${file}${file ? ':' : ''}${d.range.start.line + 1}:${d.range.start.col + 1}`;
  return `${where}: ${d.severity}: ${d.message}${d.code ? ` [${d.code}]` : ''}`;
}
