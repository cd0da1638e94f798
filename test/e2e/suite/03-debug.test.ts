// Debugging in the real workbench: tick "Stage 2 faults" in the Breakpoints view, press F5 in the walkthrough
// example (no launch.json), stop at each fault on the right line with ESR_EL2 decoded, look at the Memslots and
// Stage 2 views, memory, disassembly, the IPA map and the Events view, take the README screenshot, narrow the
// filter to one memslot, and run to the end.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readFileSync, existsSync } from 'node:fs';
import { suite, test, suiteSetup, suiteTeardown } from 'mocha';
import { api, openExample, lineOf, exampleUri, topFrame, scope, variables, type Variable } from './kvmLab';
import { hasWorkbenchControl, requireWorkbenchControl, press, type, click, count, text, framesText, screenshot, waitFor, sleep } from './workbench';
import type { KvmLabApi } from '../../../extension/extension';
import type { MemslotNode } from '../../../extension/memslotTree';
import type { TranslateBody, TraceEventJson } from '../../../extension/kvmProtocol';

const EXAMPLE = 'stage2-fault-walkthrough.kvms';
const uri = exampleUri(EXAMPLE);
const STAGE2_ROW = '.debug-breakpoints .monaco-list-row[aria-label="Stage 2 faults"]';
const CONDITION = 'ipa >= 0x4000_0000';

let lab: KvmLabApi;
/** what the adapter printed (shown when a stop is not the expected one) */
const adapterOutput: string[] = [];
let lastStop = -1;

/** wait for the next stop of the followed session (a newer kvm/stateChanged than the last one seen) */
async function nextStop(what: string, expected = 'exception'): Promise<{ session: vscode.DebugSession; reason: string; threadId?: number }> {
  const s = await waitFor(what, () => {
    const st = lab.session.state;
    return st.kind === 'stopped' && st.stop !== lastStop ? st : undefined;
  }, 30_000, 50);
  lastStop = s.stop;
  if (s.reason !== expected) console.log(`[e2e]     (unexpected stop: ${s.reason}, event #${s.seq}; adapter output: ${adapterOutput.join('').trim() || 'none'})`);
  return { session: s.session, reason: s.reason, threadId: s.threadId };
}

async function esrFields(session: vscode.DebugSession, frameId: number): Promise<Map<string, string>> {
  const sys = await scope(session, frameId, /System registers/);
  const esr = sys.find((v) => v.name === 'ESR_EL2');
  assert.ok(esr, `ESR_EL2 among ${sys.map((v) => v.name).join(', ')}`);
  assert.ok(esr.variablesReference > 0, 'ESR_EL2 expands into decoded fields');
  const fields = await variables(session, esr.variablesReference);
  return new Map(fields.map((f: Variable) => [f.name, f.value]));
}

