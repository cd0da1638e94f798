// The guest CPU core: an A64 interpreter for EL1/EL0 with a stage 1 MMU over the VM's stage 2, a combined TLB,
// exceptions to EL1 and exits to KVM (spec C.1–C.3, C.6; LANGUAGE.md "Execution model"; ARCHITECTURE.md
// "Emulated CPU identity"). KVM drives it through `GuestCpu` (kvm/guest.ts); per-CPU devices (SPE, GIC CPU
// interface) plug in through devices.ts.
//
// Hot path (ARCHITECTURE.md "64-bit values"): registers are lo/hi uint32 halves (regs.ts); each instruction is
// decoded once into a closure (interp.ts) cached per physical page and revalidated against the raw word on every
// fetch (so self-modifying code, host writes and snapshot restores need no explicit invalidation); data accesses
// go through a direct-mapped TLB holding the PA page, the stage 1 ∧ stage 2 permissions and the PhysMem chunk.
// Faults unwind the current closure with a sentinel throw: either the exception to EL1 has been entered (PC at the
// vector) or `exit` holds the CpuExit for KVM (PC still at the faulting instruction).

import type { EventSink } from '../events';
import type { CpuExit, GuestCpu, S2Translation, Stage2Lookup } from '../kvm/guest';
import type { PhysMem } from '../memory/physmem';
import type { CpuMemoryPort, InstructionSampler, IrqSource, RetiredOp, SysregDevice } from './devices';
import {
  abortEsr, EC_BRK64, EC_DABT_CUR, EC_DABT_LOW, EC_HVC64, EC_IABT_CUR, EC_IABT_LOW, EC_PC_ALIGN, EC_SMC64,
  EC_SP_ALIGN, EC_SVC64, EC_UNKNOWN, FSC_ALIGNMENT, fscFor, hpfarFor, immEsr, stage2AbortEsr, VEC_CUR_SP0, VEC_CUR_SPX,
  VEC_IRQ, VEC_LOWER_A64, VEC_SERROR, VEC_SYNC, vectorName,
} from './exceptions';
import * as accBits from './exceptions';
import { decodeExec, type Exec } from './interp';
import * as mmuBits from './mmu';
import {
  flatStage1, translateFull, translateStage2, walkStage1, type Access, type Fault, type FullOk, type Regime,
  type WalkStep,
} from './mmu';
import { hiOf, loOf, NSLOTS, toBig } from './regs';
import * as regSlots from './regs';
import { DC_ZVA_BYTES, EL0_READABLE, EL0_WRITABLE, SysregFile, TRANSLATION_REGS, type SysregIdentity } from './sysreg-file';

// Module-level copies of the permission and access-descriptor bits: imported bindings can compile to getter
// calls (CommonJS interop under tsx), which the hot path cannot afford.
const P_R1 = mmuBits.P_R1, P_W1 = mmuBits.P_W1, P_X1 = mmuBits.P_X1, P_DEV = mmuBits.P_DEV, P_S2DEV = mmuBits.P_S2DEV;
const ACC_ALIGN = accBits.ACC_ALIGN, ACC_CM = accBits.ACC_CM, ACC_UNPRIV = accBits.ACC_UNPRIV;
const SP = regSlots.SP;

/** Thrown to unwind an instruction that took an exception or exits to KVM. */
export const UNWIND: unique symbol = Symbol('cpu-unwind');



const TLB_SIZE = 1024;
const TLB_MASK = TLB_SIZE - 1;
const PAGE = 4096;
const TWO32 = 4294967296;

interface CodePage {
  readonly pa: number;
  chunk: Uint8Array | null;
  words: Int32Array | null;
  readonly raw: Int32Array;
  readonly fns: (Exec | undefined)[];
}

export interface CpuOptions {
  readonly index: number;
  readonly mem: PhysMem;
  readonly stage2: Stage2Lookup;
  readonly events: EventSink;
  readonly identity?: SysregIdentity;
  readonly guestExceptions?: 'deliver' | 'stop';
}

export interface DataRange {
  readonly ipaStart: number;
  /** exclusive end */
  readonly ipaEnd: number;
  readonly access: 'read' | 'write' | 'readWrite';
}

export interface Breakpoints {
  readonly pcs?: ReadonlySet<bigint>;
  readonly dataRanges?: readonly DataRange[];
}

export interface DataAccess {
  readonly va: bigint;
  readonly ipa: number;
  readonly pa: number;
  readonly size: number;
  readonly write: boolean;
}

export interface CallFrame {
  readonly callPc: bigint;
  readonly returnAddr: bigint;
}

export interface RegsSnapshot {
  readonly x: readonly bigint[];
  readonly sp: bigint;
  readonly spEl0: bigint;
  readonly spEl1: bigint;
  readonly pc: bigint;
  readonly pstate: bigint;
  readonly el: number;
}

export interface TranslateReport {
  readonly steps: readonly WalkStep[];
  /** stage 2 result for the output IPA (absent when stage 1 faulted) */
  readonly s2?: S2Translation;
  readonly ipa?: number;
  readonly pa?: number;
  readonly fault?: Fault;
}

/** Everything that makes up the CPU's architectural state, as plain data (step-back). */
export interface CpuSnapshot {
  readonly lo: number[];
  readonly hi: number[];
  readonly spBankLo: number[];
  readonly spBankHi: number[];
  readonly pcLo: number;
  readonly pcHi: number;
  readonly nzcv: number;
  readonly el: number;
  readonly spsel: number;
  readonly daif: number;
  readonly sysregs: Record<string, bigint>;
  readonly ticks: number;
  readonly waiting: boolean;
  readonly exclPa: number;
  readonly exclSize: number;
  readonly exclLo: number;
  readonly exclHi: number;
  readonly callStack: { lo: number; hi: number; rlo: number; rhi: number }[];
  readonly pendingStop: CpuExit | null;
  readonly pendingSError: bigint | null;
}

interface Drainable { drain?(): void; psbCsync?(): void }

export class Cpu implements GuestCpu {
  readonly index: number;
  readonly mem: PhysMem;
  readonly stage2: Stage2Lookup;
  readonly events: EventSink;
  guestExceptions: 'deliver' | 'stop';
  readonly sys: SysregFile;

  // ---- architectural state (public for the interpreter closures) ----
  readonly lo = new Uint32Array(NSLOTS);
  readonly hi = new Uint32Array(NSLOTS);
  /** the stack pointer not currently selected: [0] = SP_EL0, [1] = SP_EL1 */
  readonly spBankLo = new Uint32Array(2);
  readonly spBankHi = new Uint32Array(2);
  pcLo = 0;
  pcHi = 0;
  nf = 0; zf = 0; cf = 0; vf = 0;
  el = 1;
  spsel = 1;
  /** D=8 A=4 I=2 F=1 */
  daif = 0xf;
  ticks = 0;

