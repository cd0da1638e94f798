// Test Explorer: every `.kvms` file in the workspace is a test (its `=>` results and `expect` lines are the
// assertions). Runs go through the debug adapter (`launch` with `noDebug`, ARCHITECTURE.md "Packaging"); the
// Debug profile launches normally so breakpoints stop. A failure is reported at the expectation's line with
// expected/actual, read from the adapter's `output` event (source + line + "expected:"/"actual:" lines) and its
// `exited` code (0 = every expectation held; LANGUAGE.md "Execution model").

import * as vscode from 'vscode';
import { DEBUG_TYPE } from './kvmProtocol';
import { scenarioLaunchConfiguration } from './debugConfiguration';

export type ScenarioOutcome = { state: 'passed' | 'failed' | 'errored' | 'skipped'; messages: vscode.TestMessage[] };

interface Collected {
  exitCode?: number;
  failures: vscode.TestMessage[];
  output: string[];
}

/** parse the adapter's failure output: "FILE:LINE: message\n  expected: X\n  actual:   Y" */
export function failureMessage(text: string, uri: vscode.Uri, line: number | undefined): vscode.TestMessage {
  const lines = text.trimEnd().split('\n');
  const head = lines[0].replace(/^.*?:\d+:\s*/, '');
  const expected = lines.find((l) => /^\s*expected:/.test(l))?.replace(/^\s*expected:\s*/, '');
  const actual = lines.find((l) => /^\s*actual:/.test(l))?.replace(/^\s*actual:\s*/, '');
  const m = expected !== undefined && actual !== undefined
    ? vscode.TestMessage.diff(head, expected, actual)
    : new vscode.TestMessage(lines.join('\n'));
  const l = line ?? Number((lines[0].match(/:(\d+):/) ?? [])[1] ?? 1);
  m.location = new vscode.Location(uri, new vscode.Position(Math.max(0, l - 1), 0));
  return m;
}

