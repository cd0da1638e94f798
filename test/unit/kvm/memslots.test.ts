// spec A.2 (KVM_SET_USER_MEMORY_REGION validation order), A.4 (KVM_CREATE_VM IPA size), the host memory model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysMem } from '../../../emulator/memory/physmem';
import { EventLog } from '../../../emulator/events';
import { Vm, type VmConfig } from '../../../emulator/kvm/vm';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import { KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W } from '../../../emulator/arch/stage2';
import { AUTO_HVA_BASE } from '../../../emulator/kvm/host-memory';
import { makeVm, ioctlText } from './vm-fixture';

const M = 1024 * 1024, G = 1024 * M, P = 4096;

function mk(flavour: FlavourName = 'spe-rfc-v5', over: Partial<VmConfig> = {}) {
  const { vm, events, result } = makeVm(flavour, { ...over });
  assert.ok(result.ok);
  return { vm: vm!, events };
}
const r = ioctlText;
/** a guest fault that maps one page RW (what the abort path does) */
function faultIn(vm: Vm, ipa: number): void {
  const slot = vm.findMemslot(ipa)!;
  assert.equal(vm.stage2.map(ipa, P, vm.ipaToPa(slot, ipa)!, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W, { forcePte: true }), 'ok');
}
const mapped = (vm: Vm, ipa: number): boolean => vm.stage2.translate(ipa).valid;

test('A.2#0 slot id >= KVM_USER_MEM_SLOTS -> EINVAL, checked before the flags', () => {
  const { vm, events } = mk();
  assert.equal(r(vm.setUserMemoryRegion({ slot: 32767, flags: 0x80, gpa: 1, size: 1, hva: 1 })), 'EINVAL A.2#0');
  // (u16)slot: the as_id bits do not matter for this check
  assert.equal(r(vm.setUserMemoryRegion({ slot: (1 << 16) | 0xffff, flags: 0, gpa: 0, size: P, hva: P })), 'EINVAL A.2#0');
  const e = events.last('ioctl')!;
  assert.equal(e.fields.name, 'KVM_SET_USER_MEMORY_REGION');
  assert.equal(e.fields.result, 'EINVAL');
  assert.equal(e.fields.rule, 'A.2#0');
  assert.equal(vm.memslots.size, 0);
});

test('A.2#1 any flag other than LOG_DIRTY_PAGES / READONLY -> EINVAL', () => {
  const { vm } = mk();
  for (let bit = 2; bit < 32; bit++) {
    assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 2 ** bit, gpa: 1, size: 1, hva: 1 })), 'EINVAL A.2#1', `bit ${bit}`);
  }
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 3, gpa: 0x4000_0000, size: P, hva: 0x1000_0000 })), 'ok');
});

test('A.2#2 memory_size not a multiple of PAGE_SIZE -> EINVAL (before the gpa check)', () => {
  const { vm } = mk();
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 1, size: P + 1, hva: 1 })), 'EINVAL A.2#2');
  // with 16K pages a 4K size is not a multiple
  const { vm: v16 } = mk('spe-rfc-v5', { pageSize: 16384 });
  assert.equal(r(v16.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 0, size: P, hva: 0 })), 'EINVAL A.2#2');
});

test('A.2#3 guest_phys_addr not PAGE_SIZE-aligned -> EINVAL', () => {
  const { vm } = mk();
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 0x800, size: P, hva: 1 })), 'EINVAL A.2#3');
});

test('A.2#4 userspace_addr unaligned, tagged, or beyond TASK_SIZE -> EINVAL', () => {
  const { vm } = mk();
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 0, size: P, hva: 0x10 })), 'EINVAL A.2#4');
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 0, size: P, hva: 0x0100_7f00_0000_0000n })), 'EINVAL A.2#4');
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 0, size: 2 * P, hva: 2 ** 48 - P })), 'EINVAL A.2#4');
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 0, size: P, hva: 2 ** 48 - P })), 'ok');
});

test('A.2#5 as_id >= KVM_ADDRESS_SPACE_NUM -> EINVAL', () => {
  const { vm } = mk();
  assert.equal(r(vm.setUserMemoryRegion({ slot: (1 << 16) | 3, flags: 0, gpa: 0, size: P, hva: P })), 'EINVAL A.2#5');
});