  // ---- per-instruction scratch ----
  jumped = false;
  exit: CpuExit | null = null;
  /** 64-bit load result */
  mlo = 0; mhi = 0;
  /** 1 load, 2 store (for the sampler) */
  accKind = 0;
  /** PA of the last data access (exclusive monitor) */
  accPa = 0;

  // ---- local exclusive monitor (QEMU-like: address + value compare) ----
  exclPa = -1;
  exclSize = 0;
  exclLo = 0;
  exclHi = 0;

  waiting = false;
  /**
   * A load/store or fetch on the non-throwing path (`tryLoad`/`tryStore`/`refetch`) took a stage 2 fault: `exit`
   * holds the abort, the instruction had no architectural effect, and `execute` returns without retiring it.
   */
  private stage2Pending = false;
  private pendingStop: CpuExit | null = null;
  /** set by `requestStop()`: `execute` returns at the next instruction boundary */
  private stopRequested = false;
  /** PC of the last instruction-breakpoint stop (lo/hi), -1 when none: resuming there does not stop again */
  private bpResumeLo = -1;
  private bpResumeHi = -1;
  /** VSESR_EL2 of a pending virtual SError, or null */
  private pendingSError: bigint | null = null;

  // ---- TLB ----
  private readonly tlbVpn = new Float64Array(TLB_SIZE).fill(-1);
  private readonly tlbPa = new Float64Array(TLB_SIZE);
  private readonly tlbIpa = new Float64Array(TLB_SIZE);
  private readonly tlbPerm = new Int32Array(TLB_SIZE);
  private readonly tlbChunk: (Uint8Array | null)[] = new Array<Uint8Array | null>(TLB_SIZE).fill(null);
  private readonly tlbEpoch = new Float64Array(TLB_SIZE);
  /** need-bit shift: 0 at EL1, 3 at EL0 */
  private elShift = 0;
  /** SCTLR_EL1.A */
  private alignCheck = false;
  /** SCTLR_EL1 bits [31:0] (SA, SA0) */
  private sctlrLo = 0;

  // ---- decoded code ----
  private readonly codePages = new Map<number, CodePage>();
  private code: CodePage | null = null;
  private fetchHi = -1;
  private fetchPage = -1;
  private fetchEpoch = -1;

  // ---- hooks ----
  private irqSource: IrqSource | null = null;
  private sampler: InstructionSampler | null = null;
  private bpLo = new Set<number>();
  private bpPcs: ReadonlySet<bigint> = new Set();
  private watch: readonly DataRange[] = [];
  private last: { vaLo: number; vaHi: number; ipa: number; pa: number; size: number; write: boolean } | null = null;
  private readonly calls: { lo: number; hi: number; rlo: number; rhi: number }[] = [];
  /** called on every BL/BLR (push) and RET (pop) with the current shadow-stack depth */
  onBranchLink: ((info: { kind: 'call' | 'return'; depth: number; frame: CallFrame }) => void) | null = null;

  constructor(o: CpuOptions) {
    this.index = o.index;
    this.mem = o.mem;
    this.stage2 = o.stage2;
    this.events = o.events;
    this.guestExceptions = o.guestExceptions ?? 'deliver';
    this.sys = new SysregFile(o.index, o.identity);
    this.reset();
  }

  // =====================================================================================================
  // GuestCpu
  // =====================================================================================================

  getX(n: number): bigint {
    if (n < 0 || n > 31) throw new RangeError(`X${n}`);
    return n === 31 ? 0n : toBig(this.lo[n], this.hi[n]);
  }

  setX(n: number, v: bigint): void {
    if (n < 0 || n > 31) throw new RangeError(`X${n}`);
    if (n === 31) return;
    this.lo[n] = loOf(v);
    this.hi[n] = hiOf(v);
  }

  getPc(): bigint { return toBig(this.pcLo, this.pcHi); }

  setPc(v: bigint): void {
    this.pcLo = loOf(v);
    this.pcHi = hiOf(v);
    this.waiting = false;
  }

  getPstate(): bigint {
    const m = this.el === 0 ? 0 : this.spsel === 0 ? 4 : 5;
    return BigInt((((this.nf << 31) | (this.zf << 30) | (this.cf << 29) | (this.vf << 28) | (this.daif << 6) | m) >>> 0));
  }

  setPstate(v: bigint): void {
    const x = Number(v & 0xffff_ffffn);
    this.nf = (x >>> 31) & 1; this.zf = (x >>> 30) & 1; this.cf = (x >>> 29) & 1; this.vf = (x >>> 28) & 1;
    this.daif = (x >>> 6) & 0xf;
    const m = x & 0xf;
    // EL0t = 0, EL1t = 4, EL1h = 5; anything else (AArch32, EL2/3) is not reachable here: treated as EL1h
    this.switchMode(m === 0 ? 0 : 1, m === 4 ? 0 : 1);
  }

  getSp(el: 0 | 1): bigint {
    return this.currentSpEl() === el ? toBig(this.lo[SP], this.hi[SP]) : toBig(this.spBankLo[el], this.spBankHi[el]);
  }

  setSp(el: 0 | 1, v: bigint): void {
    if (this.currentSpEl() === el) { this.lo[SP] = loOf(v); this.hi[SP] = hiOf(v); } else { this.spBankLo[el] = loOf(v); this.spBankHi[el] = hiOf(v); }
  }

  getSysreg(name: string): bigint {
    const n = name.toUpperCase();
    const v = this.readSysregNamed(n, true);
    if (v === undefined) throw new RangeError(`unknown system register ${name}`);
    return v;
  }

  setSysreg(name: string, v: bigint): void {
    const n = name.toUpperCase();
    if (!this.writeSysregNamed(n, v, true)) throw new RangeError(`unknown or read-only system register ${name}`);
  }

  injectSync(esr: bigint, far: bigint | undefined, cause: 'injected' | 'architectural'): void {
    // KVM's inject_abt64/inject_undef64 (spec C.6): ELR = the faulting PC, SPSR = PSTATE, EL1h, DAIF masked
    const stopped = this.enterEl1(VEC_SYNC, esr, far, this.pcLo, this.pcHi, cause, true);
    if (stopped) { this.pendingStop = this.exit; this.exit = null; }
    this.waiting = false;
  }

  reset(): void {
    this.lo.fill(0); this.hi.fill(0);
    this.spBankLo.fill(0); this.spBankHi.fill(0);
    this.pcLo = 0; this.pcHi = 0;
    this.nf = this.zf = this.cf = this.vf = 0;
    this.el = 1; this.spsel = 1; this.daif = 0xf;
    this.sys.reset();
    this.exclPa = -1;
    this.waiting = false;
    this.pendingStop = null;
    this.pendingSError = null;
    this.calls.length = 0;
    this.configChanged();
  }

