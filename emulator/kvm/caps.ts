// KVM_CHECK_EXTENSION values and KVM_ENABLE_CAP numbers on the VM fd. Cap numbers come from the flavour table
// (spec G.15: the RFC caps 206/207/208 collide between series), so a number is resolved to a name per flavour.
//
// Rule ids used by KVM_ENABLE_CAP outside the E.3 lock table:
//   G.15#unknown-cap   a cap this flavour's KVM_ENABLE_CAP does not handle       -EINVAL
//   G.3#flags          KVM_CAP_ARM_NISV_TO_USER with flags != 0                    -EINVAL
//   G.6#flags          KVM_CAP_ARM_MTE with flags != 0                             -EINVAL
//   G.6#vcpus          KVM_CAP_ARM_MTE after a vcpu was created                    -EINVAL
//   D.5#flags          KVM_CAP_ARM_MMIO_GUARD with flags != 0                      -EINVAL

import type { Flavour } from './flavours';

/** Host_IPA_Limit of the emulated CPU: PARange 48 bits; 52 only with 64K pages (ARCHITECTURE.md CPU identity). */
export function hostIpaLimit(pageSize: number): number {
  return pageSize === 65536 ? 52 : 48;
}

/** The cap's name in this flavour, or undefined. */
export function capName(flavour: Flavour, cap: number): string | undefined {
  for (const [name, n] of Object.entries(flavour.caps)) if (n === cap) return name;
  return undefined;
}

export interface ExtensionHost {
  readonly pageSize: number;
  /** SPE implemented (`spe on`) */
  readonly speHardware: boolean;
}

/** KVM_CHECK_EXTENSION on the VM fd: the value returned (0 for an unknown cap). */
export function checkExtensionValue(flavour: Flavour, cap: number, host: ExtensionHost): number {
  switch (capName(flavour, cap)) {
    case 'KVM_CAP_NR_MEMSLOTS': return flavour.memSlotsNum;
    case 'KVM_CAP_ARM_VM_IPA_SIZE': return hostIpaLimit(host.pageSize);
    case 'KVM_CAP_ARM_NISV_TO_USER': return 1;
    case 'KVM_CAP_ARM_INJECT_EXT_DABT': return 1;
    case 'KVM_CAP_ARM_MTE': return 1;
    // v5 12/38 (and v4's last lock patch) make it 1; the flavour is the whole series as posted
    case 'KVM_CAP_ARM_LOCK_USER_MEMORY_REGION': return 1;
    case 'KVM_CAP_ARM_VCPU_SUPPORTED_CPUS': return 1;
    // spec E.5: kvm_supports_spe()
    case 'KVM_CAP_ARM_SPE': return host.speHardware ? 1 : 0;
    case 'KVM_CAP_ARM_MMIO_GUARD': return 1;
    default: return 0;
  }
}
