// Activation, the grammar's scopes as the editor shows them, and the language server through the client
// (diagnostics, code lenses, restart after a crash).

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { suite, test, suiteTeardown } from 'mocha';
import { api, openExample, lineOf, exampleUri } from './kvmLab';
import { requireWorkbenchControl, press, text, waitFor, sleep } from './workbench';

suite('language', () => {
  suiteTeardown(async () => {
    // untitled documents left dirty would make "save before test" (Test Explorer) ask for a file name
    for (const doc of vscode.workspace.textDocuments.filter((d) => d.isUntitled && d.isDirty)) {
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('activates on a .kvms file, quickly, without loading the emulator', async () => {
    const editor = await openExample('stage2-fault-walkthrough.kvms');
    assert.equal(editor.document.languageId, 'kvms');
    const lab = await api();
    console.log(`[e2e]     activation took ${lab.activationMs.toFixed(1)} ms (target < 50 ms)`);
    assert.ok(Number.isFinite(lab.activationMs));
    // the extension bundle must not have pulled the debug adapter (emulator) in at activation
    const loaded = Object.keys(require.cache).filter((k) => k.endsWith('debug-adapter.js'));
    assert.deepEqual(loaded, [], 'dist/debug-adapter.js must be loaded lazily at debug start');
    assert.ok(lab.statusBar.item.text.includes('spe-rfc-v5'), `status bar shows the flavour: "${lab.statusBar.item.text}"`);
  });

  test('grammar: the editor shows source.kvms scopes (Inspect Editor Tokens and Scopes)', async function () {
    requireWorkbenchControl();
    const editor = await openExample('stage2-fault-walkthrough.kvms');
    const check = async (re: RegExp, col: (line: string) => number, scopes: string[]): Promise<void> => {
      const line = lineOf(editor.document.uri, re) - 1;
      const pos = new vscode.Position(line, col(editor.document.lineAt(line).text));
      editor.selection = new vscode.Selection(pos, pos);
      await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
      await vscode.commands.executeCommand('editor.action.inspectTMScopes');
      const shown = await waitFor(`the token inspector at ${line + 1}:${pos.character + 1}`, async () => {
        const t = await text('.token-inspect-widget');
        return scopes.every((s) => t.includes(s)) ? t : undefined;
      }, 10_000, 200).catch(async (e: Error) => { throw new Error(`${e.message}\nwidget: ${await text('.token-inspect-widget').catch(() => '(none)')}`); });
      assert.ok(shown.includes('source.kvms'));
      await press('Escape');
      await sleep(200);
    };
    await check(/^\s*memslot 1 gpa=RAM_HUGE/, (l) => l.indexOf('memslot') + 1, ['keyword.other.statement.kvms', 'meta.block.host.kvms']);
    await check(/^\s*hvc #0/, (l) => l.indexOf('hvc') + 1, ['keyword.mnemonic.system.kvms', 'meta.block.guest.kvms']);
    await check(/^\s*ldr x1, =RAM_HUGE/, (l) => l.indexOf('ldr') + 1, ['keyword.mnemonic.memory.kvms']);
  });

  test('diagnostics from the language server', async () => {
    const doc = await vscode.workspace.openTextDocument({
      language: 'kvms',
      content: 'scenario "broken"\nmachine { flavour spe-rfc-v5 }\nhost {\n    memslot 0 gpa=0x4000_0000 size=2M\n    frobnicate 0\n}\n',
    });
    await vscode.window.showTextDocument(doc);
    const diags = await waitFor('diagnostics for the unknown statement', () => {
      const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source === 'kvms');
      return d.length > 0 ? d : undefined;
    }, 30_000);
    const onLine5 = diags.filter((d) => d.range.start.line === 4);
    assert.ok(onLine5.length > 0, `a diagnostic on line 5 (frobnicate); got ${diags.map((d) => `${d.range.start.line + 1}: ${d.message}`).join('; ')}`);
    assert.equal(onLine5[0].severity, vscode.DiagnosticSeverity.Error);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('code lenses Run | Debug above the scenario, backed by our commands', async () => {
    const uri = exampleUri('stage2-fault-walkthrough.kvms');
    await openExample('stage2-fault-walkthrough.kvms');
    const lenses = await waitFor('code lenses', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      return l && l.length >= 2 ? l : undefined;
    }, 30_000, 300);
    const commands = lenses.map((l) => l.command?.command);
    assert.ok(commands.includes('kvm-arm64-lab.runScenario') && commands.includes('kvm-arm64-lab.debugScenario'), `lens commands: ${commands.join(', ')}`);
    assert.equal(lenses[0].range.start.line, lineOf(uri, /^scenario "/) - 1);
    const all = await vscode.commands.getCommands(true);
    for (const c of ['kvm-arm64-lab.runScenario', 'kvm-arm64-lab.debugScenario', 'kvm-arm64-lab.translateAddress', 'kvm-arm64-lab.openTrace', 'kvm-arm64-lab.showIpaMap']) {
      assert.ok(all.includes(c), `command ${c} registered`);
    }
  });

  test('the walkthrough: write a scenario, run it, debug a stage 2 fault', async function () {
    requireWorkbenchControl();
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', 'kvm-arm64-lab.kvm-arm64-lab#kvm-arm64-lab.gettingStarted', false);
    const shown = await waitFor('the walkthrough page', async () => {
      const t = await text('.part.editor');
      return t.includes('Get started with KVM arm64 Lab') ? t : undefined;
    }, 15_000, 250);
    for (const step of ['Write a scenario', 'Run it', 'Debug a stage 2 fault']) assert.ok(shown.includes(step), `step "${step}" shown`);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the language client restarts a crashed server', async () => {
    const lab = await api();
    const client = (await lab.languageClient.ready) as unknown as { _serverProcess?: { pid?: number; kill(sig: string): void }; isRunning(): boolean };
    const before = await waitFor('the server process', () => client._serverProcess?.pid, 20_000);
    client._serverProcess!.kill('SIGKILL');
    const after = await waitFor('a new server process', () => {
      const pid = client._serverProcess?.pid;
      return pid !== undefined && pid !== before && client.isRunning() ? pid : undefined;
    }, 30_000, 200);
    assert.notEqual(after, before);
    // and it still answers: diagnostics for a fresh document
    const doc = await vscode.workspace.openTextDocument({ language: 'kvms', content: 'host {\n    frobnicate 1\n}\n' });
    await waitFor('diagnostics after the restart', () => vscode.languages.getDiagnostics(doc.uri).length > 0, 30_000);
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
