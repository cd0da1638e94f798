// kvm_handle_guest_abort and user_mem_abort (arch/arm64/kvm/mmu.c, v5.10–v5.16 shape; spec C.4), one step at a
// time, plus the SPE lock RFC's rate-limited warning for faults on locked memslots (v4 10/39, v5 11/38).
//
// Every abort emits exactly one `stage2-fault` event (LANGUAGE.md) before its consequences (pte/tlbi events of the
// map, guest-exception of an injection, kvm-exit of an exit). Its `write` field is KVM's classification
// (kvm_is_write_fault: S1PTW counts as a write in 5.x), `exec` is kvm_vcpu_trap_is_exec_fault (IABT && !S1PTW),
// `ipa` is fault_ipa (page-aligned, plus FAR[11:0] on the MMIO path).
//
// Not modelled: HWPOISON (SIGBUS), MMU-notifier retry races, THP adjustment of anon memory (anon backings are
// PAGE_SIZE), MTE tag sanitising on the fault path, the erratum-834220 / AT-failure re-entry of __get_fault_info.

import * as esrCodec from '../arch/esr';
import * as stage2 from '../arch/stage2';
import type { AbortIss } from '../arch/esr';
import * as eventsModule from '../events';
import type { EventLog, Fields } from '../events';
import { fail } from './errno';
import type { ErrnoName } from './errno';
import { cHex, emitKernelLog, ratelimitAllows } from './exit-context';
import type { AbortOutcome, ExitMemslot, ExitVm, FaultResolution } from './exit-context';
import type { GuestCpu } from './guest';
import { injectDabt, injectPabt, injectVabt } from './inject';
import { ioMemAbort } from './mmio';

// Module-level copies of imported bindings: under tsx (CommonJS interop) every use of an imported name is a getter
// call, and these run on every stage 2 fault-in (the bundled build is unaffected).
const { decodeAbortIss, esrEc, FSC_ACCESS, FSC_FAULT, FSC_PERM, hpfarToIpa, isIabtEc, isSeaFsc } = esrCodec;
const { KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W, KVM_PGTABLE_PROT_X } = stage2;
const EventLogClass = eventsModule.EventLog;

export interface AbortExit {
  readonly kind: 'dabt' | 'iabt';
  readonly esr: bigint;
  readonly far: bigint;
  readonly hpfar: bigint;
}

/** Leaf size at `level` for the granule (ARM64_HW_PGTABLE_LEVEL_SHIFT). */
export function levelSize(level: number, pageSize: number): number {
  // the three granules as constants (called several times per fault); Math.log2 is exact for the others
  const stride = pageSize === 4096 ? 9 : pageSize === 16384 ? 11 : pageSize === 65536 ? 13 : Math.log2(pageSize) - 3;
  return pageSize * 2 ** ((3 - level) * stride);
}

function mod(x: number, a: number): number { return x - Math.floor(x / a) * a; }
function alignDown(x: number, a: number): number { return x - mod(x, a); }

function errorOutcome(errno: ErrnoName, rule: string, message: string): AbortOutcome {
  return { kind: 'error', resolution: 'error', error: fail(errno, rule, message) };
}

/** The locked-memslot warning text, formatted as printk would (the RFC's format string, trailing ']' included). */
export function lockedFaultMessage(type: 'access' | 'write' | 'read', slotId: number, ipa: number, esr: bigint): string {
  return `Unexpected L2 ${type} fault on locked memslot ${slotId}: IPA=${cHex(ipa)}, ESR_EL2=${cHex(BigInt.asUintN(32, esr), 8)}]`;
}

/**
 * The one `stage2-fault` event of an abort, emitted by `report` with the resolution (the first call wins). A method
 * on a reused object rather than a closure per fault: fault-in runs this for every page (no per-call context, no
 * tsx `__name` wrapper).
 */
export class StageTwoFaultReport {
  private reported = true;
  private vm!: ExitVm;
  private vcpu!: GuestCpu;
  private esr = 0n;
  private far = 0n;
  private hpfar = 0n;
  private iss!: AbortIss;
  /** fault_ipa as reported: the caller adds FAR[11:0] on the MMIO path before reporting (C.4#4d) */
  faultIpa = 0;
  private writeFault = false;
  private execFault = false;
  /** true while a fault holds this object (a nested abort gets its own) */
  busy = false;
  // the log the record shape below was registered with
  private shapeLog: EventLog | null = null;
  private shape = -1;
  private guestId = -1;

