// Starts dist/language-server.js (stdio) for `.kvms` files. The server owns the language knowledge (diagnostics,
// hover, completion, semantic tokens, code lens data); this file only wires it in (lsp-sample / vscode-eslint split).
// A crashed server is restarted (up to 5 times in 3 minutes, then the user is told and can restart it by command).

import * as vscode from 'vscode';
import {
  CloseAction, ErrorAction, LanguageClient, TransportKind, State,
  type CloseHandlerResult, type ErrorHandler, type ErrorHandlerResult, type LanguageClientOptions, type ServerOptions,
} from 'vscode-languageclient/node';
import { LANGUAGE_ID } from './kvmProtocol';

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60_000;

/** restart on close unless the server crashed too often recently */
class RestartingErrorHandler implements ErrorHandler {
  private readonly restarts: number[] = [];
  constructor(private readonly output: vscode.OutputChannel) {}
  error(): ErrorHandlerResult { return { action: ErrorAction.Continue }; }
  closed(): CloseHandlerResult {
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
  const module = vscode.Uri.joinPath(context.extensionUri, 'dist', 'language-server.js').fsPath;
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: LANGUAGE_ID }],
    outputChannel: output,
    errorHandler: new RestartingErrorHandler(output),
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.kvms') },
  };
  return new LanguageClient('kvms', 'KVM scenario language server', serverOptions, clientOptions);
}

export function registerLanguageClient(context: vscode.ExtensionContext, output: vscode.OutputChannel): LanguageClient {
  const client = createLanguageClient(context, output);
  // not awaited: activation must stay fast; the client queues requests until the server is up
  client.start().catch((e: unknown) => output.appendLine(`language server failed to start: ${String(e)}`));
  context.subscriptions.push(
    client,
    vscode.commands.registerCommand('kvm-arm64-lab.restartLanguageServer', async () => {
      if (client.state === State.Running) await client.restart();
      else await client.start();
    }),
  );
  return client;
}
