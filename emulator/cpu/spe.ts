// The Statistical Profiling Extension unit of one CPU: the profiling control registers (PMS*), the profiling
// buffer registers (PMB*), interval sampling of retired instructions, and the record writer (spec E.1).
// This is the hardware: it knows nothing of KVM. Under KVM the buffer registers are trapped and virtualised by
// emulator/kvm/spe.ts, which reads and writes these hardware registers on guest exit/entry and listens to the
// buffer-management service line.
//
// Emulated identity (ARCHITECTURE.md "Emulated CPU identity"):
//   PMSIDR_EL1: FE=1, FT=1, FL=0 (no latency counters, so PMSFCR.FL / PMSLATFR are stored but never filter),
//               INTERVAL=0 (256), MAXSIZE=6 (64-byte records), COUNTSIZE=2 (12-bit saturating), FORMAT=0.
//   PMBIDR_EL1: ALIGN=0, P=0, F=0, EA=0.
// Sampling: PMSICR_EL1.COUNT counts retired instructions (at an EL where profiling is enabled) down to 0; the
// instruction that takes it to 0 is sampled and COUNT reloads with PMSIRR_EL1.INTERVAL (raised to the minimum
// 256 when programmed lower; RND and ECOUNT are ignored: no randomness in this machine). A COUNT of 0 reloads
// before counting (Linux writes PMSICR_EL1 = 0 on start, so the first sample is INTERVAL instructions later).
// Filters: PMSFCR.FT with B/LD/ST keeps only branches/loads/stores of the selected kinds; PMSFCR.FE keeps a
// record only if every event selected in PMSEVFR_EL1 is present in its EVENTS packet. A filtered sample still
// consumed the interval (as in the architecture).
//
// Record format (one 64-byte record per sample; header bytes from Linux tools/perf/util/arm-spe-decoder/
// arm-spe-pkt-decoder.{c,h}, looked up; payload size = 1 << hdr[5:4]):
//   +0  ADDRESS index 0 (PC)      0xb0 + 8 bytes: VA[55:0] | EL[62:61] | NS[63]=1 (non-secure guest)
//   +9  EVENTS                    0x52 + 2 bytes: bit 1 RETIRED (the only event this model asserts)
//   +12 OP_TYPE                   0x48|class + 1 byte: class 0 OTHER (payload 0), 1 LD/ST (payload 0 = LD GP-REG,
//                                 1 = ST GP-REG), 2 BR (payload 0: unconditional direct; the core does not say more)
//   +14 ADDRESS index 2 (data VA) 0xb2 + 8 bytes: the full 64-bit VA (loads and stores only)
//   ... PAD 0x00 up to byte 55 (byte 63 without timestamps)
//   +55 TIMESTAMP                 0x71 + 8 bytes: CNTVCT_EL0 (when PMSCR_EL1.TS = 1); otherwise END 0x01 at +63
// so a record always ends with its TIMESTAMP (or END) packet exactly at 64 bytes, as hardware pads records to
// their alignment. PMSCR_EL1.CX (CONTEXT packet) and PA (physical address packet) are stored but not emitted.
//
// Buffer (spec E.1 "Buffer semantics"): profiling is enabled when PMBLIMITR.E = 1, PMBSR.S = 0 and
// PMSCR_EL1.E1SPE (at EL1) / E0SPE (at EL0). Each record is written at PMBPTR through stage 1 + stage 2
// (CpuMemoryPort.translateWrite), then PMBPTR += 64. A record that does not fit below LIMIT<<12: buffer-full
// event (S=1, EC=0, BSC=1), nothing written. A stage 1 fault: S=1, EC=0x24, MSS=FSC; a stage 2 fault: S=1,
// EC=0x25, MSS=FSC; for both PMBPTR = the faulting VA and nothing of the record is written. PMBLIMITR.FM is
// treated as Fill mode whatever its value (the DISCARD encoding is UNCONFIRMED, spec I).
// The service (buffer-management interrupt) line is level-sensitive and equals PMBSR.S; a listener sees each
// change (kvm/spe.ts; or a GIC directly on bare metal).
// PSB CSYNC and DSB: records are written to memory when the sample is taken, so there is never anything
// buffered to drain; `psbCsync()` is a no-op kept so the core has something to call.

import type { CpuMemoryPort, InstructionSampler, RetiredOp, SysregDevice } from './devices';

export const SPE_RECORD_SIZE = 64;
/** PMSIDR_EL1: FE | FT | INTERVAL=0 | MAXSIZE=6 | COUNTSIZE=2 */
export const PMSIDR_EL1_VALUE = 0x1n | 0x2n | (6n << 12n) | (2n << 16n);
/** PMBIDR_EL1: ALIGN=0, P=0, F=0, EA=0 */
export const PMBIDR_EL1_VALUE = 0n;
export const SPE_MIN_INTERVAL = 256;

