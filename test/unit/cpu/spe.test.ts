import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CpuMemoryPort, RetiredOp } from '../../../emulator/cpu/devices';
import {
  SpeUnit, PMSIDR_EL1_VALUE, PMBIDR_EL1_VALUE, PMBSR_S, encodeSpeRecord, pmbsrEc, pmbsrMss,
} from '../../../emulator/cpu/spe';

/** Stage 1 = VA - 0 (identity) unless a page is listed as faulting; stage 2 maps IPA -> PA + 0x1_0000_0000. */
class FakePort implements CpuMemoryPort {
  readonly mem = new Map<number, number>();
  readonly s1Fault = new Map<bigint, number>(); // page VA -> fsc
  readonly s2Unmapped = new Set<number>();       // page IPA
  ticks = 0x1234n;
  writes = 0;
  translateWrite(va: bigint): { readonly pa: number } | { readonly fault: 's1' | 's2'; readonly fsc: number; readonly ipa?: number } {
    const page = va & ~0xfffn;
    const f1 = this.s1Fault.get(page);
    if (f1 !== undefined) return { fault: 's1', fsc: f1 };
    const ipa = Number(va);
    if (this.s2Unmapped.has(ipa - (ipa % 4096))) return { fault: 's2', fsc: 0x07, ipa };
    return { pa: ipa + 0x1_0000_0000 };
  }
  writePhys(pa: number, bytes: Uint8Array): void {
    this.writes++;
    bytes.forEach((b, i) => this.mem.set(pa + i, b));
  }
  counter(): bigint { return this.ticks; }
  bytesAtVa(va: number, n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.mem.get(va + 0x1_0000_0000 + i) ?? -1);
    return out;
  }
}

