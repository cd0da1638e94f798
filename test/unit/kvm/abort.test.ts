import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleGuestAbort, lockedFaultMessage, stage2MappingSize, faultSupportsHugeMapping } from '../../../emulator/kvm/abort';
import { KVM_VABT_VSESR } from '../../../emulator/kvm/inject';
import type { FlavourName } from '../../../emulator/kvm/flavours';
import { abortExit, fields, makeWorld, type SlotSpec } from './abort-fixture.test';

const RAM = 0x4000_0000;
const ROM = 0x8000_0000;
const M2 = 2 ** 21;
const G1 = 2 ** 30;
const ram: SlotSpec = { id: 0, gpa: RAM, size: 4 * M2 };
const rom: SlotSpec = { id: 1, gpa: ROM, size: 64 * 1024, readonly: true };

// ---------------------------------------------------------------------------------------------------------------
// The C.4 decision tree, one row per branch: syndrome -> outcome (kind, resolution, errno / exit reason)

interface Row {
  name: string;
  slots?: SlotSpec[];
  exit: Parameters<typeof abortExit>[0];
  nisv?: boolean;
  outcome: 'resume' | 'exit' | 'error';
  resolution: string;
  errno?: string;
  exitReason?: string;
  warning?: RegExp;
  injectedEsr?: bigint;
  pcDelta?: bigint;
}

const rows: Row[] = [
  { name: 'C.4#1 SEA (FSC 0x10) -> virtual SError, back to the guest', exit: { ipa: RAM, fsc: 0x10 }, slots: [ram],
    outcome: 'resume', resolution: 'serror' },
  { name: 'C.4#1 SEA on a table walk (FSC 0x15) -> virtual SError', exit: { ipa: RAM, fsc: 0x15 }, slots: [ram],
    outcome: 'resume', resolution: 'serror' },
  { name: 'C.4#1 parity/ECC error (FSC 0x18) -> virtual SError', exit: { ipa: 0x1000, fsc: 0x18 },
    outcome: 'resume', resolution: 'serror' },
  { name: 'C.4#2 alignment fault (FSC 0x21) -> EFAULT "Unsupported FSC"', exit: { ipa: RAM, fsc: 0x21 }, slots: [ram],
    outcome: 'error', resolution: 'error', errno: 'EFAULT', warning: /^Unsupported FSC: EC=0x24 xFSC=0x21 ESR_EL2=0x92000021$/ },
  { name: 'C.4#2 address size fault (FSC 0x01) -> EFAULT', exit: { ipa: RAM, fsc: 0x01 }, slots: [ram],
    outcome: 'error', resolution: 'error', errno: 'EFAULT', warning: /^Unsupported FSC/ },
  { name: 'C.4#2 TLB conflict (FSC 0x30) -> EFAULT', exit: { ipa: RAM, fsc: 0x30 }, slots: [ram],
    outcome: 'error', resolution: 'error', errno: 'EFAULT' },
  { name: 'C.4#4a instruction fetch outside memslots -> prefetch abort injected', exit: { ipa: 0x900_0000, iabt: true },
    outcome: 'resume', resolution: 'inject', injectedEsr: 0x8600_0010n },
  { name: 'C.4#4a instruction fetch with S1PTW outside memslots -> prefetch abort (is_iabt first)',
    exit: { ipa: 0x900_0000, iabt: true, s1ptw: true }, outcome: 'resume', resolution: 'inject', injectedEsr: 0x8600_0010n },
  { name: 'C.4#4b S1PTW read walk into a READONLY slot counts as a write -> data abort injected',
    exit: { ipa: ROM, s1ptw: true, wnr: false }, slots: [rom], outcome: 'resume', resolution: 'inject', injectedEsr: 0x9600_0010n },
  { name: 'C.4#4b S1PTW outside memslots -> data abort injected', exit: { ipa: 0x900_0000, s1ptw: true },
    outcome: 'resume', resolution: 'inject', injectedEsr: 0x9600_0010n },
  { name: 'C.4#4c CM on MMIO is skipped', exit: { ipa: 0x900_0000, cm: true, wnr: true },
    outcome: 'resume', resolution: 'skip', pcDelta: 4n },
  { name: 'C.4#4d CM write to a READONLY slot is not skipped: MMIO path (NISV -> ENOSYS)', exit: { ipa: ROM, cm: true, wnr: true },
    slots: [rom], outcome: 'error', resolution: 'error', errno: 'ENOSYS' },
  { name: 'C.4#4d load outside memslots with ISV -> KVM_EXIT_MMIO read', exit: { ipa: 0x900_0000, isv: true, sas: 2, srt: 1 },
    outcome: 'exit', resolution: 'mmio', exitReason: 'mmio' },
  { name: 'C.4#4d store to a READONLY slot -> KVM_EXIT_MMIO write', exit: { ipa: ROM, isv: true, sas: 3, srt: 2, wnr: true, fsc: 0x0f },
    slots: [rom], outcome: 'exit', resolution: 'mmio', exitReason: 'mmio' },
  { name: 'C.5#1 no syndrome outside memslots without NISV_TO_USER -> ENOSYS', exit: { ipa: 0x900_0000 },
    outcome: 'error', resolution: 'error', errno: 'ENOSYS', warning: /^Data abort outside memslots with no valid syndrome info$/ },
  { name: 'C.5#1 no syndrome outside memslots with NISV_TO_USER -> KVM_EXIT_ARM_NISV', exit: { ipa: 0x900_0000 }, nisv: true,
    outcome: 'exit', resolution: 'nisv', exitReason: 'arm_nisv' },
  { name: 'C.4 read of a READONLY slot is served from memory (map)', exit: { ipa: ROM }, slots: [rom],
    outcome: 'resume', resolution: 'map' },
  { name: 'C.4#6 access flag fault -> mkyoung', exit: { ipa: RAM, fsc: 0x0b }, slots: [ram], outcome: 'resume', resolution: 'mkyoung' },
  { name: 'C.4#7 translation fault in RAM -> map', exit: { ipa: RAM + 0x3000 }, slots: [ram], outcome: 'resume', resolution: 'map' },
  { name: 'C.4#7 permission fault on a read -> EFAULT "Unexpected L2 read permission error"', exit: { ipa: RAM, fsc: 0x0f },
    slots: [ram], outcome: 'error', resolution: 'error', errno: 'EFAULT', warning: /^Unexpected L2 read permission error$/ },
  { name: 'C.4#7 instruction fetch from RAM -> map (executable)', exit: { ipa: RAM, iabt: true }, slots: [ram],
    outcome: 'resume', resolution: 'map' },
  { name: 'C.4#7 instruction fetch from a pfnmap slot -> prefetch abort', exit: { ipa: 0xa000_0000, iabt: true },
    slots: [{ id: 2, gpa: 0xa000_0000, size: 0x10000, backing: 'pfnmap' }], outcome: 'resume', resolution: 'inject', injectedEsr: 0x8600_0010n },
];

