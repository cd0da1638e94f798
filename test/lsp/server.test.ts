// The language server over stdio (issue 6): diagnostics, hover, completion, navigation, symbols, folding,
// semantic tokens, inlay hints and code lens on the fixtures in test/fixtures/lsp.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type {
  CodeLens, CompletionItem, DocumentSymbol, FoldingRange, Hover, InlayHint, Location, SemanticTokens, WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { LspClient, ROOT, fixtureUri } from './client';
import { at, decodeTokens, lineOf } from './util';
import { predefinedSymbols } from '../../emulator/arch/smccc';
import { getFlavour } from '../../emulator/kvm/flavours';

const fixture = (n: string) => readFileSync(resolve(ROOT, 'test', 'fixtures', 'lsp', n), 'utf8');
const LOCK = fixture('lock.kvms');
const GUARD = fixture('mmio-guard.kvms');
const lockUri = fixtureUri('lock.kvms');
const guardUri = fixtureUri('mmio-guard.kvms');

let client: LspClient;
let lockDiags: Awaited<ReturnType<LspClient['open']>>;

before(async () => {
  client = await LspClient.start();
  lockDiags = await client.open(lockUri, LOCK);
  await client.open(guardUri, GUARD);
});
after(async () => {
  await client.stop();
});

const hoverText = async (uri: string, text: string, needle: string, delta = 1, occurrence = 0): Promise<string> => {
  const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: at(text, needle, delta, occurrence) });
  assert.ok(h, `a hover at '${needle}'`);
  return (h.contents as { value: string }).value;
};

let scratch = 0;
/** completion labels at the end of `line` inserted in place of the host block's last statement */
async function completeIn(text: string, position: { line: number; character: number }): Promise<string[]> {
  const uri = `file:///scratch/completion-${scratch++}.kvms`;
  await client.open(uri, text);
  const r = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
  await client.close(uri);
  return r.map((i) => i.label);
}
async function completeHostLine(line: string): Promise<string[]> {
  const text = LOCK.replace('    check_extension KVM_CAP_ARM_LOCK_USER_MEMORY_REGION => 1\n', `    ${line}\n`);
  return completeIn(text, { line: lineOf(text, `    ${line}\n}`), character: 4 + line.length });
}

describe('initialize', () => {
  test('the server advertises every feature of issue 6', () => {
    const c = client.init.capabilities;
    assert.ok(c.hoverProvider && c.definitionProvider && c.referencesProvider && c.documentSymbolProvider && c.foldingRangeProvider);
    assert.ok(c.completionProvider && c.documentFormattingProvider && c.inlayHintProvider && c.codeLensProvider);
    assert.deepEqual(c.renameProvider, { prepareProvider: true });
    assert.ok(c.semanticTokensProvider?.full && c.semanticTokensProvider.range);
    assert.ok(c.semanticTokensProvider.legend.tokenTypes.includes('label'));
  });
});

