// Kernel flavours: each is one kernel as posted (ARCHITECTURE.md "Kernel flavours", spec §0, A.3, B.8, D.5,
// D.6, E.3, E.4, E.5). Behaviour that differs between versions is looked up here, never hard-coded at the use
// site. A field that is `null` means the flavour does not have the feature at all (the checker reports a
// statement or symbol that needs it).

export type FlavourName = 'mainline-5.15' | 'spe-rfc-v4' | 'spe-rfc-v5' | 'mmio-guard-v2' | 'pkvm-v3';
export const FLAVOUR_NAMES: readonly FlavourName[] = ['mainline-5.15', 'spe-rfc-v4', 'spe-rfc-v5', 'mmio-guard-v2', 'pkvm-v3'];
export const DEFAULT_FLAVOUR: FlavourName = 'spe-rfc-v5';

/** How invalid stage 2 leaves carry metadata (spec B.8). */
export type InvalidPteScheme =
  | 'prot-none'        // pKVM v3 26/32: PROT_NONE = invalid leaf with BIT(55); no owner ids
  | 'owner-63-56'      // v5.13 (807923e04a0f): owner id in GENMASK(63,56), KVM_MAX_OWNER_ID = 1
  | 'owner-9-2'        // Jul 2021 "Don't overwrite ignored bits with owner id": GENMASK(9,2)
  | 'annotate';        // MMIO-guard v2 03/16: any 63-bit annotation, owner via FIELD_PREP(GENMASK(9,2), id)

export interface LockApi {
  /** KVM_CAP_ARM_LOCK_USER_MEMORY_REGION number (spec E.3): 206 in v4, 207 in v5 */
  readonly cap: number;
  /** v4 refuses LOCK once any vcpu has run (E.3#4); v5 removed the check */
  readonly busyIfRunOnce: boolean;
  /** v5: UNLOCK of a slot that is not locked is -EINVAL; v4 03 unlocks unconditionally (E.3 unlock table) */
  readonly unlockRequiresLocked: boolean;
  /** v5 07/38: UNLOCK with pending ops unmaps the slot from stage 2 */
  readonly unmapOnUnlockWithPendingOps: boolean;
  /** E.4 step 4: v4 clears the whole bitmap (bitmap_zero); v5 clears bit by bit (SANITISE_TAGS only with MTE) */
  readonly pendingOpsClear: 'bitmap_zero' | 'bit_by_bit';
  /** MTE cap refused while a slot is locked: v4 -EPERM, v5 -EINVAL (v4 03 / v5 03), lifted by 06 */
  readonly mteWhileLockedErrno: 'EPERM' | 'EINVAL';
}

export interface SpeApi {
  /** KVM_CAP_ARM_SPE (E.5): 208 in v4/v5 */
  readonly cap: number;
  /** vcpu feature bit KVM_ARM_VCPU_SPE */
  readonly vcpuFeature: number;
  /** errno of KVM_RUN when the SPE feature is set but SPE_INIT was not done (E.5 first run): v4 EPERM, v5 EINVAL */
  readonly runWithoutInitErrno: 'EPERM' | 'EINVAL';
  /** KVM_ARM_VCPU_SPE_STOP exists (v4 and v5) */
  readonly hasStop: boolean;
  /**
   * KVM_ARM_VCPU_SPE_IRQ accepts an INTID that is not a PPI: kvm_spe_irq_is_valid() is a `bool` function that
   * does `return -EINVAL;` for a non-PPI, which converts to true (v4 21/39 as posted; the same function in the
   * later v4 spe.c snapshots; v5 UNCONFIRMED, assumed unchanged). Absent = false: the documented rule (E.5).
   */
  readonly nonPpiIrqAccepted?: boolean;
}

export interface MmioGuardApi {
  /** KVM_CAP_ARM_MMIO_GUARD (D.5, 09/16) */
  readonly cap: number;
  /** function ids (D.5 table; D.6 shows they were renumbered later) */
  readonly info: number;
  readonly enroll: number;
  readonly map: number;
  readonly unmap: number;
}