for (const r of rows) {
  test(r.name, () => {
    const w = makeWorld({ slots: r.slots ?? [] });
    w.vm.flags.nisvToUser = r.nisv ?? false;
    const pc0 = w.cpu.pc;
    const out = handleGuestAbort(w.vm, w.cpu, abortExit(r.exit));
    assert.equal(out.kind, r.outcome);
    assert.equal(out.resolution, r.resolution);
    if (r.errno !== undefined) {
      assert.equal(out.kind, 'error');
      if (out.kind === 'error') assert.equal(out.error.errno, r.errno);
    }
    if (r.exitReason !== undefined) {
      assert.equal(out.kind, 'exit');
      if (out.kind === 'exit') assert.equal(out.exit.reason, r.exitReason);
    }
    const faults = w.log.all().filter(e => e.event === 'stage2-fault');
    assert.equal(faults.length, 1, 'exactly one stage2-fault event');
    assert.equal(fields(faults[0]).resolution, r.resolution);
    const warnings = w.log.all().filter(e => e.event === 'warning').map(e => String(e.fields.message));
    if (r.warning !== undefined) assert.ok(warnings.some(m => r.warning!.test(m)), `warnings: ${warnings.join(' | ')}`);
    if (r.injectedEsr !== undefined) {
      assert.equal(w.cpu.injected.length, 1);
      assert.equal(w.cpu.injected[0].esr, r.injectedEsr);
      assert.equal(w.cpu.injected[0].far, abortExit(r.exit).far);
    } else {
      assert.equal(w.cpu.injected.length, 0);
    }
    if (r.pcDelta !== undefined) assert.equal(w.cpu.pc - pc0, r.pcDelta);
    if (r.resolution === 'serror') assert.deepEqual(w.vm.serrors, [{ vcpu: 0, vsesr: KVM_VABT_VSESR }]);
    else assert.equal(w.vm.serrors.length, 0);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// the stage2-fault event

test('LANGUAGE stage2-fault fields: MMIO path ipa includes FAR[11:0]; S1PTW reported as a write', () => {
  const w = makeWorld();
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: 0x900_0000, va: 0xffff_0000_0900_0abcn, isv: true, sas: 0, srt: 4 }));
  const f = fields(w.log.last('stage2-fault'));
  assert.equal(f.stage, 'guest');
  assert.equal(f.ipa, 0x900_0abcn);
  assert.equal(f.va, 0xffff_0000_0900_0abcn);
  assert.equal(f.far, 0xffff_0000_0900_0abcn);
  assert.equal(f.hpfar, 0x9_0000n);
  assert.equal(f.fsc, 0x07n, 'a syndrome field: bigint (LANGUAGE.md trace events)');
  assert.equal(f.kind, 'translation');
  assert.equal(f.level, 3);
  assert.equal(f.write, false);
  assert.equal(f.exec, false);
  assert.equal(f.isv, true);
  assert.equal(f.resolution, 'mmio');
  assert.equal(w.log.last('stage2-fault')!.vcpu, 0);

  const w2 = makeWorld({ slots: [rom] });
  handleGuestAbort(w2.vm, w2.cpu, abortExit({ ipa: ROM + 0x1000, s1ptw: true, wnr: false, fsc: 0x06 }));
  const g = fields(w2.log.last('stage2-fault'));
  assert.equal(g.ipa, BigInt(ROM + 0x1000), 'not the MMIO path: page-aligned');
  assert.equal(g.s1ptw, true);
  assert.equal(g.write, true, 'kvm_is_write_fault: every S1PTW is a write in 5.x');
  assert.equal(g.level, 2);
});

