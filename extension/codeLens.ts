// The Run | Debug code lenses: the language server supplies the lenses above each scenario (language-server/
// codeLens.ts) and names these commands with the document URI as argument; they start the debugger (Run =
// `noDebug`, like the Test Explorer). Without an argument (palette, welcome button) they take the active
// scenario, or ask for one.

import * as vscode from 'vscode';
import { LANGUAGE_ID } from './kvmProtocol';
import { scenarioLaunchConfiguration } from './debugConfiguration';

export const RUN_COMMAND = 'kvm-arm64-lab.runScenario';
export const DEBUG_COMMAND = 'kvm-arm64-lab.debugScenario';

async function scenarioUri(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg !== '') return vscode.Uri.parse(arg);
  const doc = vscode.window.activeTextEditor?.document;
  if (doc?.languageId === LANGUAGE_ID) return doc.uri;
  const files = await vscode.workspace.findFiles('**/*.kvms', '**/node_modules/**', 200);
  if (files.length === 0) {
    void vscode.window.showInformationMessage('No .kvms scenario in this workspace.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })).sort((a, b) => a.label.localeCompare(b.label)),
    { placeHolder: 'Scenario to start' },
  );
  return pick?.uri;
}

export async function startScenario(arg: unknown, noDebug: boolean): Promise<boolean> {
  const uri = await scenarioUri(arg);
  if (!uri) return false;
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Running scenarios is disabled in an untrusted workspace.');
    return false;
  }
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  return vscode.debug.startDebugging(folder, scenarioLaunchConfiguration(uri, { noDebug }), { noDebug });
}

export function registerScenarioCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(RUN_COMMAND, (arg?: unknown) => startScenario(arg, true)),
    vscode.commands.registerCommand(DEBUG_COMMAND, (arg?: unknown) => startScenario(arg, false)),
    vscode.commands.registerCommand('kvm-arm64-lab.openExample', async () => {
      const [first] = await vscode.workspace.findFiles('**/stage2-fault-walkthrough.kvms', '**/node_modules/**', 1);
      const any = first ?? (await vscode.workspace.findFiles('**/*.kvms', '**/node_modules/**', 1))[0];
      if (any) await vscode.window.showTextDocument(any);
      else await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: LANGUAGE_ID, content: 'scenario "my first scenario"\n\nmachine { flavour spe-rfc-v5 }\n\nguest at 0x4000_0000 {\n    hvc #0\n}\n\nhost {\n    memslot 0 gpa=0x4000_0000 size=2M\n    vcpu_init 0\n    run 0\n}\n' }));
    }),
  );
}