  tlbFlush(): void {
    this.tlbVpn.fill(-1);
    this.fetchPage = -1;
  }

  // =====================================================================================================
  // hooks for devices and the debugger
  // =====================================================================================================

  attachSysregDevice(dev: SysregDevice): void { this.sys.attach(dev); }
  setIrqSource(src: IrqSource | null): void { this.irqSource = src; }
  setSampler(s: InstructionSampler | null): void { this.sampler = s; }

  setBreakpoints(b: Breakpoints): void {
    this.bpPcs = new Set(b.pcs ?? []);
    this.bpLo = new Set([...this.bpPcs].map((p) => loOf(p)));
    this.watch = b.dataRanges ?? [];
  }

  get lastDataAccess(): DataAccess | null {
    const l = this.last;
    return l === null ? null : { va: toBig(l.vaLo, l.vaHi), ipa: l.ipa, pa: l.pa, size: l.size, write: l.write };
  }

  /** the shadow call stack (BL/BLR push, RET pops), innermost last */
  callStack(): CallFrame[] {
    return this.calls.map((f) => ({ callPc: toBig(f.lo, f.hi), returnAddr: toBig(f.rlo, f.rhi) }));
  }

  regs(): RegsSnapshot {
    const x: bigint[] = [];
    for (let i = 0; i < 31; i++) x.push(toBig(this.lo[i], this.hi[i]));
    return {
      x, sp: toBig(this.lo[SP], this.hi[SP]), spEl0: this.getSp(0), spEl1: this.getSp(1), pc: this.getPc(),
      pstate: this.getPstate(), el: this.el,
    };
  }

  /** The current EL1&0 translation regime. */
  regime(): Regime {
    const s = this.sys;
    return { sctlr: s.get('SCTLR_EL1'), tcr: s.get('TCR_EL1'), ttbr0: s.get('TTBR0_EL1'), ttbr1: s.get('TTBR1_EL1'), mair: s.get('MAIR_EL1') };
  }

  /** Debugger: walk stage 1 + stage 2 for `va` without side effects, reporting every level. */
  translate(va: bigint, access: Access = 'read'): TranslateReport {
    const steps: WalkStep[] = [];
    const r = translateFull(this.regime(), va, access, this.el, this.mem, this.stage2, steps);
    if (r.ok) return { steps, s2: r.s2, ipa: r.ipa, pa: r.pa };
    const s2 = r.ipa !== undefined ? this.stage2.translate(r.ipa) : undefined;
    return s2 !== undefined ? { steps, s2, ipa: r.ipa, fault: r.fault } : { steps, ipa: r.ipa, fault: r.fault };
  }

  /** Debugger: read guest virtual memory through translation (no TLB fill, no faults); undefined if unmapped. */
  readVirt(va: bigint, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    let done = 0;
    const reg = this.regime();
    while (done < len) {
      const a = BigInt.asUintN(64, va + BigInt(done));
      const s1 = walkStage1(reg, a, 'read', this.mem, this.stage2);
      if (!s1.ok) return undefined;
      const t = this.stage2.translate(s1.ipa);
      if (!t.valid) return undefined;
      const off = Number(a & 0xfffn);
      const n = Math.min(len - done, PAGE - off);
      if (!t.device) out.set(this.mem.readBytes(t.pa, n), done);
      done += n;
    }
    return out;
  }

  /** The port the SPE unit writes its buffer through (stage 1 + stage 2, faults reported, not taken). */
  memoryPort(): CpuMemoryPort {
    return {
      translateWrite: (va: bigint) => {
        const r = translateFull(this.regime(), va, 'write', 1, this.mem, this.stage2);
        if (r.ok) return { pa: r.pa };
        const f = r.fault;
        return { fault: f.stage === 1 ? 's1' : 's2', fsc: fscFor(f.kind, f.level), ipa: f.ipa };
      },
      writePhys: (pa: number, bytes: Uint8Array) => this.mem.writeBytes(pa, bytes),
      counter: () => BigInt(this.ticks),
    };
  }

  snapshot(): CpuSnapshot {
    return {
      lo: Array.from(this.lo), hi: Array.from(this.hi), spBankLo: Array.from(this.spBankLo), spBankHi: Array.from(this.spBankHi),
      pcLo: this.pcLo, pcHi: this.pcHi, nzcv: (this.nf << 3) | (this.zf << 2) | (this.cf << 1) | this.vf,
      el: this.el, spsel: this.spsel, daif: this.daif, sysregs: this.sys.snapshot(), ticks: this.ticks, waiting: this.waiting,
      exclPa: this.exclPa, exclSize: this.exclSize, exclLo: this.exclLo, exclHi: this.exclHi,
      callStack: this.calls.map((f) => ({ ...f })), pendingStop: this.pendingStop, pendingSError: this.pendingSError,
    };
  }

  restore(s: CpuSnapshot): void {
    this.lo.set(s.lo); this.hi.set(s.hi); this.spBankLo.set(s.spBankLo); this.spBankHi.set(s.spBankHi);
    this.pcLo = s.pcLo; this.pcHi = s.pcHi;
    this.nf = (s.nzcv >> 3) & 1; this.zf = (s.nzcv >> 2) & 1; this.cf = (s.nzcv >> 1) & 1; this.vf = s.nzcv & 1;
    this.el = s.el; this.spsel = s.spsel; this.daif = s.daif;
    this.sys.restore(s.sysregs);
    this.ticks = s.ticks; this.waiting = s.waiting;
    this.exclPa = s.exclPa; this.exclSize = s.exclSize; this.exclLo = s.exclLo; this.exclHi = s.exclHi;
    this.calls.length = 0;
    for (const f of s.callStack) this.calls.push({ ...f });
    this.pendingStop = s.pendingStop;
    this.pendingSError = s.pendingSError;
    this.codePages.clear();
    this.configChanged();
  }

  // =====================================================================================================
  // execution
  // =====================================================================================================

  /**
   * Resuming from a debugger stop: the instruction at the current PC runs without its instruction breakpoint
   * firing again (a stop there has already been reported). `clearBreakpointSkip` undoes it (after a restore).
   */
  skipBreakpointHere(): void { this.bpResumeLo = this.pcLo; this.bpResumeHi = this.pcHi; }
  clearBreakpointSkip(): void { this.bpResumeLo = -1; this.bpResumeHi = -1; }

  /** Make a running `execute` return `{kind:'stop'}` at the next instruction boundary (machine stop conditions). */
  requestStop(): void { this.stopRequested = true; }

