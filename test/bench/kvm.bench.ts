// KVM VM benchmarks: `lock` of a 1 GiB memslot (262,144 page-sized stage 2 mappings, spec E.3#13) — wall time and
// memory (target < 1 s); the memory a 4 GiB memslot costs with 1% of it touched (ARCHITECTURE.md "Sparse and lazy").
// Run: node --import tsx test/bench/kvm.bench.ts   (add --expose-gc for steadier memory figures)
import { PhysMem } from '../../emulator/memory/physmem';
import { EventLog } from '../../emulator/events';
import { Vm } from '../../emulator/kvm/vm';
import { getFlavour } from '../../emulator/kvm/flavours';
import { KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W } from '../../emulator/arch/stage2';

const G = 1024 ** 3, P = 4096;
const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => { gc?.(); return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers; };
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

function newVm(events: EventLog, mem: PhysMem): Vm {
  const { vm } = Vm.create({ flavour: getFlavour('spe-rfc-v5'), ipaBits: 40, pageSize: 4096, vcpus: 1, memlockBytes: Infinity, fwb: false, protectedMode: false, nisvToUser: false }, mem, events);
  return vm!;
}

function benchLock(): void {
  const events = new EventLog();
  const mem = new PhysMem();
  const vm = newVm(events, mem);
  vm.createMemslot({ id: 0, gpa: 0x4000_0000, size: G });
  const h0 = heap();
  const t0 = performance.now();
  const r = vm.enableCap(207, 1, [0n, 3n]);
  const t1 = performance.now();
  const h1 = heap();
  if (!r.ok) throw new Error(`lock failed: ${r.rule}`);
  console.log(`lock 1 GiB memslot (262,144 pages): ${(t1 - t0).toFixed(0)} ms, heap+buffers +${mib(h1 - h0)}`);
  console.log(`  stage 2 table pages: ${vm.stage2.tablePages} (${mib(vm.stage2.tableBytes)}), PhysMem chunks touched: ${mem.touchedChunks}, events: ${events.length} (pte ${events.count('pte')})`);
  const t2 = performance.now();
  vm.kvmRunEntry(0); // ENOEXEC (no init): measure the unlock instead
  const u = vm.enableCap(207, 2, [0n, 0n]);
  const t3 = performance.now();
  if (!u.ok) throw new Error('unlock failed');
  console.log(`unlock 1 GiB (v5 07: unmap with pending ops): ${(t3 - t2).toFixed(0)} ms, events now ${events.length}`);
}

/** The same lock with a sink that drops events: the page-table work alone (the rest is the event log). */
function benchLockNoEvents(): void {
  const sink = { emit(): void {} };
  const { vm } = Vm.create({ flavour: getFlavour('spe-rfc-v5'), ipaBits: 40, pageSize: 4096, vcpus: 1, memlockBytes: Infinity, fwb: false, protectedMode: false, nisvToUser: false }, new PhysMem(), sink);
  vm!.createMemslot({ id: 0, gpa: 0x4000_0000, size: G });
  const t0 = performance.now();
  vm!.enableCap(207, 1, [0n, 3n]);
  console.log(`lock 1 GiB with events dropped: ${(performance.now() - t0).toFixed(0)} ms`);
}

function benchSparse(): void {
  const events = new EventLog();
  const mem = new PhysMem();
  const h0 = heap();
  const vm = newVm(events, mem);
  vm.createMemslot({ id: 0, gpa: 0x1_0000_0000, size: 4 * G, dirtyLog: true });
  const slot = vm.memslots.get(0)!;
  const pages = slot.npages;
  const touched = Math.floor(pages / 100);
  const t0 = performance.now();
  // 1% of the pages written through the fault path's steps (map the page RW, mark dirty, write the memory)
  for (let i = 0; i < touched; i++) {
    const pg = Math.floor((i * 7919) % pages);
    const ipa = slot.gpa + pg * P;
    const pa = vm.ipaToPa(slot, ipa)!;
    vm.stage2.map(ipa, P, pa, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W, { forcePte: true });
    vm.markDirty(slot, pg);
    mem.write64(pa, BigInt(i));
  }
  const t1 = performance.now();
  const dl = vm.getDirtyLog(0);
  const t2 = performance.now();
  const h1 = heap();
  console.log(`4 GiB memslot, 1% touched (${touched} pages): heap+buffers ${mib(h1 - h0)}; PhysMem ${mib(mem.bytesAllocated)} in ${mem.touchedChunks} chunks; dirty bitmap ${mib(slot.dirtyBitmap!.length)}; stage 2 tables ${mib(vm.stage2.tableBytes)}`);
  console.log(`  touching: ${(t1 - t0).toFixed(0)} ms; get_dirty_log (${dl.ok ? (dl as { pages: number[] }).pages.length : 0} pages, re-protect): ${(t2 - t1).toFixed(0)} ms; events ${events.length}`);
}

benchLock();
benchLockNoEvents();
benchSparse();