test('stage2-fault comes before the consequences (pte events of the map, kvm-exit of an MMIO exit)', () => {
  const w = makeWorld({ slots: [ram] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM }));
  const kinds = w.log.all().map(e => e.event);
  assert.equal(kinds[0], 'stage2-fault');
  assert.ok(kinds.includes('pte'));
  const w2 = makeWorld();
  handleGuestAbort(w2.vm, w2.cpu, abortExit({ ipa: 0x900_0000, isv: true, sas: 2 }));
  assert.deepEqual(w2.log.all().map(e => e.event), ['stage2-fault', 'kvm-exit']);
});

test('C.4#2 unsupported FSC message is formatted like printk (EC, xFSC, ESR_EL2 with %#x)', () => {
  const w = makeWorld({ slots: [ram] });
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM, fsc: 0x35, iabt: true }));
  assert.equal(out.kind, 'error');
  if (out.kind === 'error') {
    assert.equal(out.error.message, 'Unsupported FSC: EC=0x20 xFSC=0x35 ESR_EL2=0x82000035');
    assert.equal(out.error.rule, 'C.4#2');
  }
});

// ---------------------------------------------------------------------------------------------------------------
// user_mem_abort details

test('C.4#7 translation fault maps the page RW at the backing PA (level 3, not executable)', () => {
  const w = makeWorld({ slots: [ram] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x5000 }));
  const t = w.pt.translate(RAM + 0x5123);
  assert.ok(t.valid);
  if (t.valid) {
    assert.equal(t.level, 3);
    assert.equal(t.pa, w.vm.paOfIpa(RAM + 0x5123));
    assert.equal(t.read, true);
    assert.equal(t.write, true);
    assert.equal(t.execEl1, false);
    assert.equal(t.device, false);
  }
});

test('C.4#7 instruction translation fault maps executable (and writable: the slot is RW)', () => {
  const w = makeWorld({ slots: [ram] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM, iabt: true }));
  const t = w.pt.translate(RAM);
  assert.ok(t.valid && t.execEl1 && t.write);
});

test('C.4#7 fetch from a page first mapped by a data access: permission fault at L3 -> relax_perms adds X', () => {
  const w = makeWorld({ slots: [ram] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x4000 }));
  assert.ok(!w.pt.translate(RAM + 0x4000).valid || !(w.pt.translate(RAM + 0x4000) as { execEl1: boolean }).execEl1);
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x4000, iabt: true, fsc: 0x0f }));
  assert.deepEqual([out.kind, out.resolution], ['resume', 'relax']);
  const t = w.pt.translate(RAM + 0x4000);
  assert.ok(t.valid && t.execEl1);
  assert.ok(w.log.all().some(e => e.event === 'tlbi'), 'relax_perms ends with a TLBI');
});

