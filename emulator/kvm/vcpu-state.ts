// KVM's per-vcpu state (spec F "Emulator state per vCPU"): target/features from KVM_ARM_VCPU_INIT, has_run_once,
// power state, whether the vcpu is inside an ioctl (holds vcpu->mutex), pending MMIO completion. The SPE state
// belongs to the SPE code; it keeps its own per-vcpu record keyed by the index.
//
// Rule ids for section F (the spec lists these checks without numbers; ids used in `rule`):
//   F#target          KVM_ARM_VCPU_INIT target is not the host's preferred target            -EINVAL
//   F#target-reinit   a later INIT names another target than the first                       -EINVAL
//   F#feature         a feature bit >= KVM_VCPU_MAX_FEATURES                                  -ENOENT
//   F#feature-reinit  a later INIT's feature bits differ from the first INIT's                -EINVAL
//   F#reset           kvm_reset_vcpu fails (SVE / ptrauth not implemented, SPE with AArch32
//                     EL1, SPE requested without SPE hardware); target and features cleared    -EINVAL
//   F#run-init        KVM_RUN on a vcpu that was never initialised                            -ENOEXEC
//   F#run-pmu         first KVM_RUN with PMU_V3 but no PMU attributes (kvm_arm_pmu_v3_enable)  -EINVAL

import { fail, type IoctlResult } from './errno';

/** KVM_ARM_TARGET_GENERIC_V8: the emulated CPU's kvm_target_cpu() (not a known Cortex part) */
export const KVM_ARM_TARGET_GENERIC_V8 = 5;

export const KVM_ARM_VCPU_POWER_OFF = 0;
export const KVM_ARM_VCPU_EL1_32BIT = 1;
export const KVM_ARM_VCPU_PSCI_0_2 = 2;
export const KVM_ARM_VCPU_PMU_V3 = 3;
export const KVM_ARM_VCPU_SVE = 4;
export const KVM_ARM_VCPU_PTRAUTH_ADDRESS = 5;
export const KVM_ARM_VCPU_PTRAUTH_GENERIC = 6;
/** SPE RFC v4 14/39, v5 14/38 (collides with mainline's later HAS_EL2) */
export const KVM_ARM_VCPU_SPE = 7;

/** struct kvm_vcpu_init has u32 features[7] */
const FEATURE_BITS = 7 * 32;

export class KvmVcpuState {
  /** vcpu->arch.target; -1 until a KVM_ARM_VCPU_INIT succeeds */
  target = -1;
  /** vcpu->arch.features (bit numbers) */
  features = new Set<number>();
  /** set by kvm_vcpu_first_run_init; never cleared (a reset keeps it) */
  hasRunOnce = false;
  powerState: 'on' | 'off' = 'on';
  /** inside a vcpu ioctl (KVM_RUN in the background): holds vcpu->mutex */
  inIoctl = false;
  /** a KVM_EXIT_MMIO read awaits completion on the next KVM_RUN (C.5) */
  mmioNeeded = false;
  /** a virtual SError pending (HCR_EL2.VSE) with this VSESR_EL2, or null */
  pendingVSError: bigint | null = null;

  constructor(readonly index: number) {}

  get initialized(): boolean { return this.target !== -1; }

  snapshot(): KvmVcpuSnapshot {
    return { index: this.index, target: this.target, features: [...this.features], hasRunOnce: this.hasRunOnce,
      powerState: this.powerState, inIoctl: this.inIoctl, mmioNeeded: this.mmioNeeded, pendingVSError: this.pendingVSError };
  }

  static fromSnapshot(s: KvmVcpuSnapshot): KvmVcpuState {
    const v = new KvmVcpuState(s.index);
    v.target = s.target;
    v.features = new Set(s.features);
    v.hasRunOnce = s.hasRunOnce;
    v.powerState = s.powerState;
    v.inIoctl = s.inIoctl;
    v.mmioNeeded = s.mmioNeeded;
    v.pendingVSError = s.pendingVSError;
    return v;
  }
}

export interface KvmVcpuSnapshot {
  readonly index: number;
  readonly target: number;
  readonly features: readonly number[];
  readonly hasRunOnce: boolean;
  readonly powerState: 'on' | 'off';
  readonly inIoctl: boolean;
  readonly mmioNeeded: boolean;
  readonly pendingVSError: bigint | null;
}

