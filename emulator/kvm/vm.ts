// The VM fd's state and ioctl surface (spec A.1–A.6, E.3, E.4, F, G.1, G.10): KVM_CREATE_VM, memslots
// (KVM_SET_USER_MEMORY_REGION), KVM_GET_DIRTY_LOG, KVM_ENABLE_CAP / KVM_CHECK_EXTENSION (memslot lock, NISV, MTE,
// MMIO guard), KVM_ARM_VCPU_INIT, the KVM_RUN entry steps, VMM munmap (MMU notifiers), VM teardown, and pKVM's host
// stage 2 in `mode protected`.
//
// Every ioctl emits one `ioctl` event {name, args, result, rule?} and returns an IoctlResult whose `rule` names the
// spec rule that fired. A failed ioctl changes nothing but the side effects its rule documents: A.2#8 (a DELETE or
// MOVE refused by the arch hook has already flushed stage 2), F#reset (the target is cleared), F#feature* (5.x
// keeps the feature bits set before the failing one), E.3 v4 unlock-all (goes on after a per-slot error).

import type { EventSink, FieldValue } from '../events';
import type { PhysMem } from '../memory/physmem';
import { TablePool } from '../memory/table-pool';
import {
  initLeafPte, stage2ProtAttr, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W, KVM_PTE_LEAF_ATTR_S2_PERMS, type Stage2PageSize,
} from '../arch/stage2';
import { fail, OK, okValue, type ErrnoName, type IoctlResult } from './errno';
import type { Flavour } from './flavours';
import { Stage2PageTable, type Stage2PageTableState } from './pgtable/stage2-pgtable';
import { HostMemory, type BackingKind, type HostMemoryState } from './host-memory';
import {
  KVM_ADDRESS_SPACE_NUM, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_MAX_NR_PAGES, KVM_MEM_READONLY, Memslots, type Memslot,
} from './memslots';
import { dirtyCount, harvestDirtyBitmap, markDirty, newDirtyBitmap } from './dirty-log';
import { PendingOps, type PendingOp } from './pending-ops';
import { KvmVcpuState, KVM_ARM_VCPU_PMU_V3, KVM_ARM_VCPU_POWER_OFF, vcpuSetTarget, type KvmVcpuSnapshot } from './vcpu-state';
import { lockCapIoctl, unlockAllOnTeardown } from './memslot-lock';
import { capName, checkExtensionValue, hostIpaLimit } from './caps';
import { mmioGuardAllowsNisv, nisvAllowsMmioGuard } from './mmio-guard';
import { hostAccess as pkvmHostAccess, pkvmMarkHyp as pkvmMarkHypImpl } from './pkvm';
import { newRatelimitState, type ExitVcpuInfo, type ExitVm, type RatelimitState } from './exit-context';
import type { GuestCpu } from './guest';
import { KVM_ARM_VCPU_EL1_32BIT, KVM_ARM_VCPU_PSCI_0_2 } from './vcpu-state';

export interface VmConfig {
  flavour: Flavour;
  /** KVM_CREATE_VM type: bits 7:0 = IPA bits, 0 = default 40 (spec A.4); other bits are passed through to be refused */
  ipaBits: number;
  pageSize: Stage2PageSize;
  vcpus: number;
  /** RLIMIT_MEMLOCK in bytes; Infinity = unlimited */
  memlockBytes: number;
  fwb: boolean;
  /** `mode protected` (pKVM): a host stage 2 exists */
  protectedMode: boolean;
  /** enable KVM_CAP_ARM_NISV_TO_USER after creating the vcpus (as the machine block does) */
  nisvToUser: boolean;
  /** enable KVM_CAP_ARM_MTE before creating the vcpus (default off) */
  mte?: boolean;
  /** SPE implemented in the machine (`spe on`, default true) */
  spe?: boolean;
  /** the machine's `mmio_guard` key (default true): the MMIO guard hypercalls exist where the flavour has them */
  mmioGuard?: boolean;
  /** table pools (default: fresh pools at TABLE_POOL_BASE etc.) */
  tablePool?: TablePool;
  hostTablePool?: TablePool;
}

// Host-physical layout of the table pools (below the memslot backings of host-memory.ts, RAM_PA_BASE = 512 GiB)
export const TABLE_POOL_BASE = 0x40_0000_0000;       // 256 GiB: the VM's stage 2
export const HOST_TABLE_POOL_BASE = 0x50_0000_0000;  // pKVM host stage 2
export const PGTABLE_POOL_BASE = 0x60_0000_0000;     // standalone `pgtable NAME` tables (1 GiB each, in order)
export const TABLE_POOL_BYTES = 0x4000_0000;         // 1 GiB per pool

/** kvm->arch.flags and friends */
export interface VmFlags {
  nisvToUser: boolean;
  mte: boolean;
  mmioGuard: boolean;
}

/** `memslot ID gpa= size= [readonly] [dirty_log] [hva=] [backing=]` */
export interface MemslotStatement {
  id: number;
  gpa: number;
  size: number;
  readonly?: boolean;
  dirtyLog?: boolean;
  hva?: number;
  backing?: BackingKind;
}

/** the raw KVM_SET_USER_MEMORY_REGION struct (A.1); bigint for ABI edge cases beyond 2^53 */
export interface UserMemoryRegion {
  slot: number | bigint;
  flags: number | bigint;
  gpa: number | bigint;
  size: number | bigint;
  hva: number | bigint;
}

export interface VmSnapshot {
  readonly memslots: Memslot[];
  readonly hostMemory: HostMemoryState;
  readonly vcpus: KvmVcpuSnapshot[];
  readonly pendingOps: number;
  readonly lockedVmPages: number;
  readonly flags: VmFlags;
  readonly stage2: Stage2PageTableState;
  readonly hostStage2?: Stage2PageTableState;
  readonly pgtables: [string, Stage2PageTableState][];
  readonly destroyed: boolean;
  readonly pgtableNext: number;
  readonly warnRatelimit: RatelimitState;
}

export interface MemslotsView {
  memslots: { id: number; gpa: number; size: number; hva: number; readonly: boolean; dirtyLog: boolean;
    lock: { read: boolean; write: boolean } | null; pinnedPages: number; dirtyPages: number }[];
  lockedVm: number;
  pendingOps: PendingOp[];
}

type Change = 'create' | 'delete' | 'move' | 'flags_only';