  execute(budget: number): CpuExit {
    this.stopRequested = false;
    if (this.pendingStop !== null) { const e = this.pendingStop; this.pendingStop = null; return e; }
    this.exit = null;
    if (this.waiting) {
      // WFI wakes on a pending interrupt whatever PSTATE.I says; otherwise the whole budget is idle ticks
      if (this.pendingSError !== null || (this.irqSource !== null && this.irqSource.irqPending())) this.waiting = false;
      else { this.ticks += budget; return { kind: 'wfi' }; }
    }
    let done = 0;
    let first = true;
    // only the instruction a breakpoint stop left us at is exempt, and only as the first one of this call
    const resumeLo = this.bpResumeLo, resumeHi = this.bpResumeHi;
    this.bpResumeLo = -1;
    const mem = this.mem;
    for (;;) {
      try {
        while (done < budget) {
          if (this.pendingSError !== null && (this.daif & 4) === 0) this.takeSError();
          if ((this.daif & 2) === 0 && this.irqSource !== null && this.irqSource.irqPending()) this.takeIrq();
          if (this.bpLo.size !== 0 && this.bpLo.has(this.pcLo) && !(first && this.pcLo === resumeLo && this.pcHi === resumeHi) &&
              this.bpPcs.has(this.getPc())) {
            // remember where we stopped: continuing from here executes this instruction instead of stopping again
            this.bpResumeLo = this.pcLo;
            this.bpResumeHi = this.pcHi;
            return { kind: 'stop', reason: 'instruction breakpoint' };
          }
          if (this.stopRequested) {
            // the machine saw a stop condition (an event emitted by this instruction): stop before the next one
            this.stopRequested = false;
            return { kind: 'stop', reason: 'pause' };
          }
          // ---- fetch ----
          const pcLo = this.pcLo;
          if ((pcLo >>> 12) !== this.fetchPage || this.pcHi !== this.fetchHi || mem.epoch !== this.fetchEpoch) {
            if (!this.refetch()) { this.stage2Pending = false; return this.exit!; }
          }
          const cp = this.code!;
          const idx = (pcLo & 0xfff) >>> 2;
          const w = cp.words !== null ? cp.words[idx] : mem.read32(cp.pa + idx * 4) | 0;
          let fn = cp.fns[idx];
          if (fn === undefined || cp.raw[idx] !== w) {
            fn = decodeExec(w);
            cp.fns[idx] = fn;
            cp.raw[idx] = w;
          }
          // ---- execute ----
          this.jumped = false;
          const sampling = this.sampler !== null && this.sampler.active();
          if (sampling) this.accKind = 0;
          fn(this);
          // a stage 2 abort raised without unwinding: same outcome as the UNWIND catch below (not retired)
          if (this.stage2Pending) { this.stage2Pending = false; return this.exit!; }
          if (!this.jumped) {
            const n = pcLo + 4;
            if (n >= TWO32) { this.pcLo = 0; this.pcHi = (this.pcHi + 1) >>> 0; } else this.pcLo = n;
          }
          done++;
          this.ticks++;
          first = false;
          if (sampling) this.retire(pcLo);
          if (this.exit !== null) return this.exit;
        }
        return { kind: 'budget' };
      } catch (e) {
        if (e !== UNWIND) throw e;
        const ex = this.exit as CpuExit | null;
        if (ex !== null) {
          // stage 2 abort / guest-exception stop: the instruction did not retire; a stop counts as a step
          if (ex.kind === 'guest-exception') this.ticks++;
          return ex;
        }
        // an exception was taken to EL1: that instruction counts as a step (so fault loops end with the budget)
        done++;
        this.ticks++;
        first = false;
      }
    }
  }

  private retire(pcLo: number): void {
    const last = this.last;
    // exits (HVC/SMC/WFI) also move PC but are not branches
    const kind: RetiredOp['kind'] = this.accKind === 1 ? 'load' : this.accKind === 2 ? 'store' : this.jumped && this.exit === null ? 'branch' : 'other';
    const op: RetiredOp = kind === 'load' || kind === 'store'
      ? { pc: toBig(pcLo, this.pcHi), el: this.el, kind, dataVa: last !== null ? toBig(last.vaLo, last.vaHi) : undefined }
      : { pc: toBig(pcLo, this.pcHi), el: this.el, kind };
    this.sampler!.onRetire(op);
  }

  /**
   * Fetch the page holding PC: translate for execute (stage 1 faults taken here) and find its decoded-code page.
   * Returns false when the fetch took a stage 2 fault (`exit` holds the instruction abort for KVM).
   */
  private refetch(): boolean {
    const lo = this.pcLo, hi = this.pcHi;
    if ((lo & 3) !== 0) {
      // PC alignment fault (EC 0x22), FAR = PC
      this.syncException(immEsr(EC_PC_ALIGN), toBig(lo, hi), true);
    }
    const fpa = this.xlate(lo, hi, 2, 4, 0, true);
    if (fpa < 0) return false;
    const pa = fpa - (lo & 0xfff);
    let cp = this.codePages.get(pa);
    if (cp === undefined) {
      if (this.codePages.size > 4096) this.codePages.clear();
      cp = { pa, chunk: null, words: null, raw: new Int32Array(1024), fns: new Array<Exec | undefined>(1024) };
      this.codePages.set(pa, cp);
    }
    const cfn = pa / PAGE;
    if (this.mem.isTouched(cfn)) {
      const ch = this.mem.chunkForRead(cfn);
      if (cp.chunk !== ch) {
        cp.chunk = ch;
        cp.words = (ch.byteOffset & 3) === 0 ? new Int32Array(ch.buffer, ch.byteOffset, 1024) : null;
      }
    } else {
      // untouched memory: a later first write allocates a chunk without an epoch change, so read through PhysMem
      cp.chunk = null;
      cp.words = null;
    }
    this.code = cp;
    this.fetchPage = lo >>> 12;
    this.fetchHi = hi;
    this.fetchEpoch = this.mem.epoch;
    return true;
  }

  // =====================================================================================================
  // memory access (called by the interpreter closures)
  // =====================================================================================================