  begin(vm: ExitVm, vcpu: GuestCpu, exit: AbortExit, iss: AbortIss, faultIpa: number, writeFault: boolean, execFault: boolean): void {
    this.vm = vm; this.vcpu = vcpu;
    this.esr = exit.esr; this.far = exit.far; this.hpfar = exit.hpfar;
    this.iss = iss; this.faultIpa = faultIpa; this.writeFault = writeFault; this.execFault = execFault;
    this.reported = false;
  }

  report(resolution: FaultResolution): void {
    if (this.reported) return;
    this.reported = true;
    const iss = this.iss;
    const events = this.vm.events;
    if (events instanceof EventLogClass && events.recording) {
      // the same record as the emit below, without the fields object
      if (events !== this.shapeLog) {
        this.shapeLog = events;
        this.shape = events.recordShape('stage2-fault', STAGE2_FAULT_KEYS);
        this.guestId = events.stringId('guest');
      }
      events.beginRecord('stage2-fault', this.shape, this.vcpu.index);
      events.addStringId(this.guestId);
      events.addAddress(this.faultIpa);
      events.addValue(this.far);
      events.addValue(this.esr);
      events.addValue(this.far);
      events.addValue(this.hpfar);
      events.addAddress(iss.fsc);
      events.addValue(iss.kind);
      events.addValue(iss.level);
      events.addValue(this.writeFault);
      events.addValue(this.execFault);
      events.addValue(iss.s1ptw);
      events.addValue(iss.isv);
      events.addValue(resolution);
      events.endRecord();
      return;
    }
    const f: Fields = {
      stage: 'guest', ipa: BigInt(this.faultIpa), va: this.far, esr: this.esr, far: this.far, hpfar: this.hpfar,
      fsc: BigInt(iss.fsc), kind: iss.kind, level: iss.level, write: this.writeFault, exec: this.execFault,
      s1ptw: iss.s1ptw, isv: iss.isv, resolution,
    };
    this.vm.events.emit('stage2-fault', f, this.vcpu.index);
  }
}

/** the stage2-fault fields, in the order `report` emits them (LANGUAGE.md "Trace events") */
const STAGE2_FAULT_KEYS = [
  'stage', 'ipa', 'va', 'esr', 'far', 'hpfar', 'fsc', 'kind', 'level', 'write', 'exec', 's1ptw', 'isv', 'resolution',
] as const;

const sharedReport = new StageTwoFaultReport();

// the resume outcomes of the common cases, shared (AbortOutcome is read-only)
const RESUME: Readonly<Record<'map' | 'relax' | 'mkyoung' | 'inject' | 'skip' | 'serror', AbortOutcome>> = {
  map: Object.freeze({ kind: 'resume', resolution: 'map' }),
  relax: Object.freeze({ kind: 'resume', resolution: 'relax' }),
  mkyoung: Object.freeze({ kind: 'resume', resolution: 'mkyoung' }),
  inject: Object.freeze({ kind: 'resume', resolution: 'inject' }),
  skip: Object.freeze({ kind: 'resume', resolution: 'skip' }),
  serror: Object.freeze({ kind: 'resume', resolution: 'serror' }),
};

/** kvm_handle_guest_abort (spec C.4). */
export function handleGuestAbort(vm: ExitVm, vcpu: GuestCpu, exit: AbortExit): AbortOutcome {
  const rep = sharedReport.busy ? new StageTwoFaultReport() : sharedReport;
  rep.busy = true;
  try {
    return guestAbort(vm, vcpu, exit, rep);
  } finally {
    rep.busy = false;
  }
}