const U64 = (1n << 64n) - 1n;
/** TASK_SIZE_MAX of a 48-bit-VA arm64 host: access_ok() needs hva + size <= 2^48 (A.2#4) */
const TASK_SIZE = 1n << 48n;

function sx55(v: bigint): bigint { return BigInt.asUintN(64, BigInt.asIntN(56, v)); }

export class Vm implements ExitVm {
  readonly flavour: Flavour;
  readonly pageSize: Stage2PageSize;
  /** the VM's IPA size (A.4) */
  readonly ipaBits: number;
  readonly fwb: boolean;
  readonly memlockBytes: number;
  readonly stage2: Stage2PageTable;
  readonly memslots: Memslots;
  readonly hostMemory: HostMemory;
  readonly vcpus: KvmVcpuState[] = [];
  readonly pendingOps: PendingOps;
  /** mm->locked_vm in pages (may go "negative" in v4 where its unlock quirk underflows the counter) */
  lockedVmPages = 0;
  readonly flags: VmFlags = { nisvToUser: false, mte: false, mmioGuard: false };
  /** mode protected (pKVM): the host's identity-mapped stage 2 */
  readonly hostStage2?: Stage2PageTable;
  /** standalone `pgtable NAME` tables */
  readonly pgtables = new Map<string, Stage2PageTable>();
  /** SPE implemented */
  readonly speHardware: boolean;
  /**
   * Hooks run by kvm_vcpu_first_run_init after the PMU check (the SPE code registers its first-run checks here,
   * spec E.5). A non-null result ends KVM_RUN with it; has_run_once is already set by then, as in the kernel.
   */
  readonly firstRunHooks: ((vcpu: number) => IoctlResult | null)[] = [];
  /** the MMIO guard hypercalls exist (flavour has them and the machine enables them) */
  readonly mmioGuardAvailable: boolean;
  /** KVM_MMIO_BUS devices (the vGIC), installed by the machine */
  inKernelMmio?: (ipa: number, len: number, write: boolean, data: bigint) => { handled: boolean; data?: bigint };
  /** printk_ratelimited state of the locked-memslot fault warning (abort.ts) */
  readonly warnRatelimit: RatelimitState = newRatelimitState();
  private destroyed = false;
  private pgtableNext = PGTABLE_POOL_BASE;
  private cpus: readonly GuestCpu[] = [];

  private constructor(cfg: VmConfig, ipaBits: number, readonly mem: PhysMem, readonly events: EventSink) {
    this.flavour = cfg.flavour;
    this.pageSize = cfg.pageSize;
    this.ipaBits = ipaBits;
    this.fwb = cfg.fwb;
    this.memlockBytes = cfg.memlockBytes;
    this.speHardware = cfg.spe ?? true;
    this.mmioGuardAvailable = cfg.flavour.mmioGuard !== null && (cfg.mmioGuard ?? true);
    this.memslots = new Memslots(cfg.pageSize);
    this.hostMemory = new HostMemory(cfg.pageSize);
    this.pendingOps = new PendingOps(events);
    const pool = cfg.tablePool ?? new TablePool(mem, TABLE_POOL_BASE, TABLE_POOL_BYTES);
    this.stage2 = new Stage2PageTable(mem, pool, { ipaBits, pageSize: cfg.pageSize, flavour: cfg.flavour, fwb: cfg.fwb, name: 'vm' }, events);
    if (cfg.protectedMode) {
      // pKVM's host stage 2 covers the host PA space (PARange) identity-mapped; host_s2_mm_ops have no CMO hooks
      const hpool = cfg.hostTablePool ?? new TablePool(mem, HOST_TABLE_POOL_BASE, TABLE_POOL_BYTES);
      this.hostStage2 = new Stage2PageTable(mem, hpool,
        { ipaBits: hostIpaLimit(cfg.pageSize), pageSize: cfg.pageSize, flavour: cfg.flavour, fwb: cfg.fwb, name: 'host', cmos: false }, events);
    }
  }

  /**
   * KVM_CREATE_VM (spec A.4), then the machine block's implicit ioctls in kvmtool's order: KVM_ENABLE_CAP(MTE) when
   * `mte`, KVM_CREATE_VCPU for each vcpu, KVM_ENABLE_CAP(NISV_TO_USER) when `nisvToUser`.
   * Rule ids: A.4#1 type bits other than 7:0; A.4#2 default 40 bits above the host limit (never here: the limit is
   * >= 48); A.4#3 N outside [32, Host_IPA_Limit].
   */
  static create(cfg: VmConfig, mem: PhysMem, events: EventSink): { vm?: Vm; result: IoctlResult } {
    const type = cfg.ipaBits;
    const limit = hostIpaLimit(cfg.pageSize);
    let result: IoctlResult = OK;
    let bits = type & 0xff;
    if (type < 0 || !Number.isInteger(type) || type > 0xffff_ffff || (type & ~0xff) !== 0) {
      result = fail('EINVAL', 'A.4#1', `type 0x${type.toString(16)}: only bits 7:0 (IPA size) are defined`);
    } else if (bits === 0) {
      bits = 40; // KVM_PHYS_SHIFT
      if (bits > limit) result = fail('EINVAL', 'A.4#2', 'using unsupported default IPA limit, upgrade your VMM');
    } else if (bits < 32 || bits > limit) {
      result = fail('EINVAL', 'A.4#3', `IPA size ${bits} outside [32, ${limit}] (ARM64_MIN_PARANGE_BITS .. Host_IPA_Limit)`);
    }
    if (result.ok && cfg.protectedMode && cfg.flavour.protectedMode === null) {
      throw new Error(`flavour ${cfg.flavour.name} has no protected mode`);
    }
    emitIoctl(events, 'KVM_CREATE_VM', [BigInt(Math.max(0, type))], result);
    if (!result.ok) return { result };
    const vm = new Vm(cfg, bits, mem, events);
    const mteCap = cfg.flavour.caps.KVM_CAP_ARM_MTE;
    if (cfg.mte && mteCap !== undefined) vm.enableCap(mteCap, 0, []);
    for (let i = 0; i < cfg.vcpus; i++) vm.createVcpu();
    if (cfg.nisvToUser) vm.enableCap(cfg.flavour.caps.KVM_CAP_ARM_NISV_TO_USER, 0, []);
    return { vm, result };
  }