const OTHER: RetiredOp = { pc: 0x4000_0000n, el: 1, kind: 'other' };
function le64(v: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

/** a unit profiling EL1 into [ptr, limit) every `interval` instructions */
function setup(opts: { ptr?: bigint; limit?: bigint; interval?: number; pmscr?: bigint } = {}): { unit: SpeUnit; port: FakePort; lines: boolean[] } {
  const port = new FakePort();
  const unit = new SpeUnit(port);
  const lines: boolean[] = [];
  unit.setServiceListener((level) => lines.push(level));
  unit.write('PMSIRR_EL1', BigInt(opts.interval ?? 256));
  unit.write('PMBPTR_EL1', opts.ptr ?? 0x8000_0000n);
  unit.write('PMBLIMITR_EL1', (opts.limit ?? 0x8000_4000n) | 1n);
  unit.write('PMSCR_EL1', opts.pmscr ?? (2n | (1n << 5n))); // E1SPE | TS
  return { unit, port, lines };
}

function retire(unit: SpeUnit, n: number, op: RetiredOp = OTHER): void {
  for (let i = 0; i < n; i++) if (unit.active()) unit.onRetire(op);
}

test('E.1 PMSIDR_EL1: MAXSIZE=6 (64-byte records), INTERVAL=0 (256), FE=FT=1, FL=0; PMBIDR_EL1 ALIGN=0 P=0', () => {
  const unit = new SpeUnit(new FakePort());
  const idr = unit.read('PMSIDR_EL1');
  assert.equal(idr, PMSIDR_EL1_VALUE);
  assert.equal(Number((idr >> 12n) & 0xfn), 6);
  assert.equal(Number((idr >> 8n) & 0xfn), 0);
  assert.equal(idr & 0x7n, 0x3n);
  assert.equal(unit.read('PMBIDR_EL1'), 0n);
  assert.equal(PMBIDR_EL1_VALUE, 0n);
  unit.write('PMSIDR_EL1', 0xffffn); // read-only
  assert.equal(unit.read('PMSIDR_EL1'), PMSIDR_EL1_VALUE);
});

test('E.1 RES0 bits of the SPE registers are not stored', () => {
  const unit = new SpeUnit(new FakePort());
  unit.write('PMBSR_EL1', 0xffff_ffff_ffff_ffffn);
  assert.equal(unit.read('PMBSR_EL1'), 0xfc0f_ffffn);
  unit.write('PMBSR_EL1', 0n);
  unit.write('PMBLIMITR_EL1', 0xffff_ffff_ffff_ffffn);
  assert.equal(unit.read('PMBLIMITR_EL1'), 0xffff_ffff_ffff_f007n);
  unit.write('PMSIRR_EL1', 0xffff_ffff_ffff_ffffn);
  assert.equal(unit.read('PMSIRR_EL1'), 0xffff_ff01n);
  unit.write('PMSCR_EL1', 0xffn);
  assert.equal(unit.read('PMSCR_EL1'), 0xfbn);
});

test('E.1 profiling is enabled only with PMBLIMITR.E=1, PMBSR.S=0 and E0SPE/E1SPE', () => {
  const { unit } = setup();
  assert.equal(unit.active(), true);
  unit.write('PMBLIMITR_EL1', 0x8000_4000n);
  assert.equal(unit.active(), false);
  unit.write('PMBLIMITR_EL1', 0x8000_4001n);
  unit.write('PMSCR_EL1', 0n);
  assert.equal(unit.active(), false);
  unit.write('PMSCR_EL1', 2n);
  unit.write('PMBSR_EL1', PMBSR_S);
  assert.equal(unit.active(), false);
});

test('E.1 record layout is byte-exact: PC (index 0, EL, NS), EVENTS, OP_TYPE LD, data VA (index 2), PAD, TIMESTAMP', () => {
  const { unit, port } = setup({ interval: 256 });
  retire(unit, 255);
  assert.equal(unit.records, 0);
  unit.onRetire({ pc: 0xffff_8000_1234_5678n, el: 1, kind: 'load', dataVa: 0xffff_0000_dead_bee8n });
  assert.equal(unit.records, 1);
  const expected = [
    0xb0, ...le64(0x00ff_8000_1234_5678n | (1n << 61n) | (1n << 63n)), // PC: VA[55:0], EL1, NS=1
    0x52, 0x02, 0x00,                                                     // EVENTS (2 bytes): RETIRED
    0x49, 0x00,                                                           // OP_TYPE class LD/ST: LD GP-REG
    0xb2, ...le64(0xffff_0000_dead_bee8n),                                // data VA
    ...new Array<number>(64 - 23 - 9).fill(0x00),                         // PAD
    0x71, ...le64(0x1234n),                                               // TIMESTAMP = CNTVCT
  ];
  assert.equal(expected.length, 64);
  assert.deepEqual(port.bytesAtVa(0x8000_0000, 64), expected);
  assert.equal(unit.read('PMBPTR_EL1'), 0x8000_0040n);
});

test('E.1 store and branch records: OP_TYPE ST GP-REG / B; no data VA for a branch; END without PMSCR.TS', () => {
  const st = encodeSpeRecord({ pc: 0x1000n, el: 0, kind: 'store', dataVa: 0x2000n }, 5n);
  assert.deepEqual([...st.subarray(12, 14)], [0x49, 0x01]);
  assert.equal(st[14], 0xb2);
  // EL0 PC packet: EL bits 0, NS 1
  assert.deepEqual([...st.subarray(0, 9)], [0xb0, ...le64(0x1000n | (1n << 63n))]);
  const br = encodeSpeRecord({ pc: 0x1000n, el: 1, kind: 'branch' }, null);
  assert.deepEqual([...br.subarray(12, 14)], [0x4a, 0x00]);
  assert.deepEqual([...br.subarray(14, 63)], new Array<number>(49).fill(0));
  assert.equal(br[63], 0x01);
  const other = encodeSpeRecord(OTHER, 0n);
  assert.deepEqual([...other.subarray(12, 14)], [0x48, 0x00]);
});

test('E.1 sampling interval: one sample every PMSIRR.INTERVAL retired instructions; PMSICR.COUNT counts down', () => {
  const { unit } = setup({ interval: 1024 });
  retire(unit, 1023);
  assert.equal(unit.samples, 0);
  assert.equal(unit.read('PMSICR_EL1'), 1n);
  retire(unit, 1);
  assert.equal(unit.samples, 1);
  assert.equal(unit.read('PMSICR_EL1'), 1024n);
  retire(unit, 1024 * 3);
  assert.equal(unit.samples, 4);
  assert.equal(unit.records, 4);
  assert.equal(unit.read('PMBPTR_EL1'), 0x8000_0000n + 4n * 64n);
});

test('E.1 PMSICR.COUNT programmed by software decides the first sample; an interval below 256 counts as 256', () => {
  const { unit } = setup({ interval: 0x10 }); // INTERVAL field 0 -> minimum 256
  unit.write('PMSICR_EL1', 10n);
  retire(unit, 10);
  assert.equal(unit.samples, 1);
  retire(unit, 255);
  assert.equal(unit.samples, 1);
  retire(unit, 1);
  assert.equal(unit.samples, 2);
});

test('E.1 E1SPE only: instructions at EL0 are not counted', () => {
  const { unit } = setup();
  retire(unit, 1000, { pc: 0x1000n, el: 0, kind: 'other' });
  assert.equal(unit.samples, 0);
  assert.equal(unit.read('PMSICR_EL1'), 0n);
  retire(unit, 256);
  assert.equal(unit.samples, 1);
});

test('E.1 PMSFCR FT filter keeps only the selected types; FE keeps a record only with every PMSEVFR event', () => {
  const { unit } = setup();
  unit.write('PMSFCR_EL1', (1n << 1n) | (1n << 17n)); // FT, LD
  retire(unit, 256, { pc: 0x10n, el: 1, kind: 'branch' });
  assert.equal(unit.samples, 1);
  assert.equal(unit.records, 0);
  retire(unit, 256, { pc: 0x10n, el: 1, kind: 'load', dataVa: 0x20n });
  assert.equal(unit.records, 1);
  unit.write('PMSFCR_EL1', 1n); // FE
  unit.write('PMSEVFR_EL1', 1n << 1n); // RETIRED: present
  retire(unit, 256);
  assert.equal(unit.records, 2);
  unit.write('PMSEVFR_EL1', (1n << 1n) | (1n << 3n)); // + L1D refill: never present
  retire(unit, 256);
  assert.equal(unit.records, 2);
  assert.equal(unit.samples, 4);
});

test('E.1 buffer full: a record that does not fit below LIMIT<<12 raises S=1 EC=0 BSC=1 and stops profiling', () => {
  const { unit, port, lines } = setup({ ptr: 0x8000_0f80n, limit: 0x8000_1000n });
  retire(unit, 512);
  assert.equal(unit.records, 2);
  assert.equal(unit.read('PMBPTR_EL1'), 0x8000_1000n);
  assert.equal(unit.serviceLine, false);
  const writes = port.writes;
  retire(unit, 256);
  const pmbsr = unit.read('PMBSR_EL1');
  assert.equal(pmbsr, PMBSR_S | 1n);
  assert.equal(pmbsrEc(pmbsr), 0);
  assert.equal(pmbsrMss(pmbsr), 1);
  assert.equal(unit.serviceLine, true);
  assert.deepEqual(lines, [true]);
  assert.equal(unit.active(), false);
  assert.equal(port.writes, writes);
  assert.equal(unit.read('PMBPTR_EL1'), 0x8000_1000n);
});

test('E.1 stage 1 fault writing the buffer: S=1, EC=0x24, MSS=FSC, PMBPTR = faulting VA, nothing written', () => {
  const { unit, port, lines } = setup({ ptr: 0x8000_0000n });
  port.s1Fault.set(0x8000_0000n, 0x07);
  retire(unit, 256);
  const pmbsr = unit.read('PMBSR_EL1');
  assert.equal(pmbsrEc(pmbsr), 0x24);
  assert.equal(pmbsrMss(pmbsr), 0x07);
  assert.equal(pmbsr & PMBSR_S, PMBSR_S);
  assert.equal(unit.read('PMBPTR_EL1'), 0x8000_0000n);
  assert.equal(port.writes, 0);
  assert.deepEqual(lines, [true]);
});

test('E.1 stage 2 fault writing the buffer: S=1, EC=0x25, MSS=FSC (the hardware syndrome KVM sees)', () => {
  const { unit, port } = setup({ ptr: 0x8000_0040n });
  port.s2Unmapped.add(0x8000_0000);
  retire(unit, 256);
  const pmbsr = unit.read('PMBSR_EL1');
  assert.equal(pmbsr, PMBSR_S | (0x25n << 26n) | 0x07n);
  assert.equal(unit.read('PMBPTR_EL1'), 0x8000_0040n);
  assert.equal(port.writes, 0);
});

test('E.1 an unaligned record crossing a page is translated page by page; a fault on the second page reports that VA', () => {
  const { unit, port } = setup({ ptr: 0x8000_0fe0n });
  retire(unit, 256);
  assert.equal(unit.records, 1);
  assert.equal(port.bytesAtVa(0x8000_0fe0, 1)[0], 0xb0);
  assert.equal(port.bytesAtVa(0x8000_101f, 1)[0], 0x00); // last TIMESTAMP byte (0x1234 >> 56)
  assert.equal(port.bytesAtVa(0x8000_1017, 1)[0], 0x71); // 0xfe0 + 55
  unit.write('PMBPTR_EL1', 0x8000_1fe0n);
  port.s2Unmapped.add(0x8000_2000);
  const writes = port.writes;
  retire(unit, 256);
  assert.equal(pmbsrEc(unit.read('PMBSR_EL1')), 0x25);
  assert.equal(unit.read('PMBPTR_EL1'), 0x8000_2000n);
  assert.equal(port.writes, writes);
});

test('E.1 the service line is level-sensitive and follows PMBSR.S, also for software writes', () => {
  const { unit, lines } = setup();
  unit.write('PMBSR_EL1', PMBSR_S);
  assert.equal(unit.serviceLine, true);
  unit.write('PMBSR_EL1', PMBSR_S | 1n);
  unit.write('PMBSR_EL1', 0n);
  assert.equal(unit.serviceLine, false);
  assert.deepEqual(lines, [true, false]);
  assert.equal(unit.active(), true);
});

test('E.1 PSB CSYNC drains nothing: records are in memory as soon as the sample is taken', () => {
  const { unit, port } = setup();
  retire(unit, 256);
  const before = port.writes;
  unit.psbCsync();
  assert.equal(port.writes, before);
  assert.equal(port.bytesAtVa(0x8000_0000, 1)[0], 0xb0);
});

test('SpeUnit snapshot/restore brings back registers and the countdown without notifying the listener', () => {
  const { unit, lines } = setup();
  retire(unit, 100);
  const s = unit.snapshot();
  retire(unit, 156);
  unit.write('PMBSR_EL1', PMBSR_S);
  unit.restore(s);
  assert.equal(unit.read('PMSICR_EL1'), 156n);
  assert.equal(unit.read('PMBSR_EL1'), 0n);
  assert.equal(unit.records, 0);
  assert.deepEqual(lines, [true]);
  retire(unit, 156);
  assert.equal(unit.records, 1);
});
