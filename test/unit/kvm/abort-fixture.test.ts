// Shared fakes for the exit-handling tests (abort, mmio, inject, hypercalls, psci, mmio-guard): a small GuestCpu,
// and an ExitVm over the real Stage2PageTable with memslots and backings laid out like host-memory.ts does.
// Named *.test.ts only to stay inside the test paths this module owns; it declares no tests.
import { PhysMem } from '../../../emulator/memory/physmem';
import { TablePool } from '../../../emulator/memory/table-pool';
import { EventLog, type EventKind, type TraceEvent } from '../../../emulator/events';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import { Stage2PageTable } from '../../../emulator/kvm/pgtable/stage2-pgtable';
import type { CpuExit, GuestCpu } from '../../../emulator/kvm/guest';
import {
  newRatelimitState, type ExitBacking, type ExitMemslot, type ExitVcpuInfo, type ExitVm, type RatelimitState,
} from '../../../emulator/kvm/exit-context';
import { abortEsr, ipaToHpfar, ESR_ELx_EC_DABT_LOW, ESR_ELx_EC_IABT_LOW, type AbortSyndrome } from '../../../emulator/arch/esr';
import type { AbortExit } from '../../../emulator/kvm/abort';

export const PSTATE_EL1H = 0x3c5n;   // DAIF masked, EL1h
export const PSTATE_EL0T = 0x0n;
export const VBAR = 0xffff_0000_0000_0000n;

export class FakeCpu implements GuestCpu {
  x: bigint[] = new Array<bigint>(31).fill(0n);
  pc = 0x4000_1000n;
  pstate = PSTATE_EL1H;
  sysregs = new Map<string, bigint>([['VBAR_EL1', VBAR]]);
  ticks = 0;
  injected: { esr: bigint; far: bigint | undefined; cause: string; pc: bigint }[] = [];

  constructor(readonly index: number) {}

  getX(n: number): bigint { return n === 31 ? 0n : this.x[n]; }
  setX(n: number, v: bigint): void { if (n !== 31) this.x[n] = BigInt.asUintN(64, v); }
  getPc(): bigint { return this.pc; }
  setPc(v: bigint): void { this.pc = v; }
  getPstate(): bigint { return this.pstate; }
  setPstate(v: bigint): void { this.pstate = v; }
  getSp(el: 0 | 1): bigint { return this.sysregs.get(`SP_EL${el}`) ?? 0n; }
  setSp(el: 0 | 1, v: bigint): void { this.sysregs.set(`SP_EL${el}`, v); }
  getSysreg(name: string): bigint { return this.sysregs.get(name) ?? 0n; }
  setSysreg(name: string, v: bigint): void { this.sysregs.set(name, v); }
  injectSync(esr: bigint, far: bigint | undefined, cause: 'injected' | 'architectural'): void {
    this.injected.push({ esr, far, cause, pc: this.pc });
    this.sysregs.set('ESR_EL1', esr);
    if (far !== undefined) this.sysregs.set('FAR_EL1', far);
    this.sysregs.set('ELR_EL1', this.pc);
    this.sysregs.set('SPSR_EL1', this.pstate);
    const lower = (this.pstate & 0xfn) === 0n;
    this.pc = VBAR + (lower ? 0x400n : 0x200n);
    this.pstate = PSTATE_EL1H;
  }
  reset(): void { this.x.fill(0n); this.pc = 0n; this.pstate = PSTATE_EL1H; }
  tlbFlush(): void {}
  execute(): CpuExit { return { kind: 'budget' }; }
}

export interface SlotSpec {
  id: number;
  gpa: number;
  size: number;
  readonly?: boolean;
  dirtyLog?: boolean;
  lock?: { read: boolean; write: boolean } | null;
  backing?: 'anon' | 'hugetlb-2M' | 'hugetlb-1G' | 'pfnmap';
  /** added to the congruent HVA (breaks IPA/HVA congruence when not a multiple of the block) */
  hvaSkew?: number;
}

const HVA_BASE = 0x7f00_0000_0000;   // 1 TiB aligned: HVA ≡ gpa modulo every block size
const RAM_PA = 0x80_0000_0000;
const DEV_PA = 0xc000_0000_0000;
const BLOCK: { [k: string]: number } = { anon: 4096, 'hugetlb-2M': 2 ** 21, 'hugetlb-1G': 2 ** 30, pfnmap: 4096 };

export class FakeVm implements ExitVm {
  readonly flags = { nisvToUser: false, mmioGuard: false };
  mmioGuardAvailable: boolean;
  readonly slots: ExitMemslot[] = [];
  readonly backings: ExitBacking[] = [];
  readonly dirty: { slot: number; page: number }[] = [];
  readonly serrors: { vcpu: number; vsesr: bigint }[] = [];
  readonly poweredOn: { target: number; entry: bigint; contextId: bigint }[] = [];
  unmapVmCalls = 0;
  readonly vcpuState: { powerOff: boolean; psci02: boolean; el1_32bit: boolean }[] = [];
  readonly cpus: FakeCpu[] = [];
  warnRatelimit: RatelimitState | undefined = newRatelimitState();
  inKernelMmio?: (ipa: number, len: number, write: boolean, data: bigint) => { handled: boolean; data?: bigint };

