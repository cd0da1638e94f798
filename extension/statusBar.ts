// Status bar item for `.kvms` editors: the scenario's kernel flavour (from `machine { flavour … }`, the setting, or
// the default spe-rfc-v5) and the machine state of the followed debug session (running / stopped: reason / exited).

import * as vscode from 'vscode';
import type { KvmSession, MachineState } from './kvmSession';
import { LANGUAGE_ID } from './kvmProtocol';

const DEFAULT_FLAVOUR = 'spe-rfc-v5';

/** the flavour a scenario text names in its machine block */
export function scenarioFlavour(text: string): string | undefined {
  const m = /^\s*machine\s*\{[^}]*?\bflavour\s+([a-z0-9.-]+)/m.exec(text);
  return m?.[1];
}

export function machineStateText(s: MachineState): string {
  switch (s.kind) {
    case 'idle': return 'idle';
    case 'running': return 'running';
    case 'stopped': return `stopped: ${s.reason}`;
    case 'exited': return s.exitCode === 0 ? 'passed' : `exit ${s.exitCode}`;
  }
}

export class ScenarioStatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('kvm-arm64-lab.status', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [this.item];

  constructor(private readonly session: KvmSession) {
    this.item.name = 'KVM scenario';
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.workspace.onDidChangeTextDocument((e) => { if (e.document === vscode.window.activeTextEditor?.document) this.update(); }),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('kvm-arm64-lab')) this.update(); }),
      session.onDidChange(() => this.update()),
    );
    this.update();
  }

  update(): void {
    const doc = vscode.window.activeTextEditor?.document;
    const state = this.session.state;
    if (doc?.languageId !== LANGUAGE_ID && state.kind === 'idle') { this.item.hide(); return; }
    const setting = vscode.workspace.getConfiguration('kvm-arm64-lab').get<string>('defaultFlavour', '');
    const flavour = setting || (doc?.languageId === LANGUAGE_ID ? scenarioFlavour(doc.getText()) : undefined) || DEFAULT_FLAVOUR;
    const icon = state.kind === 'running' ? '$(sync~spin)' : state.kind === 'stopped' ? '$(debug-pause)' : state.kind === 'exited' ? (state.exitCode === 0 ? '$(pass)' : '$(error)') : '$(vm)';
    this.item.text = `${icon} ${flavour} · ${machineStateText(state)}`;
    this.item.tooltip = `KVM arm64 Lab — kernel flavour ${flavour}${setting ? ' (from the kvm-arm64-lab.defaultFlavour setting)' : ''}; machine ${machineStateText(state)}`;
    this.item.command = state.kind === 'stopped' ? 'kvm-arm64-lab.showIpaMap' : 'kvm-arm64-lab.runScenario';
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