test('C.4#7 permission fault whose granule differs from the mapping size goes through map (block change)', () => {
  // a hugetlb slot mapped with pages by logging, then logging stops: a write permission fault reported at L3 on a
  // 2M-capable slot maps a block instead of relaxing the page
  const w = makeWorld({ slots: [{ id: 0, gpa: RAM, size: 4 * M2, backing: 'hugetlb-2M', readonly: false }] });
  w.pt.map(RAM, 4096, w.vm.paOfIpa(RAM), 4);
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM, wnr: true, fsc: 0x0f }));
  assert.equal(out.resolution, 'map');
  assert.equal(w.pt.getLeaf(RAM).level, 2);
});

test('C.4#7 READONLY slot read maps read-only', () => {
  const w = makeWorld({ slots: [rom] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: ROM }));
  const t = w.pt.translate(ROM);
  assert.ok(t.valid && t.read && !t.write);
});

test('G.1 logging slot: read fault maps read-only and is not dirty; write fault relaxes to RW and marks dirty', () => {
  const w = makeWorld({ slots: [{ id: 3, gpa: RAM, size: 4 * M2, dirtyLog: true, backing: 'hugetlb-2M' }] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x2000 }));
  let t = w.pt.translate(RAM + 0x2000);
  assert.ok(t.valid && t.level === 3 && !t.write, 'logging forces pages even on hugetlb, read-only on a read');
  assert.deepEqual(w.vm.dirty, []);
  // the write now takes a permission fault at level 3 -> relax_perms
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x2000, fsc: 0x0f, wnr: true }));
  assert.equal(out.resolution, 'relax');
  t = w.pt.translate(RAM + 0x2000);
  assert.ok(t.valid && t.write);
  assert.deepEqual(w.vm.dirty, [{ slot: 3, page: 2 }]);
  // a write translation fault maps RW directly and marks dirty
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x7000, wnr: true }));
  assert.deepEqual(w.vm.dirty, [{ slot: 3, page: 2 }, { slot: 3, page: 7 }]);
  assert.ok(w.pt.translate(RAM + 0x7000).valid);
});

test('C.4#7 map returning EAGAIN on the fault path is success (leaf already there), and nothing is marked dirty', () => {
  const w = makeWorld({ slots: [{ id: 3, gpa: RAM, size: M2, dirtyLog: true }] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM, wnr: true }));
  assert.equal(w.vm.dirty.length, 1);
  // a second vcpu raced on the same translation fault: the leaf exists with the same attributes -> EAGAIN
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM, wnr: true }));
  assert.deepEqual([out.kind, out.resolution], ['resume', 'map']);
  assert.equal(w.vm.dirty.length, 1, 'mark_page_dirty only when ret == 0');
});

test('B.3 hugetlb-2M slot with congruent HVA maps a 2 MiB block (fault IPA aligned down)', () => {
  const w = makeWorld({ slots: [{ id: 0, gpa: RAM, size: 4 * M2, backing: 'hugetlb-2M' }] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + M2 + 0x3000 }));
  assert.equal(w.pt.getLeaf(RAM + M2).level, 2);
  const t = w.pt.translate(RAM + M2 + 0x1234);
  assert.ok(t.valid && t.leafSize === M2 && t.pa === w.vm.paOfIpa(RAM + M2 + 0x1234));
});

test('B.3 hugetlb-1G slot maps a 1 GiB block (4K granule, 3 levels)', () => {
  const w = makeWorld({ slots: [{ id: 0, gpa: G1, size: G1, backing: 'hugetlb-1G' }] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: G1 + 0x1234_5000 }));
  assert.equal(w.pt.getLeaf(G1).level, 1);
});

test('B.3 hugetlb-1G slot that does not hold a whole 1G block falls back to 2 MiB blocks', () => {
  const w = makeWorld({ slots: [{ id: 0, gpa: G1, size: 512 * M2 - M2, backing: 'hugetlb-1G' }] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: G1 + 0x40_0000 }));
  assert.equal(w.pt.getLeaf(G1 + 0x40_0000).level, 2);
});

