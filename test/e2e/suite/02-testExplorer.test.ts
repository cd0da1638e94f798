// Test Explorer: every example is a test item; "Run All Tests" (the workbench command) runs them through the debug
// adapter with noDebug, and each outcome matches the CLI's (`kvms test FILE`). A scenario with a wrong
// expectation fails at that line with expected/actual.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite, test } from 'mocha';
import { sleep, waitFor } from './workbench';
import { api, repoRoot, workspaceDir, exampleUri } from './kvmLab';
import type { ScenarioOutcome } from '../../../extension/testController';

function cliPasses(file: string): boolean {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'kvms.js'), 'test', file], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  return r.status === 0;
}

suite('Test Explorer', () => {
  test('runs every example through the debug adapter; outcomes match the CLI', async function () {
    this.timeout(180_000);
    const lab = await api();
    const items = await lab.tests.discover();
    const files = readdirSync(workspaceDir).filter((f) => f.endsWith('.kvms')).sort();
    assert.equal(items.length, files.length, `one test item per example: ${items.map((i) => i.label).join(', ')}`);
    const finished = new Promise<Map<string, ScenarioOutcome>>((resolve) => { const d = lab.tests.onDidFinishRun((o) => { d.dispose(); resolve(o); }); });
    // the Testing view, as a user would; its tree has to learn the items (sent to the workbench asynchronously)
    await vscode.commands.executeCommand('workbench.view.testing.focus');
    const t0 = Date.now();
    const runsBefore = lab.tests.runsStarted;
    // "Run All Tests" does nothing until the workbench knows the items: retry until a run starts
    await waitFor('"Run All Tests" to start a run', async () => {
      await sleep(1000);
      if (lab.tests.runsStarted === runsBefore) await vscode.commands.executeCommand('testing.runAll');
      return lab.tests.runsStarted > runsBefore;
    }, 30_000, 500);
    const outcomes = await finished;
    console.log(`[e2e]     ${outcomes.size} scenarios ran in ${Date.now() - t0} ms`);
    const wrong: string[] = [];
    for (const f of files) {
      const o = outcomes.get(exampleUri(f).toString());
      const expected = cliPasses(join(workspaceDir, f)) ? 'passed' : 'failed';
      if (o?.state !== expected) wrong.push(`${f}: Test Explorer ${o?.state ?? 'did not run'}${o?.messages.length ? ` (${o.messages[0].message.toString().slice(0, 200)})` : ''}, CLI ${expected}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('a failing expectation is reported at its line with expected/actual', async function () {
    this.timeout(60_000);
    const lab = await api();
    const src = readFileSync(join(workspaceDir, 'stage2-fault-walkthrough.kvms'), 'utf8').split('\n');
    // expect the first memslot's page at the wrong level: the expectation on that line must fail
    const i = src.findIndex((l) => /^\s*expect stage2 0x4000_0000 mapped level=3/.test(l));
    assert.ok(i >= 0, 'the walkthrough has the level=3 expectation');
    src[i] = src[i].replace('level=3', 'level=2');
    const file = join(workspaceDir, 'zz-failing-expectation.kvms');
    writeFileSync(file, src.join('\n'));
    try {
      const uri = vscode.Uri.file(file);
      const [item] = (await lab.tests.discover()).filter((t) => t.uri?.fsPath === file);
      assert.ok(item, 'the new file became a test item');
      const finished = new Promise<Map<string, ScenarioOutcome>>((resolve) => { const d = lab.tests.onDidFinishRun((o) => { d.dispose(); resolve(o); }); });
      // run exactly this item through the controller's Run profile
      const cancel = new vscode.CancellationTokenSource();
      await lab.tests.runProfile.runHandler(new vscode.TestRunRequest([item], undefined, lab.tests.runProfile), cancel.token);
      const o = (await finished).get(uri.toString());
      assert.equal(o?.state, 'failed');
      const m = o!.messages[0];
      assert.equal(m.location?.uri.fsPath, file);
      assert.equal(m.location?.range.start.line, i, `failure at the expectation's line ${i + 1}: ${m.message.toString()}`);
      assert.ok(m.expectedOutput !== undefined && m.actualOutput !== undefined, `expected/actual given: ${m.message.toString()}`);
      console.log(`[e2e]     failure: ${m.message.toString()} — expected ${m.expectedOutput}, actual ${m.actualOutput}`);
    } finally {
      rmSync(file, { force: true });
      rmSync(file.replace(/\.kvms$/, '.trace.jsonl'), { force: true });
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  test('the Debug profile runs a scenario under the debugger (no breakpoints: to a passing end)', async function () {
    this.timeout(60_000);
    const lab = await api();
    const uri = exampleUri('dirty-logging.kvms');
    const item = (await lab.tests.discover()).find((t) => t.uri?.fsPath === uri.fsPath)!;
    let noDebug: unknown = 'no session';
    const d = vscode.debug.onDidStartDebugSession((s) => { if (s.configuration.program === uri.fsPath) noDebug = s.configuration.noDebug; });
    const finished = new Promise<Map<string, ScenarioOutcome>>((resolve) => { const f = lab.tests.onDidFinishRun((o) => { f.dispose(); resolve(o); }); });
    await lab.tests.debugProfile.runHandler(new vscode.TestRunRequest([item], undefined, lab.tests.debugProfile), new vscode.CancellationTokenSource().token);
    const o = (await finished).get(uri.toString());
    d.dispose();
    assert.equal(noDebug, undefined, 'a debug session, not a noDebug run');
    assert.equal(o?.state, 'passed');
  });
});
