// The Run code lens command (a URI string argument, as the language server's lens passes it) and the external
// adapter mode (`node dist/debug-adapter.js` over stdio instead of the inline factory).

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { suite, test } from 'mocha';
import { api, exampleUri } from './kvmLab';
import { waitFor } from './workbench';

/** start something that launches a kvm-arm64 session and return its exit code */
async function exitCodeOf(start: () => Thenable<unknown>, check?: (s: vscode.DebugSession) => void): Promise<number | undefined> {
  let code: number | undefined;
  let ended = false;
  const subs = [
    vscode.debug.registerDebugAdapterTrackerFactory('kvm-arm64', {
      createDebugAdapterTracker: (s) => {
        check?.(s);
        return { onDidSendMessage: (m: { event?: string; body?: { exitCode?: number } }) => { if (m.event === 'exited') code = m.body?.exitCode; } };
      },
    }),
    vscode.debug.onDidTerminateDebugSession((s) => { if (s.type === 'kvm-arm64') ended = true; }),
  ];
  try {
    await start();
    await waitFor('the session to end', () => ended, 30_000);
    return code;
  } finally {
    subs.forEach((d) => d.dispose());
  }
}

suite('run and adapter modes', () => {
  test('the Run lens command runs the scenario (noDebug) to a passing end', async () => {
    await api();
    const uri = exampleUri('mmio-guard.kvms');
    let noDebug: unknown;
    const code = await exitCodeOf(() => vscode.commands.executeCommand('kvm-arm64-lab.runScenario', uri.toString()), (s) => { noDebug = s.configuration.noDebug; });
    assert.equal(noDebug, true);
    assert.equal(code, 0);
  });

  test('external adapter mode: dist/debug-adapter.js as a separate process passes the same scenario', async () => {
    const uri = exampleUri('psci-cpu-on.kvms');
    const code = await exitCodeOf(() => vscode.debug.startDebugging(undefined, {
      type: 'kvm-arm64', request: 'launch', name: 'external', program: uri.fsPath, adapterMode: 'external',
    }, { noDebug: true }));
    assert.equal(code, 0);
  });
});