export class ScenarioTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('kvm-arm64-lab.scenarios', 'KVM scenarios');
  private readonly collectors = new Map<string, Collected>();
  private nextRun = 0;
  readonly runProfile: vscode.TestRunProfile;
  readonly debugProfile: vscode.TestRunProfile;
  private readonly finished = new vscode.EventEmitter<Map<string, ScenarioOutcome>>();
  /** fires when a run ends, with each scenario's outcome (test item id = file URI) */
  readonly onDidFinishRun = this.finished.event;
  private readonly disposables: vscode.Disposable[] = [this.controller, this.finished];

  constructor(private readonly output?: vscode.OutputChannel) {
    this.controller.resolveHandler = async (item) => { if (!item) await this.discover(); };
    this.controller.refreshHandler = async () => { await this.discover(); };
    this.runProfile = this.controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, (req, token) => this.run(req, token, true), true);
    this.debugProfile = this.controller.createRunProfile('Debug', vscode.TestRunProfileKind.Debug, (req, token) => this.run(req, token, false), true);
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.kvms');
    watcher.onDidCreate((uri) => this.add(uri));
    watcher.onDidDelete((uri) => this.controller.items.delete(uri.toString()));
    this.disposables.push(
      watcher,
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => {
          const key = session.configuration.kvmTestRun as string | undefined;
          const c = key ? this.collectors.get(key) : undefined;
          if (!c) return undefined;
          const uri = vscode.Uri.file(session.configuration.program as string);
          return {
            onDidSendMessage: (m: { type?: string; event?: string; body?: { exitCode?: number; output?: string; category?: string; line?: number } }) => {
              if (m.type !== 'event') return;
              if (m.event === 'exited' && typeof m.body?.exitCode === 'number') c.exitCode = m.body.exitCode;
              if (m.event === 'output' && m.body?.output) {
                c.output.push(m.body.output);
                if (m.body.category === 'stderr' && m.body.line !== undefined) c.failures.push(failureMessage(m.body.output, uri, m.body.line));
              }
            },
          };
        },
      }),
    );
  }

  private add(uri: vscode.Uri): vscode.TestItem {
    const existing = this.controller.items.get(uri.toString());
    if (existing) return existing;
    const item = this.controller.createTestItem(uri.toString(), vscode.workspace.asRelativePath(uri), uri);
    item.range = new vscode.Range(0, 0, 0, 0);
    this.controller.items.add(item);
    return item;
  }

  async discover(): Promise<vscode.TestItem[]> {
    const files = await vscode.workspace.findFiles('**/*.kvms', '{**/node_modules/**,**/test/grammar/**}');
    return files.sort((a, b) => a.fsPath.localeCompare(b.fsPath)).map((u) => this.add(u));
  }

  /** how many runs have started (the e2e suite waits on it) */
  runsStarted = 0;

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken, noDebug: boolean): Promise<void> {
    this.runsStarted++;
    const run = this.controller.createTestRun(request);
    const items: vscode.TestItem[] = [];
    if (request.include) items.push(...request.include);
    else { await this.discover(); this.controller.items.forEach((i) => items.push(i)); }
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const outcomes = new Map<string, ScenarioOutcome>();
    for (const item of items) {
      if (excluded.has(item.id) || !item.uri) continue;
      if (token.isCancellationRequested) { run.skipped(item); outcomes.set(item.id, { state: 'skipped', messages: [] }); continue; }
      run.started(item);
      const started = Date.now();
      this.output?.appendLine(`test ${item.label}: start`);
      const c = await this.runOne(item.uri, noDebug, token);
      const duration = Date.now() - started;
      this.output?.appendLine(`test ${item.label}: exit ${c.exitCode ?? '-'} in ${duration} ms`);
      for (const o of c.output) run.appendOutput(o.replace(/\r?\n/g, '\r\n'), undefined, item);
      if (c.exitCode === 0) {
        run.passed(item, duration);
        outcomes.set(item.id, { state: 'passed', messages: [] });
      } else if (c.failures.length > 0) {
        run.failed(item, c.failures, duration);
        outcomes.set(item.id, { state: 'failed', messages: c.failures });
      } else {
        const m = new vscode.TestMessage(c.output.join('') || (c.exitCode === undefined ? 'the scenario did not run (launch failed)' : `exit code ${c.exitCode}`));
        m.location = new vscode.Location(item.uri, new vscode.Position(0, 0));
        if (c.exitCode === undefined) run.errored(item, m, duration);
        else run.failed(item, m, duration);
        outcomes.set(item.id, { state: c.exitCode === undefined ? 'errored' : 'failed', messages: [m] });
      }
    }
    run.end();
    this.finished.fire(outcomes);
  }

  /** one scenario through the debug adapter; resolves when its session ends */
  private runOne(uri: vscode.Uri, noDebug: boolean, token: vscode.CancellationToken): Promise<Collected> {
    const key = `test-${++this.nextRun}`;
    const c: Collected = { failures: [], output: [] };
    this.collectors.set(key, c);
    const config = { ...scenarioLaunchConfiguration(uri, { noDebug }), kvmTestRun: key };
    return new Promise<Collected>((resolve) => {
      let session: vscode.DebugSession | undefined;
      const subs: vscode.Disposable[] = [];
      const done = (): void => { subs.forEach((d) => d.dispose()); this.collectors.delete(key); resolve(c); };
      subs.push(
        vscode.debug.onDidStartDebugSession((s) => { if (s.configuration.kvmTestRun === key) session = s; }),
        vscode.debug.onDidTerminateDebugSession((s) => { if (s.configuration.kvmTestRun === key) done(); }),
        token.onCancellationRequested(() => { if (session) void vscode.debug.stopDebugging(session); }),
      );
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      vscode.debug.startDebugging(folder, config, { noDebug, suppressDebugView: noDebug, suppressDebugToolbar: noDebug, suppressDebugStatusbar: noDebug })
        .then((ok) => { if (!ok) done(); }, (e: unknown) => { c.output.push(String(e)); done(); });
    });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

export function registerTestController(context: vscode.ExtensionContext, output?: vscode.OutputChannel): ScenarioTests {
  const tests = new ScenarioTests(output);
  context.subscriptions.push(tests);
  return tests;
}
