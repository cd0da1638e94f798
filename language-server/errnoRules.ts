// Which spec rules produce which errno (hover on `=> EXXX` and on predicted-errno warnings). The rule ids are the
// ones the emulator's `fail(errno, rule, …)` calls and the checker's predictions use (emulator/kvm/*.ts,
// emulator/scenario/checker.ts), so a hover, a warning and a run-time failure cite the same rule. The text is a
// one-line summary of /work/shared/spec/kvm-arm64.md at that rule. test/lsp/errno-rules.test.ts checks that every
// rule id in the emulator's sources is listed here.

export interface ErrnoRule {
  readonly rule: string;
  readonly errno: string;
  /** the ioctl or path */
  readonly where: string;
  readonly text: string;
}

const R = (errno: string, rule: string, where: string, text: string): ErrnoRule => ({ errno, rule, where, text });

const SET_REGION = 'KVM_SET_USER_MEMORY_REGION';
const LOCK = 'KVM_ENABLE_CAP(LOCK_USER_MEMORY_REGION)';
const SPE_ATTR = 'KVM_SET_DEVICE_ATTR(KVM_ARM_VCPU_SPE_CTRL)';

export const ERRNO_RULES: readonly ErrnoRule[] = [
  // A.2: memslot validation, in check order
  R('EINVAL', 'A.2#0', SET_REGION, '(u16)slot >= KVM_USER_MEM_SLOTS, checked before the flags'),
  R('EINVAL', 'A.2#1', SET_REGION, 'flags other than KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY'),
  R('EINVAL', 'A.2#2', SET_REGION, 'memory_size not a multiple of PAGE_SIZE'),
  R('EINVAL', 'A.2#3', SET_REGION, 'guest_phys_addr not PAGE_SIZE-aligned'),
  R('EINVAL', 'A.2#4', SET_REGION, 'userspace_addr not PAGE_SIZE-aligned, tagged, or not accessible'),
  R('EINVAL', 'A.2#5', SET_REGION, 'as_id >= KVM_ADDRESS_SPACE_NUM or id >= KVM_MEM_SLOTS_NUM'),
  R('EINVAL', 'A.2#6', SET_REGION, 'guest_phys_addr + memory_size wraps around'),
  R('EINVAL', 'A.2#7', SET_REGION, 'memory_size >> PAGE_SHIFT > KVM_MEM_MAX_NR_PAGES'),
  R('EINVAL', 'A.2#8', SET_REGION, 'DELETE (size 0) of a memslot that does not exist'),
  R('EINVAL', 'A.2#9', SET_REGION, 'CREATE: the total page count of all memslots overflows'),
  R('EINVAL', 'A.2#10', SET_REGION, 'modify: userspace_addr differs, the size differs (no resize) or READONLY changes'),
  R('EEXIST', 'A.2#11', SET_REGION, 'CREATE or MOVE overlapping another memslot'),
  R('EFAULT', 'A.2#12', SET_REGION, 'kvm_arch_prepare_memory_region: the memslot ends beyond the IPA size'),
  R('EINVAL', 'A.2#12', SET_REGION, 'kvm_arch_prepare_memory_region: dirty logging on a VM_PFNMAP backing'),
  R('EBUSY', 'A.2#12', SET_REGION, 'the memslot is locked (SPE lock RFC): any change except dirty logging on for a READ-locked slot'),
  // A.4, A.5
  R('EINVAL', 'A.4#1', 'KVM_CREATE_VM', 'type bits other than [7:0] (IPA size)'),
  R('EINVAL', 'A.4#2', 'KVM_CREATE_VM', 'IPA size 0 (default 40) above the host limit'),
  R('EINVAL', 'A.4#3', 'KVM_CREATE_VM', 'IPA size outside [32, host IPA limit]'),
  R('EINVAL', 'A.5#1', 'KVM_GET_DIRTY_LOG', 'as_id >= KVM_ADDRESS_SPACE_NUM or id >= KVM_USER_MEM_SLOTS'),
  R('ENOENT', 'A.5#2', 'KVM_GET_DIRTY_LOG', 'the memslot does not exist or does not log dirty pages'),
  // B.8 pKVM
  R('EINVAL', 'B.8#mark-hyp', 'pkvm_mark_hyp', 'the range is not host memory (range_is_memory), or the host stage 2 update failed'),
  R('ENOMEM', 'B.8#mark-hyp', 'pkvm_mark_hyp', 'the host stage 2 update ran out of table pages'),
  // C.5
  R('ENOSYS', 'C.5#1', 'KVM_RUN', 'a data abort without a valid syndrome (ISV=0) outside memslots, without KVM_CAP_ARM_NISV_TO_USER'),
  // D.5 MMIO guard
  R('EINVAL', 'D.5#flags', 'KVM_ENABLE_CAP(KVM_CAP_ARM_MMIO_GUARD)', 'flags must be 0'),
  R('EINVAL', 'D.5#nisv-after-enroll', 'KVM_ENABLE_CAP(KVM_CAP_ARM_NISV_TO_USER)', 'the guest has enrolled in the MMIO guard'),
  // E.3 memslot locking (LOCK table, in check order, then UNLOCK)
  R('EINVAL', 'E.3#args', LOCK, 'args[2] or args[3] non-zero (checked first)'),
  R('EINVAL', 'E.3#flags', LOCK, 'flags is not exactly one of FLAGS_LOCK (1) or FLAGS_UNLOCK (2)'),
  R('EINVAL', 'E.3#1', LOCK, 'slot >= KVM_MEM_SLOTS_NUM'),
  R('EINVAL', 'E.3#2', LOCK, 'KVM_ARM_LOCK_MEM_READ missing in args[1] (READ is mandatory)'),
  R('EBUSY', 'E.3#3', LOCK, 'kvm_lock_all_vcpus failed: a vcpu is inside an ioctl (KVM_RUN)'),
  R('EBUSY', 'E.3#4', LOCK, 'v4 only: a vcpu has already run (has_run_once); v5 dropped the check'),
  R('EINVAL', 'E.3#5', LOCK, 'the memslot does not exist'),
  R('EPERM', 'E.3#6', LOCK, 'WRITE requested for a READONLY memslot or one that logs dirty pages'),
  R('EBUSY', 'E.3#7', LOCK, 'the memslot is already locked'),
  R('ENOMEM', 'E.3#8', LOCK, 'npages + locked_vm > RLIMIT_MEMLOCK (without CAP_IPC_LOCK)'),
  R('ENOMEM', 'E.3#9', LOCK, 'pin_user_pages failed (a hole in the VMA, VM_PFNMAP, missing permission)'),
  R('EAGAIN', 'E.3#13', LOCK, 'kvm_pgtable_stage2_map: a page is already mapped with the same PA (faulted in before the lock)'),
  R('ENOMEM', 'E.3#13', LOCK, 'kvm_pgtable_stage2_map failed for lack of memory'),
  R('EINVAL', 'E.3#unlock-slot', LOCK, 'UNLOCK: slot >= KVM_MEM_SLOTS_NUM (not with UNLOCK_MEM_ALL)'),
  R('EINVAL', 'E.3#unlock-missing', LOCK, 'UNLOCK: the memslot does not exist'),
  R('EINVAL', 'E.3#unlock-not-locked', LOCK, 'UNLOCK (v5): the memslot is not locked; v4 unlocks unconditionally'),
  // E.4
  R('EFAULT', 'E.4#1', 'KVM_RUN', 'deferred tag sanitising: the VMAs backing a locked memslot are not contiguous'),
  // E.5 SPE vcpu attributes and first run
  R('ENXIO', 'E.5#supports', SPE_ATTR, 'the host has no SPE, the vcpu lacks the SPE feature, or there is no in-kernel irqchip'),
  R('ENXIO', 'E.5#attr', SPE_ATTR, 'no such attribute, or it cannot be read'),
  R('ENXIO', 'E.5#irq', SPE_ATTR, 'KVM_ARM_VCPU_SPE_IRQ: no SPE feature, no irqchip, or SPE not implemented'),
  R('ENXIO', 'E.5#irq-unset', SPE_ATTR, 'KVM_ARM_VCPU_SPE_IRQ (get): no interrupt set'),
  R('EBUSY', 'E.5#irq', SPE_ATTR, 'KVM_ARM_VCPU_SPE_IRQ: an interrupt is already set, or SPE is initialised'),
  R('EBUSY', 'E.5#irq-set', SPE_ATTR, 'KVM_ARM_VCPU_SPE_IRQ: an interrupt is already set'),
  R('EBUSY', 'E.5#irq-initialized', SPE_ATTR, 'KVM_ARM_VCPU_SPE_IRQ: SPE is already initialised'),
  R('EINVAL', 'E.5#irq', SPE_ATTR, 'KVM_ARM_VCPU_SPE_IRQ: the INTID is not a PPI (16..31)'),
  R('EINVAL', 'E.5#irq-invalid', SPE_ATTR, 'KVM_ARM_VCPU_SPE_IRQ: not a PPI, or different from another vcpu\'s SPE PPI'),
  R('EFAULT', 'E.5#irq-fault', SPE_ATTR, 'KVM_ARM_VCPU_SPE_IRQ: get_user/put_user failed'),
  R('ENXIO', 'E.5#init', SPE_ATTR, 'KVM_ARM_VCPU_SPE_INIT: no SPE feature or the interrupt is not set'),
  R('ENXIO', 'E.5#init-no-irq', SPE_ATTR, 'KVM_ARM_VCPU_SPE_INIT: the interrupt is not set'),
  R('ENXIO', 'E.5#init-vgic', SPE_ATTR, 'KVM_ARM_VCPU_SPE_INIT: the vGIC is not initialised'),
  R('ENXIO', 'E.5#init-owner', SPE_ATTR, 'KVM_ARM_VCPU_SPE_INIT: kvm_vgic_set_owner failed'),
  R('EBUSY', 'E.5#init', SPE_ATTR, 'KVM_ARM_VCPU_SPE_INIT: already initialised'),
  R('EBUSY', 'E.5#init-busy', SPE_ATTR, 'KVM_ARM_VCPU_SPE_INIT: already initialised'),
  R('EINVAL', 'E.5#stop-flags', SPE_ATTR, 'KVM_ARM_VCPU_SPE_STOP: not exactly one of STOP_TRAP, STOP_EXIT, RESUME'),
  R('EAGAIN', 'E.5#stop', SPE_ATTR, 'KVM_ARM_VCPU_SPE_STOP: SPE is not initialised'),
  R('EAGAIN', 'E.5#stop-uninit', SPE_ATTR, 'KVM_ARM_VCPU_SPE_STOP: SPE is not initialised'),
  R('ENXIO', 'E.5#stop', SPE_ATTR, 'KVM_ARM_VCPU_SPE_STOP: the vcpu lacks the SPE feature'),
  R('EFAULT', 'E.5#stop-fault', SPE_ATTR, 'KVM_ARM_VCPU_SPE_STOP: get_user/put_user failed'),
  R('EAGAIN', 'E.5#stop-exit', 'KVM_RUN', 'STOP_EXIT: the vcpu would enter with profiling enabled (exit FAIL_ENTRY)'),
  R('EPERM', 'E.5#first-run', 'KVM_RUN', 'the SPE feature is set but KVM_ARM_VCPU_SPE_INIT was not done (EPERM in v4)'),
  R('EINVAL', 'E.5#first-run', 'KVM_RUN', 'the SPE feature is set but KVM_ARM_VCPU_SPE_INIT was not done (EINVAL in v5)'),
  // F vcpu lifecycle
  R('EINVAL', 'F#target', 'KVM_ARM_VCPU_INIT', 'target is not the preferred target (KVM_ARM_TARGET_GENERIC_V8)'),
  R('EINVAL', 'F#target-reinit', 'KVM_ARM_VCPU_INIT', 'a later init must use the same target'),
  R('ENOENT', 'F#feature', 'KVM_ARM_VCPU_INIT', 'a feature bit >= KVM_VCPU_MAX_FEATURES (e.g. spe in mainline)'),
  R('EINVAL', 'F#feature-reinit', 'KVM_ARM_VCPU_INIT', 'the features differ from the first init of this vcpu'),
  R('EINVAL', 'F#reset', 'KVM_ARM_VCPU_INIT', 'kvm_reset_vcpu refused the feature combination'),
  R('ENOEXEC', 'F#run-init', 'KVM_RUN', 'the vcpu has not been initialised (KVM_ARM_VCPU_INIT)'),
  R('EINVAL', 'F#run-pmu', 'KVM_RUN', 'PMUv3 requested but not initialised (KVM_ARM_VCPU_PMU_V3_INIT)'),
  R('EINTR', 'F#run-steps', 'KVM_RUN', 'the run returned to userspace with a signal pending (here: its step budget ran out)'),
  // G other
  R('EINVAL', 'G.3#flags', 'KVM_ENABLE_CAP(KVM_CAP_ARM_NISV_TO_USER)', 'flags must be 0'),
  R('EINVAL', 'G.6#flags', 'KVM_ENABLE_CAP(KVM_CAP_ARM_MTE)', 'flags must be 0'),
  R('EINVAL', 'G.6#vcpus', 'KVM_ENABLE_CAP(KVM_CAP_ARM_MTE)', 'must be enabled before any vcpu is created'),
  R('EINVAL', 'G.15#unknown-cap', 'KVM_ENABLE_CAP', 'the flavour does not handle this capability'),
];

export function rulesForErrno(errno: string): ErrnoRule[] {
  return ERRNO_RULES.filter((r) => r.errno === errno);
}

/** the spec section of a rule id: 'E.3#6' -> 'E.3', 'F#run-init' -> 'F' */
export function ruleSection(rule: string): string {
  return rule.split('#')[0];
}

export function rulesWithPrefix(prefix: string): ErrnoRule[] {
  return ERRNO_RULES.filter((r) => r.rule.startsWith(prefix));
}