test('A.2#6 guest_phys_addr + memory_size wraps -> EINVAL', () => {
  const { vm } = mk();
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: (1n << 64n) - 4096n, size: 2 * P, hva: P })), 'EINVAL A.2#6');
});

test('A.2#7 more than KVM_MEM_MAX_NR_PAGES pages -> EINVAL', () => {
  const { vm } = mk();
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 0, size: 2 ** 31 * P, hva: 0 })), 'EINVAL A.2#7');
  // exactly the maximum passes #7 and fails later at the IPA limit (40 bits < 2^31 pages of 4K)
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: 0, size: (2 ** 31 - 1) * P, hva: 0 })), 'EFAULT A.2#12');
});

test('A.2#8 DELETE of a missing slot -> EINVAL; DELETE flushes the slot from stage 2', () => {
  const { vm } = mk();
  assert.equal(r(vm.deleteMemslot(3)), 'EINVAL A.2#8');
  assert.equal(r(vm.createMemslot({ id: 3, gpa: 0x4000_0000, size: 2 * M })), 'ok');
  faultIn(vm, 0x4000_1000);
  assert.ok(mapped(vm, 0x4000_1000));
  assert.equal(r(vm.deleteMemslot(3)), 'ok');
  assert.equal(vm.memslots.get(3), undefined);
  assert.ok(!mapped(vm, 0x4000_1000));
  assert.deepEqual(vm.stage2.checkInvariants(), []);
});

test('A.2#9 CREATE installs the slot (bitmap only when logging, not locked)', () => {
  const { vm } = mk();
  assert.equal(r(vm.createMemslot({ id: 1, gpa: 0x8000_0000, size: 64 * 1024, readonly: true })), 'ok');
  assert.equal(r(vm.createMemslot({ id: 2, gpa: 0x9000_0000, size: 65 * P, dirtyLog: true })), 'ok');
  const s1 = vm.memslots.get(1)!, s2 = vm.memslots.get(2)!;
  assert.equal(s1.npages, 16);
  assert.ok(s1.readonly && !s1.dirtyLog && s1.dirtyBitmap === null && s1.lock === null);
  assert.ok(s2.dirtyLog && !s2.readonly);
  assert.equal(s2.dirtyBitmap!.length, 16); // 65 bits rounded up to 128 bits
});

test('A.2#10 modify: hva, npages or READONLY change -> EINVAL; identical -> ok, nothing done', () => {
  const { vm, events } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  const s = vm.memslots.get(0)!;
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: s.gpa, size: s.size, hva: s.hva + 2 * M })), 'EINVAL A.2#10');
  assert.equal(r(vm.setUserMemoryRegion({ slot: 0, flags: 0, gpa: s.gpa, size: s.size * 2, hva: s.hva })), 'EINVAL A.2#10');
  assert.equal(r(vm.setMemslotFlags(0, { readonly: true })), 'EINVAL A.2#10');
  faultIn(vm, 0x4000_0000);
  const n = events.length;
  assert.equal(r(vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M })), 'ok');
  assert.equal(events.length, n + 1); // only the ioctl event
  assert.ok(mapped(vm, 0x4000_0000));
});

test('A.2#10 MOVE keeps the HVA, flushes the old range; FLAGS_ONLY toggles logging', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  const hva = vm.memslots.get(0)!.hva;
  faultIn(vm, 0x4000_0000);
  assert.equal(r(vm.moveMemslot(0, 0x5000_0000)), 'ok');
  assert.equal(vm.memslots.get(0)!.gpa, 0x5000_0000);
  assert.equal(vm.memslots.get(0)!.hva, hva);
  assert.ok(!mapped(vm, 0x4000_0000));
  assert.equal(vm.findMemslot(0x4000_0000), undefined);
  assert.equal(vm.findMemslot(0x5000_1000)!.id, 0);
  assert.equal(r(vm.setMemslotFlags(0, { dirtyLog: true })), 'ok');
  assert.ok(vm.memslots.get(0)!.dirtyBitmap !== null);
  assert.equal(r(vm.setMemslotFlags(0, {})), 'ok');
  assert.equal(vm.memslots.get(0)!.dirtyBitmap, null);
});