describe('diagnostics', () => {
  test('A.2#11 overlapping memslot: EEXIST warning with related information at the other memslot', () => {
    const d = lockDiags.diagnostics.find((x) => x.code === 'A.2#11');
    assert.ok(d, JSON.stringify(lockDiags.diagnostics));
    assert.equal(d.severity, 2);
    assert.equal(d.range.start.line, lineOf(LOCK, 'memslot 2 gpa'));
    assert.match(d.message, /EEXIST/);
    assert.equal(d.relatedInformation?.[0].location.uri, lockUri);
    assert.equal(d.relatedInformation?.[0].location.range.start.line, lineOf(LOCK, 'memslot 0 gpa'));
  });
  test('E.3#6 predicted errno: write lock of a read-only memslot warns EPERM when `=>` does not say it', () => {
    const d = lockDiags.diagnostics.filter((x) => x.code === 'E.3#6');
    assert.equal(d.length, 1, 'only the line without `=> EPERM` warns');
    assert.equal(d[0].range.start.line, lineOf(LOCK, '    lock 1 read write\n'));
    assert.match(d[0].message, /this fails with EPERM \(spec E\.3#6\)/);
  });
  test('diagnostics carry the document version and come from source kvms', () => {
    assert.equal(lockDiags.version, 1);
    assert.ok(lockDiags.diagnostics.every((d) => d.source === 'kvms'));
  });
  test('syntax and assembler errors as you type, with precise ranges', async () => {
    const uri = 'file:///scratch/errors.kvms';
    const text = LOCK.replace('    mov x0, #1\n', '    mov x0, #1, foo\n').replace('    run 0 => exit mmio\n', '    run 0 steps=\n');
    const d = await client.open(uri, text);
    const asm = d.diagnostics.find((x) => x.code === 'assemble');
    assert.ok(asm, JSON.stringify(d.diagnostics));
    assert.equal(asm.range.start.line, lineOf(text, 'mov x0, #1, foo'));
    assert.equal(asm.severity, 1);
    const syn = d.diagnostics.find((x) => x.code === 'syntax');
    assert.ok(syn);
    assert.equal(syn.range.start.line, lineOf(text, 'run 0 steps='));
    // fix it: the next version has neither
    const fixed = await client.change(uri, LOCK, 2);
    assert.equal(fixed.version, 2);
    assert.ok(!fixed.diagnostics.some((x) => x.code === 'assemble' || x.code === 'syntax'));
    await client.close(uri);
  });
  test('a burst of changes ends with the diagnostics of the last version (stale results dropped)', async () => {
    const uri = 'file:///scratch/burst.kvms';
    await client.open(uri, LOCK);
    const seen: number[] = [];
    const last = client.nextDiagnostics(uri, 12);
    const collect = setInterval(() => { const p = client.diagnostics.get(uri); if (p?.version !== undefined && seen[seen.length - 1] !== p.version) seen.push(p.version); }, 1);
    for (let v = 2; v <= 12; v++) {
      await client.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text: LOCK + `// edit ${v}\n` }] });
    }
    const d = await last;
    clearInterval(collect);
    assert.equal(d.version, 12);
    assert.deepEqual([...seen].sort((x, y) => x - y), seen, 'versions only grow');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(client.diagnostics.get(uri)?.version, 12, 'nothing older arrives after the last version');
    await client.close(uri);
  });
});

