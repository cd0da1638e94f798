// Activation (on the `kvms` language, the `kvm-arm64` debugger or the KVM views — package.json): wires each
// feature in, one file each. Nothing here waits on the language server or loads the debug adapter bundle, so
// activation stays cheap; the time it takes is logged to the "KVM arm64 Lab" output channel and returned in the
// API (read by the e2e suite and the benchmark).

import * as vscode from 'vscode';
import { KvmSession } from './kvmSession';
import { registerLanguageClient, type LanguageClientHandle } from './languageClient';
import { registerDebugAdapterFactory } from './debugAdapterFactory';
import { registerDebugConfiguration } from './debugConfiguration';
import { registerScenarioCommands } from './codeLens';
import { MemslotTree } from './memslotTree';
import { Stage2Tree, registerStage2Commands, type Stage2Node } from './stage2Tree';
import { EventsTree, registerEventCommands } from './eventsTree';
import { registerTreeActions } from './treeActions';
import { registerTestController, type ScenarioTests } from './testController';
import { ScenarioStatusBar } from './statusBar';
import { registerIpaMap, type IpaMapPanel } from './ipaMapView';
import { registerTraceCommand, registerTraceOutput } from './traceCommand';

/** what `activate` returns: for the e2e suite and other extensions */
export interface KvmLabApi {
  readonly activationMs: number;
  readonly session: KvmSession;
  readonly memslots: MemslotTree;
  readonly stage2: Stage2Tree;
  readonly stage2View: vscode.TreeView<Stage2Node>;
  readonly events: EventsTree;
  readonly tests: ScenarioTests;
  readonly ipaMap: IpaMapPanel;
  readonly statusBar: ScenarioStatusBar;
  readonly languageClient: LanguageClientHandle;
}

export function activate(context: vscode.ExtensionContext): KvmLabApi {
  const started = performance.now();
  const output = vscode.window.createOutputChannel('KVM arm64 Lab');
  context.subscriptions.push(output);

  const languageClient = registerLanguageClient(context, output);
  registerDebugAdapterFactory(context);
  registerDebugConfiguration(context);
  registerScenarioCommands(context);

  const session = new KvmSession();
  const memslots = new MemslotTree(session);
  const stage2 = new Stage2Tree(session);
  const events = new EventsTree(session);
  const stage2View = vscode.window.createTreeView('kvm-arm64-lab.stage2', { treeDataProvider: stage2, showCollapseAll: true });
  context.subscriptions.push(
    session,
    vscode.window.createTreeView('kvm-arm64-lab.memslots', { treeDataProvider: memslots, showCollapseAll: true }),
    stage2View,
    vscode.window.createTreeView('kvm-arm64-lab.events', { treeDataProvider: events }),
    // the views re-read the adapter on every stop (`kvm/stateChanged`) and clear when the session ends
    session.onDidChange((s) => {
      if (s.kind === 'running') return;
      memslots.refresh();
      stage2.refresh();
      events.refresh();
    }),
    vscode.commands.registerCommand('kvm-arm64-lab.refreshViews', () => { memslots.refresh(); stage2.refresh(); events.refresh(); }),
  );
  registerStage2Commands(context, stage2, stage2View, session, output);
  registerEventCommands(context, events, session);
  registerTreeActions(context, session);
  const tests = registerTestController(context, output);
  const statusBar = new ScenarioStatusBar(session);
  context.subscriptions.push(statusBar);
  const ipaMap = registerIpaMap(context, session);
  registerTraceCommand(context);
  registerTraceOutput(context, session, output);

  const activationMs = performance.now() - started;
  output.appendLine(`activated in ${activationMs.toFixed(1)} ms`);
  return { activationMs, session, memslots, stage2, stage2View, events, tests, ipaMap, statusBar, languageClient };
}

export function deactivate(): void {
  // the language client and every registration are disposed through context.subscriptions
}