  /**
   * Translate one access of `size` bytes at hi:lo. access: 0 read, 1 write, 2 exec. Returns the PA.
   * With `deferS2`, a stage 2 fault does not unwind: it sets `exit` and `stage2Pending` and returns -1, and the
   * caller must return without any architectural effect. Why: a stage 2 fault is the common way out of the guest
   * (every fault-in), and a JS throw costs microseconds (V8 builds a message object with the source location).
   */
  xlate(lo: number, hi: number, access: number, size: number, acc: number, deferS2 = false): number {
    if (access !== 2 && (lo & (size - 1)) !== 0 && ((acc & ACC_ALIGN) !== 0 || this.alignCheck)) {
      this.alignmentFault(lo, hi, access === 1, acc);
    }
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    const vpn = hi * 1048576 + (lo >>> 12);
    if (this.tlbVpn[i] === vpn) {
      const perm = this.tlbPerm[i];
      const need = (access === 0 ? P_R1 : access === 1 ? P_W1 : P_X1) << ((acc & ACC_UNPRIV) !== 0 ? 3 : this.elShift);
      if ((perm & need) !== 0 && (access === 2 || (perm & P_DEV) === 0 || (lo & (size - 1)) === 0)) {
        return this.tlbPa[i] + (lo & 0xfff);
      }
    }
    return this.xlateSlow(lo, hi, access, size, acc, deferS2);
  }

  private xlateSlow(lo: number, hi: number, access: number, size: number, acc: number, deferS2: boolean): number {
    const kind: Access = access === 0 ? 'read' : access === 1 ? 'write' : 'exec';
    const el = (acc & ACC_UNPRIV) !== 0 ? 0 : this.el;
    // MMU off (SCTLR_EL1.M = 0, mirrored in sctlrLo) and VA < 2^48: the flat stage 1 without BigInt or the regime
    const r = (this.sctlrLo & 1) === 0 && hi < 0x10000
      ? translateStage2(flatStage1(hi * TWO32 + lo, kind), kind, el, this.stage2)
      : translateFull(this.regime(), toBig(lo, hi), kind, el, this.mem, this.stage2);
    if (!r.ok) {
      if (deferS2 && r.fault.stage === 2) {
        this.exit = this.stage2Abort(r.fault, lo, hi, access, acc);
        this.stage2Pending = true;
        return -1;
      }
      this.translationFault(r.fault, lo, hi, access, acc);
    }
    if (access !== 2 && (r.perms & P_DEV) !== 0 && (lo & (size - 1)) !== 0) this.alignmentFault(lo, hi, access === 1, acc);
    this.fill(lo, hi, r);
    return r.pa;
  }

  private fill(lo: number, hi: number, r: FullOk): void {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    const off = lo & 0xfff;
    this.tlbVpn[i] = hi * 1048576 + (lo >>> 12);
    this.tlbPa[i] = r.pa - off;
    this.tlbIpa[i] = r.ipa - off;
    this.tlbPerm[i] = r.perms;
    const cfn = (r.pa - off) / PAGE;
    this.tlbChunk[i] = this.mem.isTouched(cfn) ? this.mem.chunkForRead(cfn) : null;
    this.tlbEpoch[i] = this.mem.epoch;
  }

  /** Load `size` (1,2,4,8) bytes; result in mlo (and mhi for 8). Faults unwind. */
  load(lo: number, hi: number, size: number, acc: number): void {
    this.loadData(lo, hi, size, acc, false);
  }

  /**
   * `load`, except that a stage 2 fault returns false (with `exit` set) instead of unwinding: the caller must then
   * return at once, leaving registers untouched (the execute loop reports the abort).
   */
  tryLoad(lo: number, hi: number, size: number, acc: number): boolean {
    return this.loadData(lo, hi, size, acc, true);
  }

  private loadData(lo: number, hi: number, size: number, acc: number, deferS2: boolean): boolean {
    const off = lo & 0xfff;
    if (off + size <= PAGE) {
      const i = ((lo >>> 12) ^ hi) & TLB_MASK;
      // fast path: TLB hit, readable, a cached live chunk, and no alignment rule that could fire
      if (this.tlbVpn[i] === hi * 1048576 + (lo >>> 12)) {
        const perm = this.tlbPerm[i];
        const ch = this.tlbChunk[i];
        if ((perm & (P_R1 << ((acc & ACC_UNPRIV) !== 0 ? 3 : this.elShift))) !== 0 && (perm & P_S2DEV) === 0 && ch !== null && this.tlbEpoch[i] === this.mem.epoch &&
          ((lo & (size - 1)) === 0 || ((perm & P_DEV) === 0 && (acc & ACC_ALIGN) === 0 && !this.alignCheck))) {
          if (size === 8) {
            this.mlo = (ch[off] | (ch[off + 1] << 8) | (ch[off + 2] << 16) | (ch[off + 3] << 24)) >>> 0;
            this.mhi = (ch[off + 4] | (ch[off + 5] << 8) | (ch[off + 6] << 16) | (ch[off + 7] << 24)) >>> 0;
          } else if (size === 4) {
            this.mlo = (ch[off] | (ch[off + 1] << 8) | (ch[off + 2] << 16) | (ch[off + 3] << 24)) >>> 0; this.mhi = 0;
          } else if (size === 2) {
            this.mlo = ch[off] | (ch[off + 1] << 8); this.mhi = 0;
          } else {
            this.mlo = ch[off]; this.mhi = 0;
          }
          this.noteAccess(lo, hi, this.tlbIpa[i] + off, this.tlbPa[i] + off, size, false);
          return true;
        }
      }
      const pa = this.xlate(lo, hi, 0, size, acc, deferS2);
      if (pa < 0) return false;
      const perm = this.tlbPerm[i];
      if ((perm & P_S2DEV) !== 0) { this.mlo = 0; this.mhi = 0; }
      else {
        const cfn = Math.floor(pa / PAGE);
        let ch = this.tlbChunk[i];
        if (ch === null || this.tlbEpoch[i] !== this.mem.epoch) {
          ch = this.mem.chunkForRead(cfn);
          if (this.mem.isTouched(cfn)) { this.tlbChunk[i] = ch; this.tlbEpoch[i] = this.mem.epoch; }
        }
        switch (size) {
          case 1: this.mlo = ch[off]; this.mhi = 0; break;
          case 2: this.mlo = ch[off] | (ch[off + 1] << 8); this.mhi = 0; break;
          case 4: this.mlo = (ch[off] | (ch[off + 1] << 8) | (ch[off + 2] << 16) | (ch[off + 3] << 24)) >>> 0; this.mhi = 0; break;
          default:
            this.mlo = (ch[off] | (ch[off + 1] << 8) | (ch[off + 2] << 16) | (ch[off + 3] << 24)) >>> 0;
            this.mhi = (ch[off + 4] | (ch[off + 5] << 8) | (ch[off + 6] << 16) | (ch[off + 7] << 24)) >>> 0;
        }
      }
      this.noteAccess(lo, hi, this.tlbIpa[i] + off, pa, size, false);
      return true;
    }
    // crosses a page: translate both pages before reading
    const first = PAGE - off;
    const pa1 = this.xlate(lo, hi, 0, size, acc, deferS2);
    if (pa1 < 0) return false;
    const ipa1 = this.tlbIpa[((lo >>> 12) ^ hi) & TLB_MASK] + off;
    const lo2 = (lo + first) >>> 0, hi2 = lo2 < lo ? (hi + 1) >>> 0 : hi;
    const pa2 = this.xlate(lo2, hi2, 0, 1, acc, deferS2);
    if (pa2 < 0) return false;
    let l = 0, h = 0;
    for (let k = 0; k < size; k++) {
      const b = this.mem.read8(k < first ? pa1 + k : pa2 + (k - first));
      if (k < 4) l |= b << (8 * k); else h |= b << (8 * (k - 4));
    }
    this.mlo = l >>> 0; this.mhi = h >>> 0;
    this.noteAccess(lo, hi, ipa1, pa1, size, false);
    return true;
  }