describe('hover', () => {
  test('host statement: the ioctl and its resolved arguments (spec A.1)', async () => {
    const h = await hoverText(lockUri, LOCK, 'memslot 1 gpa');
    assert.match(h, /KVM_SET_USER_MEMORY_REGION/);
    assert.match(h, /flags = 2/);
    assert.match(h, /0x4020_0000/); // gpa = BUF = RAM + 2M
  });
  test('lock: the E.3 rules in order and what this line returns here', async () => {
    const h = await hoverText(lockUri, LOCK, '    lock 1 read write\n', 5);
    assert.match(h, /LOCK rules, in check order \(spec E\.3\)/);
    assert.match(h, /E\.3#6 \| EPERM/);
    assert.match(h, /cap = 207/);
    assert.match(h, /\*\*Here:\*\* returns \*\*EPERM\*\* \(spec E\.3#6\)/);
  });
  test('lock with `=> EPERM` as predicted: the prediction is still shown', async () => {
    const h = await hoverText(lockUri, LOCK, 'lock 1 read write => EPERM', 1);
    assert.match(h, /\*\*Here:\*\* returns \*\*EPERM\*\*/);
  });
  test('lock the checker expects to succeed says so', async () => {
    const h = await hoverText(lockUri, LOCK, 'lock 0 read => EINVAL', 1);
    assert.match(h, /predicts success here, not EINVAL/);
  });
  test('errno: the rules that produce it', async () => {
    const h = await hoverText(lockUri, LOCK, '=> EPERM', 4);
    assert.match(h, /EPERM/);
    assert.match(h, /E\.3#6/);
    assert.match(h, /E\.5#first-run/);
    assert.match(h, /\*\*Here:\*\* returns \*\*EPERM\*\* \(spec E\.3#6\)/);
  });
  test('instruction: address, encoding and disassembly from the assembler', async () => {
    const h = await hoverText(lockUri, LOCK, 'mov x0, #1', 1);
    assert.match(h, /0x4000_0000:\s+d2800020\s+mov/);
    assert.match(h, /Rd = immediate/);
  });
  test('system register: encoding and fields', async () => {
    const h = await hoverText(lockUri, LOCK, 'pmblimitr_el1', 3);
    assert.match(h, /PMBLIMITR_EL1/);
    assert.match(h, /op0=3/);
    assert.match(h, /\| E \| \[0:0\]/);
  });
  test('predefined symbol: value in this flavour (D.5) and in the others', async () => {
    const v = predefinedSymbols(getFlavour('mmio-guard-v2')).get('MMIO_GUARD_MAP')!;
    const h = await hoverText(guardUri, GUARD, 'MMIO_GUARD_MAP', 3);
    assert.ok(h.includes(`\`0x${v.toString(16)}\` in **mmio-guard-v2**`), h);
    assert.match(h, /Vendor Hypervisor/);
    assert.match(h, /mainline-5\.15: —/);
  });
  test('number: hex, decimal and size forms', async () => {
    const h = await hoverText(lockUri, LOCK, 'size=2M', 6);
    assert.match(h, /0x20_0000/);
    assert.match(h, /2097152/);
    assert.match(h, /`2M`/);
  });
  test('constant: its value', async () => {
    const h = await hoverText(lockUri, LOCK, 'gpa=BUF', 5);
    assert.match(h, /const\*\* `BUF`/);
    assert.match(h, /0x4020_0000/);
  });
  test('machine key and flavour value', async () => {
    assert.match(await hoverText(lockUri, LOCK, 'vcpus 2', 1), /vcpus created/);
    assert.match(await hoverText(lockUri, LOCK, 'flavour spe-rfc-v5', 10), /memslot lock API: cap 207/);
  });
  test('event kind: its fields', async () => {
    assert.match(await hoverText(lockUri, LOCK, 'stage2-fault', 2), /resolution/);
  });
});

describe('completion', () => {
  test('host: statement keywords and snippets at the start of a line', async () => {
    const l = await completeHostLine('');
    for (const k of ['memslot', 'lock', 'unlock', 'run', 'expect', 'vcpu_init']) assert.ok(l.includes(k), k);
    assert.ok(l.includes('run N => exit …') && l.includes('memslot ID gpa= size=') && l.includes('lock ID read write => …'));
  });
  test('host: options and flags of the statement', async () => {
    const l = await completeHostLine('memslot 5 ');
    for (const k of ['gpa=', 'size=', 'readonly', 'dirty_log', 'backing=', 'delete', 'move', 'flags']) assert.ok(l.includes(k), k);
  });
  test('host: option values (backing=)', async () => {
    const l = await completeHostLine('memslot 5 gpa=0 size=4K backing=');
    assert.ok(l.includes('hugetlb-2M') && l.includes('anon'));
  });
  test('host: memslot ids after lock', async () => {
    const l = await completeHostLine('lock ');
    assert.deepEqual(l.filter((x) => /^\d+$/.test(x)), ['0', '1']);
  });
  test('host: errno names after =>', async () => {
    const l = await completeHostLine('lock 0 read => ');
    for (const e of ['ok', 'EINVAL', 'EPERM', 'EBUSY', 'ENOMEM']) assert.ok(l.includes(e), e);
    assert.ok(!l.includes('exit'), 'lock cannot exit');
    const r = await completeHostLine('run 0 => ');
    assert.ok(r.includes('exit') && r.includes('EINTR'));
    assert.ok((await completeHostLine('run 0 => exit ')).includes('system_event'));
  });
  test('host: event kinds after `expect event`, then their fields', async () => {
    const k = await completeHostLine('expect event ');
    for (const e of ['stage2-fault', 'hypercall', 'spe-irq', 'kvm-exit']) assert.ok(k.includes(e), e);
    const f = await completeHostLine('expect event stage2-fault ');
    for (const e of ['kind=', 'ipa=', 'resolution=', 'vcpu=']) assert.ok(f.includes(e), e);
    const v = await completeHostLine('expect event stage2-fault kind=');
    assert.ok(v.includes('permission') && v.includes('translation'));
  });
  test('host: names (constants, labels, predefined symbols) in expressions', async () => {
    const l = await completeHostLine('vcpu_init 1 pc=');
    assert.ok(l.includes('start'));
    const n = await completeHostLine('write ');
    assert.ok(n.includes('RAM') && n.includes('BUF') && n.includes('PSCI_CPU_ON'));
  });
  test('host: capabilities of the flavour', async () => {
    assert.ok((await completeHostLine('check_extension ')).includes('KVM_CAP_ARM_LOCK_USER_MEMORY_REGION'));
  });
  test('machine: keys and their values', async () => {
    const text = LOCK.replace('    vcpus 2\n', '    vcpus 2\n    \n');
    const keys = await completeIn(text, { line: lineOf(text, 'vcpus 2') + 1, character: 4 });
    for (const k of ['flavour', 'ipa_bits', 'page_size', 'memlock', 'mode']) assert.ok(keys.includes(k), k);
    const t2 = LOCK.replace('    vcpus 2\n', '    vcpus 2\n    page_size \n');
    const sizes = await completeIn(t2, { line: lineOf(t2, 'page_size'), character: 14 });
    assert.deepEqual(sizes, ['4K', '16K', '64K']);
    const t3 = LOCK.replace('    flavour spe-rfc-v5\n', '    flavour \n');
    const fl = await completeIn(t3, { line: lineOf(t3, '    flavour'), character: 12 });
    assert.ok(fl.includes('mainline-5.15') && fl.includes('pkvm-v3'));
  });
  test('guest: mnemonics and directives, registers, labels, constants, system registers', async () => {
    const t = LOCK.replace('    b start\n', '    b start\n    \n');
    const line = lineOf(t, '    b start') + 1;
    const mn = await completeIn(t, { line, character: 4 });
    for (const k of ['mov', 'ldr', 'stp', 'hvc', 'msr', 'b.ne', '.quad']) assert.ok(mn.includes(k), k);
    const t2 = LOCK.replace('    b start\n', '    b start\n    add x0, \n');
    const ops = await completeIn(t2, { line: lineOf(t2, 'add x0, '), character: 12 });
    for (const k of ['x1', 'w2', 'sp', 'start', 'BUF']) assert.ok(ops.includes(k), k);
    const t3 = LOCK.replace('    b start\n', '    b start\n    mrs x0, \n');
    const sys = await completeIn(t3, { line: lineOf(t3, 'mrs x0, '), character: 12 });
    assert.ok(sys.includes('pmblimitr_el1') && sys.includes('sctlr_el1'));
  });
  test('top level: block keywords and snippets', async () => {
    const t = LOCK + '\n';
    const l = await completeIn(t, { line: t.split('\n').length - 1, character: 0 });
    for (const k of ['scenario', 'const', 'machine', 'guest', 'host', 'guest at … { … }']) assert.ok(l.includes(k), k);
  });
});

describe('navigation', () => {
  test('definition of a label, a constant and a memslot id', async () => {
    const def = (needle: string, delta: number) => client.request<Location[]>('textDocument/definition', { textDocument: { uri: lockUri }, position: at(LOCK, needle, delta) });
    assert.equal((await def('pc=start', 4))[0].range.start.line, lineOf(LOCK, 'start:'));
    assert.equal((await def('gpa=BUF', 5))[0].range.start.line, lineOf(LOCK, 'const BUF'));
    assert.equal((await def('lock 1 read write => EPERM', 5))[0].range.start.line, lineOf(LOCK, 'memslot 1 gpa'));
  });
  test('references of a constant (host, const and guest uses) and of a memslot id', async () => {
    const refs = await client.request<Location[]>('textDocument/references', { textDocument: { uri: lockUri }, position: at(LOCK, 'const RAM', 7), context: { includeDeclaration: true } });
    const lines = refs.map((r) => r.range.start.line).sort((x, y) => x - y);
    assert.deepEqual(lines, [lineOf(LOCK, 'const RAM'), lineOf(LOCK, 'const BUF'), lineOf(LOCK, 'guest at RAM'), lineOf(LOCK, 'memslot 0 gpa'), lineOf(LOCK, 'memslot 2 gpa')]);
    const noDecl = await client.request<Location[]>('textDocument/references', { textDocument: { uri: lockUri }, position: at(LOCK, 'const RAM', 7), context: { includeDeclaration: false } });
    assert.equal(noDecl.length, 4);
    const slot1 = await client.request<Location[]>('textDocument/references', { textDocument: { uri: lockUri }, position: at(LOCK, 'memslot 1 gpa', 8), context: { includeDeclaration: true } });
    assert.equal(slot1.length, 3); // memslot 1, lock 1 (twice)
  });
  test('rename a label everywhere (guest branch and host pc=), after prepareRename', async () => {
    const p = at(LOCK, 'b start', 3);
    const prep = await client.request<{ placeholder: string } | null>('textDocument/prepareRename', { textDocument: { uri: lockUri }, position: p });
    assert.equal(prep?.placeholder, 'start');
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri: lockUri }, position: p, newName: 'reset_entry' });
    const edits = edit.changes![lockUri];
    assert.deepEqual(edits.map((e) => e.range.start.line).sort((x, y) => x - y), [lineOf(LOCK, 'start:'), lineOf(LOCK, 'b start'), lineOf(LOCK, 'pc=start')]);
    assert.ok(edits.every((e) => e.newText === 'reset_entry'));
  });
  test('rename a constant; a name already taken or a memslot id cannot be renamed', async () => {
    const edit = await client.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri: lockUri }, position: at(LOCK, 'const BUF', 7), newName: 'SPE_BUF' });
    assert.equal(edit.changes![lockUri].length, 3); // const, ldr x1, =BUF, memslot 1 gpa=BUF
    assert.equal(await client.request('textDocument/rename', { textDocument: { uri: lockUri }, position: at(LOCK, 'const BUF', 7), newName: 'RAM' }), null);
    assert.equal(await client.request('textDocument/prepareRename', { textDocument: { uri: lockUri }, position: at(LOCK, 'lock 0 read write', 5) }), null);
  });
  test('document symbols: machine, guest with labels, host grouped by memslot and vcpu', async () => {
    const s = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: lockUri } });
    const names = s.map((x) => x.name);
    assert.deepEqual(names, ['LSP fixture: locking, overlaps, predictions', 'machine', 'RAM', 'BUF', 'guest at 0x4000_0000', 'host']);
    assert.deepEqual(s[4].children!.map((c) => c.name), ['start']);
    const host = s[5].children!;
    const groups = host.map((c) => c.name);
    assert.deepEqual(groups.slice(0, 5), ['memslot 0', 'memslot 1', 'memslot 2', 'vcpu 0', 'expect event stage2-fault kind=translation write=true']);
    assert.equal(host[0].detail, '[0x4000_0000, 0x4020_0000)');
    assert.deepEqual(host[1].children!.map((c) => c.name), ['memslot 1 gpa=BUF size=64K readonly', 'lock 1 read write', 'lock 1 read write => EPERM']);
  });
  test('folding ranges: the blocks and comment runs', async () => {
    const f = await client.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri: lockUri } });
    for (const needle of ['machine {', 'guest at RAM', 'host {']) assert.ok(f.some((r) => r.startLine === lineOf(LOCK, needle)), needle);
  });
});

