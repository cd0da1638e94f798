// The event trace as the user sees it, by the `kvm-arm64-lab.traceVerbosity` setting:
//   off    — nothing; "output" — every stop lists the events since the previous stop in the "KVM arm64 Lab" output
//   channel; "file" — that, and launches get `trace: true` so the adapter writes `<scenario>.trace.jsonl` beside
//   the scenario (ARCHITECTURE.md "Contracts"), which "Open JSON Trace of the Last Run" opens.

import * as vscode from 'vscode';
import { DEBUG_TYPE, type EventsBody } from './kvmProtocol';
import type { KvmSession } from './kvmSession';
import { eventSummary } from './eventsTree';

export function traceFileOf(program: string): string {
  return program.replace(/\.kvms$/, '') + '.trace.jsonl';
}

/** list each stop's new events in the output channel (traceVerbosity "output" or "file") */
export function registerTraceOutput(context: vscode.ExtensionContext, session: KvmSession, output: vscode.OutputChannel): void {
  let next = 1;
  let followed: vscode.DebugSession | undefined;
  context.subscriptions.push(session.onDidChange(async (s) => {
    if (s.kind !== 'stopped') return;
    if (s.session !== followed) { followed = s.session; next = 1; output.appendLine(`— ${s.session.name}`); }
    if (vscode.workspace.getConfiguration('kvm-arm64-lab').get<string>('traceVerbosity', 'file') === 'off') return;
    const body = await session.request<EventsBody>('kvm/events', { since: next });
    for (const e of body?.events ?? []) {
      output.appendLine(`#${e.seq} ${e.event}${e.vcpu !== undefined ? ` vcpu${e.vcpu}` : ''} ${eventSummary(e)}${e.line > 0 ? `  (line ${e.line})` : ''}`);
      next = e.seq + 1;
    }
    output.appendLine(`stopped: ${s.reason} (event #${s.seq})`);
  }));
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