test('A.2#11 overlapping create -> EEXIST; overlapping move -> EEXIST without flushing', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  vm.createMemslot({ id: 1, gpa: 0x4020_0000, size: 2 * M });
  assert.equal(r(vm.createMemslot({ id: 2, gpa: 0x401f_f000, size: 2 * P })), 'EEXIST A.2#11');
  assert.equal(vm.memslots.get(2), undefined);
  faultIn(vm, 0x4000_0000);
  assert.equal(r(vm.moveMemslot(0, 0x4010_0000)), 'EEXIST A.2#11');
  assert.ok(mapped(vm, 0x4000_0000)); // #11 precedes kvm_set_memslot's flush
  // adjacent is fine
  assert.equal(r(vm.createMemslot({ id: 2, gpa: 0x4040_0000, size: P })), 'ok');
});

test('A.2#12 slot beyond the IPA size -> EFAULT; ending exactly at the limit is fine with ">"', () => {
  const { vm } = mk('spe-rfc-v5', { ipaBits: 32 });
  assert.equal(r(vm.createMemslot({ id: 0, gpa: 2 ** 32 - 2 * M, size: 2 * M })), 'ok');
  assert.equal(r(vm.createMemslot({ id: 1, gpa: 2 ** 32, size: P })), 'EFAULT A.2#12');
  assert.equal(vm.memslots.get(1), undefined);
  assert.equal(vm.hostMemory.all().length, 1, 'the failed create gave its backing back');
});

test('A.2#8 a MOVE refused by the arch hook has already flushed stage 2 (EFAULT beyond the IPA size)', () => {
  const { vm } = mk('spe-rfc-v5', { ipaBits: 32 });
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  faultIn(vm, 0x4000_0000);
  const before = vm.memslots.get(0)!.gpa;
  assert.equal(r(vm.moveMemslot(0, 2 ** 32)), 'EFAULT A.2#12');
  assert.equal(vm.memslots.get(0)!.gpa, before);
  assert.ok(!mapped(vm, 0x4000_0000), 'documented side effect: flushed before the hook ran');
});

test('A.2#12 dirty logging on a PFNMAP backing -> EINVAL (create and FLAGS_ONLY)', () => {
  const { vm } = mk();
  assert.equal(r(vm.createMemslot({ id: 0, gpa: 0x1000_0000, size: 64 * 1024, backing: 'pfnmap', dirtyLog: true })), 'EINVAL A.2#12');
  assert.equal(r(vm.createMemslot({ id: 0, gpa: 0x1000_0000, size: 64 * 1024, backing: 'pfnmap' })), 'ok');
  assert.equal(r(vm.setMemslotFlags(0, { dirtyLog: true })), 'EINVAL A.2#12');
  assert.equal(vm.memslots.get(0)!.dirtyLog, false);
});

test('A.2#12 the v5.8-era ">=" IPA check rejects a slot ending exactly at the limit', () => {
  const fl = { ...getFlavour('mainline-5.15'), ipaLimitCheck: '>=' as const };
  const events = new EventLog();
  const vm = Vm.create({ flavour: fl, ipaBits: 32, pageSize: 4096, vcpus: 0, memlockBytes: Infinity, fwb: false, protectedMode: false, nisvToUser: false }, new PhysMem(), events).vm!;
  assert.equal(r(vm.createMemslot({ id: 0, gpa: 2 ** 32 - P, size: P })), 'EFAULT A.2#12');
});

test('A.2#13 enabling dirty logging write-protects the slot and flushes the TLB', () => {
  const { vm, events } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  faultIn(vm, 0x4000_3000);
  assert.ok(vm.stage2.translate(0x4000_3000).valid && (vm.stage2.translate(0x4000_3000) as { write: boolean }).write);
  const seq = events.nextSeq;
  assert.equal(r(vm.setMemslotFlags(0, { dirtyLog: true })), 'ok');
  const t = vm.stage2.translate(0x4000_3000);
  assert.ok(t.valid && t.read && !t.write);
  assert.ok(events.since(seq).some(e => e.event === 'tlbi' && e.fields.scope === 'vmid'));
});

