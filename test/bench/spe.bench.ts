// SPE and vGIC hot paths: the cost the profiling unit adds per retired instruction (active() + onRetire() with
// interval 256 and 64-byte records written through a fake translation into PhysMem), records per second, and
// the vGIC's irqPending() check the CPU makes before each IRQ window.
// Run: node --import tsx test/bench/spe.bench.ts
import { performance } from 'node:perf_hooks';
import type { CpuMemoryPort, RetiredOp } from '../../emulator/cpu/devices';
import { SpeUnit } from '../../emulator/cpu/spe';
import { VgicV3 } from '../../emulator/cpu/gic';
import { PhysMem } from '../../emulator/memory/physmem';

class IdentityPort implements CpuMemoryPort {
  constructor(private readonly mem: PhysMem) {}
  translateWrite(va: bigint): { readonly pa: number } { return { pa: Number(va) }; }
  writePhys(pa: number, bytes: Uint8Array): void {
    this.mem.writeBytes(pa, bytes);
  }
  counter(): bigint { return 0n; }
}

const N = 5_000_000;
const ops: RetiredOp[] = [
  { pc: 0x4000_0000n, el: 1, kind: 'load', dataVa: 0x4100_0000n },
  { pc: 0x4000_0004n, el: 1, kind: 'other' },
  { pc: 0x4000_0008n, el: 1, kind: 'store', dataVa: 0x4100_0008n },
  { pc: 0x4000_000cn, el: 1, kind: 'branch' },
];

function bench(label: string, interval: number): void {
  const mem = new PhysMem();
  const unit = new SpeUnit(new IdentityPort(mem));
  unit.write('PMSIRR_EL1', BigInt(interval));
  unit.write('PMBPTR_EL1', 0x1000_0000n);
  unit.write('PMBLIMITR_EL1', 0x2000_0000n | 1n); // 256 MiB: never full
  unit.write('PMSCR_EL1', 2n | (1n << 5n));
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    if (unit.active()) unit.onRetire(ops[i & 3]);
  }
  const ms = performance.now() - t0;
  console.log(`${label}: ${(N / ms / 1000).toFixed(1)} M retired/s with sampling, ${unit.records} records ` +
    `(${(unit.records / ms * 1000 / 1e3).toFixed(1)} K records/s)`);
}

bench('SPE interval 256', 256);
bench('SPE interval 4096', 4096);

{
  const mem = new PhysMem();
  const unit = new SpeUnit(new IdentityPort(mem));
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < N; i++) if (unit.active()) n++;
  const ms = performance.now() - t0;
  console.log(`SPE disabled: ${(N / ms / 1000).toFixed(1)} M active() checks/s (${n} active)`);
}

{
  const gic = new VgicV3({ nrVcpus: 1 });
  gic.init();
  gic.mmio(0x3fff_0000, 4, true, 2n);
  gic.mmio(0x3ffd_0000 + 0x1_0100, 4, true, BigInt(1 << 21));
  const cpu = gic.cpuInterface(0);
  cpu.write('ICC_PMR_EL1', 0xf0n);
  cpu.write('ICC_IGRPEN1_EL1', 1n);
  let pending = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    if ((i & 1023) === 0) gic.setLevel(0, 21, (i & 2048) !== 0);
    if (cpu.irqPending()) pending++;
  }
  const ms = performance.now() - t0;
  console.log(`vGIC irqPending(): ${(N / ms / 1000).toFixed(1)} M checks/s (${pending} pending)`);
}
