// What KVM's exit handlers (abort.ts, mmio.ts, inject.ts, hypercalls.ts, psci.ts, mmio-guard.ts) need from the VM,
// as one narrow interface, so they can be written and tested without the whole `Vm`. The machine passes the real
// Vm (or a thin adapter over it). Field names follow emulator/kvm/vm.ts, memslots.ts, host-memory.ts and
// pgtable/ where those exist; everything here is structural (no classes), so fakes in tests are small.
//
// Decisions recorded here (spec references in the handlers):
// - vSError: `pendVirtualSError(vcpu, vsesr)` — KVM's kvm_inject_vabt only records a pending virtual SError
//   (HCR_EL2.VSE + VSESR_EL2); the CPU delivers it when PSTATE.A allows. The VM/CPU owns that state.
// - Handlers emit their own events (stage2-fault, hypercall, mmio-guard, warning, and kvm-exit for the exits they
//   cause: mmio, arm_nisv, system_event), so the run loop must not emit kvm-exit again for those outcomes.
// - Injection goes through `GuestCpu.injectSync` immediately (5.x defers it to the next entry; nothing can run in
//   between in this model, so the result is the same).

import type { EventSink } from '../events';
import type { IoctlErr } from './errno';
import type { Flavour } from './flavours';
import type { GuestCpu } from './guest';

/** The memslot fields the fault path reads (a subset of memslots.ts `Memslot`). */
export interface ExitMemslot {
  readonly id: number;
  readonly gpa: number;
  readonly size: number;
  readonly npages: number;
  readonly hva: number;
  readonly readonly: boolean;
  readonly dirtyLog: boolean;
  /** SPE lock RFC: KVM_MEMSLOT_LOCK_READ / _WRITE, null when unlocked */
  readonly lock: { readonly read: boolean; readonly write: boolean } | null;
}

/** The VMA backing an HVA (host-memory.ts `Backing`). */
export interface ExitBacking {
  /** 'anon' | 'hugetlb-2M' | 'hugetlb-1G' | 'hugetlb-32M' | 'hugetlb-512M' | 'pfnmap' */
  readonly kind: string;
  readonly hva: number;
  readonly size: number;
  /** host-physical address of `hva` (contiguous over the backing) */
  readonly pa: number;
  /** largest mapping the fault path may use (the hugetlb page size; PAGE_SIZE for anon and pfnmap) */
  readonly blockSize: number;
}

/**
 * The stage 2 page-table operations the exit handlers call (Stage2PageTable). Results are the kernel's return
 * values by name: 'ok', 'EAGAIN', 'EINVAL', 'ENOMEM', … (typed as string so the real union fits).
 * `prot` is KVM_PGTABLE_PROT_* (emulator/arch/stage2.ts).
 */
export interface ExitStage2 {
  /** kvm_pgtable_stage2_map */
  map(ipa: number, size: number, pa: number, prot: number): string;
  /** kvm_pgtable_stage2_relax_perms */
  relaxPerms(ipa: number, prot: number): string;
  /** kvm_pgtable_stage2_mkyoung (the result is not used) */
  mkyoung(ipa: number): unknown;
  /** kvm_pgtable_get_leaf: the entry that maps or stopped the walk for `ipa`, and its level */
  getLeaf(ipa: number): { readonly raw: bigint; readonly level: number };
  /** kvm_pgtable_stage2_annotate (MMIO guard flavour): an invalid leaf holding `value`, page granularity */
  annotate(ipa: number, size: number, value: bigint): string;
  /** kvm_pgtable_stage2_unmap */
  unmap(ipa: number, size: number): unknown;
}

/** What PSCI needs to know about one vcpu of the VM. */
export interface ExitVcpuInfo {
  /** vcpu->arch.power_off */
  readonly powerOff: boolean;
  /** KVM_ARM_VCPU_PSCI_0_2 feature (PSCI 1.0 in 5.x; without it PSCI 0.1) */
  readonly psci02: boolean;
  /** KVM_ARM_VCPU_EL1_32BIT feature (vcpu_mode_is_32bit for the checks here) */
  readonly el1_32bit: boolean;
}

/** printk_ratelimited state (DEFAULT_RATELIMIT_INTERVAL 5 s, burst 10), time measured in vcpu ticks. */
export interface RatelimitState {
  begin: number;
  printed: number;
  missed: number;
}

export interface ExitVm {
  readonly flavour: Flavour;
  /** host PAGE_SIZE (4096 / 16384 / 65536) */
  readonly pageSize: number;
  /** the VM's IPA size in bits */
  readonly ipaBits: number;
  readonly events: EventSink;
  /**
   * kvm->arch.flags: RETURN_NISV_IO_ABORT_TO_USER and (MMIO guard flavour) KVM_ARCH_FLAG_MMIO_GUARD = enrolled.
   * `mmioGuard` is written by ENROLL and by SYSTEM_OFF/RESET.
   */
  readonly flags: { nisvToUser: boolean; mmioGuard: boolean };
  /** the MMIO guard hypercalls exist (flavour has them and the machine's `mmio_guard` key is on) */
  readonly mmioGuardAvailable: boolean;