/** What kvm_reset_vcpu can refuse on this host (the emulated CPU has no SVE and no pointer authentication). */
export interface ResetHost {
  /** the flavour has the SPE vcpu feature */
  readonly speFeature: boolean;
  /** SPE implemented in the machine (`spe on`) */
  readonly speHardware: boolean;
}

export interface SetTargetOutcome {
  readonly result: IoctlResult;
  /** feature bits an uninitialised vcpu kept from a failed call (5.x has no rollback) */
  readonly leakedFeatures: readonly number[];
}

/**
 * kvm_vcpu_set_target (5.14-era arm.c, spec F): target check, then the feature loop bit by bit in index order —
 * ENOENT for a set bit >= max, EINVAL for a bit that differs from the first INIT — calling set_bit as it goes, then
 * the reset. Quirk kept: bits set before the loop fails stay in vcpu->arch.features; on an uninitialised vcpu a later
 * INIT inherits them (6.x validates first, kvm_vcpu_init_check_features).
 */
export function vcpuSetTarget(v: KvmVcpuState, target: number, requested: readonly number[], maxFeatures: number,
  host: ResetHost): SetTargetOutcome {
  if (target !== KVM_ARM_TARGET_GENERIC_V8) {
    return { result: fail('EINVAL', 'F#target', `target ${target} is not the preferred target ${KVM_ARM_TARGET_GENERIC_V8}`), leakedFeatures: [] };
  }
  if (v.target !== -1 && v.target !== target) {
    return { result: fail('EINVAL', 'F#target-reinit', 'a later KVM_ARM_VCPU_INIT must use the same target'), leakedFeatures: [] };
  }
  const want = new Set(requested);
  const before = new Set(v.features);
  const wasInit = v.initialized;
  const leaked = (): number[] => wasInit ? [] : [...v.features].filter(b => !before.has(b)).sort((a, b) => a - b);
  for (let i = 0; i < FEATURE_BITS; i++) {
    const set = want.has(i);
    if (set && i >= maxFeatures) {
      return { result: fail('ENOENT', 'F#feature', `feature bit ${i} >= KVM_VCPU_MAX_FEATURES (${maxFeatures})`), leakedFeatures: leaked() };
    }
    if (wasInit && i < maxFeatures && v.features.has(i) !== set) {
      return { result: fail('EINVAL', 'F#feature-reinit', `feature bit ${i} differs from the first KVM_ARM_VCPU_INIT`), leakedFeatures: leaked() };
    }
    if (set) v.features.add(i);
  }
  v.target = target;
  const reset = resetVcpuCheck(v, host);
  if (reset !== null) {
    // "If the reset fails, the target is set back to -1 and the features cleared" (spec F)
    v.target = -1;
    v.features.clear();
    return { result: fail('EINVAL', 'F#reset', reset), leakedFeatures: [] };
  }
  return { result: { ok: true }, leakedFeatures: [] };
}

/** kvm_reset_vcpu's refusals on the emulated host; null when the reset succeeds. */
function resetVcpuCheck(v: KvmVcpuState, host: ResetHost): string | null {
  if (v.features.has(KVM_ARM_VCPU_SVE)) return 'kvm_reset_vcpu: SVE requested but the CPU has no SVE (kvm_vcpu_enable_sve)';
  if (v.features.has(KVM_ARM_VCPU_PTRAUTH_ADDRESS) || v.features.has(KVM_ARM_VCPU_PTRAUTH_GENERIC)) {
    return 'kvm_reset_vcpu: pointer authentication requested but not implemented (kvm_vcpu_enable_ptrauth)';
  }
  if (host.speFeature && v.features.has(KVM_ARM_VCPU_SPE)) {
    // spec E.5: AArch32 EL1 + SPE -> -EINVAL at reset; SPE without SPE hardware (UNCONFIRMED: modelled as a reset error)
    if (v.features.has(KVM_ARM_VCPU_EL1_32BIT)) return 'kvm_reset_vcpu: SPE is not supported with an AArch32 EL1';
    if (!host.speHardware) return 'kvm_reset_vcpu: SPE requested but the machine has no SPE';
  }
  return null;
}