function guestAbort(vm: ExitVm, vcpu: GuestCpu, exit: AbortExit, rep: StageTwoFaultReport): AbortOutcome {
  const esr = exit.esr;
  const far = exit.far;
  const iss = decodeAbortIss(esr);
  const ec = esrEc(esr);
  const isIabt = isIabtEc(ec);
  const faultStatus = iss.fsc & 0x3c;
  let faultIpa = hpfarToIpa(exit.hpfar);
  const s1ptw = iss.s1ptw;
  // kvm_is_write_fault (5.x): S1PTW -> write; IABT -> not; else WnR
  const writeFault = s1ptw ? true : isIabt ? false : iss.wnr;
  // kvm_vcpu_trap_is_exec_fault
  const execFault = isIabt && !s1ptw;
  rep.begin(vm, vcpu, exit, iss, faultIpa, writeFault, execFault);

  // C.4#1: synchronous external abort -> (no host RAS handling) virtual SError
  if (isSeaFsc(iss.fsc)) {
    rep.report('serror');
    injectVabt(vm, vcpu);
    return RESUME.serror;
  }

  // C.4#2: only translation, permission and access-flag faults are handled
  if (faultStatus !== FSC_FAULT && faultStatus !== FSC_PERM && faultStatus !== FSC_ACCESS) {
    const msg = `Unsupported FSC: EC=${cHex(ec)} xFSC=${cHex(iss.fsc)} ESR_EL2=${cHex(esr)}`;
    rep.report('error');
    emitKernelLog(vm.events, msg, vcpu.index);
    return errorOutcome('EFAULT', 'C.4#2', msg);
  }

  // C.4#3
  const slot = vm.findMemslot(faultIpa);
  const writable = slot !== undefined && !slot.readonly;

  // C.4#4: outside RAM, or a write to ROM
  if (slot === undefined || (writeFault && !writable)) {
    if (isIabt) {
      // C.4#4a: -ENOEXEC -> inject prefetch abort
      rep.report('inject');
      injectPabt(vcpu, far, esr);
      return RESUME.inject;
    }
    if (s1ptw) {
      // C.4#4b: the guest put its page tables in MMIO / ROM
      rep.report('inject');
      injectDabt(vcpu, far, esr);
      return RESUME.inject;
    }
    if (slot === undefined && iss.cm) {
      // C.4#4c: cache maintenance on MMIO: skip the instruction
      rep.report('skip');
      vcpu.setPc(BigInt.asUintN(64, vcpu.getPc() + 4n));
      return RESUME.skip;
    }
    // C.4#4d: IPA reported as [MAX:12]; complete it with FAR[11:0] (always 12 bits)
    faultIpa += Number(far & 0xfffn);
    rep.faultIpa = faultIpa;
    return ioMemAbort(vm, vcpu, esr, far, faultIpa, rep);
  }

  // C.4#5: userspace cannot register slots beyond the IPA size (VM_BUG_ON)
  if (faultIpa >= 2 ** vm.ipaBits) {
    rep.report('error');
    const msg = `BUG: fault IPA ${cHex(faultIpa)} beyond the VM's ${vm.ipaBits}-bit IPA space`;
    emitKernelLog(vm.events, msg, vcpu.index);
    return errorOutcome('EFAULT', 'C.4#5', msg);
  }

  // SPE lock RFC: warn (rate-limited) about faults a locked slot should never take; handling continues
  if (vm.flavour.lock !== null && slot.lock !== null && !execFault) {
    let type: 'access' | 'write' | 'read' | undefined;
    if (faultStatus === FSC_ACCESS) type = 'access';
    else if (writeFault && slot.lock.write) type = 'write';
    else if (!writeFault) type = 'read';
    if (type !== undefined && ratelimitAllows(vm.warnRatelimit, vcpu.ticks)) {
      emitKernelLog(vm.events, lockedFaultMessage(type, slot.id, faultIpa, esr), vcpu.index);
    }
  }

  // C.4#6: access flag -> mkyoung, no exit
  if (faultStatus === FSC_ACCESS) {
    rep.report('mkyoung');
    vm.stage2.mkyoung(faultIpa);
    return RESUME.mkyoung;
  }

  // C.4#7
  return userMemAbort(vm, vcpu, esr, far, faultIpa, faultStatus, slot, writeFault, execFault, rep);
}

/** fault_supports_stage2_huge_mapping (spec B.3): HVA and IPA congruent modulo the block, block inside the slot. */
export function faultSupportsHugeMapping(slot: ExitMemslot, hva: number, mapSize: number): boolean {
  const size = slot.size;
  if (mod(slot.gpa, mapSize) !== mod(slot.hva, mapSize)) return false;
  const start = alignDown(hva, mapSize);
  return start >= slot.hva && start + mapSize <= slot.hva + size;
}

/**
 * The mapping size user_mem_abort picks from the backing's page size (vma_shift switch, spec B.3): PUD / PMD when the
 * slot allows it, falling back to PAGE_SIZE; contiguous-hint sizes round down to PMD / PAGE_SIZE.
 */
export function stage2MappingSize(slot: ExitMemslot, hva: number, backingBlock: number, pageSize: number): number {
  const pmd = levelSize(2, pageSize);
  const pud = levelSize(1, pageSize);
  let size = backingBlock;
  if (size === pud) {
    if (faultSupportsHugeMapping(slot, hva, pud)) return pud;
    size = pmd;
  } else if (size > pmd) {
    size = pmd;                       // CONT_PMD
  }
  if (size === pmd && faultSupportsHugeMapping(slot, hva, pmd)) return pmd;
  return pageSize;                    // CONT_PTE, PAGE_SIZE, or a block the slot cannot hold
}

/**
 * get_vma_page_shift for a VM_PFNMAP VMA (5.14+, spec C.4#7): a PUD or PMD when the HVA and the PA share the offset
 * within it and ALIGN_DOWN(hva, size) >= vm_start && ALIGN(hva, size) <= vm_end (ALIGN rounds *up*: for a
 * block-aligned hva it is hva itself, as posted); PAGE_SIZE otherwise.
 */
