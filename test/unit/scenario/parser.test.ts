import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from '../../../emulator/scenario/parser';
import { argOf, exprOf, hasFlag, optionOf, wordOf, type HostStatement } from '../../../emulator/scenario/ast';
import { HOST_FORMS } from '../../../emulator/scenario/vocabulary';

const fixture = (n: string) => readFileSync(new URL(`./fixtures/${n}.kvms`, import.meta.url), 'utf8');

function host(lines: string): HostStatement[] {
  const r = parse(`host {\n${lines}\n}\n`);
  assert.deepEqual(r.diagnostics.map((d) => d.message), [], lines);
  return [...(r.ast.host?.statements ?? [])];
}
function one(line: string): HostStatement {
  const s = host(line);
  assert.equal(s.length, 1);
  return s[0];
}

// one line per LANGUAGE.md form (host statements and expect forms), with the form id it must match
const EVERY_FORM: [string, string][] = [
  ['memslot 0 gpa=0x4000_0000 size=2M readonly dirty_log hva=0x7f00_0000_0000 backing=hugetlb-2M', 'memslot'],
  ['memslot 1 delete', 'memslot.delete'],
  ['memslot 1 move gpa=0x8000_0000', 'memslot.move'],
  ['memslot 1 flags dirty_log readonly', 'memslot.flags'],
  ['memslot 1 flags', 'memslot.flags'],
  ['set_memory_region slot=1 flags=3 gpa=0x1000 size=0x1000 hva=0x7f00_0000_1000', 'set_memory_region'],
  ['get_dirty_log 2 => pages [0, 3]', 'get_dirty_log'],
  ['lock 0 read write', 'lock'],
  ['unlock 0', 'unlock'],
  ['unlock all', 'unlock.all'],
  ['enable_cap KVM_CAP_ARM_NISV_TO_USER flags=0 args=[0, 1, 1, 0] => EINVAL', 'enable_cap'],
  ['check_extension 207 => 1', 'check_extension'],
  ['vcpu_init 0 features=power_off,pmu_v3 pc=start', 'vcpu_init'],
  ['set_reg 0 x0=1 pc=0x4000_0000 PMBLIMITR_EL1=3', 'set_reg'],
  ['get_reg 0 x1 => 0x10', 'get_reg'],
  ['spe_attr 0 irq=21', 'spe_attr'],
  ['spe_attr 0 init', 'spe_attr'],
  ['spe_attr 0 stop=exit', 'spe_attr'],
  ['run 0 steps=100 => exit mmio write addr=0x0900_0000 len=4 data=0', 'run'],
  ['run 1 &', 'run'],
  ['join 1 => exit system_event shutdown', 'join'],
  ['mmio_reply 0 data=0x1234', 'mmio_reply'],
  ['inject_ext_dabt 0', 'inject_ext_dabt'],
  ['write 0x4000_0000 u32 0xdead_beef', 'write'],
  ['write 0x4000_0000 bytes [1, 2, 0xff]', 'write.bytes'],
  ['load 0x4000_0000 file "image.bin"', 'load'],
  ['s1map va=0 ipa=0x4000_0000 size=2M perm=rwx attr=normal', 's1map'],
  ['unmap_host hva=0x7f00_0000_0000 size=4K', 'unmap_host'],
  ['pgtable pt ipa_bits=40 page_size=4K', 'pgtable'],
  ['pgtable_map pt 0x1000 size=4K phys=0x8000 prot=r,w,x,device,none', 'pgtable_map'],
  ['pgtable_unmap pt 0x1000 size=4K', 'pgtable_unmap'],
  ['pgtable_set_owner pt 0x1000 size=4K owner=1', 'pgtable_set_owner'],
  ['pgtable_annotate pt 0x1000 value=0x9a9a929e', 'pgtable_annotate'],
  ['pkvm_mark_hyp 0x8000_0000 size=4K', 'pkvm_mark_hyp'],
  ['host_access write 0x8000_0000 => hyp_panic', 'host_access'],
  ['expect memslot 0 present locked read write readonly dirty_log', 'expect.memslot'],
  ['expect memslot 0 absent', 'expect.memslot'],
  ['expect memslot 0 unlocked', 'expect.memslot'],
  ['expect stage2 0x4000_0000 unmapped', 'expect.stage2.unmapped'],
  ['expect stage2 host 0x4000_0000 unmapped', 'expect.stage2.unmapped'],
  ['expect stage2 0x4000_0000 mapped level=3 perm=rw pa=0x1000 device', 'expect.stage2.mapped'],
  ['expect stage2 pt 0x1000 mapped', 'expect.stage2.mapped'],
  ['expect stage2 host 0x1000 annotated owner=1 value=2 mmio_guard', 'expect.stage2.annotated'],
  ['expect stage2 0x1000 prot_none', 'expect.stage2.prot_none'],
  ['expect pte vm 0x4000_0000 & 0xfff == 0x7ff', 'expect.pte'],
  ['expect pte pt 0x1000 == 0', 'expect.pte'],
  ['expect pending_ops none', 'expect.pending_ops'],
  ['expect pending_ops flush_dcache inval_icache sanitise_tags', 'expect.pending_ops'],
  ['expect reg 0 x0 == -1', 'expect.reg'],
  ['expect reg 0 pc >= 0x4000_0000', 'expect.reg'],
  ['expect mem 0x4000_0000 u64 == 0x1122', 'expect.mem'],
  ['expect locked_vm == 512', 'expect.locked_vm'],
  ['expect event stage2-fault kind=permission write=true esr=0x9600_0010', 'expect.event'],
  ['expect no event kvm-exit', 'expect.no_event'],
  ['expect total hypercall name=MMIO_GUARD_MAP == 1', 'expect.total'],
  ['expect total pte < 10', 'expect.total'],
];

