// pKVM (flavour pkvm-v3, mode protected): a line breakpoint on a host statement stops the host thread, and the
// Stage 2 view then shows the host's stage 2 with the hypervisor's pages as PROT_NONE entries (spec B.8).

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { suite, test, suiteTeardown } from 'mocha';
import { api, exampleUri, lineOf, topFrame } from './kvmLab';
import { waitFor } from './workbench';
import type { Stage2Node } from '../../../extension/stage2Tree';

suite('protected mode', () => {
  const uri = exampleUri('pkvm-host-stage2.kvms');
  let bp: vscode.SourceBreakpoint | undefined;
  suiteTeardown(async () => {
    if (bp) vscode.debug.removeBreakpoints([bp]);
    if (vscode.debug.activeDebugSession) await vscode.debug.stopDebugging();
  });

  test('a host-statement breakpoint, then the host stage 2 shows PROT_NONE entries for the hypervisor pages', async function () {
    this.timeout(60_000);
    const lab = await api();
    const line = lineOf(uri, /^\s*expect stage2 host HYP \+ 64K mapped/);
    bp = new vscode.SourceBreakpoint(new vscode.Location(uri, new vscode.Position(line - 1, 0)));
    vscode.debug.addBreakpoints([bp]);
    const before = lab.session.state.kind === 'stopped' ? lab.session.state.stop : -1;
    // stop on entry: a breakpoint added just now may reach the session only after launch; it is set by the time we
    // continue from the entry stop
    await vscode.debug.startDebugging(undefined, { type: 'kvm-arm64', request: 'launch', name: 'pkvm', program: uri.fsPath, stopOnEntry: true });
    // the entry stop, and exception filters ticked earlier in this window (stage2-fault): continue past those
    let last = before;
    let stop;
    for (let i = 0; i < 20; i++) {
      stop = await waitFor('the breakpoint stop', () => {
        const s = lab.session.state;
        return s.kind === 'stopped' && s.stop !== last && s.session.configuration.name === 'pkvm' ? s : undefined;
      }, 30_000);
      last = stop.stop;
      if (stop.reason !== 'exception' && stop.reason !== 'entry') break;
      await vscode.commands.executeCommand('workbench.action.debug.continue');
    }
    assert.equal(stop?.reason, 'breakpoint');
    const { frame } = await topFrame(stop.session, stop.threadId);
    assert.equal(frame.line, line, 'stopped before the statement with the breakpoint');
    const roots = await lab.stage2.getChildren();
    const host = roots.find((n) => n.kind === 'table' && n.table === 'host');
    assert.ok(host, `the host stage 2 is listed: ${roots.map((n) => (n.kind === 'table' ? n.label : n.kind)).join(', ')}`);
    // expand the host tables down to the leaves and collect the annotated ones
    const leaves: Stage2Node[] = [];
    const walk = async (n: Stage2Node, depth: number): Promise<void> => {
      for (const c of await lab.stage2.getChildren(n)) {
        if (c.kind === 'entry' && c.entry.kind === 'table' && depth < 4) await walk(c, depth + 1);
        else if (c.kind === 'entry') leaves.push(c);
      }
    };
    await walk(host, 0);
    const protNone = leaves.filter((l) => l.kind === 'entry' && l.entry.kind === 'prot-none');
    assert.equal(protNone.length, 16, 'pkvm_mark_hyp took 16 pages (64K)');
    const first = protNone[0];
    assert.ok(first.kind === 'entry' && first.entry.ipa === 0x8000_0000);
    assert.match(String(lab.stage2.getTreeItem(first).description), /^PROT_NONE/);
    const mapped = leaves.find((l) => l.kind === 'entry' && l.entry.ipa === 0x8001_0000);
    assert.ok(mapped && mapped.kind === 'entry' && mapped.entry.kind === 'page', 'the next page is still the host\'s');
    await vscode.debug.stopDebugging();
  });
});