export function pfnmapVmaPageSize(vma: { readonly hva: number; readonly size: number; readonly pa: number }, hva: number, pageSize: number): number {
  const pa = vma.pa + (hva - vma.hva);
  for (const size of [levelSize(1, pageSize), levelSize(2, pageSize)]) {
    if (mod(hva, size) !== mod(pa, size)) continue;
    const up = mod(hva, size) === 0 ? hva : alignDown(hva, size) + size;
    if (alignDown(hva, size) >= vma.hva && up <= vma.hva + vma.size) return size;
  }
  return pageSize;
}

function userMemAbort(
  vm: ExitVm, vcpu: GuestCpu, esr: bigint, far: bigint, fIpa: number, faultStatus: number, slot: ExitMemslot,
  writeFault: boolean, execFault: boolean, rep: StageTwoFaultReport,
): AbortOutcome {
  const pageSize = vm.pageSize;

  if (faultStatus === FSC_PERM && !writeFault && !execFault) {
    const msg = 'Unexpected L2 read permission error';
    rep.report('error');
    emitKernelLog(vm.events, msg, vcpu.index);
    return errorOutcome('EFAULT', 'C.4#7', msg);
  }

  const hva = slot.hva + (fIpa - slot.gpa);
  const backing = vm.hvaToBacking(hva);
  if (backing === undefined) {
    const msg = `Failed to find VMA for hva ${cHex(hva)}`;
    rep.report('error');
    emitKernelLog(vm.events, msg, vcpu.index);
    return errorOutcome('EFAULT', 'C.4#7', msg);
  }

  // memslot_is_logging: a dirty bitmap and not READONLY; the SPE lock RFC also forces pages on locked slots
  // (fault_supports_stage2_huge_mapping returns false for them)
  const loggingActive = slot.dirtyLog && !slot.readonly;
  const locked = vm.flavour.lock !== null && slot.lock !== null;
  const device = backing.kind === 'pfnmap';
  let mapSize: number;
  if (loggingActive || locked) mapSize = pageSize;
  else if (device) {
    mapSize = vm.flavour.pfnmapBlockMappings
      ? stage2MappingSize(slot, hva, pfnmapVmaPageSize(backing, hva, pageSize), pageSize)
      : pageSize;
  } else mapSize = stage2MappingSize(slot, hva, backing.blockSize, pageSize);
  const faultIpa = mapSize > pageSize ? alignDown(fIpa, mapSize) : alignDown(fIpa, pageSize);
  const mapHva = slot.hva + (faultIpa - slot.gpa);
  const mapBacking = mapHva === hva ? backing : vm.hvaToBacking(mapHva) ?? backing;
  const pa = mapBacking.pa + (mapHva - mapBacking.hva);

  let writable = !slot.readonly;
  if (!device && loggingActive && !writeFault) writable = false;   // map writable only on a write fault

  if (execFault && device) {
    // -ENOEXEC -> kvm_inject_pabt
    rep.report('inject');
    injectPabt(vcpu, far, esr);
    return RESUME.inject;
  }

  let prot = KVM_PGTABLE_PROT_R;
  if (writable) prot |= KVM_PGTABLE_PROT_W;
  if (execFault) prot |= KVM_PGTABLE_PROT_X;
  if (device) prot |= KVM_PGTABLE_PROT_DEVICE;

  // relax only when the fault's granule is the size we would map; otherwise map changes the block size
  const relax = faultStatus === FSC_PERM && mapSize === levelSize(Number(esr & 3n), pageSize);
  rep.report(relax ? 'relax' : 'map');
  const ret = relax ? vm.stage2.relaxPerms(faultIpa, prot) : vm.stage2.map(faultIpa, mapSize, pa, prot);

  // mark the page dirty only if the fault was handled successfully (EAGAIN included: ret != 0 there)
  if (writable && ret === 'ok' && slot.dirtyLog) {
    vm.markDirty(slot, Math.floor((faultIpa - slot.gpa) / pageSize));
  }

  // user_mem_abort returns ret != -EAGAIN ? ret : 0
  if (ret === 'ok' || ret === 'EAGAIN') return relax ? RESUME.relax : RESUME.map;
  const msg = `user_mem_abort: stage 2 ${relax ? 'relax_perms' : 'map'} at ${cHex(faultIpa)} failed with ${ret}`;
  emitKernelLog(vm.events, msg, vcpu.index);
  const errno: ErrnoName = ret === 'ENOMEM' ? 'ENOMEM' : ret === 'EINVAL' ? 'EINVAL' : 'EFAULT';
  return errorOutcome(errno, 'C.4#7', msg);
}
