// "Open JSON Trace of the Last Run": the adapter writes `<scenario>.trace.jsonl` beside the scenario when a launch
// has `trace: true` (ARCHITECTURE.md "Contracts"; on by default through the traceVerbosity setting). Remembers
// the last kvm-arm64 session's program and opens its trace.

import * as vscode from 'vscode';
import { DEBUG_TYPE } from './kvmProtocol';

export function traceFileOf(program: string): string {
  return program.replace(/\.kvms$/, '') + '.trace.jsonl';
}

export function registerTraceCommand(context: vscode.ExtensionContext): void {
  let lastProgram: string | undefined = context.workspaceState.get<string>('kvm-arm64-lab.lastProgram');
  context.subscriptions.push(
    vscode.debug.onDidTerminateDebugSession((s) => {
      if (s.type !== DEBUG_TYPE || typeof s.configuration.program !== 'string') return;
      lastProgram = s.configuration.program;
      void context.workspaceState.update('kvm-arm64-lab.lastProgram', lastProgram);
    }),
    vscode.commands.registerCommand('kvm-arm64-lab.openTrace', async (): Promise<vscode.TextDocument | undefined> => {
      if (!lastProgram) {
        void vscode.window.showInformationMessage('No scenario has run yet in this workspace.');
        return undefined;
      }
      const uri = vscode.Uri.file(traceFileOf(lastProgram));
      try {
        await vscode.workspace.fs.stat(uri);
      } catch {
        void vscode.window.showWarningMessage(`No trace at ${vscode.workspace.asRelativePath(uri)}: set "kvm-arm64-lab.traceVerbosity" to "file" (or "trace": true in launch.json) and run again.`);
        return undefined;
      }
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { preview: true });
      return doc;
    }),
  );
}