test('A.4#1 KVM_CREATE_VM type bits outside 7:0 -> EINVAL', () => {
  const events = new EventLog();
  const out = Vm.create({ flavour: getFlavour('mainline-5.15'), ipaBits: 0x100 | 40, pageSize: 4096, vcpus: 1, memlockBytes: Infinity, fwb: false, protectedMode: false, nisvToUser: false }, new PhysMem(), events);
  assert.equal(out.vm, undefined);
  assert.equal(r(out.result), 'EINVAL A.4#1');
  assert.equal(events.last('ioctl')!.fields.name, 'KVM_CREATE_VM');
});

test('A.4#3 IPA size outside [32, Host_IPA_Limit] -> EINVAL; 0 means 40; 52 only with 64K pages', () => {
  const create = (ipaBits: number, pageSize: 4096 | 65536 = 4096) => Vm.create({ flavour: getFlavour('mainline-5.15'), ipaBits, pageSize, vcpus: 0, memlockBytes: Infinity, fwb: false, protectedMode: false, nisvToUser: false }, new PhysMem(), new EventLog());
  assert.equal(r(create(31).result), 'EINVAL A.4#3');
  assert.equal(r(create(49).result), 'EINVAL A.4#3');
  assert.equal(create(0).vm!.ipaBits, 40);
  assert.equal(create(32).vm!.ipaBits, 32);
  assert.equal(create(48).vm!.ipaBits, 48);
  assert.equal(r(create(52).result), 'EINVAL A.4#3');
  assert.equal(create(52, 65536).vm!.ipaBits, 52);
});

test('host memory model: auto HVAs from 0x7f00_0000_0000, congruent with gpa, block-aligned for hugetlb', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  vm.createMemslot({ id: 1, gpa: 0x8000_1000, size: 3 * P });
  vm.createMemslot({ id: 2, gpa: 0xc000_0000, size: G, backing: 'hugetlb-1G' });
  const [s0, s1, s2] = [0, 1, 2].map(i => vm.memslots.get(i)!);
  assert.equal(s0.hva, AUTO_HVA_BASE);
  assert.equal(s1.hva % (2 * M), 0x1000);
  assert.ok(s1.hva >= s0.hva + s0.size);
  assert.equal(s2.hva % G, 0);
  const b2 = vm.hostMemory.backingAt(s2.hva)!;
  assert.equal(b2.blockSize, G);
  assert.equal(b2.pa % G, 0, 'PA shares the block offset');
  // each backing has its own contiguous PA range
  assert.equal(vm.hvaToPa(s0.hva + 5 * P), vm.hostMemory.backingAt(s0.hva)!.pa + 5 * P);
  assert.notEqual(vm.hostMemory.backingAt(s0.hva)!.pa, vm.hostMemory.backingAt(s1.hva)!.pa);
  assert.throws(() => vm.createMemslot({ id: 3, gpa: 0, size: 32 * M, backing: 'hugetlb-32M' }));
});

test('host memory model: a raw set_memory_region needs no backing (no VMA); unmap_host punches holes', () => {
  const { vm } = mk();
  assert.equal(r(vm.setUserMemoryRegion({ slot: 5, flags: 0, gpa: 0x4000_0000, size: 16 * P, hva: 0x1_0000_0000 })), 'ok');
  assert.equal(vm.ipaToPa(vm.memslots.get(5)!, 0x4000_0000), undefined);
  vm.createMemslot({ id: 6, gpa: 0x5000_0000, size: 16 * P });
  const s = vm.memslots.get(6)!;
  vm.unmapHost(s.hva + 4 * P, 2 * P);
  assert.notEqual(vm.ipaToPa(s, 0x5000_3000), undefined);
  assert.equal(vm.ipaToPa(s, 0x5000_4000), undefined);
  assert.equal(vm.ipaToPa(s, 0x5000_5000), undefined);
  assert.equal(vm.ipaToPa(s, 0x5000_6000), vm.hostMemory.backingAt(s.hva)!.pa + 6 * P);
});

test('memslot with hva= reuses existing backing (aliases) and only backs the gaps', () => {
  const { vm } = mk();
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: 2 * M });
  const s0 = vm.memslots.get(0)!;
  assert.equal(r(vm.createMemslot({ id: 1, gpa: 0x6000_0000, size: 2 * M, hva: s0.hva })), 'ok');
  assert.equal(vm.ipaToPa(vm.memslots.get(1)!, 0x6000_1000), vm.ipaToPa(s0, 0x4000_1000));
  assert.equal(vm.hostMemory.all().length, 1);
});