export const PMBSR_EC_BUF = 0x00;
export const PMBSR_EC_FAULT_S1 = 0x24;
export const PMBSR_EC_FAULT_S2 = 0x25;
export const PMBSR_BSC_FULL = 0x1;
export const PMBSR_S = 1n << 17n;
export const PMBSR_EA = 1n << 18n;
export const PMBSR_DL = 1n << 19n;
export const PMBSR_COLL = 1n << 16n;
export const PMBLIMITR_E = 1n;
export const PMSCR_E0SPE = 1n;
export const PMSCR_E1SPE = 2n;
export const PMSCR_TS = 1n << 5n;

export function pmbsrEc(pmbsr: bigint): number { return Number((pmbsr >> 26n) & 0x3fn); }
export function pmbsrMss(pmbsr: bigint): number { return Number(pmbsr & 0xffffn); }
export function makePmbsr(ec: number, mss: number, extra = 0n): bigint {
  return PMBSR_S | extra | (BigInt(ec & 0x3f) << 26n) | BigInt(mss & 0xffff);
}

// SPE packet headers ([spe_pkt])
export const SPE_HDR_PAD = 0x00;
export const SPE_HDR_END = 0x01;
export const SPE_HDR_TIMESTAMP = 0x71;
export const SPE_HDR_EVENTS_2B = 0x52;
export const SPE_HDR_OP_TYPE = 0x48;
export const SPE_HDR_ADDRESS = 0xb0;
export const SPE_ADDR_INDEX_PC = 0;
export const SPE_ADDR_INDEX_DATA_VA = 2;
export const SPE_OP_CLASS_OTHER = 0;
export const SPE_OP_CLASS_LD_ST = 1;
export const SPE_OP_CLASS_BR = 2;
export const SPE_EV_RETIRED = 1 << 1;

/** PMS* registers (profiling control) — not trapped by KVM unless profiling is stopped (MDCR_EL2.TPMS) */
export const SPE_PROFILING_SYSREGS: readonly string[] = [
  'PMSCR_EL1', 'PMSICR_EL1', 'PMSIRR_EL1', 'PMSFCR_EL1', 'PMSEVFR_EL1', 'PMSLATFR_EL1', 'PMSIDR_EL1',
];
/** buffer control registers — always trapped by KVM in the RFC (MDCR_EL2.E2PB = EL1&0 regime + trap) */
export const SPE_BUFFER_SYSREGS: readonly string[] = ['PMBLIMITR_EL1', 'PMBPTR_EL1', 'PMBSR_EL1'];
export const SPE_SYSREGS: readonly string[] = [...SPE_PROFILING_SYSREGS, ...SPE_BUFFER_SYSREGS, 'PMBIDR_EL1'];

// writable bits (RES0 elsewhere) per spec E.1
const WRITE_MASK: { readonly [name: string]: bigint } = {
  PMSCR_EL1: 0xfbn,                           // E0SPE E1SPE CX PA TS PCT
  PMSICR_EL1: 0xff00_0000_ffff_ffffn,         // COUNT[31:0] ECOUNT[63:56]
  PMSIRR_EL1: 0xffff_ff01n,                   // RND[0] INTERVAL[31:8]
  PMSFCR_EL1: 0x7_0007n,                      // FE FT FL B LD ST
  // v8.2 RES0: GENMASK(47,32) | GENMASK(23,16) | GENMASK(11,8) | bits 6,4,2,0
  PMSEVFR_EL1: ~((0xffffn << 32n) | (0xffn << 16n) | (0xfn << 8n) | 0x55n) & 0xffff_ffff_ffff_ffffn,
  PMSLATFR_EL1: 0xffffn,
  PMBLIMITR_EL1: 0xffff_ffff_ffff_f007n,      // E FM LIMIT
  PMBPTR_EL1: 0xffff_ffff_ffff_ffffn,
  PMBSR_EL1: 0xfc0f_ffffn,                    // MSS COLL S EA DL EC
};

const PAGE = 4096;
const U64 = 0xffff_ffff_ffff_ffffn;

