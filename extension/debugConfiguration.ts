// Launch configurations for `kvm-arm64`: F5 on a `.kvms` file works without a launch.json (resolve fills the
// empty configuration from the active editor; the dynamic provider lists one entry per open scenario), and the
// settings supply the default flavour and the trace file (ARCHITECTURE.md "Contracts": program, stopOnEntry,
// flavour, trace, noDebug).

import * as vscode from 'vscode';
import { DEBUG_TYPE, LANGUAGE_ID } from './kvmProtocol';
// a type-only import: erased from the bundle, so extension.js still carries no adapter code
import type { KvmLaunchArguments } from '../debug-adapter/launch';

export interface KvmLaunchConfiguration extends vscode.DebugConfiguration, KvmLaunchArguments {}

/** the launch configuration for one scenario file, with the user's settings applied */
export function scenarioLaunchConfiguration(uri: vscode.Uri, opts: { noDebug?: boolean; stopOnEntry?: boolean } = {}): KvmLaunchConfiguration {
  const name = uri.path.split('/').pop() ?? 'scenario';
  return applySettings({
    type: DEBUG_TYPE,
    request: 'launch',
    name: `${opts.noDebug ? 'Run' : 'Debug'} ${name}`,
    program: uri.fsPath,
    stopOnEntry: opts.stopOnEntry ?? false,
    ...(opts.noDebug ? { noDebug: true } : {}),
  }, uri);
}

function applySettings(config: KvmLaunchConfiguration, uri?: vscode.Uri): KvmLaunchConfiguration {
  const settings = vscode.workspace.getConfiguration('kvm-arm64-lab', uri);
  const flavour = settings.get<string>('defaultFlavour', '');
  if (config.flavour === undefined && flavour !== '') config.flavour = flavour;
  if (config.trace === undefined) config.trace = settings.get<string>('traceVerbosity', 'file') === 'file';
  if (config.root === undefined && uri) {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (folder) config.root = folder.uri.fsPath;
  }
  return config;
}

function activeScenario(): vscode.Uri | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && doc.languageId === LANGUAGE_ID ? doc.uri : undefined;
}

export class KvmDebugConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [{ type: DEBUG_TYPE, request: 'launch', name: 'Debug scenario', program: '${file}', stopOnEntry: false, trace: true }];
  }

  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.ProviderResult<vscode.DebugConfiguration> {
    // F5 without launch.json: VS Code passes an empty configuration
    if (!config.type && !config.request && !config.name) {
      const uri = activeScenario();
      if (!uri) {
        void vscode.window.showInformationMessage('Open a .kvms scenario to debug it.');
        return undefined;
      }
      return scenarioLaunchConfiguration(uri);
    }
    if (!config.program) {
      const uri = activeScenario();
      if (!uri) {
        void vscode.window.showErrorMessage("kvm-arm64: 'program' is missing and no .kvms file is active.");
        return undefined;
      }
      config.program = uri.fsPath;
    }
    return config;
  }

  resolveDebugConfigurationWithSubstitutedVariables(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration {
    const program = typeof config.program === 'string' ? vscode.Uri.file(config.program) : undefined;
    return applySettings(config as KvmLaunchConfiguration, program);
  }
}

/** the "Debug" dropdown's dynamic entries: one per visible scenario */
class DynamicScenarioConfigurations implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    const seen = new Set<string>();
    const out: vscode.DebugConfiguration[] = [];
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.languageId !== LANGUAGE_ID || doc.uri.scheme !== 'file' || seen.has(doc.uri.fsPath)) continue;
      seen.add(doc.uri.fsPath);
      out.push({ type: DEBUG_TYPE, request: 'launch', name: `Debug ${vscode.workspace.asRelativePath(doc.uri)}`, program: doc.uri.fsPath });
    }
    return out;
  }
}

export function registerDebugConfiguration(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new KvmDebugConfigurationProvider()),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new DynamicScenarioConfigurations(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
  );
}