test('B.3 hugetlb slot whose HVA is not congruent with the IPA maps pages', () => {
  const w = makeWorld({ slots: [{ id: 0, gpa: RAM, size: 4 * M2, backing: 'hugetlb-2M', hvaSkew: 0x1000 }] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + M2 }));
  assert.equal(w.pt.getLeaf(RAM + M2).level, 3);
});

test('B.3 hugetlb block that would stick out of the slot maps pages', () => {
  // slot of 1 MiB inside a 2 MiB block
  const w = makeWorld({ slots: [{ id: 0, gpa: RAM, size: M2 / 2, backing: 'hugetlb-2M' }] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM }));
  assert.equal(w.pt.getLeaf(RAM).level, 3);
});

test('B.3 SPE lock RFC: a locked hugetlb slot maps pages', () => {
  const w = makeWorld({ slots: [{ id: 0, gpa: RAM, size: 4 * M2, backing: 'hugetlb-2M', lock: { read: true, write: true } }] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM, wnr: true }));
  assert.equal(w.pt.getLeaf(RAM).level, 3);
});

test('stage2MappingSize / faultSupportsHugeMapping follow the vma_shift fallbacks', () => {
  const slot = { id: 0, gpa: G1, size: G1, npages: G1 / 4096, hva: 0x7f00_4000_0000, readonly: false, dirtyLog: false, lock: null };
  assert.equal(stage2MappingSize(slot, slot.hva + 5, G1, 4096), G1);
  assert.equal(stage2MappingSize(slot, slot.hva + 5, M2, 4096), M2);
  assert.equal(stage2MappingSize(slot, slot.hva + 5, 64 * 1024, 4096), 4096, 'CONT_PTE size -> pages');
  assert.equal(faultSupportsHugeMapping({ ...slot, hva: slot.hva + 4096 }, slot.hva + 8192, M2), false);
  // 16K granule: PMD = 32 MiB
  assert.equal(stage2MappingSize({ ...slot, npages: G1 / 16384 }, slot.hva, 2 ** 25, 16384), 2 ** 25);
});

test('C.4#7 pfnmap slot: a data fault maps Device-nGnRE', () => {
  const dev = { id: 2, gpa: 0xa000_0000, size: 0x10000, backing: 'pfnmap' as const };
  const w = makeWorld({ slots: [dev] });
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: 0xa000_1000, wnr: true }));
  assert.equal(out.resolution, 'map');
  const t = w.pt.translate(0xa000_1000);
  assert.ok(t.valid && t.device && t.write && !t.execEl1);
});

test('C.4#6 access flag fault sets AF on the existing leaf and does not exit', () => {
  const w = makeWorld({ slots: [ram] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM }));
  assert.equal(w.pt.mkold(RAM), true);
  assert.equal(w.pt.isYoung(RAM), false);
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM, fsc: 0x0b }));
  assert.deepEqual([out.kind, out.resolution], ['resume', 'mkyoung']);
  assert.equal(w.pt.isYoung(RAM), true);
});

test('C.4#7 no VMA behind the slot (munmapped) -> EFAULT "Failed to find VMA"', () => {
  const w = makeWorld({ slots: [ram] });
  w.vm.dropBacking(w.vm.slots[0].hva);
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x1000 }));
  assert.equal(out.kind, 'error');
  if (out.kind === 'error') {
    assert.equal(out.error.errno, 'EFAULT');
    assert.match(out.error.message, /^Failed to find VMA for hva 0x7f0040001000$/);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// SPE lock RFC warning

test('C.4 note: locked-memslot warning text, formatted like printk', () => {
  assert.equal(lockedFaultMessage('write', 3, 0x4000_2000, 0x9200_0047n),
    'Unexpected L2 write fault on locked memslot 3: IPA=0x40002000, ESR_EL2=0x92000047]');
  assert.equal(lockedFaultMessage('read', 0, 0, 0x6n), 'Unexpected L2 read fault on locked memslot 0: IPA=0, ESR_EL2=0x000006]');
});

test('C.4 note: faults on a locked slot warn (read / write on WRITE-locked / access) and are still served', () => {
  const rw = { id: 4, gpa: RAM, size: M2, lock: { read: true, write: true } };
  const w = makeWorld({ slots: [rw] });
  const out = handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x1000, wnr: true }));
  assert.equal(out.resolution, 'map');
  const msgs = () => w.take('warning').map(e => String(e.fields.message));
  const esr = abortExit({ ipa: RAM + 0x1000, wnr: true }).esr;
  assert.deepEqual(msgs(), [`Unexpected L2 write fault on locked memslot 4: IPA=0x40001000, ESR_EL2=0x${esr.toString(16)}]`]);
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x2000 }));
  assert.match(msgs()[0], /^Unexpected L2 read fault on locked memslot 4: IPA=0x40002000/);
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x2000, fsc: 0x0b }));
  assert.match(msgs()[0], /^Unexpected L2 access fault/);
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x3000, iabt: true }));
  assert.deepEqual(msgs(), [], 'exec faults do not warn');
});