  /** Store the low `size` bytes of vhi:vlo. Faults unwind. */
  store(lo: number, hi: number, size: number, vlo: number, vhi: number, acc: number): void {
    this.storeData(lo, hi, size, vlo, vhi, acc, false);
  }

  /** `store`, except that a stage 2 fault returns false (with `exit` set) and nothing is written (see tryLoad). */
  tryStore(lo: number, hi: number, size: number, vlo: number, vhi: number, acc: number): boolean {
    return this.storeData(lo, hi, size, vlo, vhi, acc, true);
  }

  private storeData(lo: number, hi: number, size: number, vlo: number, vhi: number, acc: number, deferS2: boolean): boolean {
    const off = lo & 0xfff;
    if (off + size <= PAGE) {
      const pa = this.xlate(lo, hi, 1, size, acc, deferS2);
      if (pa < 0) return false;
      const i = ((lo >>> 12) ^ hi) & TLB_MASK;
      if ((this.tlbPerm[i] & P_S2DEV) === 0) {
        const ch = this.mem.chunkForWrite(Math.floor(pa / PAGE));
        if (this.tlbChunk[i] !== ch) { this.tlbChunk[i] = ch; this.tlbEpoch[i] = this.mem.epoch; }
        ch[off] = vlo;
        if (size >= 2) ch[off + 1] = vlo >>> 8;
        if (size >= 4) { ch[off + 2] = vlo >>> 16; ch[off + 3] = vlo >>> 24; }
        if (size === 8) { ch[off + 4] = vhi; ch[off + 5] = vhi >>> 8; ch[off + 6] = vhi >>> 16; ch[off + 7] = vhi >>> 24; }
      }
      this.noteAccess(lo, hi, this.tlbIpa[i] + off, pa, size, true);
      return true;
    }
    const first = PAGE - off;
    const pa1 = this.xlate(lo, hi, 1, size, acc, deferS2);
    if (pa1 < 0) return false;
    const ipa1 = this.tlbIpa[((lo >>> 12) ^ hi) & TLB_MASK] + off;
    const lo2 = (lo + first) >>> 0, hi2 = lo2 < lo ? (hi + 1) >>> 0 : hi;
    const pa2 = this.xlate(lo2, hi2, 1, 1, acc, deferS2);
    if (pa2 < 0) return false;
    for (let k = 0; k < size; k++) {
      const b = k < 4 ? (vlo >>> (8 * k)) & 0xff : (vhi >>> (8 * (k - 4))) & 0xff;
      this.mem.write8(k < first ? pa1 + k : pa2 + (k - first), b);
    }
    this.noteAccess(lo, hi, ipa1, pa1, size, true);
    return true;
  }

  private noteAccess(lo: number, hi: number, ipa: number, pa: number, size: number, write: boolean): void {
    this.accKind = write ? 2 : 1;
    this.accPa = pa;
    let l = this.last;
    if (l === null) l = this.last = { vaLo: lo, vaHi: hi, ipa, pa, size, write };
    else { l.vaLo = lo; l.vaHi = hi; l.ipa = ipa; l.pa = pa; l.size = size; l.write = write; }
    if (this.watch.length !== 0) {
      for (const w of this.watch) {
        if (ipa < w.ipaEnd && ipa + size > w.ipaStart && (w.access === 'readWrite' || (w.access === 'write') === write)) {
          // data breakpoints stop after the access completes (the instruction finishes)
          this.exit = { kind: 'stop', reason: 'data breakpoint' };
        }
      }
    }
  }

  /** DC ZVA: zero the 64-byte block (a store for permissions and syndromes: CM=0, WnR=1; ISV=0) */
  dcZva(lo: number, hi: number): void {
    const blo = (lo & ~(DC_ZVA_BYTES - 1)) >>> 0;
    const pa = this.xlate(blo, hi, 1, DC_ZVA_BYTES, 0);
    const i = ((blo >>> 12) ^ hi) & TLB_MASK;
    // Device memory (and every data access with the MMU off) takes an alignment fault (LANGUAGE.md)
    if ((this.tlbPerm[i] & P_DEV) !== 0) this.alignmentFault(lo, hi, true, 0);
    if ((this.tlbPerm[i] & P_S2DEV) === 0) this.mem.fill(pa, DC_ZVA_BYTES, 0);
    this.noteAccess(blo, hi, this.tlbIpa[i] + (blo & 0xfff), pa, DC_ZVA_BYTES, true);
  }

  /** DC CIVAC/CVAC/IVAC: translation only (caches are not modelled); faults carry CM=1 */
  dcByVa(lo: number, hi: number): void {
    this.xlate(lo, hi, 0, 1, ACC_CM);
  }

  /** AT S1E1R/W, S1E0R/W: stage 1 only; PAR_EL1 gets the IPA or F=1 with FST. A stage 2 fault on the walk exits. */
  at(lo: number, hi: number, write: boolean, el0: boolean): void {
    const r = walkStage1(this.regime(), toBig(lo, hi), write ? 'write' : 'read', this.mem, this.stage2);
    if (!r.ok) {
      const f: Fault = r.fault;
      if (f.stage === 2) this.translationFault(f, lo, hi, write ? 1 : 0, ACC_CM);
      this.sys.set('PAR_EL1', BigInt((fscFor(f.kind, f.level) << 1) | 1));
      return;
    }
    const need = (write ? P_W1 : P_R1) << (el0 ? 3 : 0);
    if ((r.perms & need) === 0) {
      this.sys.set('PAR_EL1', BigInt((fscFor('permission', r.level) << 1) | 1));
      return;
    }
    const page = BigInt(r.ipa) & 0x0000_ffff_ffff_f000n;
    this.sys.set('PAR_EL1', (BigInt(r.attr) << 56n) | page | BigInt(r.sh << 7) | (1n << 11n));
  }

  // =====================================================================================================
  // faults and exceptions
  // =====================================================================================================

