// Open documents and their analysis (parse + check with the real assembler, emulator/scenario/runner.ts
// analyseScenario), one per document version. Every feature reads the analysis from here, so a version is
// analysed at most once however many requests ask about it.

import { TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { parse, type CheckInfo, type Diagnostic, type Script } from '../emulator/scenario';
import { check } from '../emulator/scenario/checker';
import { analyseScenario } from '../emulator/scenario/runner';
import type { FlavourName } from '../emulator/kvm/flavours';

export interface Analysis {
  readonly uri: string;
  readonly version: number;
  readonly text: string;
  readonly ast: Script;
  readonly diagnostics: readonly Diagnostic[];
  readonly info: CheckInfo;
  /** the text split into lines (without the newlines) */
  readonly lines: readonly string[];
  /** milliseconds the analysis took (the benchmark reads it from the log) */
  readonly ms: number;
}

/** At most this many assembler diagnostics are shown: nobody reads more than the first few hundred of a pasted block. */
export const MAX_ASSEMBLER_DIAGNOSTICS = 200;

/** analyse one text; never throws (a failing assembler or checker falls back to less information) */
export function analyseText(uri: string, version: number, text: string, flavour?: FlavourName): Analysis {
  const t0 = Date.now();
  let r: { ast: Script; diagnostics: Diagnostic[]; info: CheckInfo };
  try {
    r = analyseScenario(text, flavour, { maxAssemblerDiagnostics: MAX_ASSEMBLER_DIAGNOSTICS });
  } catch (e) {
    // the checker or the assembler threw: fall back to less (without the assembler, then an empty script)
    const z = { line: 0, col: 0, offset: 0 };
    const internal: Diagnostic = { range: { start: z, end: z }, severity: 'error', message: `internal error: ${(e as Error)?.message ?? String(e)}`, code: 'internal' };
    try {
      const p = parse(text);
      const c = check(p.ast, { flavourOverride: flavour, environment: { assembleProgram: undefined } });
      r = { ast: p.ast, info: c.info, diagnostics: [...p.diagnostics, ...c.diagnostics, internal] };
    } catch {
      const ast: Script = { kind: 'script', items: [], consts: [], guests: [], range: { start: z, end: z } };
      r = { ast, info: check(ast, { flavourOverride: flavour }).info, diagnostics: [internal] };
    }
  }
  return { uri, version, text, ast: r.ast, diagnostics: r.diagnostics, info: r.info, lines: text.split('\n'), ms: Date.now() - t0 };
}

export class ScenarioDocuments {
  readonly documents = new TextDocuments(TextDocument);
  private readonly cache = new Map<string, Analysis>();
  /** LANGUAGE.md "Flavour precedence": the client's setting wins over `machine { flavour }` */
  flavourOverride: FlavourName | undefined;

  constructor() {
    this.documents.onDidClose((e) => this.cache.delete(e.document.uri));
  }

  get(uri: string): TextDocument | undefined {
    return this.documents.get(uri);
  }

  /** the analysis of the current version (computed now if needed) */
  analysis(uri: string): Analysis | undefined {
    const doc = this.documents.get(uri);
    if (!doc) return undefined;
    const cached = this.cache.get(uri);
    if (cached && cached.version === doc.version) return cached;
    const a = analyseText(uri, doc.version, doc.getText(), this.flavourOverride);
    this.cache.set(uri, a);
    return a;
  }

  /** the latest analysis, possibly of an older version (completion uses it for names while the user types) */
  latest(uri: string): Analysis | undefined {
    return this.cache.get(uri);
  }

  /** drop every cached analysis (the flavour setting changed) */
  invalidate(): void {
    this.cache.clear();
  }
}