describe('semantic tokens', () => {
  test('labels, constants, predefined symbols and the words the grammar also knows', async () => {
    const t = await client.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri: lockUri } });
    const toks = decodeTokens(LOCK, t.data);
    const find = (text: string, type: string) => toks.find((x) => x.text === text && x.type === type);
    assert.deepEqual(find('start', 'label')?.modifiers, ['declaration']);
    assert.ok(toks.some((x) => x.text === 'start' && x.type === 'label' && x.modifiers.length === 0), 'label reference');
    assert.deepEqual(find('RAM', 'variable')?.modifiers, ['declaration', 'readonly']);
    assert.ok(find('mov', 'mnemonic') && find('memslot', 'statement') && find('EPERM', 'errno') && find('stage2-fault', 'event'));
    assert.ok(find('x1', 'register') && find('pmblimitr_el1', 'sysreg') && find('vcpus', 'property') && find('gpa', 'parameter'));
    const g = decodeTokens(GUARD, (await client.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri: guardUri } })).data);
    assert.deepEqual(g.find((x) => x.text === 'MMIO_GUARD_MAP')?.modifiers, ['defaultLibrary']);
    assert.equal(g.find((x) => x.text === 'MMIO_GUARD_MAP')?.type, 'enumMember');
  });
  test('range request: only tokens inside the range', async () => {
    const first = lineOf(LOCK, 'host {');
    const t = await client.request<SemanticTokens>('textDocument/semanticTokens/range', { textDocument: { uri: lockUri }, range: { start: { line: first, character: 0 }, end: { line: first + 3, character: 0 } } });
    const toks = decodeTokens(LOCK, t.data);
    assert.ok(toks.length > 0 && toks.every((x) => x.line >= first && x.line <= first + 3));
  });
});

