import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyse } from '../../../emulator/scenario/index';
import type { Diagnostic } from '../../../emulator/scenario/diagnostics';
import type { CheckOptions } from '../../../emulator/scenario/checker';

const fixture = (n: string) => readFileSync(new URL(`./fixtures/${n}.kvms`, import.meta.url), 'utf8');

function run(text: string, opts?: CheckOptions): Diagnostic[] {
  return analyse(text, opts).diagnostics;
}
/** scenario with a machine line and host lines */
function scen(machine: string, hostLines: string[], extra = ''): string {
  return `machine { ${machine} }\n${extra}host {\n${hostLines.map((l) => '    ' + l).join('\n')}\n}\n`;
}
function only(ds: Diagnostic[], sev: 'error' | 'warning'): Diagnostic[] {
  return ds.filter((d) => d.severity === sev);
}
/** exactly one diagnostic, with this severity and code, on this 0-based line */
function expectOne(ds: Diagnostic[], sev: 'error' | 'warning', code: string, line: number, msg?: RegExp): Diagnostic {
  assert.equal(ds.length, 1, ds.map((d) => `${d.range.start.line}: ${d.severity} ${d.code} ${d.message}`).join('\n'));
  const [d] = ds;
  assert.equal(d.severity, sev, d.message);
  assert.equal(d.code, code, d.message);
  assert.equal(d.range.start.line, line, d.message);
  if (msg) assert.match(d.message, msg);
  return d;
}
const SLOT0 = 'memslot 0 gpa=0x4000_0000 size=2M';

test('LANGUAGE.md examples check with zero errors and zero warnings', () => {
  assert.deepEqual(run(fixture('lock-api')), []);
  assert.deepEqual(run(fixture('mmio-guard')), []);
});

test('Predicted errnos: the lock example without `=>` warns on every failing line with its spec rule', () => {
  const text = fixture('lock-api').replace(/ *=> [A-Z]+/g, '');
  const ds = run(text);
  assert.ok(ds.every((d) => d.severity === 'warning'));
  assert.deepEqual(ds.map((d) => d.code), ['E.3#7', 'E.3#6', 'E.3#6', 'E.3#5', 'E.3#2', 'E.3#args', 'A.2#12', 'E.3#unlock-not-locked']);
});

// ---------------------------------------------------------------- memslots (spec A.2)

