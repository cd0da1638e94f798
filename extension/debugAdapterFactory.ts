// Where the debug adapter runs (setting `kvm-arm64-lab.adapterMode`): inline in the extension host (default, no
// process start) or as `node dist/debug-adapter.js` over stdio. The inline factory `require`s the separate adapter
// bundle only when a session starts, so dist/extension.js never contains the emulator (ARCHITECTURE.md dependency
// rule; esbuild keeps './debug-adapter.js' external).

import * as vscode from 'vscode';
import { DEBUG_TYPE } from './kvmProtocol';

interface AdapterBundle {
  createSession(): vscode.DebugAdapter;
}

let bundle: AdapterBundle | undefined;
function loadAdapterBundle(): AdapterBundle {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  bundle ??= require('./debug-adapter.js') as AdapterBundle;
  return bundle;
}

export class KvmDebugAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly extensionUri: vscode.Uri) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const mode = session.configuration.adapterMode ?? vscode.workspace.getConfiguration('kvm-arm64-lab').get<string>('adapterMode', 'inline');
    if (mode === 'external') {
      const script = vscode.Uri.joinPath(this.extensionUri, 'dist', 'debug-adapter.js').fsPath;
      // the extension host's own Node (Electron needs ELECTRON_RUN_AS_NODE to behave as node)
      return new vscode.DebugAdapterExecutable(process.execPath, [script], { env: { ELECTRON_RUN_AS_NODE: '1' } });
    }
    return new vscode.DebugAdapterInlineImplementation(loadAdapterBundle().createSession());
  }
}

export function registerDebugAdapterFactory(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new KvmDebugAdapterFactory(context.extensionUri)),
  );
}