  private alignmentFault(lo: number, hi: number, write: boolean, acc: number): never {
    const ec = this.el === 0 ? EC_DABT_LOW : EC_DABT_CUR;
    const cm = (acc & ACC_CM) !== 0;
    const esr = abortEsr({ ec, fsc: FSC_ALIGNMENT, wnr: write || cm, cm });
    this.syncException(esr, toBig(lo, hi), true);
  }

  /** Raise the fault a translation found: stage 1 to EL1, stage 2 as an exit to KVM (spec C.1, C.3). */
  translationFault(f: Fault, lo: number, hi: number, access: number, acc: number): never {
    if (f.stage === 1) {
      const cm = (acc & ACC_CM) !== 0;
      const ec = access === 2 ? (this.el === 0 ? EC_IABT_LOW : EC_IABT_CUR) : (this.el === 0 ? EC_DABT_LOW : EC_DABT_CUR);
      this.syncException(abortEsr({ ec, fsc: fscFor(f.kind, f.level), wnr: access === 1 || cm, cm }), toBig(lo, hi), true);
    }
    this.exit = this.stage2Abort(f, lo, hi, access, acc);
    throw UNWIND;
  }

  /** The exit to KVM for a stage 2 fault (spec C.1, C.3): ESR_EL2, FAR_EL2, HPFAR_EL2. */
  private stage2Abort(f: Fault, lo: number, hi: number, access: number, acc: number): CpuExit {
    const cm = (acc & ACC_CM) !== 0;
    // the guest is always below EL2, so EC is the "lower EL" class; the hardware reports the walk's own access
    // for S1PTW (a read: no HAFDBS); CM faults read as writes (C.1); ISV never for S1PTW
    const esr = stage2AbortEsr(access === 2, fscFor(f.kind, f.level), cm || (!f.s1ptw && access === 1), f.s1ptw, cm, f.s1ptw ? 0 : acc);
    return { kind: access === 2 ? 'iabt' : 'dabt', esr, far: toBig(lo, hi), hpfar: hpfarFor(f.ipa ?? 0) };
  }

  /** SCTLR_EL1.SA (EL1) / SA0 (EL0): is SP alignment checked at the current EL? */
  spAlignChecked(): boolean {
    return ((this.sctlrLo >>> (this.el === 0 ? 4 : 3)) & 1) === 1;
  }

  /** SP alignment fault: EC 0x26, FAR not written */
  spAlignmentFault(): never {
    this.syncException(immEsr(EC_SP_ALIGN), undefined, true);
  }

  /** UNDEFINED instruction: EC 0x00 to EL1 */
  undefined(): never {
    this.syncException(immEsr(EC_UNKNOWN), undefined, true);
  }

  svc(imm: number): never {
    // preferred return address of SVC is the next instruction
    const n = this.pcLo + 4;
    const lo = n >>> 0, hi = n >= TWO32 ? (this.pcHi + 1) >>> 0 : this.pcHi;
    this.enterEl1(VEC_SYNC, immEsr(EC_SVC64, imm), undefined, lo, hi, 'architectural', false);
    throw UNWIND;
  }

  brk(imm: number): never {
    this.enterEl1(VEC_SYNC, immEsr(EC_BRK64, imm), undefined, this.pcLo, this.pcHi, 'architectural', false);
    throw UNWIND;
  }

  hvc(imm: number): void {
    if (this.el === 0) this.undefined();
    // HVC exits with PC already at the next instruction (spec D.2)
    const n = this.pcLo + 4;
    this.pcLo = n >>> 0;
    if (n >= TWO32) this.pcHi = (this.pcHi + 1) >>> 0;
    this.jumped = true;
    this.exit = { kind: 'hvc', esr: immEsr(EC_HVC64, imm), imm };
  }

  smc(imm: number): void {
    if (this.el === 0) this.undefined();
    // HCR_EL2.TSC: SMC traps before executing; PC stays at the SMC (spec D.2)
    this.jumped = true;
    this.exit = { kind: 'smc', esr: immEsr(EC_SMC64, imm), imm };
  }

  wfi(): void {
    if (this.irqSource !== null && this.irqSource.irqPending()) return; // completes at once
    this.waiting = true;
    this.exit = { kind: 'wfi' };
  }

  eret(): void {
    if (this.el === 0) this.undefined();
    const spsr = this.sys.get('SPSR_EL1');
    const elr = this.sys.get('ELR_EL1');
    this.setPstate(spsr);
    this.pcLo = loOf(elr); this.pcHi = hiOf(elr);
    this.jumped = true;
    this.exclPa = -1;
  }

  /** Synchronous exception to EL1 for an abort / UNDEFINED / alignment fault (stoppable), then unwind. */
  private syncException(esr: bigint, far: bigint | undefined, stoppable: boolean): never {
    this.enterEl1(VEC_SYNC, esr, far, this.pcLo, this.pcHi, 'architectural', stoppable);
    throw UNWIND;
  }

  private takeSError(): void {
    const esr = BigInt((((0x2f << 26) | (1 << 25)) >>> 0)) | (this.pendingSError! & 0x1ff_ffffn);
    this.pendingSError = null;
    this.waiting = false;
    if (this.enterEl1(VEC_SERROR, esr, undefined, this.pcLo, this.pcHi, 'injected', true)) throw UNWIND;
  }

  private takeIrq(): void {
    this.waiting = false;
    this.enterEl1(VEC_IRQ, 0n, undefined, this.pcLo, this.pcHi, 'architectural', false);
  }

  /**
   * Take an exception to EL1 (C.6), or with `guest_exceptions stop` and a stoppable cause, leave the state alone
   * and set `exit` to the guest-exception stop. Returns true when stopped.
   */
  private enterEl1(kind: number, esr: bigint, far: bigint | undefined, elrLo: number, elrHi: number, cause: 'injected' | 'architectural', stoppable: boolean): boolean {
    const vector = vectorName(kind);
    const elr = toBig(elrLo, elrHi);
    this.events.emit('guest-exception', { vector, esr, far: far ?? 0n, elr, cause }, this.index);
    if (stoppable && this.guestExceptions === 'stop') {
      this.exit = { kind: 'guest-exception', esr, far: far ?? 0n, elr, vector, cause };
      return true;
    }
    const base = this.el === 0 ? VEC_LOWER_A64 : this.spsel === 0 ? VEC_CUR_SP0 : VEC_CUR_SPX;
    this.sys.set('SPSR_EL1', this.getPstate());
    this.sys.set('ELR_EL1', elr);
    if (kind === VEC_SYNC || kind === VEC_SERROR) this.sys.set('ESR_EL1', esr);
    if (far !== undefined) this.sys.set('FAR_EL1', far);
    this.switchMode(1, 1);
    this.daif = 0xf;
    this.exclPa = -1;
    const target = BigInt.asUintN(64, this.sys.get('VBAR_EL1') + BigInt(base + kind));
    this.pcLo = loOf(target); this.pcHi = hiOf(target);
    this.jumped = true;
    return false;
  }

