// Starts dist/language-server.js (stdio) for `.kvms` files. The server owns the language knowledge (diagnostics,
// hover, completion, semantic tokens, code lens data); this file only wires it in (lsp-sample / vscode-eslint split).
// A crashed server is restarted (up to 5 times in 3 minutes, then the user is told and can restart it by command).

import * as vscode from 'vscode';
import type {
  LanguageClient, CloseHandlerResult, ErrorHandler, ErrorHandlerResult, LanguageClientOptions, ServerOptions,
} from 'vscode-languageclient/node';
import { LANGUAGE_ID } from './kvmProtocol';

// vscode-languageclient is most of the extension bundle: evaluate it only when the client is created, right after
// activation returns (activation time, ARCHITECTURE.md benchmark), not while VS Code waits for `activate`.
type ClientModule = typeof import('vscode-languageclient/node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const clientModule = (): ClientModule => require('vscode-languageclient/node') as ClientModule;

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60_000;

/** restart on close unless the server crashed too often recently */
class RestartingErrorHandler implements ErrorHandler {
  private readonly restarts: number[] = [];
  constructor(private readonly output: vscode.OutputChannel, private readonly lc: ClientModule) {}
  error(): ErrorHandlerResult { return { action: this.lc.ErrorAction.Continue }; }
  closed(): CloseHandlerResult {
    const { CloseAction } = this.lc;
    const now = Date.now();
    this.restarts.push(now);
    while (this.restarts.length > 0 && now - this.restarts[0] > RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length > MAX_RESTARTS) {
      return { action: CloseAction.DoNotRestart, message: `The kvms language server crashed ${MAX_RESTARTS} times in 3 minutes; run "KVM: Restart Language Server" to try again.` };
    }
    this.output.appendLine(`language server stopped; restarting (${this.restarts.length}/${MAX_RESTARTS})`);
    return { action: CloseAction.Restart };
  }
}

export function createLanguageClient(context: vscode.ExtensionContext, output: vscode.OutputChannel): LanguageClient {
  const lc = clientModule();
  const { TransportKind } = lc;
  const module = vscode.Uri.joinPath(context.extensionUri, 'dist', 'language-server.js').fsPath;
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: LANGUAGE_ID }],
    outputChannel: output,
    errorHandler: new RestartingErrorHandler(output, lc),
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.kvms') },
  };
  return new lc.LanguageClient('kvms', 'KVM scenario language server', serverOptions, clientOptions);
}

/** the running client, once created */
export interface LanguageClientHandle {
  readonly client: LanguageClient | undefined;
  /** resolves when the client has been created and asked to start */
  readonly ready: Promise<LanguageClient>;
}

export function registerLanguageClient(context: vscode.ExtensionContext, output: vscode.OutputChannel): LanguageClientHandle {
  let client: LanguageClient | undefined;
  const ready = new Promise<LanguageClient>((resolve) => {
    setImmediate(() => {
      client = createLanguageClient(context, output);
      context.subscriptions.push(client);
      // not awaited: the client queues requests until the server is up
      client.start().catch((e: unknown) => output.appendLine(`language server failed to start: ${String(e)}`));
      resolve(client);
    });
  });
  context.subscriptions.push(
    vscode.commands.registerCommand('kvm-arm64-lab.restartLanguageServer', async () => {
      const c = await ready;
      if (c.state === clientModule().State.Running) await c.restart();
      else await c.start();
    }),
  );
  return { get client() { return client; }, ready };
}