  /** gfn_to_memslot */
  findMemslot(ipa: number): ExitMemslot | undefined;
  /** the VMA at `hva`, undefined when there is none (munmapped) */
  hvaToBacking(hva: number): ExitBacking | undefined;
  readonly stage2: ExitStage2;
  /** mark_page_dirty_in_slot: set bit `pageIndex` (relative to the slot) in the dirty bitmap */
  markDirty(slot: ExitMemslot, pageIndex: number): void;
  /** kvm_inject_vabt: record a pending virtual SError with VSESR_EL2 = vsesr (delivered by the CPU) */
  pendVirtualSError(vcpu: GuestCpu, vsesr: bigint): void;
  /** KVM_MMIO_BUS devices (the vGIC): handle the access in the kernel, or return {handled: false} */
  inKernelMmio?(ipa: number, len: number, write: boolean, data: bigint): { handled: boolean; data?: bigint };

  /** number of created vcpus (kvm_for_each_vcpu) */
  readonly vcpuCount: number;
  vcpuInfo(index: number): ExitVcpuInfo;
  /** PSCI CPU_ON: reset vcpu `target` at `entry` with x0 = contextId, EL1h, MMU off, and mark it powered on */
  powerOnVcpu(target: number, entry: bigint, contextId: bigint): void;
  /** PSCI CPU_OFF / system events: vcpu->arch.power_off = true (+ KVM_REQ_SLEEP) */
  powerOffVcpu(index: number): void;
  /** stage2_unmap_vm (MMIO guard reset on SYSTEM_OFF/RESET, spec D.5) */
  stage2UnmapVm(): void;
  /** state of the rate-limited locked-memslot warning; absent = not rate-limited */
  readonly warnRatelimit?: RatelimitState;
}

// ---------------------------------------------------------------------------------------------------------------
// Outcomes

export type FaultResolution = 'map' | 'relax' | 'mkyoung' | 'mmio' | 'nisv' | 'inject' | 'skip' | 'serror' | 'in-kernel' | 'error';

/** An MMIO access waiting for userspace (vcpu->mmio_needed + the syndrome fields kvm_handle_mmio_return reads). */
export interface PendingMmio {
  /** full IPA (run->mmio.phys_addr) */
  readonly ipa: number;
  readonly len: number;
  readonly write: boolean;
  /** SRT */
  readonly rt: number;
  readonly sse: boolean;
  readonly sf: boolean;
  /** the write data (little-endian value, truncated to len); 0 for reads */
  readonly data: bigint;
}

export type UserExit =
  | { readonly reason: 'mmio'; readonly addr: bigint; readonly len: number; readonly write: boolean; readonly data: bigint; readonly pending: PendingMmio }
  | { readonly reason: 'arm_nisv'; readonly addr: bigint; readonly esr_iss: bigint }
  | { readonly reason: 'system_event'; readonly type: 'shutdown' | 'reset' };

export type AbortOutcome =
  | {
      readonly kind: 'resume';
      readonly resolution: FaultResolution;
      /** an in-kernel MMIO read also copied its len bytes into run->mmio.data (io_mem_abort's memcpy) */
      readonly runMmioData?: { readonly len: number; readonly data: bigint };
    }
  | { readonly kind: 'exit'; readonly resolution: FaultResolution; readonly exit: UserExit }
  | { readonly kind: 'error'; readonly resolution: 'error'; readonly error: IoctlErr };

/** Emit the `kvm-exit` event for an exit the handlers produce (LANGUAGE.md field names). */
export function emitKvmExit(events: EventSink, exit: UserExit, vcpu: number): void {
  switch (exit.reason) {
    case 'mmio':
      events.emit('kvm-exit', { reason: 'mmio', addr: exit.addr, len: exit.len, write: exit.write, data: exit.data }, vcpu);
      return;
    case 'arm_nisv':
      events.emit('kvm-exit', { reason: 'arm_nisv', addr: exit.addr, esr_iss: exit.esr_iss }, vcpu);
      return;
    case 'system_event':
      events.emit('kvm-exit', { reason: 'system_event', type: exit.type }, vcpu);
      return;
  }
}

/** Emit a kernel log line (kvm_err / kvm_warn / kvm_pr_unimpl) as a `warning` event. */
export function emitKernelLog(events: EventSink, message: string, vcpu?: number): void {
  events.emit('warning', { message }, vcpu);
}

// ---------------------------------------------------------------------------------------------------------------
// printk-style formatting of the few conversions the kernel messages use

/** C's "%#x" / "%#lx" / "%#llx" (no 0x for zero), zero-padded to `width` like "%#08x". */
export function cHex(v: bigint | number, width = 0): string {
  const n = BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(v));
  if (n === 0n) return '0'.padStart(Math.max(width, 1), '0');
  const digits = n.toString(16);
  return '0x' + digits.padStart(Math.max(0, width - 2), '0');
}

/** printk_ratelimited: true when the message may be printed now (burst 10 per 5 s; 100 MHz ticks). */
export const RATELIMIT_INTERVAL_TICKS = 5 * 100_000_000;
export const RATELIMIT_BURST = 10;
export function ratelimitAllows(state: RatelimitState | undefined, now: number): boolean {
  if (state === undefined) return true;
  if (state.printed === 0 && state.missed === 0 && state.begin === 0) state.begin = now;
  if (now - state.begin >= RATELIMIT_INTERVAL_TICKS) {
    state.begin = now;
    state.printed = 0;
    state.missed = 0;
  }
  if (state.printed < RATELIMIT_BURST) {
    state.printed++;
    return true;
  }
  state.missed++;
  return false;
}

export function newRatelimitState(): RatelimitState {
  return { begin: 0, printed: 0, missed: 0 };
}
