// A stdio LSP client for the tests and the benchmark: spawns `node dist/language-server.js --stdio` and talks
// to it with vscode-languageserver-protocol (createProtocolConnection over the child's stdio).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, InitializeRequest, InitializedNotification,
  DidOpenTextDocumentNotification, DidChangeTextDocumentNotification, DidCloseTextDocumentNotification,
  PublishDiagnosticsNotification, ShutdownRequest, ExitNotification,
  type ProtocolConnection, type PublishDiagnosticsParams, type InitializeResult,
} from 'vscode-languageserver-protocol/node';

export const ROOT = resolve(__dirname, '..', '..');
export const SERVER = resolve(ROOT, 'dist', 'language-server.js');

export class LspClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  private waiters: { uri: string; version?: number; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  readonly stderr: string[] = [];
  readonly logs: string[] = [];
  exited = false;

  private constructor(readonly child: ChildProcess, readonly connection: ProtocolConnection, readonly init: InitializeResult) {}

  static async start(initializationOptions?: unknown): Promise<LspClient> {
    if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run node esbuild.mjs`);
    const child = spawn(process.execPath, [SERVER, '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const pending: PublishDiagnosticsParams[] = [];
    let client: LspClient | undefined;
    connection.onNotification(PublishDiagnosticsNotification.type, (p) => (client ? client.received(p) : pending.push(p)));
    connection.onNotification('window/logMessage', (p: { message: string }) => client?.logs.push(p.message));
    connection.listen();
    const init = await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null, initializationOptions,
    });
    client = new LspClient(child, connection, init);
    child.stderr!.on('data', (d: Buffer) => client!.stderr.push(d.toString()));
    child.on('exit', () => { client!.exited = true; });
    await connection.sendNotification(InitializedNotification.type, {});
    for (const p of pending) client.received(p);
    return client;
  }

  private received(p: PublishDiagnosticsParams): void {
    this.diagnostics.set(p.uri, p);
    const ready = this.waiters.filter((w) => w.uri === p.uri && (w.version === undefined || w.version === p.version));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(p);
  }

  /** the next diagnostics for uri (of that version, if given) */
  nextDiagnostics(uri: string, version?: number, timeoutMs = 60_000): Promise<PublishDiagnosticsParams> {
    return new Promise((resolveP, reject) => {
      const t = setTimeout(() => reject(new Error(`no diagnostics for ${uri} v${version} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ uri, version, resolve: (p) => { clearTimeout(t); resolveP(p); } });
    });
  }

  async open(uri: string, text: string, version = 1): Promise<PublishDiagnosticsParams> {
    const d = this.nextDiagnostics(uri, version);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'kvms', version, text } });
    return d;
  }

  /** replace the whole text; resolves with the diagnostics of the new version */
  async change(uri: string, text: string, version: number): Promise<PublishDiagnosticsParams> {
    const d = this.nextDiagnostics(uri, version);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ text }] });
    return d;
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest(method, params) as Promise<R>;
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      try {
        await Promise.race([this.connection.sendRequest(ShutdownRequest.type), new Promise((r) => setTimeout(r, 2000))]);
        await this.connection.sendNotification(ExitNotification.type);
      } catch { /* already gone */ }
    }
    this.connection.dispose();
    await new Promise<void>((r) => {
      if (this.exited) return r();
      const t = setTimeout(() => { this.child.kill(); r(); }, 2000);
      this.child.once('exit', () => { clearTimeout(t); r(); });
    });
  }
}

export function fixtureUri(name: string): string {
  return `file://${resolve(ROOT, 'test', 'fixtures', 'lsp', name)}`;
}