  constructor(readonly flavour: ReturnType<typeof getFlavour>, readonly pageSize: number, readonly ipaBits: number,
              readonly events: EventLog, readonly stage2: Stage2PageTable, nvcpus: number) {
    this.mmioGuardAvailable = flavour.mmioGuard !== null;
    for (let i = 0; i < nvcpus; i++) {
      this.vcpuState.push({ powerOff: i !== 0, psci02: true, el1_32bit: false });
      this.cpus.push(new FakeCpu(i));
    }
  }

  get vcpuCount(): number { return this.cpus.length; }
  vcpuInfo(index: number): ExitVcpuInfo { return this.vcpuState[index]; }
  powerOnVcpu(target: number, entry: bigint, contextId: bigint): void {
    this.poweredOn.push({ target, entry, contextId });
    this.vcpuState[target].powerOff = false;
  }
  powerOffVcpu(index: number): void { this.vcpuState[index].powerOff = true; }
  stage2UnmapVm(): void {
    this.unmapVmCalls++;
    for (const s of this.slots) this.stage2.unmap(s.gpa, s.size);
  }
  findMemslot(ipa: number): ExitMemslot | undefined { return this.slots.find(s => ipa >= s.gpa && ipa < s.gpa + s.size); }
  hvaToBacking(hva: number): ExitBacking | undefined { return this.backings.find(b => hva >= b.hva && hva < b.hva + b.size); }
  markDirty(slot: ExitMemslot, pageIndex: number): void { this.dirty.push({ slot: slot.id, page: pageIndex }); }
  pendVirtualSError(vcpu: GuestCpu, vsesr: bigint): void { this.serrors.push({ vcpu: vcpu.index, vsesr }); }

  addSlot(s: SlotSpec): ExitMemslot {
    const kind = s.backing ?? 'anon';
    const hva = HVA_BASE + s.gpa + (s.hvaSkew ?? 0);
    const pa = (kind === 'pfnmap' ? DEV_PA : RAM_PA) + s.gpa + (s.hvaSkew ?? 0);
    const slot: ExitMemslot = {
      id: s.id, gpa: s.gpa, size: s.size, npages: s.size / this.pageSize, hva,
      readonly: s.readonly ?? false, dirtyLog: s.dirtyLog ?? false, lock: s.lock ?? null,
    };
    this.slots.push(slot);
    this.backings.push({ kind, hva, size: s.size, pa, blockSize: kind === 'anon' || kind === 'pfnmap' ? this.pageSize : BLOCK[kind] });
    return slot;
  }

  /** munmap: drop the backing covering hva */
  dropBacking(hva: number): void {
    const i = this.backings.findIndex(b => hva >= b.hva && hva < b.hva + b.size);
    if (i >= 0) this.backings.splice(i, 1);
  }

  paOfIpa(ipa: number): number {
    const s = this.findMemslot(ipa)!;
    const hva = s.hva + (ipa - s.gpa);
    const b = this.hvaToBacking(hva)!;
    return b.pa + (hva - b.hva);
  }
}

export interface World {
  vm: FakeVm;
  log: EventLog;
  pt: Stage2PageTable;
  cpu: FakeCpu;
  /** events of `kind` since the last `take` (all kinds when omitted) */
  take(kind?: EventKind): TraceEvent[];
}

export function makeWorld(opts: { flavour?: FlavourName; pageSize?: 4096 | 16384 | 65536; ipaBits?: number; vcpus?: number; slots?: SlotSpec[] } = {}): World {
  const mem = new PhysMem();
  const pool = new TablePool(mem, 0x10_0000_0000, 64 * 2 ** 20);
  const log = new EventLog();
  const flavour = getFlavour(opts.flavour ?? 'spe-rfc-v5');
  const pageSize = opts.pageSize ?? 4096;
  const ipaBits = opts.ipaBits ?? 40;
  const pt = new Stage2PageTable(mem, pool, { ipaBits, pageSize, flavour, fwb: false, name: 'vm' }, log);
  const vm = new FakeVm(flavour, pageSize, ipaBits, log, pt, opts.vcpus ?? 1);
  for (const s of opts.slots ?? []) vm.addSlot(s);
  let mark = log.nextSeq;
  return {
    vm, log, pt, cpu: vm.cpus[0],
    take(kind?: EventKind) {
      const out = log.since(mark).filter(e => kind === undefined || e.event === kind);
      mark = log.nextSeq;
      return out;
    },
  };
}

/** A stage 2 abort exit at `ipa` (HPFAR from the IPA, FAR = va or the IPA itself with an identity stage 1). */
export function abortExit(s: Partial<AbortSyndrome> & { ipa: number; va?: bigint; iabt?: boolean }): AbortExit {
  const ec = s.iabt ? ESR_ELx_EC_IABT_LOW : ESR_ELx_EC_DABT_LOW;
  const esr = abortEsr({ fsc: 0x07, ...s, ec });
  return { kind: s.iabt ? 'iabt' : 'dabt', esr, far: s.va ?? BigInt(s.ipa), hpfar: ipaToHpfar(s.ipa) };
}

export function fields(e: TraceEvent | undefined): { [k: string]: unknown } {
  if (e === undefined) throw new Error('no event');
  return e.fields as { [k: string]: unknown };
}