  /** KVM_CREATE_VCPU with the next index. */
  createVcpu(): KvmVcpuState {
    const v = new KvmVcpuState(this.vcpus.length);
    this.vcpus.push(v);
    this.ioctl('KVM_CREATE_VCPU', [v.index], OK);
    return v;
  }

  // ------------------------------------------------------------------------------------------------------------
  // events

  /** Emit the `ioctl` event for a VM or vcpu ioctl (others use it too, e.g. KVM_RUN's final result). */
  ioctl(name: string, args: readonly FieldValue[], result: IoctlResult, vcpu?: number): IoctlResult {
    emitIoctl(this.events, name, args, result, vcpu);
    return result;
  }

  warn(message: string, vcpu?: number): void {
    this.events.emit('warning', { message }, vcpu);
  }

  // ------------------------------------------------------------------------------------------------------------
  // stage 2 helpers used by the lock, dirty log, reset and notifier paths (after teardown they do nothing, as the
  // kernel's stage2_apply_range does on a freed pgd)

  /**
   * The lock's page-by-page map (E.3#13) of [ipa, ipa+size) -> pa: page-sized, R (+W), never X, no D-cache CMO.
   * A page already mapped at level 3 with the same output and attributes apart from permissions makes
   * kvm_pgtable_stage2_map return -EAGAIN there; the pages before it are mapped, as the kernel's loop leaves them.
   */
  s2MapPages(ipa: number, size: number, pa: number, write: boolean): { ok: true } | { ok: false; errno: ErrnoName; failedIpa: number } {
    if (this.stage2.isDestroyed) return { ok: true };
    const prot = KVM_PGTABLE_PROT_R | (write ? KVM_PGTABLE_PROT_W : 0);
    const attr = stage2ProtAttr(prot, this.fwb, this.flavour);
    if (attr === 'EINVAL') return { ok: false, errno: 'EINVAL', failedIpa: ipa };
    // find the first page where the map would stop with -EAGAIN (cheap translate walk, no descriptor writes), then
    // map everything before it in one page-granular walk: the same descriptor writes as the per-page loop
    const ps = this.pageSize;
    let conflict = -1;
    for (let off = 0; off < size; off += ps) {
      const t = this.stage2.translate(ipa + off);
      if (!t.valid || t.level !== 3) continue;
      const leaf = this.stage2.getLeaf(ipa + off);
      const nw = initLeafPte(pa + off, attr, 3, ps);
      if (((leaf.raw ^ nw) & ~KVM_PTE_LEAF_ATTR_S2_PERMS) === 0n) { conflict = off; break; }
    }
    const mapSize = conflict < 0 ? size : conflict;
    if (mapSize > 0) {
      const r = this.stage2.map(ipa, mapSize, pa, prot, { forcePte: true, noDcacheCmo: true });
      // the walk may have mapped part of the range before failing: report its end so the caller unmaps it all
      if (r !== 'ok') return { ok: false, errno: pgtErrno(r), failedIpa: ipa + mapSize };
    }
    if (conflict >= 0) return { ok: false, errno: 'EAGAIN', failedIpa: ipa + conflict };
    return { ok: true };
  }

  s2Unmap(ipa: number, size: number): void {
    if (this.stage2.isDestroyed || size <= 0) return;
    this.stage2.unmap(ipa, size);
  }

  // ------------------------------------------------------------------------------------------------------------
  // KVM_SET_USER_MEMORY_REGION (spec A.2)

  setUserMemoryRegion(r: UserMemoryRegion): IoctlResult {
    const res = this.setUserMemoryRegionChecked(r);
    const u = (v: number | bigint, bits: number): bigint => BigInt.asUintN(bits, BigInt(v));
    return this.ioctl('KVM_SET_USER_MEMORY_REGION',
      [Number(u(r.slot, 32)), Number(u(r.flags, 32)), u(r.gpa, 64), u(r.size, 64), u(r.hva, 64)], res);
  }