/** Build one 64-byte record for a sampled operation (layout in the header comment). */
export function encodeSpeRecord(op: RetiredOp, timestamp: bigint | null): Uint8Array {
  const rec = new Uint8Array(SPE_RECORD_SIZE);
  let at = 0;
  const put64 = (v: bigint): void => {
    for (let i = 0; i < 8; i++) rec[at++] = Number((v >> BigInt(8 * i)) & 0xffn);
  };
  // PC address packet: NS=1, EL in [62:61], VA[55:0]
  rec[at++] = SPE_HDR_ADDRESS | SPE_ADDR_INDEX_PC;
  put64((op.pc & 0x00ff_ffff_ffff_ffffn) | (BigInt(op.el & 3) << 61n) | (1n << 63n));
  rec[at++] = SPE_HDR_EVENTS_2B;
  rec[at++] = SPE_EV_RETIRED & 0xff;
  rec[at++] = (SPE_EV_RETIRED >> 8) & 0xff;
  const ldst = op.kind === 'load' || op.kind === 'store';
  const cls = ldst ? SPE_OP_CLASS_LD_ST : op.kind === 'branch' ? SPE_OP_CLASS_BR : SPE_OP_CLASS_OTHER;
  rec[at++] = SPE_HDR_OP_TYPE | cls;
  rec[at++] = op.kind === 'store' ? 0x01 : 0x00;
  if (ldst) {
    rec[at++] = SPE_HDR_ADDRESS | SPE_ADDR_INDEX_DATA_VA;
    put64((op.dataVa ?? 0n) & U64);
  }
  if (timestamp !== null) {
    at = SPE_RECORD_SIZE - 9;
    rec[at++] = SPE_HDR_TIMESTAMP;
    put64(timestamp & U64);
  } else {
    rec[SPE_RECORD_SIZE - 1] = SPE_HDR_END;
  }
  return rec;
}

/** Why the unit raised (or dropped) its service line; `pmbsr` is the hardware PMBSR_EL1 after the change. */
export type SpeServiceListener = (level: boolean, pmbsr: bigint) => void;

export interface SpeUnitSnapshot {
  readonly regs: readonly (readonly [string, bigint])[];
  readonly samples: number;
  readonly records: number;
}

export class SpeUnit implements SysregDevice, InstructionSampler {
  readonly sysregs: readonly string[] = SPE_SYSREGS;
  private pmscr = 0n;
  private pmsicr = 0n;
  private pmsirr = 0n;
  private pmsfcr = 0n;
  private pmsevfr = 0n;
  private pmslatfr = 0n;
  private pmblimitr = 0n;
  private pmbptr = 0n;
  private pmbsr = 0n;
  /** PMSICR.COUNT as a number (kept in sync with pmsicr) */
  private count = 0;
  private enabled = false;
  private listener: SpeServiceListener | null = null;
  /** samples taken (interval expiries) and records written, for views and benchmarks */
  samples = 0;
  records = 0;

  constructor(private readonly port: CpuMemoryPort) {}

  /** the buffer-management interrupt request (level-sensitive, = PMBSR.S) */
  get serviceLine(): boolean { return (this.pmbsr & PMBSR_S) !== 0n; }

  setServiceListener(l: SpeServiceListener | null): void { this.listener = l; }

  read(name: string): bigint {
    switch (name) {
      case 'PMSCR_EL1': return this.pmscr;
      case 'PMSICR_EL1': return (this.pmsicr & ~0xffff_ffffn) | BigInt(this.count >>> 0);
      case 'PMSIRR_EL1': return this.pmsirr;
      case 'PMSFCR_EL1': return this.pmsfcr;
      case 'PMSEVFR_EL1': return this.pmsevfr;
      case 'PMSLATFR_EL1': return this.pmslatfr;
      case 'PMSIDR_EL1': return PMSIDR_EL1_VALUE;
      case 'PMBLIMITR_EL1': return this.pmblimitr;
      case 'PMBPTR_EL1': return this.pmbptr;
      case 'PMBSR_EL1': return this.pmbsr;
      case 'PMBIDR_EL1': return PMBIDR_EL1_VALUE;
      default: return 0n;
    }
  }

  write(name: string, value: bigint): void {
    const mask = WRITE_MASK[name];
    if (mask === undefined) return; // PMSIDR / PMBIDR are read-only
    const v = value & mask;
    switch (name) {
      case 'PMSCR_EL1': this.pmscr = v; break;
      case 'PMSICR_EL1': this.pmsicr = v; this.count = Number(v & 0xffff_ffffn); break;
      case 'PMSIRR_EL1': this.pmsirr = v; break;
      case 'PMSFCR_EL1': this.pmsfcr = v; break;
      case 'PMSEVFR_EL1': this.pmsevfr = v; break;
      case 'PMSLATFR_EL1': this.pmslatfr = v; break;
      case 'PMBLIMITR_EL1': this.pmblimitr = v; break;
      case 'PMBPTR_EL1': this.pmbptr = v; break;
      case 'PMBSR_EL1': this.setPmbsr(v); break;
    }
    this.recompute();
  }

  /** PSB CSYNC (and the DSB after it): nothing is ever buffered inside the unit, so there is nothing to drain. */
  psbCsync(): void { /* records are already in memory */ }