test('Host statements: every LANGUAGE.md form parses to its form id', () => {
  const seen = new Set<string>();
  for (const [line, id] of EVERY_FORM) {
    assert.equal(one(line).form, id, line);
    seen.add(id);
  }
  // and every form in the vocabulary is covered by a line above
  for (const f of HOST_FORMS) assert.ok(seen.has(f.id), `no test line for ${f.id}`);
});

test('Host statements: arguments by role, options by key, flags', () => {
  const m = one('memslot 0 gpa=0x4000_0000 size=2M readonly backing=hugetlb-2M');
  assert.equal(exprOf(m, 'slot')?.kind, 'number');
  const size = optionOf(m.args, 'size')!;
  assert.equal(size.value.kind === 'expr' && size.value.expr.kind === 'number' ? size.value.expr.value : -1n, 2n << 20n);
  assert.equal(hasFlag(m.args, 'readonly'), true);
  assert.equal(hasFlag(m.args, 'dirty_log'), false);
  const b = optionOf(m.args, 'backing')!;
  assert.equal(b.value.kind === 'word' ? b.value.word.text : '', 'hugetlb-2M');
  const w = one('write 0x10 u16 5');
  assert.equal(wordOf(w, 'width'), 'u16');
  const pte = one('expect pte vm 0x4000_0000 & 0xfff == 0x7ff');
  assert.equal(exprOf(pte, 'addr')?.kind, 'number');
  assert.equal(exprOf(pte, 'mask')?.kind, 'number');
  const s2 = one('expect stage2 pt 0x1000 mapped');
  assert.equal(argOf(s2, 'table')?.kind, 'word');
  const s2b = one('expect stage2 DATA + 0x1000 mapped');
  assert.equal(argOf(s2b, 'table'), undefined);
  assert.equal(exprOf(s2b, 'addr')?.kind, 'binary');
  const run = one('run 1 steps=10 &');
  assert.ok(run.background);
});

