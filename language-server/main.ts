// The `.kvms` language server (issue 6), over stdio: `node dist/language-server.js --stdio`.
//
// Layout follows vscode-extension-samples/lsp-sample: this file wires the connection; each feature is a file of
// pure functions over a document's Analysis (documents.ts). Every request runs inside `guarded`: whatever the
// input, a failing request answers an empty result and logs, and the server keeps running (issue 6 "Bad input").

import {
  createConnection, ProposedFeatures, TextDocumentSyncKind, type InitializeParams, type InitializeResult,
} from 'vscode-languageserver/node';
import { ScenarioDocuments } from './documents';
import { DiagnosticsPublisher } from './diagnostics';
import { hover } from './hover';
import { completion, COMPLETION_TRIGGERS } from './completion';
import { definition, foldingRanges, prepareRename, references, rename } from './navigation';
import { documentSymbols } from './symbols';
import { SEMANTIC_TOKENS_LEGEND, semanticTokens } from './semanticTokens';
import { formatDocument } from './formatting';
import { inlayHints } from './inlayHints';
import { codeLenses } from './codeLens';
import { isFlavourName, type FlavourName } from '../emulator/kvm/flavours';

const connection = createConnection(ProposedFeatures.all);
const docs = new ScenarioDocuments();
const diagnostics = new DiagnosticsPublisher(connection, docs);

/** run a request handler; on any exception log it and answer `fallback` */
function guarded<P, R>(name: string, fallback: R, fn: (p: P) => R): (p: P) => R {
  return (p: P) => {
    try {
      return fn(p);
    } catch (e) {
      connection.console.error(`${name} failed: ${(e as Error)?.stack ?? String(e)}`);
      return fallback;
    }
  };
}

function flavourSetting(v: unknown): FlavourName | undefined {
  return typeof v === 'string' && isFlavourName(v) ? v : undefined;
}

connection.onInitialize((params: InitializeParams): InitializeResult => {
  const opts = (params.initializationOptions ?? {}) as { flavour?: unknown };
  docs.flavourOverride = flavourSetting(opts.flavour);
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: COMPLETION_TRIGGERS, resolveProvider: false },
      definitionProvider: true,
      referencesProvider: true,
      renameProvider: { prepareProvider: true },
      documentSymbolProvider: true,
      foldingRangeProvider: true,
      semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: true, range: true },
      documentFormattingProvider: true,
      inlayHintProvider: true,
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'kvms-language-server', version: '0.1.0' },
  };
});

// `kvmArm64Lab.flavour` (the launch configuration's flavour) overrides `machine { flavour }` (LANGUAGE.md)
connection.onDidChangeConfiguration(guarded('didChangeConfiguration', undefined, (p) => {
  const s = (p.settings ?? {}) as { kvmArm64Lab?: { flavour?: unknown } };
  const next = flavourSetting(s.kvmArm64Lab?.flavour);
  if (next === docs.flavourOverride) return;
  docs.flavourOverride = next;
  docs.invalidate();
  diagnostics.all();
}));

docs.documents.onDidOpen((e) => diagnostics.schedule(e.document.uri));
docs.documents.onDidChangeContent((e) => diagnostics.schedule(e.document.uri));
docs.documents.onDidClose((e) => diagnostics.closed(e.document.uri));

connection.onHover(guarded('hover', null, (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? hover(a, p.position) : null;
}));

connection.onCompletion(guarded('completion', [], (p) => {
  const doc = docs.get(p.textDocument.uri);
  if (!doc) return [];
  return completion(doc.getText(), p.position, docs.latest(p.textDocument.uri) ?? docs.analysis(p.textDocument.uri));
}));

connection.onDefinition(guarded('definition', [], (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? definition(a, p.position) : [];
}));

connection.onReferences(guarded('references', [], (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? references(a, p.position, p.context.includeDeclaration) : [];
}));

connection.onPrepareRename(guarded('prepareRename', null, (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? prepareRename(a, p.position) : null;
}));

connection.onRenameRequest(guarded('rename', null, (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? rename(a, p.position, p.newName) : null;
}));

connection.onDocumentSymbol(guarded('documentSymbol', [], (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? documentSymbols(a) : [];
}));

connection.onFoldingRanges(guarded('foldingRange', [], (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? foldingRanges(a) : [];
}));

connection.languages.semanticTokens.on(guarded('semanticTokens', { data: [] }, (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? semanticTokens(a) : { data: [] };
}));

connection.languages.semanticTokens.onRange(guarded('semanticTokens/range', { data: [] }, (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? semanticTokens(a, p.range) : { data: [] };
}));

connection.onDocumentFormatting(guarded('formatting', [], (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? formatDocument(a, p.options) : [];
}));

connection.languages.inlayHint.on(guarded('inlayHint', [], (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? inlayHints(a, p.range) : [];
}));

connection.onCodeLens(guarded('codeLens', [], (p) => {
  const a = docs.analysis(p.textDocument.uri);
  return a ? codeLenses(a) : [];
}));

// never die on a stray exception: log it (a real crash is restarted by the client)
process.on('uncaughtException', (e) => connection.console.error(`uncaught: ${e?.stack ?? String(e)}`));
process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));

docs.documents.listen(connection);
connection.listen();