test('A.2#3 misaligned gpa -> EINVAL warning; absent with `=> EINVAL`; present with another result', () => {
  const bad = 'memslot 0 gpa=0x4000_0800 size=2M';
  expectOne(run(scen('', [bad])), 'warning', 'A.2#3', 2, /this fails with EINVAL \(spec A\.2#3\)/);
  assert.deepEqual(run(scen('', [`${bad} => EINVAL`])), []);
  const d = expectOne(run(scen('', [`${bad} => EEXIST`])), 'warning', 'A.2#3', 2, /not `EEXIST`/);
  assert.equal(d.range.start.col, 41); // on the stated result
  expectOne(run(scen('', [`${bad} => ok`])), 'warning', 'A.2#3', 2);
});

test('A.2#2 size not a multiple of PAGE_SIZE, A.2#4 misaligned hva (with page_size 64K)', () => {
  expectOne(run(scen('', ['memslot 0 gpa=0x4000_0000 size=0x1800'])), 'warning', 'A.2#2', 2);
  expectOne(run(scen('page_size 64K', ['memslot 0 gpa=0x4000_0000 size=2M hva=0x7f00_0000_1000'])), 'warning', 'A.2#4', 2);
  expectOne(run(scen('page_size 64K', ['memslot 0 gpa=0x4000_1000 size=2M'])), 'warning', 'A.2#3', 2);
});

test('A.2#11 overlapping memslots -> EEXIST with related information at the other memslot', () => {
  const ds = run(scen('', [SLOT0, 'memslot 1 gpa=0x4010_0000 size=2M']));
  const d = expectOne(ds, 'warning', 'A.2#11', 3, /EEXIST/);
  assert.equal(d.related?.[0].range.start.line, 2);
  assert.deepEqual(run(scen('', [SLOT0, 'memslot 1 gpa=0x4010_0000 size=2M => EEXIST'])), []);
});

test('A.2#12 memslot beyond the IPA size -> EFAULT; A.2#0 slot id >= KVM_USER_MEM_SLOTS -> EINVAL', () => {
  expectOne(run(scen('ipa_bits 32', ['memslot 0 gpa=0xffff_0000 size=128K'])), 'warning', 'A.2#12', 2, /EFAULT/);
  assert.deepEqual(run(scen('ipa_bits 32', ['memslot 0 gpa=0xffe0_0000 size=2M'])), []); // ends exactly at the limit (v5.10+ `>`)
  expectOne(run(scen('', ['memslot 40000 gpa=0 size=4K'])), 'warning', 'A.2#0', 2, /EINVAL/);
});

test('A.2#8 delete of a missing slot -> EINVAL; A.2#10 resize -> EINVAL; A.2#12 pfnmap + dirty_log -> EINVAL', () => {
  expectOne(run(scen('', ['memslot 3 delete'])), 'warning', 'A.2#8', 2);
  expectOne(run(scen('', [SLOT0, 'memslot 0 gpa=0x4000_0000 size=4M'])), 'warning', 'A.2#10', 3);
  expectOne(run(scen('', ['memslot 0 gpa=0x4000_0000 size=2M dirty_log backing=pfnmap'])), 'warning', 'A.2#12', 2);
});

test('A.2#12 delete or move of a locked slot -> EBUSY; dirty logging on a read-locked slot is allowed', () => {
  expectOne(run(scen('', [SLOT0, 'lock 0 read write', 'memslot 0 delete'])), 'warning', 'A.2#12', 4, /EBUSY/);
  expectOne(run(scen('', [SLOT0, 'lock 0 read', 'memslot 0 move gpa=0x8000_0000'])), 'warning', 'A.2#12', 4, /EBUSY/);
  assert.deepEqual(run(scen('', [SLOT0, 'lock 0 read', 'memslot 0 flags dirty_log'])), []);
  expectOne(run(scen('', [SLOT0, 'lock 0 read write', 'memslot 0 flags dirty_log'])), 'warning', 'A.2#12', 4);
});

test('A.2: a failed statement (=> errno) leaves the model unchanged; delete then re-create is fine', () => {
  assert.deepEqual(run(scen('', ['memslot 0 gpa=0x4000_0800 size=2M => EINVAL', SLOT0, 'memslot 0 delete', SLOT0])), []);
});

test('A.2#1 raw set_memory_region flags, A.2#5 as_id; values beyond u32 are errors', () => {
  expectOne(run(scen('', ['set_memory_region slot=0 flags=4 gpa=0 size=4K hva=0x7f00_0000_0000'])), 'warning', 'A.2#1', 2);
  expectOne(run(scen('', ['set_memory_region slot=0x10000 flags=0 gpa=0 size=4K hva=0x7f00_0000_0000'])), 'warning', 'A.2#5', 2);
  expectOne(run(scen('', ['set_memory_region slot=0x1_0000_0000 flags=0 gpa=0 size=4K hva=0x7f00_0000_0000'])), 'error', 'range', 2, /u32/);
});

test('C type: a memslot id beyond u16 is an error, not a prediction', () => {
  expectOne(run(scen('', ['memslot 0x10000 gpa=0 size=4K'])), 'error', 'range', 2, /u16/);
});

test('A.5 get_dirty_log of a slot without dirty logging -> ENOENT; `=> exit` is not a get_dirty_log result', () => {
  expectOne(run(scen('', [SLOT0, 'get_dirty_log 0'])), 'warning', 'A.5#2', 3, /ENOENT/);
  assert.deepEqual(run(scen('', ['memslot 0 gpa=0x4000_0000 size=2M dirty_log', 'get_dirty_log 0 => pages []'])), []);
  expectOne(run(scen('', ['memslot 0 gpa=0x4000_0000 size=2M dirty_log', 'get_dirty_log 0 => exit mmio'])), 'error', 'result', 3);
});

// ---------------------------------------------------------------- lock API (spec E.3)

test('E.3#6 `lock 1 read write` on a readonly memslot -> EPERM warning, none with `=> EPERM`', () => {
  const ro = 'memslot 1 gpa=0x8000_0000 size=64K readonly';
  expectOne(run(scen('', [ro, 'lock 1 read write'])), 'warning', 'E.3#6', 3, /this fails with EPERM \(spec E\.3#6\)/);
  assert.deepEqual(run(scen('', [ro, 'lock 1 read write => EPERM'])), []);
  expectOne(run(scen('', [ro, 'lock 1 read write => EBUSY'])), 'warning', 'E.3#6', 3);
});

test('E.3#2 write without read -> EINVAL; E.3#5 missing slot -> EINVAL; E.3#7 twice -> EBUSY', () => {
  expectOne(run(scen('', [SLOT0, 'lock 0 write'])), 'warning', 'E.3#2', 3);
  expectOne(run(scen('', ['lock 4 read'])), 'warning', 'E.3#5', 2);
  expectOne(run(scen('', [SLOT0, 'lock 0 read', 'lock 0 read'])), 'warning', 'E.3#7', 4);
});

test('E.3#8 locking past RLIMIT_MEMLOCK -> ENOMEM', () => {
  expectOne(run(scen('memlock 1M', [SLOT0, 'lock 0 read'])), 'warning', 'E.3#8', 3, /ENOMEM/);
});

test('E.3#4 (v4 only): lock after a vcpu ran -> EBUSY; v5 allows it', () => {
  const lines = [SLOT0, 'vcpu_init 0', 'run 0 => EINTR', 'lock 0 read'];
  expectOne(run(scen('flavour spe-rfc-v4', lines)), 'warning', 'E.3#4', 5);
  assert.deepEqual(run(scen('flavour spe-rfc-v5', lines)), []);
});

test('E.3#3 is not predicted: a background vcpu may already have left KVM_RUN (depends on the guest)', () => {
  assert.deepEqual(run(scen('', [SLOT0, 'vcpu_init 0', 'run 0 &', 'lock 0 read', 'join 0 => EINTR'])), []);
  assert.deepEqual(run(scen('', [SLOT0, 'vcpu_init 0', 'run 0 &', 'lock 0 read => EBUSY', 'join 0 => EINTR'])), []);
});

test('E.3 unlock: v5 unlock of an unlocked slot -> EINVAL; v4 allows it', () => {
  expectOne(run(scen('flavour spe-rfc-v5', [SLOT0, 'unlock 0'])), 'warning', 'E.3#unlock-not-locked', 3);
  assert.deepEqual(run(scen('flavour spe-rfc-v4', [SLOT0, 'unlock 0'])), []);
  assert.deepEqual(run(scen('', [SLOT0, 'lock 0 read', 'unlock all', 'memslot 0 delete'])), []);
});

test('Flavour: `lock` in mainline-5.15 is an error; --flavour overrides the machine block', () => {
  expectOne(run(scen('flavour mainline-5.15', [SLOT0, 'lock 0 read'])), 'error', 'flavour', 3, /mainline-5\.15 does not have the memslot lock API/);
  expectOne(run(scen('flavour spe-rfc-v5', [SLOT0, 'lock 0 read']), { flavourOverride: 'pkvm-v3' }), 'error', 'flavour', 3);
  assert.equal(analyse(scen('flavour spe-rfc-v4', []), { flavourOverride: 'pkvm-v3' }).info.flavour.name, 'pkvm-v3');
  assert.equal(analyse(scen('flavour spe-rfc-v4', [])).info.flavourSource, 'machine');
  assert.equal(analyse(scen('', [])).info.flavour.name, 'spe-rfc-v5');
});

test('Flavour: MMIO_GUARD_* symbols need flavour.mmioGuard (host expressions and guest code)', () => {
  expectOne(run(scen('flavour spe-rfc-v5', ['check_extension MMIO_GUARD_MAP => 0'])), 'error', 'flavour', 2, /does not have the symbol 'MMIO_GUARD_MAP'/);
  const guest = 'guest at 0x4000_0000 {\n    ldr x0, =MMIO_GUARD_ENROLL\n}\n';
  expectOne(run(scen('flavour spe-rfc-v5', [SLOT0, 'vcpu_init 0'], guest)), 'error', 'flavour', 2, /MMIO_GUARD_ENROLL/);
  assert.deepEqual(run(scen('flavour mmio-guard-v2', [SLOT0, 'vcpu_init 0'], guest)), []);
});

test('Flavour: a feature key the flavour lacks is a WARNING (`spe on` in mainline-5.15)', () => {
  expectOne(run(scen('flavour mainline-5.15 spe on', [])), 'warning', 'feature', 0, /SPE/);
  expectOne(run(scen('flavour spe-rfc-v5 mmio_guard on', [])), 'warning', 'feature', 0);
  assert.deepEqual(run(scen('flavour spe-rfc-v5 spe on', [])), []);
});

test('Flavour: spe_attr needs flavour.spe; pkvm_mark_hyp/host_access need `mode protected` in a flavour with it', () => {
  expectOne(run(scen('flavour mainline-5.15', ['spe_attr 0 init'])), 'error', 'flavour', 2);
  expectOne(run(scen('flavour pkvm-v3', ['pkvm_mark_hyp 0x8000_0000 size=4K'])), 'error', 'flavour', 2, /mode protected/);
  assert.deepEqual(run(scen('flavour pkvm-v3 mode protected', ['pkvm_mark_hyp 0x8000_0000 size=4K', 'host_access read 0x8000_0000 => hyp_panic'])), []);
  expectOne(run(scen('flavour spe-rfc-v5', ['host_access read 0x8000_0000'])), 'error', 'flavour', 2, /protected mode/);
});

test('Flavour: KVM_CAP names per flavour; prot=none needs PROT_NONE; annotate needs the annotate scheme', () => {
  expectOne(run(scen('flavour mainline-5.15', ['check_extension KVM_CAP_ARM_SPE => 0'])), 'error', 'flavour', 2);
  expectOne(run(scen('', ['check_extension KVM_CAP_NOPE => 0'])), 'error', 'undefined-name', 2);
  const pt = 'pgtable pt ipa_bits=40';
  expectOne(run(scen('flavour spe-rfc-v5', [pt, 'pgtable_map pt 0 size=4K phys=0 prot=none'])), 'error', 'flavour', 3);
  assert.deepEqual(run(scen('flavour pkvm-v3', [pt, 'pgtable_map pt 0 size=4K phys=0 prot=none'])), []);
  expectOne(run(scen('flavour spe-rfc-v5', [pt, 'pgtable_annotate pt 0 value=1'])), 'error', 'flavour', 3);
  expectOne(run(scen('', ['pgtable_unmap nope 0 size=4K'])), 'error', 'undefined-name', 2);
});

// ---------------------------------------------------------------- vcpus

test('F: run before vcpu_init -> ENOEXEC; vcpu index >= vcpus is an error', () => {
  expectOne(run(scen('', ['run 0'])), 'warning', 'F#run-init', 2, /ENOEXEC/);
  assert.deepEqual(run(scen('', ['run 0 => ENOEXEC'])), []);
  expectOne(run(scen('vcpus 2', ['vcpu_init 2'])), 'error', 'vcpu-index', 2, /has 2 vcpus/);
  expectOne(run(scen('', ['expect reg 1 x0 == 0'])), 'error', 'vcpu-index', 2);
});

test('F: pmu_v3 makes KVM_RUN fail with EINVAL; re-init with other features -> EINVAL; spe feature without SPE -> ENOENT', () => {
  expectOne(run(scen('', [SLOT0, 'vcpu_init 0 features=pmu_v3', 'run 0'])), 'warning', 'F#run-pmu', 4);
  expectOne(run(scen('', [SLOT0, 'vcpu_init 0', 'vcpu_init 0 features=power_off'])), 'warning', 'F#feature-reinit', 4);
  expectOne(run(scen('flavour mainline-5.15', [SLOT0, 'vcpu_init 0 features=spe'])), 'warning', 'F#feature', 3, /ENOENT/);
  expectOne(run(scen('', ['vcpu_init 0 features=turbo'])), 'error', 'undefined-name', 2);
});

test('E.5: SPE vcpu without SPE_INIT -> v5 EINVAL at KVM_RUN; attribute errnos in the VM order (supports, irq-set, same PPI, init-no-irq, stop-uninit)', () => {
  const base = [SLOT0, 'vcpu_init 0 features=spe'];
  expectOne(run(scen('flavour spe-rfc-v5', [...base, 'run 0'])), 'warning', 'E.5#first-run', 4, /EINVAL/);
  expectOne(run(scen('flavour spe-rfc-v4', [...base, 'run 0'])), 'warning', 'E.5#first-run', 4, /EPERM/);
  assert.deepEqual(run(scen('', [...base, 'spe_attr 0 irq=21', 'spe_attr 0 init', 'spe_attr 0 stop=exit', 'run 0 => EINTR'])), []);
  // as posted (v4/v5), a non-PPI INTID is accepted (flavour.spe.nonPpiIrqAccepted): no prediction
  assert.deepEqual(run(scen('', [...base, 'spe_attr 0 irq=40'])), []);
  expectOne(run(scen('', [...base, 'spe_attr 0 stop=trap'])), 'warning', 'E.5#stop-uninit', 4, /EAGAIN/);
  expectOne(run(scen('', [...base, 'spe_attr 0 init'])), 'warning', 'E.5#init-no-irq', 4, /ENXIO/);
  expectOne(run(scen('', [SLOT0, 'vcpu_init 0', 'spe_attr 0 irq'])), 'warning', 'E.5#supports', 4, /ENXIO/);
  expectOne(run(scen('vcpus 2', [...base, 'vcpu_init 1 features=spe', 'spe_attr 0 irq=21', 'spe_attr 1 irq=22'])), 'warning', 'E.5#irq-invalid', 6, /same PPI/);
  expectOne(run(scen('', [...base, 'spe_attr 0 irq', 'spe_attr 0 irq=21'])), 'warning', 'E.5#irq-set', 5, /EBUSY/);
});

test('Results: `=>` that cannot happen for the statement is an error', () => {
  expectOne(run(scen('', [SLOT0, 'lock 0 read => exit mmio'])), 'error', 'result', 3, /cannot happen for lock/);
  expectOne(run(scen('', [SLOT0, 'vcpu_init 0', 'run 0 => pages [1]'])), 'error', 'result', 4);
  expectOne(run(scen('', [SLOT0, 'vcpu_init 0', 'run 0 & => EINTR'])), 'error', 'result', 4, /join/);
  expectOne(run(scen('', ['write 0x10 u8 1 => ok'])), 'error', 'result', 2);
  expectOne(run(scen('', [SLOT0, 'vcpu_init 0', 'run 0 => exit guest_exception'])), 'error', 'result', 4, /guest_exceptions stop/);
  assert.deepEqual(run(scen('guest_exceptions stop', [SLOT0, 'vcpu_init 0', 'run 0 => exit guest_exception'])), []);
});

test('Run-time scenario errors decidable from the text are warnings (join without run &)', () => {
  expectOne(run(scen('', [SLOT0, 'vcpu_init 0', 'join 0 => EINTR'])), 'warning', 'runtime', 4);
});

// ---------------------------------------------------------------- names and values

test('Undefined names: constants, registers, event kinds and fields, pgtables are errors', () => {
  expectOne(run(scen('', ['write NOPE u8 1'])), 'error', 'undefined-name', 2, /'NOPE'/);
  expectOne(run(scen('', ['get_reg 0 x31'])), 'error', 'undefined-name', 2, /register/);
  assert.deepEqual(run(scen('', ['vcpu_init 0', 'get_reg 0 PMBSR_EL1 => 0', 'set_reg 0 s3_0_c9_c10_3=1 x30=PMBSR_S'])), []);
  expectOne(run(scen('', ['expect event nope-event'])), 'error', 'undefined-name', 2);
  expectOne(run(scen('', ['expect event stage2-fault colour=red'])), 'error', 'undefined-name', 2);
  expectOne(run(scen('', ['expect event stage2-fault write=1'])), 'error', 'range', 2, /true or false/);
  assert.deepEqual(run(scen('', ['expect event pending-ops now=[flush_dcache, sanitise_tags] vcpu=0', 'expect event ioctl result=EBUSY rule=A.2#12'])), []);
});

test('Constants: global, any order, cycles and duplicates are errors, division by zero is a diagnostic', () => {
  assert.deepEqual(run(`host {\n    write B u8 1\n}\nconst B = A + 1\nconst A = 0x10\n`), []);
  const cyc = run(`const A = B\nconst B = A\n`);
  assert.ok(cyc.some((d) => d.severity === 'error' && /itself/.test(d.message)));
  const dup = run(`const A = 1\nconst A = 2\n`);
  expectOne(dup, 'error', 'duplicate', 1);
  expectOne(run(`const A = 1 / 0\n`), 'error', 'division', 0);
});

test('C types: write widths, bytes, expect mem widths; machine values', () => {
  expectOne(run(scen('', ['write 0x10 u8 0x100'])), 'error', 'range', 2, /u8/);
  expectOne(run(scen('', ['write 0x10 bytes [1, 256]'])), 'error', 'range', 2);
  expectOne(run(scen('', ['expect mem 0x10 u16 == 0x10000'])), 'error', 'range', 2);
  expectOne(run(scen('vcpus 0', [])), 'error', 'range', 0);
  expectOne(run(scen('page_size 8K', [])), 'error', 'range', 0);
  expectOne(run(scen('ipa_bits 60', [])), 'warning', 'A.4#3', 0, /EINVAL/);
  assert.deepEqual(run(scen('page_size 64K ipa_bits 52', [])), []);
  expectOne(run(scen('flavour linux-9', [])), 'error', 'undefined-name', 0);
});

test('hugetlb size must be a block size of the granule', () => {
  assert.deepEqual(run(scen('', ['memslot 0 gpa=0x4000_0000 size=2M backing=hugetlb-2M'])), []);
  expectOne(run(scen('page_size 16K', ['memslot 0 gpa=0x4000_0000 size=2M backing=hugetlb-2M'])), 'error', 'hugetlb', 2, /32M/);
  assert.deepEqual(run(scen('page_size 64K', ['memslot 0 gpa=0x4000_0000 size=512M backing=hugetlb-512M'])), []);
  expectOne(run(scen('', ['memslot 0 gpa=0 size=2M backing=tmpfs'])), 'error', 'undefined-name', 2);
});

test('s1map: tables running past the memslot are an error; no s1_tables is an error; outside memslots a warning', () => {
  const tables = 's1_tables 0x4000_0000';
  assert.deepEqual(run(scen(tables, ['memslot 0 gpa=0x4000_0000 size=16K', 's1map va=0 ipa=0x4000_0000 size=2M'])), []);
  // 4 pages for one 2M range; a range across two 1G regions needs L2+L3 tables twice: 6 pages > 4
  expectOne(run(scen(tables, ['memslot 0 gpa=0x4000_0000 size=16K', 's1map va=0x3fe0_0000 ipa=0x4000_0000 size=4M'])), 'error', 's1map', 3, /past the end of memslot 0/);
  expectOne(run(scen('', ['s1map va=0 ipa=0 size=4K'])), 'error', 's1map', 2);
  expectOne(run(scen(tables, ['memslot 0 gpa=0x8000_0000 size=16K', 's1map va=0 ipa=0x8000_0000 size=4K'])), 'warning', 'layout', 3);
});

test('Guest code: undefined mnemonics/symbols are errors at their columns; duplicate labels; labels in host statements', () => {
  const text = [
    'guest at 0x4000_0000 {',
    'start:  nop',
    '        frob x1',
    'start:  b start',
    '}',
    'host {',
    '    memslot 0 gpa=0x4000_0000 size=2M',
    '    vcpu_init 0 pc=start + 4',
    '    expect reg 0 pc == start + 4',
    '}',
  ].join('\n');
  const r = analyse(text);
  const errs = only(r.diagnostics, 'error');
  assert.deepEqual(errs.map((d) => [d.code, d.range.start.line, d.range.start.col]), [['assemble', 2, 8], ['duplicate-label', 3, 0]]);
  assert.equal(errs[1].related?.[0].range.start.line, 1);
  assert.equal(text.slice(errs[0].range.start.offset, errs[0].range.end.offset), 'frob');
  assert.equal(r.info.labels.get('start'), 0x4000_0000n);
  assert.equal(r.info.statements[1].values.get('pc'), 0x4000_0004n);
});

test('Guest code outside every memslot at the first vcpu_init, pc= outside guest code: warnings', () => {
  const g = 'guest at 0x9000_0000 {\n    nop\n}\n';
  expectOne(run(scen('', [SLOT0, 'vcpu_init 0'], g)), 'warning', 'layout', 1);
  const g2 = 'guest at 0x4000_0000 {\n    nop\n}\n';
  expectOne(run(scen('', [SLOT0, 'vcpu_init 0 pc=0x4000_1000'], g2)), 'warning', 'layout', 6, /outside the guest code/);
});

test('Checker with a fake assembler (environment injection), line base converted', () => {
  const calls: { line: number; col?: number }[] = [];
  const r = analyse('guest at 0x1000 {\n  x: nop\n}\n', {
    environment: {
      assemblerLineBase: 1,
      assembleProgram: (blocks) => {
        calls.push({ line: blocks[0].line, col: blocks[0].col });
        return { ok: false, blocks: [], labels: new Map([['x', 0x1000n]]), lines: [{ line: 2, addr: 0x1000n, size: 4, block: 0 }], diagnostics: [{ line: 2, col: 6, endCol: 9, message: 'fake' }] };
      },
    },
  });
  assert.deepEqual(calls, [{ line: 1, col: 18 }]);
  const d = r.diagnostics[0];
  assert.deepEqual([d.range.start.line, d.range.start.col, d.range.end.col, d.range.start.offset], [1, 5, 8, 23]);
  assert.equal(r.info.labels.get('x'), 0x1000n);
});

test('CheckInfo: machine defaults, constants, memslots, resolved statement values', () => {
  const r = analyse(`const DATA = 0x8000_0000\nmachine { vcpus 2 memlock 1M }\nhost {\n    memslot 1 gpa=DATA size=64K\n    lock 1 read\n}\n`);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.info.machine.vcpus, 2);
  assert.equal(r.info.machine.ipaBits, 40);
  assert.equal(r.info.machine.pageSize, 4096);
  assert.equal(r.info.machine.memlock, 1n << 20n);
  assert.equal(r.info.constants.get('DATA'), 0x8000_0000n);
  assert.equal(r.info.memslots[0].gpa, 0x8000_0000n);
  assert.equal(r.info.statements[0].values.get('size'), 65536n);
  assert.equal(r.info.statements[1].line, 4);
  assert.equal(r.info.lookup('PSCI_CPU_ON'), 0xC400_0003n);
  assert.equal(r.info.lookup('PMBSR_S'), 1n << 17n);
});

test('CheckInfo.guestCode maps 0-based file lines to guest addresses (debugger)', () => {
  const r = analyse('guest at 0x4000_0000 {\n    nop\nx:  b x\n}\n');
  assert.deepEqual(r.info.guestCode.map((g) => [g.line, g.addr, g.size]), [[1, 0x4000_0000n, 4], [2, 0x4000_0004n, 4]]);
  assert.equal(analyse('machine { memlock unlimited }\n').info.machine.memlock, null);
});

test('Constants chained 20,000 deep: a depth diagnostic, not a stack overflow', () => {
  const lines = Array.from({ length: 20_000 }, (_, k) => `const C${k} = C${k + 1} + 1`);
  lines.push('const C20000 = 0');
  const ds = run(lines.join('\n') + '\n');
  assert.ok(ds.some((d) => d.code === 'depth'));
  assert.ok(!ds.some((d) => d.code === 'internal'));
});

test('SPE field symbols: REG_FIELD masks, field spelled as in spec E.1 or upper case', () => {
  const r = analyse('const A = PMSFCR_FnE | PMSFCR_FNE | PMBLIMITR_FM | PMSCR_E1SPE\n');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.info.constants.get('A'), (1n << 3n) | 0x6n | 0x2n);
});

test('G.15 enable_cap of a cap KVM_ENABLE_CAP does not handle -> EINVAL; G.6 MTE after vcpus exist -> EINVAL; G.3 NISV flags', () => {
  expectOne(run(scen('flavour mmio-guard-v2', ['enable_cap KVM_CAP_ARM_MMIO_GUARD'])), 'warning', 'G.15#unknown-cap', 2);
  expectOne(run(scen('', ['enable_cap KVM_CAP_ARM_MTE'])), 'warning', 'G.6#vcpus', 2);
  expectOne(run(scen('', ['enable_cap KVM_CAP_ARM_NISV_TO_USER flags=1'])), 'warning', 'G.3#flags', 2);
  assert.deepEqual(run(scen('', ['enable_cap KVM_CAP_ARM_NISV_TO_USER'])), []);
  assert.deepEqual(run(scen('', ['memslot 0 gpa=0 size=4K', 'enable_cap KVM_CAP_ARM_LOCK_USER_MEMORY_REGION flags=1 args=[0, 1]', 'enable_cap 207 flags=2 args=[0, 0]'])), []);
});

test('A.2#4 tagged hva and hva beyond TASK_SIZE -> EINVAL; A.2#6 gpa + size beyond 2^64-1 -> EINVAL', () => {
  expectOne(run(scen('', ['memslot 0 gpa=0x4000_0000 size=2M hva=0x0100_7f00_0000_0000'])), 'warning', 'A.2#4', 2, /tagged/);
  expectOne(run(scen('', ['memslot 0 gpa=0x4000_0000 size=2M hva=0xffff_fff0_0000'])), 'warning', 'A.2#4', 2, /TASK_SIZE/);
  expectOne(run(scen('', ['memslot 0 gpa=0xffff_ffff_ffff_f000 size=4K'])), 'warning', 'A.2#6', 2, /wraps/);
});

test('F: first-run checks (PMU) only on the first KVM_RUN; a failed first run still counts for E.3#4 (v4)', () => {
  assert.deepEqual(run(scen('', [SLOT0, 'vcpu_init 0 features=pmu_v3', 'run 0 => EINVAL', 'run 0 => EINTR'])), []);
  expectOne(run(scen('flavour spe-rfc-v4', [SLOT0, 'vcpu_init 0 features=pmu_v3', 'run 0 => EINVAL', 'lock 0 read'])), 'warning', 'E.3#4', 5);
  assert.deepEqual(run(scen('flavour spe-rfc-v4', [SLOT0, 'run 0 => ENOEXEC', 'lock 0 read'])), []);
});

test('F#reset: SPE with an AArch32 EL1 or without SPE hardware -> EINVAL; psci_0_1 on re-init differs -> EINVAL', () => {
  expectOne(run(scen('', ['vcpu_init 0 features=spe,el1_32bit'])), 'warning', 'F#reset', 2, /AArch32/);
  expectOne(run(scen('spe off', ['vcpu_init 0 features=spe'])), 'warning', 'F#reset', 2, /no SPE/);
  expectOne(run(scen('', ['vcpu_init 0', 'vcpu_init 0 features=psci_0_1'])), 'warning', 'F#feature-reinit', 3, /bit 2/);
  assert.deepEqual(run(scen('', ['vcpu_init 0 features=power_off', 'vcpu_init 0 features=power_off'])), []);
});

test('Flavour: lock state, pending ops and owner ids are errors where the flavour has none', () => {
  expectOne(run(scen('flavour mainline-5.15', ['expect memslot 0 locked read'])), 'error', 'flavour', 2);
  assert.deepEqual(run(scen('flavour mainline-5.15', ['expect memslot 0 unlocked', 'expect pending_ops none'])), []);
  expectOne(run(scen('flavour mmio-guard-v2', ['expect pending_ops flush_dcache'])), 'error', 'flavour', 2);
  expectOne(run(scen('flavour pkvm-v3 mode protected', ['expect stage2 host 0x1000 annotated owner=1'])), 'error', 'flavour', 2);
});

test('E.3#13 v4: UNLOCK leaves stage 2 mapped, so locking again -> EAGAIN; v5 unmaps on unlock; E.3#9 pfnmap -> ENOMEM', () => {
  const lines = [SLOT0, 'lock 0 read', 'unlock 0', 'lock 0 read'];
  expectOne(run(scen('flavour spe-rfc-v4', lines)), 'warning', 'E.3#13', 5, /EAGAIN/);
  assert.deepEqual(run(scen('flavour spe-rfc-v5', lines)), []);
  assert.deepEqual(run(scen('flavour spe-rfc-v4', [SLOT0, 'lock 0 read', 'unlock 0', 'memslot 0 delete', SLOT0, 'lock 0 read'])), []);
  expectOne(run(scen('', ['memslot 0 gpa=0x4000_0000 size=2M backing=pfnmap', 'lock 0 read'])), 'warning', 'E.3#9', 3, /ENOMEM/);
});