suite('debugging a stage 2 fault', () => {
  suiteSetup(async function () {
    this.timeout(90_000);
    lab = await api();
    vscode.debug.registerDebugAdapterTrackerFactory('kvm-arm64', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type?: string; event?: string; body?: { output?: string } }) => { if (m.event === 'output' && m.body?.output) adapterOutput.push(m.body.output); },
      }),
    });
    await openExample(EXAMPLE);
    await vscode.commands.executeCommand('workbench.view.debug');
    if (!hasWorkbenchControl) return;
    // the filters show once a kvm-arm64 session has initialised in this window (the Test Explorer runs did)
    if (await count(STAGE2_ROW).catch(() => 0) === 0) {
      await vscode.debug.startDebugging(undefined, { type: 'kvm-arm64', request: 'launch', name: 'warm up', program: uri.fsPath, stopOnEntry: true });
      await nextStop('the warm-up session to stop on entry', 'entry');
      await vscode.debug.stopDebugging();
      await waitFor('the warm-up session to end', () => lab.session.state.kind !== 'stopped' && lab.session.state.kind !== 'running', 20_000);
    }
    await waitFor('the "Stage 2 faults" exception filter in the Breakpoints view', async () => (await count(STAGE2_ROW)) > 0, 20_000, 250);
    const row = await text(STAGE2_ROW);
    assert.ok(row.includes('Stage 2 faults'));
    await click(`${STAGE2_ROW} .monaco-checkbox`);
    await waitFor('the checkbox to be ticked', async () => (await count(`${STAGE2_ROW}[aria-checked="true"]`)) > 0, 10_000, 200);
    // and give it a condition through the row's "Edit Condition..." action (both faults below match it)
    await click(`${STAGE2_ROW} .codicon-edit`);
    await sleep(300);
    await type(CONDITION);
    await press('Enter');
    await waitFor('the condition to show in the Breakpoints view', async () => (await text(STAGE2_ROW)).includes(CONDITION), 10_000, 200);
  });

  suiteTeardown(async () => {
    if (vscode.debug.activeDebugSession) await vscode.debug.stopDebugging();
  });

  test('F5 on the example (no launch.json) stops at the first stage2-fault on the faulting instruction', async function () {
    if (!hasWorkbenchControl) {
      // desktop runs without the page driver: F5's command (empty configuration → resolveDebugConfiguration)
      await openExample(EXAMPLE);
      await vscode.commands.executeCommand('workbench.action.debug.start');
    } else {
      await openExample(EXAMPLE);
      await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
      await press('F5');
    }
    const { session, reason, threadId: stoppedThread } = await nextStop('the stop at the instruction fetch fault');
    assert.equal(session.type, 'kvm-arm64');
    assert.equal(session.configuration.program, uri.fsPath, 'F5 resolved the active .kvms file as program');
    assert.equal(reason, 'exception');
    const { threadId, frame } = await topFrame(session, stoppedThread);
    assert.ok(threadId >= 2, `a vcpu thread stopped (thread ${threadId})`);
    assert.equal(frame.line, lineOf(uri, /^\s*ldr x1, =RAM_HUGE/), 'the first guest instruction faults on its fetch');
    if (hasWorkbenchControl) {
      // what VS Code sent the adapter for the checkbox and its condition (supportsExceptionFilterOptions)
      const sent = lab.session.exceptionBreakpoints.get(session.id);
      assert.deepEqual(sent?.filterOptions?.find((o) => o.filterId === 'stage2-fault')?.condition, CONDITION, JSON.stringify(sent));
    }
    const info = (await session.customRequest('exceptionInfo', { threadId })) as { exceptionId: string; description?: string };
    assert.equal(info.exceptionId, 'stage2-fault');
    const esr = await esrFields(session, frame.id);
    assert.match(esr.get('EC') ?? '', /^0x20\b/, `instruction abort from a lower EL: ${esr.get('EC')}`);
    console.log(`[e2e]     stop 1 at line ${frame.line}: ${info.description ?? ''}; ESR_EL2.EC=${esr.get('EC')} FSC=${esr.get('FSC')}`);
  });

  test('continue: the data fault in memslot 1 stops on its load, ESR_EL2 decoded in Variables', async () => {
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const { session, reason, threadId } = await nextStop('the stop at the data fault');
    assert.equal(reason, 'exception');
    const { frame } = await topFrame(session, threadId);
    assert.equal(frame.line, lineOf(uri, /^\s*ldr x2, \[x1\]/));
    const esr = await esrFields(session, frame.id);
    assert.match(esr.get('EC') ?? '', /^0x24\b/, `data abort from a lower EL: ${esr.get('EC')}`);
    assert.match(esr.get('FSC') ?? '', /translation/i, `translation fault: ${esr.get('FSC')}`);
    assert.equal(esr.get('WnR'), '0x0', 'a read');
    const sys = await scope(session, frame.id, /System registers/);
    const hpfar = sys.find((v) => v.name === 'HPFAR_EL2');
    assert.ok(hpfar, 'HPFAR_EL2 shown');
    // HPFAR_EL2.FIPA = IPA[51:12] in bits [43:4] (spec C.4): 0x8000_0000 >> 8
    assert.equal(BigInt(hpfar.value.split(' ')[0]), 0x8000_0000n >> 8n);
  });

  test('the debug views show it: call stack (vcpu 0), Variables (x1 = RAM_HUGE), Disassembly view', async function () {
    requireWorkbenchControl();
    await vscode.commands.executeCommand('workbench.view.debug');
    const side = await waitFor('the call stack and variables', async () => {
      const t = await text('.part.sidebar');
      return t.includes('vcpu 0') && t.includes('General registers') && /x1 =\s*0x80000000/.test(t) ? t : undefined;
    }, 15_000, 250).catch(async (e: Error) => { throw new Error(`${e.message}; the side bar shows:\n${await text('.part.sidebar')}`); });
    assert.match(side, /host \(VMM\)/);
    await vscode.commands.executeCommand('debug.action.openDisassemblyView');
    const dis = await waitFor('the Disassembly view to show the faulting load', async () => {
      const t = await text('.part.editor');
      return /ldr\s+x2, \[x1\]/.test(t) ? t : undefined;
    }, 15_000, 300);
    assert.match(dis, /40000004/i);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the Memslots view lists the three memslots with their ranges and lock state', async () => {
    const roots = await lab.memslots.getChildren();
    const slots = roots.filter((n): n is Extract<MemslotNode, { kind: 'slot' }> => n.kind === 'slot');
    assert.deepEqual(slots.map((s) => s.slot.id), [0, 1, 2]);
    const items = slots.map((s) => lab.memslots.getTreeItem(s));
    assert.deepEqual(items.map((i) => i.label), ['memslot 0', 'memslot 1', 'memslot 2']);
    assert.equal(items[1].description, '0x80000000 · 4M');
    const fields = await lab.memslots.getChildren(slots[1]);
    const byLabel = new Map(fields.map((f) => [lab.memslots.getTreeItem(f).label, String(lab.memslots.getTreeItem(f).description)]));
    assert.equal(byLabel.get('IPA range'), '0x80000000–0x803fffff');
    assert.equal(byLabel.get('lock'), 'unlocked');
    if (hasWorkbenchControl) {
      await vscode.commands.executeCommand('workbench.view.extension.kvm-arm64-lab');
      const shown = await waitFor('the Memslots view to render its items', async () => {
        const t = await text('.part.sidebar');
        return t.includes('memslot 2') ? t : undefined;
      }, 15_000, 250);
      assert.ok(shown.includes('memslot 0') && shown.includes('memslot 1'), shown);
    }
  });

  test('the Stage 2 view walks to the 2M block of memslot 1 ("Translate Address…" reveals each level)', async () => {
    const r = await vscode.commands.executeCommand<TranslateBody>('kvm-arm64-lab.translateAddress', '0x8000_0000');
    assert.ok(r && r.steps.length >= 2, `a walk with several levels: ${JSON.stringify(r)}`);
    assert.equal(r.fault, undefined);
    const leaf = await lab.stage2.entryAt('vm', r.steps.map((s) => s.index));
    assert.ok(leaf && leaf.kind === 'entry', 'the walk ends on an entry node');
    assert.equal(leaf.entry.kind, 'block', `hugetlb-2M backing maps a 2M block: ${leaf.entry.decoded}`);
    assert.equal(leaf.level, 2);
    const fields = await lab.stage2.getChildren(leaf);
    const names = fields.map((f) => (f.kind === 'field' ? f.name : ''));
    for (const n of ['type', 'output address', 'S2AP', 'XN', 'MemAttr', 'AF', 'SW bits [58:55]']) assert.ok(names.includes(n), `decoded field ${n}`);
    // the instruction page of memslot 0 is a level 3 page; the rest of memslot 1 stays unmapped
    const code = await vscode.commands.executeCommand<TranslateBody>('kvm-arm64-lab.translateAddress', '0x4000_0000');
    assert.equal(code?.steps[code.steps.length - 1].level, 3);
    const unmapped = await vscode.commands.executeCommand<TranslateBody>('kvm-arm64-lab.translateAddress', '0x8020_0000');
    assert.equal(unmapped?.fault?.kind, 'translation');
    await vscode.commands.executeCommand('kvm-arm64-lab.translateAddress', '0x8000_0000');
    if (hasWorkbenchControl) {
      // the view is virtualised: only rows on screen are in the DOM; reveal (again) until the leaf row shows
      let tries = 0;
      const shown = await waitFor('the Stage 2 view to show the walk', async () => {
        const t = await text('.part.sidebar');
        if (t.includes('VM stage 2') && /L2\[0\] 0x80000000/.test(t)) return t;
        if (++tries % 8 === 0) {
          // as a user would: the view's Refresh button, then Translate Address… again
          await vscode.commands.executeCommand('kvm-arm64-lab.refreshViews');
          await vscode.commands.executeCommand('kvm-arm64-lab.translateAddress', '0x8000_0000');
        }
        return undefined;
      }, 30_000, 250).catch(async (e: Error) => { throw new Error(`${e.message}; the side bar shows:\n${await text('.part.sidebar')}`); });
      assert.match(shown, /block oa=0x[0-9a-f]+/);
    }
  });

  test('readMemory / writeMemory / disassemble through DAP, and "Reveal in Memory View"', async () => {
    const session = lab.session.session!;
    const read = async (addr: string, n: number): Promise<Uint8Array> => {
      const r = (await session.customRequest('readMemory', { memoryReference: addr, offset: 0, count: n })) as { data?: string };
      return Uint8Array.from(Buffer.from(r.data ?? '', 'base64'));
    };
    const insn = await read('0x40000000', 4);
    assert.equal(insn.length, 4);
    assert.equal(insn[3] >> 2, 0x58 >> 2, 'the first word is an LDR (literal) encoding');
    await session.customRequest('writeMemory', { memoryReference: '0x90000100', offset: 0, data: Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64') });
    assert.deepEqual([...(await read('0x90000100', 4))], [0xde, 0xad, 0xbe, 0xef]);
    const st = lab.session.state;
    const { frame } = await topFrame(session, st.kind === 'stopped' ? st.threadId : undefined);
    const dis = (await session.customRequest('disassemble', { memoryReference: frame.instructionPointerReference ?? '0x40000004', instructionCount: 3 })) as { instructions: { instruction: string }[] };
    assert.match(dis.instructions[0].instruction, /^ldr\s+x2, \[x1\]/);
    const slot0 = (await lab.memslots.getChildren()).find((n) => n.kind === 'slot' && n.slot.id === 0);
    const doc = await vscode.commands.executeCommand<vscode.TextDocument | undefined>('kvm-arm64-lab.revealInMemory', slot0);
    if (doc) {
      assert.match(doc.getText(), /^\/\/ IPA 0x40000000[\s\S]*\n000040000000 {2}[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} 58/);
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  test('Events view lists the faults; selecting one reveals its statement', async () => {
    const events = await lab.events.getChildren();
    const faults = events.filter((e) => e.event === 'stage2-fault');
    assert.ok(faults.length >= 2, `stage2-fault events: ${events.map((e) => e.event).join(' ')}`);
    const e = faults[0] as TraceEventJson;
    assert.equal(e.ipa, '0x80000000');
    await vscode.commands.executeCommand('kvm-arm64-lab.revealEventSource', e);
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.fsPath, uri.fsPath);
    assert.equal(editor?.selection.active.line, e.line - 1);
    assert.equal(lineOf(uri, /^\s*run 0 => exit mmio/), e.line, 'guest events carry the line of their `run`');
    // filtered by kind (the view's filter action sets this): only faults, read through `kvm/events {kinds}`
    lab.events.kinds = ['stage2-fault'];
    lab.events.refresh();
    const only = await lab.events.getChildren();
    lab.events.kinds = undefined;
    lab.events.refresh();
    assert.deepEqual([...new Set(only.map((x) => x.event))], ['stage2-fault']);
    assert.equal(only.length, faults.length);
  });

  test('IPA map: memslot 1 half mapped (one 2M block of 4M), drawn in a locked-down webview', async () => {
    const model = await vscode.commands.executeCommand<{ slots: { id: number; cells: string[]; cellSize: number }[] }>('kvm-arm64-lab.showIpaMap');
    assert.ok(model, 'the map has a model while stopped');
    const s1 = model.slots.find((s) => s.id === 1)!;
    const mapped = s1.cells.filter((c) => c === 'mapped').length * s1.cellSize;
    assert.equal(mapped, 2 * 1024 * 1024);
    assert.ok(model.slots.find((s) => s.id === 0)!.cells.includes('mapped'));
    if (hasWorkbenchControl) {
      // what the webview drew (its own iframe): memslot 1 with 128 of 256 16K cells mapped
      const drawn = await waitFor('the IPA map webview to draw', async () => {
        const t = await framesText();
        return t.includes('memslot 1') && t.includes('128/256') ? t : undefined;
      }, 15_000, 300);
      assert.match(drawn, /0x80000000–0x803fffff · 4M · unlocked/);
      await vscode.commands.executeCommand('workbench.action.closePanel');
      await screenshot('test-results/ipa-map.png');
    }
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
  });

  test('README screenshot: the workbench stopped at the stage 2 fault', async function () {
    requireWorkbenchControl();
    await openExample(EXAMPLE);
    await vscode.commands.executeCommand('workbench.view.extension.kvm-arm64-lab');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('kvm-arm64-lab.translateAddress', '0x8000_0000');
    // put the top stack frame back in the editor (the stopped line highlighted)
    await vscode.commands.executeCommand('workbench.action.debug.callStackTop').then(undefined, () => undefined);
    await sleep(1500);
    const path = await screenshot('test-results/debug-stage2-fault.png');
    assert.ok(existsSync(path));
    assert.ok(readFileSync(path).length > 20_000, 'a real picture, not an empty page');
  });

  test('"Break on faults in this memslot": only memslot 2\'s write fault stops', async () => {
    const slots = (await lab.memslots.getChildren()).filter((n) => n.kind === 'slot');
    const args = await vscode.commands.executeCommand<{ filterOptions: { filterId: string; condition?: string }[] }>('kvm-arm64-lab.breakOnMemslotFaults', slots[2]);
    assert.equal(args?.filterOptions.find((o) => o.filterId === 'stage2-fault')?.condition, 'ipa >= 0x90000000 && ipa < 0x90200000');
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const { session, threadId } = await nextStop('the write fault in memslot 2');
    const { frame } = await topFrame(session, threadId);
    assert.equal(frame.line, lineOf(uri, /^\s*str x2, \[x1\]/));
    const esr = await esrFields(session, frame.id);
    assert.equal(esr.get('WnR'), '0x1', 'a write');
  });

  test('the debug toolbar: Step Over moves the vcpu one instruction, Step Back returns (deterministic replay)', async function () {
    requireWorkbenchControl();
    const faultLine = lineOf(uri, /^\s*str x2, \[x1\]/);
    await click('.debug-toolbar .codicon-debug-step-over');
    const over = await nextStop('the step over', 'step');
    assert.equal(over.reason, 'step');
    assert.equal((await topFrame(over.session, over.threadId)).frame.line, faultLine + 1);
    await click('.debug-toolbar .codicon-debug-step-back');
    const back = await nextStop('the step back', 'step');
    assert.equal((await topFrame(back.session, back.threadId)).frame.line, faultLine);
  });

  test('narrowed to memslot 1 (already faulted in), nothing else stops: the run ends, every expectation held', async () => {
    const slots = (await lab.memslots.getChildren()).filter((n) => n.kind === 'slot');
    // memslot 1 already faulted in; the MMIO accesses are outside it: nothing else stops
    await vscode.commands.executeCommand('kvm-arm64-lab.breakOnMemslotFaults', slots[1]);
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const end = await waitFor('the session to end', () => (lab.session.state.kind === 'exited' || lab.session.state.kind === 'idle') && lab.session.state, 30_000);
    assert.deepEqual(end, { kind: 'exited', exitCode: 0 }, 'every expectation held');
    assert.match(lab.statusBar.item.text, /passed/);
    if (hasWorkbenchControl) {
      // no session: the KVM views show their welcome content with the Debug button
      await vscode.commands.executeCommand('workbench.view.extension.kvm-arm64-lab');
      const t = await waitFor('the welcome content', async () => {
        const x = await text('.part.sidebar');
        return x.includes('No KVM scenario is being debugged') ? x : undefined;
      }, 15_000, 250);
      assert.ok(t.includes('Debug a Scenario'));
    }
  });

  test('"Open JSON Trace of the Last Run" opens the trace the run wrote', async () => {
    const doc = await waitFor('the trace', async () => vscode.commands.executeCommand<vscode.TextDocument | undefined>('kvm-arm64-lab.openTrace'), 10_000, 500);
    assert.ok(doc.uri.fsPath.endsWith('stage2-fault-walkthrough.trace.jsonl'));
    const first = JSON.parse(doc.lineAt(0).text) as { seq: number; event: string; line: number };
    assert.equal(first.seq, 1);
    assert.ok(doc.getText().includes('"event":"stage2-fault"'));
  });
});