export interface Flavour {
  readonly name: FlavourName;
  /** the kernel this flavour was posted against */
  readonly base: string;
  /** KVM_USER_MEM_SLOTS == KVM_MEM_SLOTS_NUM on arm64 (spec A.3) */
  readonly memSlotsNum: number;
  /** A.2#12: v5.8-era `>=` vs v5.10+ `>` on the IPA limit */
  readonly ipaLimitCheck: '>' | '>=';
  /**
   * C.4#7: VM_PFNMAP (device) faults may use PMD/PUD blocks (get_vma_page_shift, Keqian Zhu "KVM: arm64: Try
   * stage2 block mapping for host device MMIO", 2aa53d68cee6, merged for 5.14). Before that, device memory was
   * mapped page by page.
   */
  readonly pfnmapBlockMappings: boolean;
  /**
   * D.3 PSCI CPU_ON / AFFINITY_INFO target affinity with bits outside MPIDR_HWID_BITMASK: 5.15+ answers
   * INVALID_PARAMS (kvm_psci_valid_affinity, Oliver Upton "KVM: arm64: Enforce reserved bits for PSCI target
   * affinities", kvm-arm64/misc-5.15); before, the bits were masked off and ignored.
   */
  readonly psciAffinityReservedBits: 'invalid-params' | 'ignored';
  readonly lock: LockApi | null;
  readonly spe: SpeApi | null;
  readonly mmioGuard: MmioGuardApi | null;
  readonly invalidPte: InvalidPteScheme;
  /** pKVM `mode protected` available, and how the host stage 2 marks hyp pages (LANGUAGE.md pkvm_mark_hyp) */
  readonly protectedMode: 'prot-none' | 'owner' | null;
  /** KVM_PGTABLE_PROT_NONE exists (pKVM v3 26/32 only, spec B.4) */
  readonly hasProtNone: boolean;
  /** MMIO guard's annotation value MMIO_NOTE (spec B.8 #4) */
  readonly mmioNote: bigint | null;
  /** caps that exist with their numbers, for KVM_CHECK_EXTENSION / KVM_ENABLE_CAP by name */
  readonly caps: { readonly [name: string]: number };
  /** things a user studying this flavour should be told, emitted as `warning` events where they bite */
  readonly quirks: readonly string[];
}

const COMMON_CAPS = {
  KVM_CAP_NR_MEMSLOTS: 10,
  KVM_CAP_ARM_VM_IPA_SIZE: 165,
  KVM_CAP_ARM_NISV_TO_USER: 177,
  KVM_CAP_ARM_INJECT_EXT_DABT: 178,
  KVM_CAP_ARM_MTE: 205,
} as const;

// 0x9A9A929E: ('M'<<24 | 'M'<<16 | 'I'<<8 | 'O') << 1 (spec B.8 #4)
const MMIO_NOTE = ((0x4d4d494fn) << 1n);