test('Results: ok, every errno, exit forms, pages, hyp_panic, value', () => {
  const r = (line: string) => one(line).result!.result;
  assert.equal(r('lock 0 read => ok').kind, 'ok');
  for (const e of ['EINVAL', 'EPERM', 'EBUSY', 'EEXIST', 'ENOENT', 'ENOMEM', 'EFAULT', 'ENOSYS', 'ENOEXEC', 'EINTR', 'EAGAIN', 'ENXIO']) {
    const x = r(`lock 0 read => ${e}`);
    assert.equal(x.kind === 'errno' ? x.name : '', e);
  }
  const mmio = r('run 0 => exit mmio read addr=0x10 len=8 data=0x5');
  assert.equal(mmio.kind, 'exit');
  assert.equal(mmio.kind === 'exit' && mmio.args.length, 4);
  assert.equal(r('run 0 => exit system_event reset').kind, 'exit');
  assert.equal(r('run 0 => exit arm_nisv addr=0x10').kind, 'exit');
  assert.equal(r('run 0 => exit guest_exception').kind, 'exit');
  assert.equal(r('run 0 => EINTR').kind, 'errno');
  assert.equal(r('get_dirty_log 0 => pages []').kind, 'pages');
  assert.equal(r('host_access read 0x10 => hyp_panic').kind, 'hyp_panic');
  assert.equal(r('check_extension KVM_CAP_ARM_SPE => 1 + 1').kind, 'value');
});

test('Top level: scenario, const, machine (several keys per line), guest, host in any order', () => {
  const r = parse(`host {\n}\nconst DATA = 0x8000_0000\nguest at DATA {\n  start: nop\n}\nmachine { flavour pkvm-v3  ipa_bits 48\n vcpus 2 }\nscenario "t"\n`);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.ast.items.map((i) => i.kind).join(' '), 'host const guest machine scenario');
  assert.equal(r.ast.machine!.entries.map((e) => e.key.text).join(' '), 'flavour ipa_bits vcpus');
  const f = r.ast.machine!.entries[0].value;
  assert.equal(f.kind === 'word' ? f.word.text : '', 'pkvm-v3');
  assert.equal(r.ast.title!.title, 't');
});

test('LANGUAGE.md examples parse with no diagnostics', () => {
  for (const n of ['lock-api', 'mmio-guard']) assert.deepEqual(parse(fixture(n)).diagnostics, [], n);
});

test('Ranges: names, numbers, option keys/values, => and its result are exact (0-based line/col)', () => {
  const text = 'host {\n    memslot 12 gpa=0x4000_0000 size=2M\n    lock 1 read write   => EPERM\n}\n';
  const r = parse(text);
  const [m, l] = r.ast.host!.statements;
  const rc = (x: { range: { start: { line: number; col: number }; end: { line: number; col: number } } }) => [x.range.start.line, x.range.start.col, x.range.end.line, x.range.end.col];
  assert.deepEqual(rc(m.keyword), [1, 4, 1, 11]);
  assert.deepEqual(rc(exprOf(m, 'slot')!), [1, 12, 1, 14]);
  const gpa = optionOf(m.args, 'gpa')!;
  assert.deepEqual(rc(gpa.key), [1, 15, 1, 18]);
  assert.deepEqual(rc(gpa.value), [1, 19, 1, 30]);
  assert.deepEqual(rc(gpa), [1, 15, 1, 30]);
  assert.deepEqual(rc(m), [1, 4, 1, 38]);
  assert.deepEqual([l.result!.arrow.start.col, l.result!.arrow.end.col], [24, 26]);
  assert.deepEqual(rc(l.result!.result), [2, 27, 2, 32]);
  assert.equal(text.slice(l.result!.result.range.start.offset, l.result!.result.range.end.offset), 'EPERM');
});