test('C.4 note: a write fault on a READ-only-locked slot does not warn; mainline flavour never warns', () => {
  const w = makeWorld({ slots: [{ id: 4, gpa: RAM, size: M2, lock: { read: true, write: false } }] });
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM, wnr: true }));
  assert.equal(w.take('warning').length, 0);
  const m = makeWorld({ flavour: 'mainline-5.15', slots: [{ id: 4, gpa: RAM, size: M2, lock: { read: true, write: true } }] });
  handleGuestAbort(m.vm, m.cpu, abortExit({ ipa: RAM }));
  assert.equal(m.take('warning').length, 0);
});

test('C.4 note: the locked-memslot warning is rate-limited (burst of 10 per 5 s of vcpu time)', () => {
  const w = makeWorld({ slots: [{ id: 4, gpa: RAM, size: 4 * M2, lock: { read: true, write: true } }] });
  for (let i = 0; i < 15; i++) handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + i * 0x1000 }));
  assert.equal(w.take('warning').length, 10);
  assert.equal(w.log.count('stage2-fault'), 15, 'every fault is still handled');
  w.cpu.ticks += 5 * 100_000_000;
  handleGuestAbort(w.vm, w.cpu, abortExit({ ipa: RAM + 0x10_0000 }));
  assert.equal(w.take('warning').length, 1, 'a new interval starts');
});

// ---------------------------------------------------------------------------------------------------------------
// any syndrome: exactly one stage2-fault event, and the outcome agrees with its resolution

test('C.4 property: every abort syndrome gives one stage2-fault event and a consistent outcome', async () => {
  const fc = await import('fast-check');
  const slots: SlotSpec[] = [
    ram, rom, { id: 2, gpa: 0xa000_0000, size: 0x10000, backing: 'pfnmap' },
    { id: 3, gpa: 0xc000_0000, size: 4 * M2, backing: 'hugetlb-2M', dirtyLog: true },
    { id: 4, gpa: 0xd000_0000, size: M2, lock: { read: true, write: false } },
  ];
  const ipas = [RAM, RAM + 0x1ff000, ROM, 0xa000_0000, 0xc000_0000, 0xc020_0000, 0xd000_0000, 0x900_0000, 0];
  fc.assert(fc.property(
    fc.boolean(), fc.integer({ min: 0, max: 0x1ffffff }), fc.constantFrom(...ipas), fc.integer({ min: 0, max: 0xfff }),
    fc.boolean(), fc.boolean(), fc.constantFrom<FlavourName>('mainline-5.15', 'spe-rfc-v5', 'mmio-guard-v2'),
    (iabt, iss, ipa, low, nisv, enrolled, flavour) => {
      const w = makeWorld({ flavour, slots });
      w.vm.flags.nisvToUser = nisv;
      w.vm.flags.mmioGuard = enrolled && flavour === 'mmio-guard-v2';
      const esr = (BigInt(iabt ? 0x20 : 0x24) << 26n) | (1n << 25n) | BigInt(iss);
      const out = handleGuestAbort(w.vm, w.cpu, { kind: iabt ? 'iabt' : 'dabt', esr, far: BigInt(ipa + low), hpfar: BigInt(ipa / 4096) << 4n });
      const faults = w.log.all().filter(e => e.event === 'stage2-fault');
      assert.equal(faults.length, 1);
      assert.equal(faults[0].fields.resolution, out.resolution);
      if (out.kind === 'error') assert.equal(out.resolution, 'error');
      if (out.kind === 'exit') assert.ok(out.resolution === 'mmio' || out.resolution === 'nisv');
      if (out.resolution === 'inject') assert.equal(w.cpu.injected.length, 1);
      else assert.equal(w.cpu.injected.length, 0);
      assert.equal(w.log.count('kvm-exit'), out.kind === 'exit' ? 1 : 0);
    },
  ), { numRuns: 400, seed: 42 });
});