  private setUserMemoryRegionChecked(r: UserMemoryRegion): IoctlResult {
    const slotArg = BigInt.asUintN(32, BigInt(r.slot));
    const flags = BigInt.asUintN(32, BigInt(r.flags));
    const gpa = BigInt.asUintN(64, BigInt(r.gpa));
    const size = BigInt.asUintN(64, BigInt(r.size));
    const hva = BigInt.asUintN(64, BigInt(r.hva));
    const page = BigInt(this.pageSize);
    const id = Number(slotArg & 0xffffn);
    const asId = Number(slotArg >> 16n);
    const slotsNum = this.flavour.memSlotsNum;
    // 0: kvm_vm_ioctl_set_memory_region, before __kvm_set_memory_region
    if (id >= slotsNum) return fail('EINVAL', 'A.2#0', `(u16)slot ${id} >= KVM_USER_MEM_SLOTS (${slotsNum})`);
    // 1
    if ((flags & ~BigInt(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) !== 0n) {
      return fail('EINVAL', 'A.2#1', `flags 0x${flags.toString(16)}: only KVM_MEM_LOG_DIRTY_PAGES and KVM_MEM_READONLY`);
    }
    // 2 (memory_size always fits an arm64 unsigned long)
    if (size % page !== 0n) return fail('EINVAL', 'A.2#2', `memory_size 0x${size.toString(16)} is not a multiple of PAGE_SIZE`);
    // 3
    if (gpa % page !== 0n) return fail('EINVAL', 'A.2#3', `guest_phys_addr 0x${gpa.toString(16)} is not PAGE_SIZE-aligned`);
    // 4
    if (hva % page !== 0n) return fail('EINVAL', 'A.2#4', `userspace_addr 0x${hva.toString(16)} is not PAGE_SIZE-aligned`);
    if (hva !== sx55(hva)) return fail('EINVAL', 'A.2#4', `userspace_addr 0x${hva.toString(16)} is tagged (!= untagged_addr())`);
    if (hva + size > TASK_SIZE) return fail('EINVAL', 'A.2#4', `access_ok() fails: userspace_addr + memory_size beyond TASK_SIZE (2^48)`);
    // 5
    if (asId >= KVM_ADDRESS_SPACE_NUM || id >= slotsNum) return fail('EINVAL', 'A.2#5', `as_id ${asId} >= KVM_ADDRESS_SPACE_NUM (1)`);
    // 6
    if (gpa + size > U64) return fail('EINVAL', 'A.2#6', 'guest_phys_addr + memory_size wraps around');
    // 7
    const npagesBig = size / page;
    if (npagesBig > BigInt(KVM_MEM_MAX_NR_PAGES)) {
      return fail('EINVAL', 'A.2#7', `memory_size >> PAGE_SHIFT = ${npagesBig} > KVM_MEM_MAX_NR_PAGES`);
    }
    const npages = Number(npagesBig);
    const baseGfn = gpa / page;
    const old = this.memslots.get(id);
    const newFlags = Number(flags);
    let change: Change;
    if (size === 0n) {
      // 8
      if (old === undefined) return fail('EINVAL', 'A.2#8', `DELETE of memslot ${id}, which does not exist`);
      change = 'delete';
    } else if (old === undefined) {
      // 9
      if (BigInt(this.memslots.totalPages()) + npagesBig > U64) return fail('EINVAL', 'A.2#9', 'total memslot pages overflow');
      change = 'create';
    } else {
      // 10
      if (hva !== BigInt(old.hva)) return fail('EINVAL', 'A.2#10', 'userspace_addr of an existing memslot cannot change');
      if (npages !== old.npages) return fail('EINVAL', 'A.2#10', 'an existing memslot cannot be resized');
      if (((newFlags ^ old.flags) & KVM_MEM_READONLY) !== 0) return fail('EINVAL', 'A.2#10', 'KVM_MEM_READONLY cannot change on an existing memslot');
      if (baseGfn !== BigInt(old.gpa) / page) change = 'move';
      else if (newFlags !== old.flags) change = 'flags_only';
      else return OK;
    }
    // 11
    if (change === 'create' || change === 'move') {
      const end = baseGfn + npagesBig;
      for (const s of this.memslots.all()) {
        if (s.id === id) continue;
        const sBase = BigInt(s.gpa) / page;
        if (!(end <= sBase || baseGfn >= sBase + BigInt(s.npages))) {
          return fail('EEXIST', 'A.2#11', `memslot ${id} [0x${gpa.toString(16)}, +0x${size.toString(16)}) overlaps memslot ${s.id}`);
        }
      }
    }
    // kvm_set_memslot: DELETE and MOVE first invalidate the old slot and flush its stage 2 range — before the arch
    // hook, so a refused DELETE/MOVE has already unmapped it (A.2#8 ordering note)
    if ((change === 'delete' || change === 'move') && old !== undefined) this.s2Unmap(old.gpa, old.size);
    // 12
    const hook = this.prepareMemoryRegion(change, old, { gpa, size, hva, npages, flags: newFlags });
    if (!hook.ok) return hook;
    // 13
    this.commitMemoryRegion(change, id, old, { gpa: Number(gpa), size: Number(size), hva: Number(hva), npages, flags: newFlags });
    return OK;
  }

  /** kvm_arch_prepare_memory_region (arm64, 5.14-era, with the SPE lock RFC's v4 08 / v5 09 check first). */
  private prepareMemoryRegion(change: Change, old: Memslot | undefined,
    n: { gpa: bigint; size: bigint; hva: bigint; npages: number; flags: number }): IoctlResult {
    if (this.flavour.lock !== null && change !== 'create' && old !== undefined && old.lock !== null) {
      // `change == KVM_MR_FLAGS_ONLY && memslot_is_logging(new) && !LOCK_WRITE`; memslot_is_logging() is
      // `dirty_bitmap && !READONLY`, so a READONLY slot can never take the exception (v4 08/39, v5 09/38 as posted)
      const enablesLogging = change === 'flags_only' && (n.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0
        && (n.flags & KVM_MEM_READONLY) === 0;
      if (!(enablesLogging && !old.lock.write)) {
        return fail('EBUSY', 'A.2#12', `memslot ${old.id} is locked: unlock it first`);
      }
    }
    if (change !== 'create' && change !== 'move' && change !== 'flags_only') return OK;
    const page = BigInt(this.pageSize);
    const limitGfn = (1n << BigInt(this.ipaBits)) / page;
    const endGfn = n.gpa / page + BigInt(n.npages);
    if (this.flavour.ipaLimitCheck === '>' ? endGfn > limitGfn : endGfn >= limitGfn) {
      return fail('EFAULT', 'A.2#12', `memslot end 0x${(n.gpa + n.size).toString(16)} beyond the IPA size (${this.ipaBits} bits)`);
    }
    if ((n.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0 && n.hva + n.size <= TASK_SIZE) {
      const pfn = this.hostMemory.segments(Number(n.hva), Number(n.size)).find(s => s.backing.kind === 'pfnmap');
      if (pfn !== undefined) return fail('EINVAL', 'A.2#12', 'dirty logging on a VM_PFNMAP backing');
    }
    return OK;
  }

  /** kvm_set_memslot's install + kvm_arch_commit_memory_region. */
  private commitMemoryRegion(change: Change, id: number, old: Memslot | undefined,
    n: { gpa: number; size: number; hva: number; npages: number; flags: number }): void {
    const logging = (n.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    if (change === 'delete') {
      this.memslots.remove(id);
      return;
    }
    if (change === 'create' || old === undefined) {
      this.memslots.install({
        id, gpa: n.gpa, size: n.size, npages: n.npages, hva: n.hva, flags: n.flags,
        readonly: (n.flags & KVM_MEM_READONLY) !== 0, dirtyLog: logging,
        dirtyBitmap: logging ? newDirtyBitmap(n.npages) : null, lock: null, pinnedPages: 0,
      });
    } else {
      // MOVE / FLAGS_ONLY: the dirty bitmap and arch flags (lock) are carried over from the old slot
      old.gpa = n.gpa;
      old.flags = n.flags;
      old.dirtyLog = logging;
      if (!logging) old.dirtyBitmap = null;
      else if (old.dirtyBitmap === null) old.dirtyBitmap = newDirtyBitmap(n.npages);
      this.memslots.reindex();
    }
    // 13: a logging slot is write-protected whole (kvm_mmu_wp_memory_region: stage2_wp_range + TLB flush)
    if (logging && !this.stage2.isDestroyed) {
      this.stage2.wrprotect(n.gpa, n.size);
      this.stage2.tlbiVmid();
    }
  }

  /**
   * The `memslot` statement: create (a new backing, HVA per the host memory model) or modify (the slot's HVA kept).
   * A failed ioctl gives its backing back (the VMM munmaps it).
   */
  createMemslot(s: MemslotStatement): IoctlResult {
    const flags = (s.dirtyLog ? KVM_MEM_LOG_DIRTY_PAGES : 0) | (s.readonly ? KVM_MEM_READONLY : 0);
    const old = this.memslots.get(s.id);
    if (old !== undefined) {
      return this.setUserMemoryRegion({ slot: s.id, flags, gpa: s.gpa, size: s.size, hva: s.hva ?? old.hva });
    }
    const saved = this.hostMemory.snapshot();
    let hva = s.hva ?? 0;
    if (s.size > 0 && s.size % this.pageSize === 0 && s.gpa % this.pageSize === 0) {
      hva = this.hostMemory.allocate(s.backing ?? 'anon', s.gpa, s.size, s.hva);
    }
    const r = this.setUserMemoryRegion({ slot: s.id, flags, gpa: s.gpa, size: s.size, hva });
    if (!r.ok) this.hostMemory.restore(saved);
    return r;
  }

  /** `memslot ID delete`: size 0 (the VMM passes the slot's other fields unchanged). */
  deleteMemslot(id: number): IoctlResult {
    const old = this.memslots.get(id);
    return this.setUserMemoryRegion(old === undefined
      ? { slot: id, flags: 0, gpa: 0, size: 0, hva: 0 }
      : { slot: id, flags: old.flags, gpa: old.gpa, size: 0, hva: old.hva });
  }

  /** `memslot ID move gpa=A` (a missing slot is sent with size 0: A.2#8). */
  moveMemslot(id: number, gpa: number): IoctlResult {
    const old = this.memslots.get(id);
    return this.setUserMemoryRegion(old === undefined
      ? { slot: id, flags: 0, gpa, size: 0, hva: 0 }
      : { slot: id, flags: old.flags, gpa, size: old.size, hva: old.hva });
  }

  /** `memslot ID flags [dirty_log] [readonly]`: the listed flags are the complete new value. */
  setMemslotFlags(id: number, f: { dirtyLog?: boolean; readonly?: boolean }): IoctlResult {
    const flags = (f.dirtyLog ? KVM_MEM_LOG_DIRTY_PAGES : 0) | (f.readonly ? KVM_MEM_READONLY : 0);
    const old = this.memslots.get(id);
    return this.setUserMemoryRegion(old === undefined
      ? { slot: id, flags, gpa: 0, size: 0, hva: 0 }
      : { slot: id, flags, gpa: old.gpa, size: old.size, hva: old.hva });
  }

  // ------------------------------------------------------------------------------------------------------------
  // fault-path accessors (the abort code uses these)

  findMemslot(ipa: number): Memslot | undefined { return this.memslots.findByIpa(ipa); }

  /** The host-physical address behind an IPA of a memslot, or undefined when its HVA has no VMA (-> EFAULT). */
  ipaToPa(slot: Memslot, ipa: number): number | undefined {
    return this.hostMemory.hvaToPa(slot.hva + (ipa - slot.gpa));
  }

  hvaToPa(hva: number): number | undefined { return this.hostMemory.hvaToPa(hva); }

  /** The VMA at `hva` (undefined: none, e.g. munmapped). */
  hvaToBacking(hva: number) { return this.hostMemory.backingAt(hva); }

  /** mark_page_dirty for page `gfnIndex` of the slot (no-op when not logging). */
  markDirty(slot: Memslot, gfnIndex: number): void { markDirty(slot, gfnIndex); }

  // ------------------------------------------------------------------------------------------------------------
  // KVM_GET_DIRTY_LOG (spec A.5). Rule ids: A.5#1 as_id/id out of range (-EINVAL); A.5#2 no such slot or not
  // logging (-ENOENT; confirmed in kvm_main.c kvm_get_dirty_log_protect: `if (!memslot || !memslot->dirty_bitmap)
  // return -ENOENT;`).

  getDirtyLog(slotArg: number): IoctlResult & { pages?: number[] } {
    const s = BigInt.asUintN(32, BigInt(slotArg));
    const id = Number(s & 0xffffn), asId = Number(s >> 16n);
    let res: IoctlResult & { pages?: number[] };
    const slot = this.memslots.get(id);
    if (asId >= KVM_ADDRESS_SPACE_NUM || id >= this.flavour.memSlotsNum) {
      res = fail('EINVAL', 'A.5#1', `slot 0x${s.toString(16)}: as_id or id out of range`);
    } else if (slot === undefined || slot.dirtyBitmap === null) {
      res = fail('ENOENT', 'A.5#2', slot === undefined ? `memslot ${id} does not exist` : `memslot ${id} does not log dirty pages`);
    } else {
      const words = harvestDirtyBitmap(slot);
      const pages: number[] = [];
      for (const w of words) {
        pages.push(...w.pages);
        // kvm_arch_mmu_enable_log_dirty_pt_masked: write-protect __ffs(mask) .. __fls(mask) of the word
        if (!this.stage2.isDestroyed) this.stage2.wrprotect(slot.gpa + w.wpStart * this.pageSize, (w.wpEnd - w.wpStart) * this.pageSize);
      }
      if (words.length > 0 && !this.stage2.isDestroyed) this.stage2.tlbiVmid();
      res = { ok: true, pages };
    }
    this.ioctl('KVM_GET_DIRTY_LOG', [Number(s)], res);
    return res;
  }

  // ------------------------------------------------------------------------------------------------------------
  // KVM_ENABLE_CAP / KVM_CHECK_EXTENSION on the VM fd

  enableCap(cap: number, flags: number, args: readonly bigint[]): IoctlResult {
    const res = this.enableCapChecked(cap, flags, args);
    const a = [0, 1, 2, 3].map(i => BigInt.asUintN(64, args[i] ?? 0n));
    return this.ioctl('KVM_ENABLE_CAP', [cap, flags, ...a], res);
  }

  private enableCapChecked(cap: number, flags: number, args: readonly bigint[]): IoctlResult {
    switch (capName(this.flavour, cap)) {
      case 'KVM_CAP_ARM_LOCK_USER_MEMORY_REGION':
        if (this.flavour.lock !== null) return lockCapIoctl(this, this.flavour.lock, flags, args);
        break;
      case 'KVM_CAP_ARM_NISV_TO_USER':
        if (flags !== 0) return fail('EINVAL', 'G.3#flags', 'KVM_CAP_ARM_NISV_TO_USER takes flags = 0');
        // MMIO-guard v2 09/16: NISV cannot be enabled once the guest enrolled in the guard
        if (this.flavour.mmioGuard !== null && !mmioGuardAllowsNisv(this)) {
          return fail('EINVAL', 'D.5#nisv-after-enroll', 'KVM_CAP_ARM_NISV_TO_USER: the guest has enrolled in the MMIO guard');
        }
        this.flags.nisvToUser = true;
        return OK;
      case 'KVM_CAP_ARM_MTE':
        // The lock RFC's 02 patch (v4 02/39, v5 02/38) removed the generic `if (cap->flags) return -EINVAL` and
        // re-added it to the NISV_TO_USER case only: as posted, the MTE case no longer looks at flags
        if (flags !== 0 && this.flavour.lock === null) return fail('EINVAL', 'G.6#flags', 'KVM_CAP_ARM_MTE takes flags = 0');
        if (this.vcpus.length > 0) return fail('EINVAL', 'G.6#vcpus', 'KVM_CAP_ARM_MTE must be enabled before any vcpu is created');
        // v4 03 / v5 03 refused MTE while a slot is locked; v4 06 / v5 06 lifted that (deferred tag sanitising)
        this.flags.mte = true;
        return OK;
      // KVM_CAP_ARM_MMIO_GUARD only advertises the hypercalls (MMIO-guard v2 09/16): there is no enable case, so
      // KVM_ENABLE_CAP falls through to -EINVAL like any unknown cap; the guest enrols itself with ENROLL
    }
    return fail('EINVAL', 'G.15#unknown-cap', `KVM_ENABLE_CAP: cap ${cap} is not handled by ${this.flavour.name}`);
  }

  checkExtension(cap: number): IoctlResult {
    let v = checkExtensionValue(this.flavour, cap, { pageSize: this.pageSize, speHardware: this.speHardware });
    // MMIO-guard v2 09/16: NISV_TO_USER reads 0 once the guest enrolled; MMIO_GUARD reads 0 once NISV is on
    if (this.flavour.mmioGuard !== null) {
      const name = capName(this.flavour, cap);
      if (name === 'KVM_CAP_ARM_NISV_TO_USER' && !mmioGuardAllowsNisv(this)) v = 0;
      if (name === 'KVM_CAP_ARM_MMIO_GUARD' && (!nisvAllowsMmioGuard(this) || !this.mmioGuardAvailable)) v = 0;
    }
    return this.ioctl('KVM_CHECK_EXTENSION', [cap], okValue(BigInt(v)));
  }

  // ------------------------------------------------------------------------------------------------------------
  // vcpu state the exit handlers (psci.ts, mmio-guard.ts, inject.ts) read and write

  /** The machine hands over the CPUs so PSCI CPU_ON can reset its target (index order). */
  attachCpus(cpus: readonly GuestCpu[]): void { this.cpus = cpus; }

  get vcpuCount(): number { return this.vcpus.length; }

  vcpuInfo(index: number): ExitVcpuInfo {
    const v = this.vcpu(index);
    return { powerOff: v.powerState === 'off', psci02: v.features.has(KVM_ARM_VCPU_PSCI_0_2), el1_32bit: v.features.has(KVM_ARM_VCPU_EL1_32BIT) };
  }

  /** PSCI CPU_ON: KVM_REQ_VCPU_RESET with reset_state {pc = entry, x0 = contextId}; the vcpu is runnable. */
  powerOnVcpu(target: number, entry: bigint, contextId: bigint): void {
    const v = this.vcpu(target);
    v.powerState = 'on';
    const cpu = this.cpus[target];
    if (cpu !== undefined) {
      cpu.reset();
      cpu.setPc(entry);
      cpu.setX(0, contextId);
    }
  }

  powerOffVcpu(index: number): void { this.vcpu(index).powerState = 'off'; }

  /** kvm_inject_vabt: HCR_EL2.VSE + VSESR_EL2 recorded on the vcpu; the CPU side delivers it (machine wiring). */
  pendVirtualSError(vcpu: GuestCpu, vsesr: bigint): void { this.vcpu(vcpu.index).pendingVSError = vsesr; }

  /** The machine marks a vcpu inside KVM_RUN (background run): kvm_lock_all_vcpus then fails (E.3#3). */
  vcpuInIoctl(index: number, inside: boolean): void { this.vcpu(index).inIoctl = inside; }

  // ------------------------------------------------------------------------------------------------------------
  // KVM_ARM_VCPU_INIT and the KVM_RUN entry (spec F, E.4)

  private vcpu(index: number): KvmVcpuState {
    const v = this.vcpus[index];
    if (v === undefined) throw new Error(`no vcpu ${index}`);
    return v;
  }

  get maxVcpuFeatures(): number {
    // KVM_VCPU_MAX_FEATURES: 7 in 5.x; 8 with the SPE RFC (v4 39/39)
    return this.flavour.spe !== null ? 8 : 7;
  }

  vcpuInit(index: number, init: { target: number; features: readonly number[] }): IoctlResult {
    const v = this.vcpu(index);
    const out = vcpuSetTarget(v, init.target, init.features, this.maxVcpuFeatures,
      { speFeature: this.flavour.spe !== null, speHardware: this.speHardware });
    let mask = 0n;
    for (const f of init.features) mask |= 1n << BigInt(f);
    const args: FieldValue[] = [init.target, mask];
    if (out.leakedFeatures.length > 0) {
      this.warn(`kvm_vcpu_set_target: feature bits [${out.leakedFeatures.join(', ')}] stay set in vcpu->arch.features after the failed KVM_ARM_VCPU_INIT (5.x sets them before validating the rest); a later INIT inherits them`, index);
    }
    if (!out.result.ok) return this.ioctl('KVM_ARM_VCPU_INIT', args, out.result, index);
    // Ensure a rebooted VM faults its RAM back in with CMOs (spec F, B.7): without FWB stage2_unmap_vm; with FWB
    // only the I-cache (FWB does not imply CTR_EL0.DIC)
    if (v.hasRunOnce) {
      if (!this.fwb) this.stage2UnmapVm();
      else this.events.emit('cmo', { op: 'icache_inval_all_pou', ipa: 0n, size: 0n }, index);
    }
    v.powerState = v.features.has(KVM_ARM_VCPU_POWER_OFF) ? 'off' : 'on';
    return this.ioctl('KVM_ARM_VCPU_INIT', args, OK, index);
  }

  /**
   * stage2_unmap_vm (spec F): unmap each memslot's IPA ranges that have a VMA behind them (holes skipped), except
   * VM_PFNMAP VMAs (5.x stage2_unmap_memslot skips them: "unmap any regular RAM"). With the
   * lock RFC (v4 05 / v5 05) a locked slot is skipped and FLUSH_DCACHE + INVAL_ICACHE (+ SANITISE_TAGS with MTE)
   * are set instead (E.4 producer 2).
   */
  stage2UnmapVm(): void {
    const ops = new Set<PendingOp>();
    for (const slot of this.memslots.all()) {
      if (this.flavour.lock !== null && slot.lock !== null) {
        ops.add('flush_dcache');
        ops.add('inval_icache');
        if (this.flags.mte) ops.add('sanitise_tags');
        continue;
      }
      for (const seg of this.hostMemory.segments(slot.hva, slot.size)) {
        // stage2_unmap_memslot: `if (!(vma->vm_flags & VM_PFNMAP)) unmap_stage2_range(...)` — device ranges stay
        if (seg.backing.kind === 'pfnmap') continue;
        this.s2Unmap(slot.gpa + (seg.hva - slot.hva), seg.size);
      }
    }
    if (ops.size > 0) this.pendingOps.set([...ops]);
  }

  /**
   * The KVM_RUN steps before the guest runs (spec F "KVM_RUN order"): -ENOEXEC when not initialised; pending ops
   * (E.4); kvm_vcpu_first_run_init (has_run_once, PMU, then `firstRunHooks` — the SPE checks). Returns the error
   * that ends KVM_RUN, or null to go on (MMIO completion and the run loop are the caller's). Emits no ioctl event:
   * the caller reports KVM_RUN's final result with `ioctl()`.
   */
  kvmRunEntry(index: number): IoctlResult | null {
    const v = this.vcpu(index);
    if (!v.initialized) return fail('ENOEXEC', 'F#run-init', `vcpu ${index} has not been initialised (KVM_ARM_VCPU_INIT)`);
    if (this.flavour.lock !== null && this.pendingOps.any) {
      const r = this.performPendingOps(index);
      if (r !== null) return r;
    }
    if (!v.hasRunOnce) {
      v.hasRunOnce = true;
      // kvm_arm_pmu_v3_enable: the PMU feature without KVM_ARM_VCPU_PMU_V3_INIT (no PMU attributes here)
      if (v.features.has(KVM_ARM_VCPU_PMU_V3)) {
        return fail('EINVAL', 'F#run-pmu', 'kvm_arm_pmu_v3_enable: PMUv3 requested but not initialised (KVM_ARM_VCPU_PMU_V3_INIT)');
      }
      for (const hook of this.firstRunHooks) {
        const r = hook(index);
        if (r !== null) return r;
      }
    }
    return null;
  }

  /**
   * kvm_mmu_perform_pending_ops (E.4 consumer), in order: SANITISE_TAGS (with MTE: each locked slot's VMAs must be
   * contiguous, else -EFAULT, rule E.4#1), FLUSH_DCACHE (stage2_flush_memslot of each locked slot), INVAL_ICACHE
   * (icache_inval_all_pou), then clear: v4 bitmap_zero, v5 bit by bit (SANITISE_TAGS only with MTE).
   */
  performPendingOps(vcpu?: number): IoctlResult | null {
    const lock = this.flavour.lock;
    if (lock === null || !this.pendingOps.any) return null;
    const done: PendingOp[] = [];
    if (this.pendingOps.has('sanitise_tags') && this.flags.mte) {
      for (const slot of this.memslots.lockedSlots()) {
        // sanitise_mte_tags_memslot (v4 06/39, v5 06/38 as posted): `vma = find_vma_intersection(mm, hva, slot_end);
        // if (!vma) -EFAULT; hva = min(slot_end, vma->vm_end)`. find_vma_intersection returns the next VMA that
        // starts before slot_end, so only a hole that runs to the end of the slot fails; an interior one is skipped.
        const segs = this.hostMemory.segments(slot.hva, slot.size);
        const end = slot.hva + slot.size;
        const backedTo = segs.length === 0 ? slot.hva : segs[segs.length - 1].hva + segs[segs.length - 1].size;
        if (backedTo < end) {
          return fail('EFAULT', 'E.4#1', `memslot ${slot.id}: no VMA spans the locked slot from hva 0x${backedTo.toString(16)} to its end (find_vma_intersection)`);
        }
        const hole = this.hostMemory.firstHole(slot.hva, slot.size);
        if (hole !== undefined) {
          this.warn(`${this.flavour.name}: sanitise_mte_tags_memslot: "The VMAs spanning the memslot must be contiguous", but find_vma_intersection() steps over the hole at hva 0x${hole.toString(16)} in memslot ${slot.id}, so the check passes (v4 06/39, v5 06/38 as posted)`, vcpu);
        }
      }
      done.push('sanitise_tags');
    }
    if (this.pendingOps.has('flush_dcache')) {
      for (const slot of this.memslots.lockedSlots()) if (!this.stage2.isDestroyed) this.stage2.flush(slot.gpa, slot.size);
      done.push('flush_dcache');
    }
    if (this.pendingOps.has('inval_icache')) {
      this.events.emit('cmo', { op: 'icache_inval_all_pou', ipa: 0n, size: 0n }, vcpu);
      done.push('inval_icache');
    }
    if (lock.pendingOpsClear === 'bitmap_zero') this.pendingOps.clearAll(vcpu);
    else this.pendingOps.clear(done, vcpu);
    return null;
  }

  // ------------------------------------------------------------------------------------------------------------
  // the VMM's address space

  /**
   * munmap by the VMM (spec G.10): the MMU notifier unmaps the stage 2 range of every memslot the HVA range
   * intersects — locked slots too (their pages stay pinned and accounted) — then the VMA is gone, so a later fault
   * there makes KVM_RUN fail with EFAULT and a lock fails with ENOMEM.
   */
  unmapHost(hva: number, size: number): void {
    for (const slot of this.memslots.byHvaRange(hva, size)) {
      const s = Math.max(hva, slot.hva), e = Math.min(hva + size, slot.hva + slot.size);
      this.s2Unmap(slot.gpa + (s - slot.hva), e - s);
    }
    this.hostMemory.unmap(hva, size);
  }

  /**
   * The VMM wrote guest memory at [ipa, ipa+len) through its mapping (`write` / `load`). Caches are not modelled,
   * so where the kernel will not clean them before a MMU-off guest reads the data, say so (spec E.4, B.7): a locked
   * slot stays mapped at stage 2 (no fault, so no CMO on access), and once its FLUSH_DCACHE has been performed
   * nothing cleans it again until a vcpu reset (KVM_ARM_VCPU_INIT after a run) sets the pending op.
   */
  userspaceWrite(ipa: number, len: number): void {
    const slot = this.memslots.findByIpa(ipa);
    if (slot === undefined || slot.lock === null || this.flavour.lock === null || this.fwb) return;
    if (this.pendingOps.has('flush_dcache')) return;
    if (!this.stage2.isDestroyed && !this.stage2.translate(ipa).valid) return;
    this.warn(`userspace wrote 0x${len.toString(16)} bytes at IPA 0x${ipa.toString(16)} in locked memslot ${slot.id} after its deferred D-cache clean was performed: a guest with the MMU off may read stale data until a vcpu reset sets FLUSH_DCACHE again (spec E.4)`);
  }

  // ------------------------------------------------------------------------------------------------------------
  // pKVM (mode protected)

  pkvmMarkHyp(pa: number, size: number): IoctlResult { return pkvmMarkHypImpl(this, pa, size); }

  hostAccess(kind: 'read' | 'write' | 'exec', pa: number): 'ok' | 'hyp_panic' { return pkvmHostAccess(this, kind, pa); }

  // ------------------------------------------------------------------------------------------------------------
  // standalone page tables (`pgtable NAME ipa_bits=N [page_size=P]`)

  createPgtable(name: string, ipaBits: number, pageSize: Stage2PageSize = this.pageSize): Stage2PageTable | 'ENOMEM' {
    const pool = new TablePool(this.mem, this.pgtableNext, TABLE_POOL_BYTES);
    const t = Stage2PageTable.create(this.mem, pool, { ipaBits, pageSize, flavour: this.flavour, fwb: this.fwb, name }, this.events);
    if (t === 'ENOMEM') return t;
    this.pgtableNext += TABLE_POOL_BYTES;
    this.pgtables.set(name, t);
    return t;
  }

  // ------------------------------------------------------------------------------------------------------------
  // state readers (the `kvm/memslots` view, `expect memslot / locked_vm / pending_ops`)

  /** ARCHITECTURE.md `kvm/memslots` response body. */
  memslotsView(): MemslotsView {
    return {
      memslots: this.memslots.all().map(s => ({
        id: s.id, gpa: s.gpa, size: s.size, hva: s.hva, readonly: s.readonly, dirtyLog: s.dirtyLog,
        lock: s.lock === null ? null : { read: s.lock.read, write: s.lock.write }, pinnedPages: s.pinnedPages,
        dirtyPages: dirtyCount(s),
      })),
      lockedVm: this.lockedVmPages,
      pendingOps: this.pendingOps.list(),
    };
  }

  // ------------------------------------------------------------------------------------------------------------
  // teardown and snapshots

  get isDestroyed(): boolean { return this.destroyed; }

  /** VM teardown (v4 07 / v5 08): kvm_arch_flush_shadow_all frees the stage 2 PGD, then every slot is unlocked. */
  destroy(): void {
    if (this.destroyed) return;
    this.stage2.destroy();
    if (this.flavour.lock !== null) unlockAllOnTeardown(this);
    this.destroyed = true;
  }

  /** Plain-data copy of all VM state except PhysMem (the machine snapshots PhysMem itself). */
  snapshot(): VmSnapshot {
    return {
      memslots: this.memslots.snapshot(),
      hostMemory: this.hostMemory.snapshot(),
      vcpus: this.vcpus.map(v => v.snapshot()),
      pendingOps: this.pendingOps.snapshot(),
      lockedVmPages: this.lockedVmPages,
      flags: { ...this.flags },
      stage2: this.stage2.snapshot(),
      hostStage2: this.hostStage2?.snapshot(),
      pgtables: [...this.pgtables].map(([k, t]) => [k, t.snapshot()] as [string, Stage2PageTableState]),
      destroyed: this.destroyed,
      pgtableNext: this.pgtableNext,
      warnRatelimit: { ...this.warnRatelimit },
    };
  }

  restore(raw: unknown): void {
    const s = raw as VmSnapshot;
    this.memslots.restore(s.memslots);
    this.hostMemory.restore(s.hostMemory);
    // keep the vcpu objects (others hold references); copy the state into them
    this.vcpus.length = Math.min(this.vcpus.length, s.vcpus.length);
    s.vcpus.forEach((vs, i) => {
      const fresh = KvmVcpuState.fromSnapshot(vs);
      if (this.vcpus[i] === undefined) this.vcpus[i] = fresh;
      else Object.assign(this.vcpus[i], fresh);
    });
    this.pendingOps.restore(s.pendingOps);
    this.lockedVmPages = s.lockedVmPages;
    Object.assign(this.flags, s.flags);
    this.stage2.restore(s.stage2);
    if (this.hostStage2 !== undefined && s.hostStage2 !== undefined) this.hostStage2.restore(s.hostStage2);
    // tables created after the snapshot disappear; their pools' pages are plain PhysMem (restored by the machine)
    const names = new Set(s.pgtables.map(([k]) => k));
    for (const k of [...this.pgtables.keys()]) if (!names.has(k)) this.pgtables.delete(k);
    for (const [k, st] of s.pgtables) this.pgtables.get(k)?.restore(st);
    this.destroyed = s.destroyed;
    this.pgtableNext = s.pgtableNext;
    Object.assign(this.warnRatelimit, s.warnRatelimit);
  }
}

function pgtErrno(r: string): ErrnoName {
  switch (r) {
    case 'EAGAIN': return 'EAGAIN';
    case 'ENOMEM': return 'ENOMEM';
    case 'ERANGE': return 'EFAULT';
    default: return 'EINVAL';
  }
}

function emitIoctl(events: EventSink, name: string, args: readonly FieldValue[], result: IoctlResult, vcpu?: number): void {
  const fields: { [k: string]: FieldValue } = { name, args, result: result.ok ? 'ok' : result.errno };
  if (!result.ok) fields.rule = result.rule;
  events.emit('ioctl', fields, vcpu);
}
