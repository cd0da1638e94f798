// Stage 2 page-table benchmark: translate() hits per second on a 4-level 48-bit 4K table (the CPU's TLB-miss
// path; target >= 5 M/s), map of 4K pages per second, and the memory the tables use.
// Run: node --import tsx test/bench/stage2.bench.ts
import { performance } from 'node:perf_hooks';
import { PhysMem } from '../../emulator/memory/physmem';
import { TablePool } from '../../emulator/memory/table-pool';
import type { EventKind, EventSink, Fields } from '../../emulator/events';
import { EventLog } from '../../emulator/events';
import { getFlavour } from '../../emulator/kvm/flavours';
import { Stage2PageTable } from '../../emulator/kvm/pgtable/stage2-pgtable';
import { KVM_PGTABLE_PROT_RW, KVM_PGTABLE_PROT_RWX } from '../../emulator/arch/stage2';

class NullSink implements EventSink {
  n = 0;
  emit(_k: EventKind, _f: Fields): void { this.n++; }
}

function make(events: EventSink, pageSize: 4096 | 16384 | 65536 = 4096, ipaBits = 48) {
  const mem = new PhysMem();
  const pool = new TablePool(mem, 0x100_0000_0000, 1024 * 2 ** 20);
  const pt = new Stage2PageTable(mem, pool, { ipaBits, pageSize, flavour: getFlavour('spe-rfc-v5'), fwb: false, name: 'vm' }, events);
  return { mem, pool, pt };
}

const PAGES = 64 * 1024; // 256 MiB of 4K pages
const BASE_IPA = 0x40_0000_0000;
const BASE_PA = 0x8000_0000;

// --- map 4K pages
{
  const sink = new NullSink();
  const { pt, pool, mem } = make(sink);
  const t0 = performance.now();
  for (let i = 0; i < PAGES; i++) pt.map(BASE_IPA + i * 4096, 4096, BASE_PA + i * 4096, KVM_PGTABLE_PROT_RWX);
  const dt = (performance.now() - t0) / 1000;
  console.log(`map 4K pages (null event sink): ${(PAGES / dt / 1e3).toFixed(0)} k pages/s (${PAGES} pages, ${sink.n} events)`);
  console.log(`  tables: ${pt.tablePages} pages = ${(pt.tableBytes / 1024).toFixed(0)} KiB for ${PAGES * 4 / 1024} MiB mapped; pool used ${(pool.usedBytes / 1024).toFixed(0)} KiB; PhysMem chunks ${mem.touchedChunks}`);

  // --- translate hits: sequential and scattered IPAs over the mapped range
  const N = 5_000_000;
  let acc = 0;
  // warm-up
  for (let i = 0; i < 200_000; i++) { const t = pt.translate(BASE_IPA + (i % PAGES) * 4096 + 8); if (t.valid) acc += t.pa; }
  let t1 = performance.now();
  for (let i = 0; i < N; i++) {
    const t = pt.translate(BASE_IPA + (i & (PAGES - 1)) * 4096 + (i & 0xff8));
    if (t.valid) acc += t.level;
  }
  let dt1 = (performance.now() - t1) / 1000;
  console.log(`translate hits, sequential pages (4 levels, 48-bit, 4K): ${(N / dt1 / 1e6).toFixed(2)} M/s`);
  t1 = performance.now();
  let x = 12345;
  for (let i = 0; i < N; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const t = pt.translate(BASE_IPA + (x & (PAGES - 1)) * 4096);
    if (t.valid) acc += t.level;
  }
  dt1 = (performance.now() - t1) / 1000;
  console.log(`translate hits, scattered pages: ${(N / dt1 / 1e6).toFixed(2)} M/s`);
  t1 = performance.now();
  for (let i = 0; i < N; i++) {
    const t = pt.translate(0x10_0000_0000 + (i & 0xffff) * 4096);
    if (!t.valid) acc += t.level;
  }
  dt1 = (performance.now() - t1) / 1000;
  console.log(`translate misses (fault at L1): ${(N / dt1 / 1e6).toFixed(2)} M/s   [checksum ${acc % 997}]`);

  // --- unmap everything
  const t2 = performance.now();
  pt.unmap(BASE_IPA, PAGES * 4096);
  const dt2 = (performance.now() - t2) / 1000;
  console.log(`unmap ${PAGES} pages in one call: ${(dt2 * 1000).toFixed(1)} ms; tables left: ${pt.tablePages} page(s)`);
}

// --- map with a real EventLog (as the machine runs it)
{
  const log = new EventLog();
  const { pt } = make(log);
  const n = 16 * 1024;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) pt.map(BASE_IPA + i * 4096, 4096, BASE_PA + i * 4096, KVM_PGTABLE_PROT_RW);
  const dt = (performance.now() - t0) / 1000;
  console.log(`map 4K pages (EventLog): ${(n / dt / 1e3).toFixed(0)} k pages/s (${log.length} events)`);
}

// --- block mappings: 1 GiB of 2M blocks and one 1G block
{
  const { pt } = make(new NullSink(), 4096, 40);
  const t0 = performance.now();
  for (let i = 0; i < 512; i++) pt.map(0x4000_0000 + i * 2 ** 21, 2 ** 21, 0x8000_0000 + i * 2 ** 21, KVM_PGTABLE_PROT_RW);
  const dt = (performance.now() - t0) / 1000;
  console.log(`map 2M blocks: ${(512 / dt / 1e3).toFixed(0)} k blocks/s; 1 GiB costs ${pt.tableBytes / 1024} KiB of tables (root ${pt.rootPages} page(s) + L2)`);
}