  active(): boolean { return this.enabled; }

  onRetire(op: RetiredOp): void {
    if (!this.enabled) return;
    if ((this.pmscr & (op.el === 0 ? PMSCR_E0SPE : PMSCR_E1SPE)) === 0n) return;
    if (this.count === 0) this.count = this.interval();
    this.count -= 1;
    if (this.count !== 0) return;
    this.count = this.interval();
    this.samples++;
    if (!this.passesFilters(op)) return;
    this.writeRecord(op);
  }

  private interval(): number {
    const iv = Number((this.pmsirr >> 8n) & 0xff_ffffn) << 8;
    return Math.max(iv, SPE_MIN_INTERVAL);
  }

  private passesFilters(op: RetiredOp): boolean {
    const fcr = this.pmsfcr;
    if (fcr & 2n) { // FT
      const b = (fcr >> 16n) & 1n, ld = (fcr >> 17n) & 1n, st = (fcr >> 18n) & 1n;
      const ok = (b && op.kind === 'branch') || (ld && op.kind === 'load') || (st && op.kind === 'store');
      if (!ok) return false;
    }
    if (fcr & 1n) { // FE: every selected event must be present
      const events = BigInt(SPE_EV_RETIRED);
      if ((events & this.pmsevfr) !== this.pmsevfr) return false;
    }
    return true;
  }

  private writeRecord(op: RetiredOp): void {
    const limit = this.pmblimitr & ~0xfffn;
    const ptr = this.pmbptr;
    if (ptr > limit || limit - ptr < BigInt(SPE_RECORD_SIZE)) {
      this.raise(makePmbsr(PMBSR_EC_BUF, PMBSR_BSC_FULL));
      return;
    }
    // translate every page the record touches before writing any byte (ALIGN=0 allows unaligned pointers)
    const pieces: { pa: number; off: number; len: number }[] = [];
    let off = 0;
    while (off < SPE_RECORD_SIZE) {
      const va = (ptr + BigInt(off)) & U64;
      const inPage = PAGE - Number(va & BigInt(PAGE - 1));
      const len = Math.min(inPage, SPE_RECORD_SIZE - off);
      const t = this.port.translateWrite(va);
      if ('fault' in t) {
        this.pmbptr = va;
        this.raise(makePmbsr(t.fault === 's1' ? PMBSR_EC_FAULT_S1 : PMBSR_EC_FAULT_S2, t.fsc & 0x3f));
        return;
      }
      pieces.push({ pa: t.pa, off, len });
      off += len;
    }
    const ts = (this.pmscr & PMSCR_TS) !== 0n ? this.port.counter() : null;
    const rec = encodeSpeRecord(op, ts);
    for (const p of pieces) this.port.writePhys(p.pa, rec.subarray(p.off, p.off + p.len));
    this.pmbptr = (ptr + BigInt(SPE_RECORD_SIZE)) & U64;
    this.records++;
  }

  /** a buffer-management event: PMBSR gets the syndrome with S=1 and the service line rises */
  private raise(pmbsr: bigint): void {
    this.setPmbsr(pmbsr);
    this.recompute();
  }

  private setPmbsr(v: bigint): void {
    const was = this.serviceLine;
    this.pmbsr = v;
    const now = this.serviceLine;
    if (was !== now && this.listener) {
      // the listener may write registers back (KVM on guest entry); recompute first so it sees a coherent unit
      this.recompute();
      this.listener(now, v);
    }
  }

  private recompute(): void {
    this.enabled = (this.pmblimitr & PMBLIMITR_E) !== 0n && (this.pmbsr & PMBSR_S) === 0n
      && (this.pmscr & (PMSCR_E0SPE | PMSCR_E1SPE)) !== 0n;
  }

  snapshot(): SpeUnitSnapshot {
    return {
      regs: [
        ['PMSCR_EL1', this.pmscr], ['PMSICR_EL1', this.read('PMSICR_EL1')], ['PMSIRR_EL1', this.pmsirr],
        ['PMSFCR_EL1', this.pmsfcr], ['PMSEVFR_EL1', this.pmsevfr], ['PMSLATFR_EL1', this.pmslatfr],
        ['PMBLIMITR_EL1', this.pmblimitr], ['PMBPTR_EL1', this.pmbptr], ['PMBSR_EL1', this.pmbsr],
      ],
      samples: this.samples,
      records: this.records,
    };
  }

  /** restore without notifying the listener (the listener's own state is restored by its owner) */
  restore(s: SpeUnitSnapshot): void {
    const l = this.listener;
    this.listener = null;
    for (const [n, v] of s.regs) this.write(n, v);
    this.listener = l;
    this.samples = s.samples;
    this.records = s.records;
  }
}