  private currentSpEl(): 0 | 1 {
    return this.el === 0 || this.spsel === 0 ? 0 : 1;
  }

  /** Change EL / SPSel, swapping the banked stack pointers. */
  switchMode(el: number, spsel: number): void {
    const before = this.currentSpEl();
    const elChanged = el !== this.el;
    this.el = el;
    this.spsel = spsel;
    const after = this.currentSpEl();
    if (before !== after) {
      this.spBankLo[before] = this.lo[SP]; this.spBankHi[before] = this.hi[SP];
      this.lo[SP] = this.spBankLo[after]; this.hi[SP] = this.spBankHi[after];
    }
    if (elChanged) {
      this.elShift = el === 0 ? 3 : 0;
      this.fetchPage = -1;
    }
  }

  private configChanged(): void {
    this.alignCheck = (this.sys.get('SCTLR_EL1') & 2n) !== 0n;
    this.sctlrLo = Number(this.sys.get('SCTLR_EL1') & 0xffff_ffffn);
    this.elShift = this.el === 0 ? 3 : 0;
    this.tlbFlush();
  }

  // =====================================================================================================
  // system registers from the guest (MRS/MSR) and the host
  // =====================================================================================================

  /** MRS from the guest: UNDEFINED when unknown or not accessible at the current EL. */
  mrs(name: string): bigint {
    if (this.el === 0 && !EL0_READABLE.has(name)) this.undefined();
    const v = this.readSysregNamed(name, false);
    if (v === undefined) this.undefined();
    return v;
  }

  msr(name: string, v: bigint): void {
    if (this.el === 0 && !EL0_WRITABLE.has(name)) this.undefined();
    if (!this.writeSysregNamed(name, v, false)) this.undefined();
  }

  private readSysregNamed(n: string, host: boolean): bigint | undefined {
    switch (n) {
      case 'NZCV': return BigInt(((this.nf << 31) | (this.zf << 30) | (this.cf << 29) | (this.vf << 28)) >>> 0);
      case 'DAIF': return BigInt(this.daif << 6);
      case 'SPSEL': return BigInt(this.spsel);
      case 'CURRENTEL': return BigInt(this.el << 2);
      case 'SP_EL0': return this.getSp(0);
      case 'SP_EL1': return host ? this.getSp(1) : undefined; // SP_EL1 is an EL2 register
      case 'CNTVCT_EL0': case 'CNTPCT_EL0': return BigInt(this.ticks);
      // TVAL views: the signed 32-bit distance from the counter to CVAL (timer interrupts are not modelled)
      case 'CNTV_TVAL_EL0': return BigInt.asUintN(32, this.sys.get('CNTV_CVAL_EL0') - BigInt(this.ticks));
      case 'CNTP_TVAL_EL0': return BigInt.asUintN(32, this.sys.get('CNTP_CVAL_EL0') - BigInt(this.ticks));
      case 'ISR_EL1': return this.irqSource !== null && this.irqSource.irqPending() ? 0x80n : 0n;
      case 'PC': return this.getPc();
      default: {
        if (!host && /_EL2$/.test(n)) return undefined;
        return this.sys.read(n);
      }
    }
  }

  private writeSysregNamed(n: string, v: bigint, host: boolean): boolean {
    switch (n) {
      case 'NZCV': {
        const x = Number((v >> 28n) & 0xfn);
        this.nf = (x >> 3) & 1; this.zf = (x >> 2) & 1; this.cf = (x >> 1) & 1; this.vf = x & 1;
        return true;
      }
      case 'DAIF': this.daif = Number((v >> 6n) & 0xfn); return true;
      case 'SPSEL': this.switchMode(this.el, Number(v & 1n)); return true;
      case 'SP_EL0': this.setSp(0, v); return true;
      case 'SP_EL1': if (!host) return false; this.setSp(1, v); return true;
      case 'PC': if (!host) return false; this.setPc(v); return true;
      case 'CNTV_TVAL_EL0': this.sys.set('CNTV_CVAL_EL0', BigInt(this.ticks) + BigInt.asIntN(32, v)); return true;
      case 'CNTP_TVAL_EL0': this.sys.set('CNTP_CVAL_EL0', BigInt(this.ticks) + BigInt.asIntN(32, v)); return true;
      default: {
        if (!host && /_EL2$/.test(n)) return false;
        const ok = host ? this.sys.hostWrite(n, v) : this.sys.write(n, v);
        if (ok && TRANSLATION_REGS.has(n)) this.configChanged();
        return ok;
      }
    }
  }

  /** PSB CSYNC: the profiling unit drains its pending records */
  psbCsync(): void {
    const s = this.sampler as (InstructionSampler & Drainable) | null;
    if (s === null) return;
    if (s.drain) s.drain(); else if (s.psbCsync) s.psbCsync();
  }

  /** Let `ticks` pass without executing (a powered-off vcpu inside KVM_RUN: kvm/run.ts RunnableCpu). */
  idle(ticks: number): void {
    this.ticks += ticks;
  }

  /**
   * HCR_EL2.VSE: a virtual SError is pending with VSESR_EL2 = vsesr; taken (vector +0x180, ESR_EL1 = EC 0x2F with
   * ISS = VSESR_EL2[24:0]) before the next instruction once PSTATE.A is 0 (kvm/run.ts RunnableCpu).
   */
  pendSError(vsesr: bigint): void {
    this.pendingSError = vsesr;
  }

  // ---- shadow call stack ----
  pushCall(retLo: number, retHi: number): void {
    if (this.calls.length >= 4096) this.calls.shift();
    const f = { lo: this.pcLo, hi: this.pcHi, rlo: retLo, rhi: retHi };
    this.calls.push(f);
    if (this.onBranchLink) this.onBranchLink({ kind: 'call', depth: this.calls.length, frame: { callPc: toBig(f.lo, f.hi), returnAddr: toBig(retLo, retHi) } });
  }

  popCall(tlo: number, thi: number): void {
    // pop to the frame whose return address is the RET target (longjmp-like returns unwind several frames)
    for (let k = this.calls.length - 1; k >= 0; k--) {
      const f = this.calls[k];
      if (f.rlo === tlo && f.rhi === thi) {
        this.calls.length = k;
        if (this.onBranchLink) this.onBranchLink({ kind: 'return', depth: k, frame: { callPc: toBig(f.lo, f.hi), returnAddr: toBig(tlo, thi) } });
        return;
      }
    }
  }
}
