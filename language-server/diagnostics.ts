// Diagnostics as you type (issue 6 item 1): per document, throttled/debounced, versioned.
//
// Timing: an edit that comes after a quiet period (>= DELAY ms since the last analysis) is analysed at once
// (setImmediate, so pending messages are read first); edits that come faster re-arm a DELAY ms timer, so a
// burst of keystrokes costs one analysis per DELAY ms and the last state is always analysed. A result is sent
// only if the document still has the version that was analysed (stale results are dropped).

import {
  DiagnosticSeverity, type Connection, type Diagnostic as LspDiagnostic, type DiagnosticRelatedInformation,
} from 'vscode-languageserver/node';
import type { Diagnostic } from '../emulator/scenario';
import type { ScenarioDocuments } from './documents';
import { toLspRange } from './positions';

export const DIAGNOSTICS_DELAY_MS = 150;

export function toLspDiagnostic(d: Diagnostic, uri: string): LspDiagnostic {
  const related: DiagnosticRelatedInformation[] | undefined = d.related?.map((r) => ({ location: { uri, range: toLspRange(r.range) }, message: r.message }));
  return {
    range: toLspRange(d.range),
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : d.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
    message: d.message,
    source: 'kvms',
    ...(d.code ? { code: d.code } : {}),
    ...(related && related.length ? { relatedInformation: related } : {}),
  };
}

export class DiagnosticsPublisher {
  private readonly timers = new Map<string, { cancel(): void }>();
  private readonly lastRun = new Map<string, number>();

  constructor(private readonly connection: Connection, private readonly docs: ScenarioDocuments, private readonly delayMs = DIAGNOSTICS_DELAY_MS) {}

  /** a document was opened or changed */
  schedule(uri: string): void {
    this.timers.get(uri)?.cancel();
    const quiet = Date.now() - (this.lastRun.get(uri) ?? 0) >= this.delayMs;
    if (quiet) {
      const h = setImmediate(() => this.validate(uri));
      this.timers.set(uri, { cancel: () => clearImmediate(h) });
    } else {
      const h = setTimeout(() => this.validate(uri), this.delayMs);
      this.timers.set(uri, { cancel: () => clearTimeout(h) });
    }
  }

  closed(uri: string): void {
    this.timers.get(uri)?.cancel();
    this.timers.delete(uri);
    this.lastRun.delete(uri);
    void this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  /** every open document again (the flavour setting changed) */
  all(): void {
    for (const d of this.docs.documents.all()) this.schedule(d.uri);
  }

  private validate(uri: string): void {
    this.timers.delete(uri);
    const doc = this.docs.get(uri);
    if (!doc) return;
    const version = doc.version;
    try {
      const a = this.docs.analysis(uri);
      this.lastRun.set(uri, Date.now());
      if (!a || this.docs.get(uri)?.version !== version || a.version !== version) return; // stale: a newer run follows
      void this.connection.sendDiagnostics({ uri, version, diagnostics: a.diagnostics.map((d) => toLspDiagnostic(d, uri)) });
    } catch (e) {
      this.connection.console.error(`diagnostics failed for ${uri}: ${(e as Error)?.stack ?? String(e)}`);
    }
  }
}