export const FLAVOURS: { readonly [K in FlavourName]: Flavour } = {
  'mainline-5.15': {
    name: 'mainline-5.15', base: '5.15', memSlotsNum: 32767, ipaLimitCheck: '>', pfnmapBlockMappings: true,
    psciAffinityReservedBits: 'invalid-params',
    lock: null, spe: null, mmioGuard: null,
    invalidPte: 'owner-9-2', protectedMode: 'owner', hasProtNone: false, mmioNote: null,
    caps: { ...COMMON_CAPS },
    quirks: [],
  },
  'spe-rfc-v4': {
    name: 'spe-rfc-v4', base: '5.14-rc5', memSlotsNum: 32767, ipaLimitCheck: '>', pfnmapBlockMappings: true,
    psciAffinityReservedBits: 'ignored',
    lock: {
      cap: 206, busyIfRunOnce: true, unlockRequiresLocked: false, unmapOnUnlockWithPendingOps: false,
      pendingOpsClear: 'bitmap_zero', mteWhileLockedErrno: 'EPERM',
    },
    spe: { cap: 208, vcpuFeature: 7, runWithoutInitErrno: 'EPERM', hasStop: true, nonPpiIrqAccepted: true },
    mmioGuard: null,
    // base 5.14-rc5: owner ids since v5.13 in GENMASK(63,56); "Don't overwrite ignored bits with owner id"
    // (19 Jul 2021) moved them to GENMASK(9,2) for 5.15 (spec B.8 #2/#3)
    invalidPte: 'owner-63-56', protectedMode: null, hasProtNone: false, mmioNote: null,
    caps: { ...COMMON_CAPS, KVM_CAP_ARM_LOCK_USER_MEMORY_REGION: 206, KVM_CAP_ARM_VCPU_SUPPORTED_CPUS: 207, KVM_CAP_ARM_SPE: 208 },
    quirks: [
      'spe-rfc-v4: unlocking a memslot that is not locked is not refused (v4 03/39 has no check); unpin_memslot_pages() then walks an uninitialised (NULL) or already-freed page list, which oopses the real kernel; the model un-accounts the pages instead',
      'spe-rfc-v4: KVM_ARM_VCPU_SPE_IRQ accepts a non-PPI INTID: kvm_spe_irq_is_valid() returns -EINVAL from a bool function (v4 21/39)',
    ],
  },
  'spe-rfc-v5': {
    name: 'spe-rfc-v5', base: '5.16-rc1', memSlotsNum: 32767, ipaLimitCheck: '>', pfnmapBlockMappings: true,
    psciAffinityReservedBits: 'invalid-params',
    lock: {
      cap: 207, busyIfRunOnce: false, unlockRequiresLocked: true, unmapOnUnlockWithPendingOps: true,
      pendingOpsClear: 'bit_by_bit', mteWhileLockedErrno: 'EINVAL',
    },
    spe: { cap: 208, vcpuFeature: 7, runWithoutInitErrno: 'EINVAL', hasStop: true, nonPpiIrqAccepted: true },
    mmioGuard: null,
    invalidPte: 'owner-9-2', protectedMode: null, hasProtNone: false, mmioNote: null,
    caps: { ...COMMON_CAPS, KVM_CAP_ARM_LOCK_USER_MEMORY_REGION: 207, KVM_CAP_ARM_SPE: 208 },
    quirks: [
      'spe-rfc-v5: SANITISE_TAGS is set on every lock and only cleared with MTE, so pending ops stay set and every unlock unmaps the slot (spec E.4)',
      'spe-rfc-v5: KVM_ARM_VCPU_SPE_IRQ accepts a non-PPI INTID: kvm_spe_irq_is_valid() returns -EINVAL from a bool function (as in v4 21/39; UNCONFIRMED for v5)',
    ],
  },
  'mmio-guard-v2': {
    name: 'mmio-guard-v2', base: '5.15-rc3', memSlotsNum: 32767, ipaLimitCheck: '>', pfnmapBlockMappings: true,
    psciAffinityReservedBits: 'invalid-params',
    lock: null, spe: null,
    mmioGuard: { cap: 206, info: 0xC6000002, enroll: 0xC6000003, map: 0xC6000004, unmap: 0xC6000005 },
    invalidPte: 'annotate', protectedMode: null, hasProtNone: false, mmioNote: MMIO_NOTE,
    caps: { ...COMMON_CAPS, KVM_CAP_ARM_MMIO_GUARD: 206 },
    quirks: [
      'mmio-guard-v2: MMIO_GUARD_MAP ignores x2 (the MAIR index) (spec D.5)',
      'mmio-guard-v2: UNMAP page-aligns its address down, so a misaligned UNMAP of a mapped page succeeds (spec D.5)',
    ],
  },
  'pkvm-v3': {
    name: 'pkvm-v3', base: '~5.12', memSlotsNum: 32767, ipaLimitCheck: '>', pfnmapBlockMappings: false,
    psciAffinityReservedBits: 'ignored',
    lock: null, spe: null, mmioGuard: null,
    invalidPte: 'prot-none', protectedMode: 'prot-none', hasProtNone: true, mmioNote: null,
    // ~5.12 base: KVM_CAP_ARM_MTE (205) arrived with "KVM: arm64: Introduce MTE VM feature" in 5.13
    caps: { KVM_CAP_NR_MEMSLOTS: COMMON_CAPS.KVM_CAP_NR_MEMSLOTS, KVM_CAP_ARM_VM_IPA_SIZE: COMMON_CAPS.KVM_CAP_ARM_VM_IPA_SIZE,
      KVM_CAP_ARM_NISV_TO_USER: COMMON_CAPS.KVM_CAP_ARM_NISV_TO_USER, KVM_CAP_ARM_INJECT_EXT_DABT: COMMON_CAPS.KVM_CAP_ARM_INJECT_EXT_DABT },
    quirks: [
      'pkvm-v3: kvm_pte_prot_none() tests only BIT(55) and would report a valid entry with that bit as PROT_NONE; Will Deacon asked for a !valid check (spec B.8 #1). This model applies his rule.',
    ],
  },
};

export function isFlavourName(s: string): s is FlavourName {
  return (FLAVOUR_NAMES as readonly string[]).includes(s);
}

export function getFlavour(name: FlavourName): Flavour {
  return FLAVOURS[name];
}