describe('inlay hints and code lens', () => {
  test('MMIO_GUARD_MAP shows its value in this flavour; memslots show their IPA range', async () => {
    const v = predefinedSymbols(getFlavour('mmio-guard-v2')).get('MMIO_GUARD_MAP')!;
    const h = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: guardUri }, range: { start: { line: 0, character: 0 }, end: { line: 100, character: 0 } } });
    const labels = h.map((x) => x.label);
    assert.ok(labels.includes(`= 0x${v.toString(16)}`), JSON.stringify(labels));
    assert.ok(labels.includes('[0x4000_0000, 0x4020_0000)'));
    const hint = h.find((x) => x.label === '[0x4000_0000, 0x4020_0000)')!;
    assert.equal(hint.position.line, lineOf(GUARD, 'memslot 0'));
  });
  test('Run and Debug lenses above the scenario, with the document URI', async () => {
    const l = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: lockUri } });
    assert.deepEqual(l.map((x) => x.command?.command), ['kvm-arm64-lab.runScenario', 'kvm-arm64-lab.debugScenario']);
    assert.ok(l.every((x) => x.command?.arguments?.[0] === lockUri && x.range.start.line === 0));
  });
});

describe('flavour precedence', () => {
  test('initializationOptions.flavour and the kvmArm64Lab.flavour setting override machine { flavour } (LANGUAGE.md)', async () => {
    const c = await LspClient.start({ flavour: 'mainline-5.15' });
    try {
      const d = await c.open(lockUri, LOCK);
      assert.ok(d.diagnostics.some((x) => x.code === 'flavour' && /mainline-5\.15/.test(x.message)), JSON.stringify(d.diagnostics.map((x) => x.message)));
      const next = c.nextDiagnostics(lockUri);
      await c.connection.sendNotification('workspace/didChangeConfiguration', { settings: { kvmArm64Lab: { flavour: 'spe-rfc-v5' } } });
      const again = await next;
      assert.ok(!again.diagnostics.some((x) => x.code === 'flavour'));
      assert.ok(again.diagnostics.some((x) => x.code === 'E.3#6'));
    } finally {
      await c.stop();
    }
  });
});