test('Guest blocks keep raw source, its start position, and per-line ranges/labels/mnemonics', () => {
  const text = 'guest at 0x4000_0000 {\n    ldr x0, =MMIO_GUARD_ENROLL\nloop:  b loop   // spin\n\n}\n';
  const g = parse(text).ast.guests[0];
  assert.equal(g.source, '\n    ldr x0, =MMIO_GUARD_ENROLL\nloop:  b loop   // spin\n\n');
  assert.deepEqual([g.sourceStart.line, g.sourceStart.col], [0, 22]);
  assert.equal(g.lines.length, 2);
  assert.deepEqual([g.lines[0].range.start.line, g.lines[0].range.start.col, g.lines[0].range.end.col], [1, 4, 30]);
  assert.equal(g.lines[0].mnemonic!.text, 'ldr');
  assert.equal(g.lines[1].label!.text, 'loop');
  assert.deepEqual([g.lines[1].mnemonic!.range.start.col, g.lines[1].range.end.col], [7, 13]);
});

test('Recovery: several errors give one precise diagnostic each, parsing resumes at the next line', () => {
  const text = [
    'host {',
    '    memslot 0 gpa=0x4000_0000 size=2M',
    '    memslot 1 gpa= size=2M',        // missing value
    '    frobnicate 3',                  // unknown statement
    '    lock 0 read write',
    '    run 0 steps=(1 + 2',            // missing )
    '    expect memslot 0 locked read write',
    '    write 0x10 u128 5',             // bad width
    '}',
  ].join('\n');
  const r = parse(text);
  assert.deepEqual(r.diagnostics.map((d) => d.range.start.line), [2, 3, 5, 7]);
  assert.ok(r.diagnostics.every((d) => d.severity === 'error'));
  assert.deepEqual(r.ast.host!.statements.filter((s) => s.form).map((s) => s.form), ['memslot', 'lock', 'expect.memslot']);
  const [d2, d3, d5, d7] = r.diagnostics;
  assert.equal(d2.range.start.col, 23); // at `size` where the value should be
  assert.match(d3.message, /unknown host statement 'frobnicate'/);
  assert.match(d5.message, /expected '\)'/);
  assert.match(d7.message, /u8 or u16 or u32 or u64|bytes/);
});

test('Syntax: required options, lock without bits, duplicate machine blocks and keys', () => {
  const r = parse('machine { vcpus 1 vcpus 2 }\nmachine { }\nhost {\n lock 0\n memslot 0 gpa=0\n}\n');
  const msgs = r.diagnostics.map((d) => d.message).join('\n');
  assert.match(msgs, /'vcpus' given twice/);
  assert.match(msgs, /second `machine` block/);
  assert.match(msgs, /lock needs read, write or both/);
  assert.match(msgs, /memslot needs size=/);
});

test('Deep nesting is bounded with a diagnostic, not a stack overflow', () => {
  const deep = `const X = ${'('.repeat(100_000)}1${')'.repeat(100_000)}\nconst Y = ${'-'.repeat(50_000)}1\nconst Z = ${Array(20_000).fill('1').join('+')}\n`;
  const r = parse(deep);
  assert.equal(r.diagnostics.filter((d) => d.code === 'depth').length, 3);
});

test('Recovery: an unclosed host block stops at the next top-level item, which still parses', () => {
  const r = parse('host {\n    memslot 0 gpa=0 size=4K\nguest at 0x1000 {\n    nop\n}\n');
  assert.deepEqual(r.diagnostics.map((d) => [d.range.start.line, d.message]), [[0, "host block is not closed: missing '}'"]]);
  assert.equal(r.ast.guests.length, 1);
  assert.equal(r.ast.host!.statements.length, 1);
});

test('machine { memlock unlimited } is the default written out', () => {
  const r = parse('machine { memlock unlimited }\n');
  assert.deepEqual(r.diagnostics, []);
  const v = r.ast.machine!.entries[0].value;
  assert.equal(v.kind === 'word' ? v.word.text : '', 'unlimited');
});

test('Recovery: a constant whose value is broken is still declared (no cascade of undefined names)', () => {
  const r = parse('const X = 0x1_0000_0000_0000_0000\nconst Y =\nhost {\n    write X u8 Y\n}\n');
  assert.deepEqual(r.diagnostics.map((d) => d.range.start.line), [0, 1]);
  assert.deepEqual(r.ast.consts.map((c) => [c.name.text, c.value.kind]), [['X', 'error'], ['Y', 'error']]);
});
