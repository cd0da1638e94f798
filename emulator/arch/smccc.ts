// SMCCC function identifiers and return codes (spec D.1, D.3, D.4), the PSCI identifiers KVM answers (D.3), the
// KVM vendor-hypervisor services and, per flavour, the MMIO guard ids (D.5/D.6); plus the predefined symbols of
// LANGUAGE.md for `#`/`=` immediates and host expressions.
//
// Function ids are JS numbers (unsigned 32-bit, W0). Register values are bigint; `toReg` turns a (possibly
// negative) return code into the 64-bit register value KVM writes (−1 → 0xFFFF_FFFF_FFFF_FFFF, spec D.4).

import type { Flavour } from '../kvm/flavours';

// ---------------------------------------------------------------------------------------------------------------
// D.1 encoding

export const ARM_SMCCC_FAST_CALL = 1;
export const ARM_SMCCC_STD_CALL = 0;
export const ARM_SMCCC_SMC_32 = 0;
export const ARM_SMCCC_SMC_64 = 1;

export const ARM_SMCCC_OWNER_ARCH = 0;
export const ARM_SMCCC_OWNER_CPU = 1;
export const ARM_SMCCC_OWNER_SIP = 2;
export const ARM_SMCCC_OWNER_OEM = 3;
export const ARM_SMCCC_OWNER_STANDARD = 4;
export const ARM_SMCCC_OWNER_STANDARD_HYP = 5;
export const ARM_SMCCC_OWNER_VENDOR_HYP = 6;
export const ARM_SMCCC_OWNER_TRUSTED_APP = 48;
export const ARM_SMCCC_OWNER_TRUSTED_OS = 50;

/** ARM_SMCCC_CALL_VAL(type, conv, owner, func) = type<<31 | conv<<30 | (owner & 0x3F)<<24 | (func & 0xFFFF) */
export function smcccCallVal(type: number, conv: number, owner: number, func: number): number {
  return (((type & 1) << 31) | ((conv & 1) << 30) | ((owner & 0x3f) << 24) | (func & 0xffff)) >>> 0;
}

export interface DecodedFunctionId {
  readonly fn: number;
  readonly fast: boolean;
  /** SMC64/HVC64 calling convention */
  readonly smc64: boolean;
  readonly owner: number;
  readonly ownerName: string;
  readonly number: number;
  /** bits [23:16] must be zero for fast calls */
  readonly wellFormed: boolean;
}

export function ownerName(owner: number): string {
  switch (owner) {
    case 0: return 'Arm Architecture';
    case 1: return 'CPU';
    case 2: return 'SiP';
    case 3: return 'OEM';
    case 4: return 'Standard Secure';
    case 5: return 'Standard Hypervisor';
    case 6: return 'Vendor Hypervisor';
    default:
      if (owner >= 48 && owner <= 49) return 'Trusted Application';
      if (owner >= 50) return 'Trusted OS';
      return 'Reserved';
  }
}

export function decodeFunctionId(fn: number): DecodedFunctionId {
  const f = fn >>> 0;
  const fast = (f >>> 31) === 1;
  const owner = (f >>> 24) & 0x3f;
  return {
    fn: f, fast, smc64: ((f >>> 30) & 1) === 1, owner, ownerName: ownerName(owner), number: f & 0xffff,
    wellFormed: !fast || ((f >>> 16) & 0xff) === 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// D.4 return codes

export const SMCCC_RET_SUCCESS = 0;
export const SMCCC_RET_NOT_SUPPORTED = -1;
export const SMCCC_RET_NOT_REQUIRED = -2;
export const SMCCC_RET_INVALID_PARAMETER = -3;

/** A return code or value as the 64-bit register KVM writes (smccc_set_retval takes unsigned long). */
export function toReg(v: number | bigint): bigint {
  return BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(v));
}

// ---------------------------------------------------------------------------------------------------------------
// Arm architecture calls (D.1, D.3)

export const ARM_SMCCC_VERSION_FUNC_ID = 0x80000000;
export const ARM_SMCCC_ARCH_FEATURES_FUNC_ID = 0x80000001;
export const ARM_SMCCC_ARCH_SOC_ID = 0x80000002;
export const ARM_SMCCC_ARCH_WORKAROUND_1 = 0x80008000;
export const ARM_SMCCC_ARCH_WORKAROUND_2 = 0x80007fff;
export const ARM_SMCCC_ARCH_WORKAROUND_3 = 0x80003fff;
export const ARM_SMCCC_HV_PV_TIME_FEATURES = 0xc5000020;
export const ARM_SMCCC_HV_PV_TIME_ST = 0xc5000021;
/** ARM_SMCCC_VERSION_1_1 — what 5.x KVM reports for SMCCC_VERSION (spec D.3; arch/arm64/kvm/hypercalls.c) */
export const ARM_SMCCC_VERSION_1_1 = 0x10001;

// KVM vendor hypervisor services (D.3)
export const ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID = 0x8600ff01;
export const ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID = 0x86000000;
export const ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID = 0x86000001;
/** UUID 28b46fb6-2ec5-11e9-a9ca-4b564d003a74 as x0..x3 */
export const ARM_SMCCC_VENDOR_HYP_UID_KVM = [0xb66fb428, 0xe911c52e, 0x564bcaa9, 0x743a004d] as const;
/** function numbers inside the KVM vendor range (bit n of KVM_FEATURES) */
export const ARM_SMCCC_KVM_FUNC_FEATURES = 0;
export const ARM_SMCCC_KVM_FUNC_PTP = 1;
export const ARM_SMCCC_KVM_FUNC_FEATURES_2 = 127;
export const ARM_SMCCC_KVM_NUM_FUNCS = 128;
export const KVM_PTP_VIRT_COUNTER = 0;
export const KVM_PTP_PHYS_COUNTER = 1;

// TRNG (DEN0098, KVM ≥ 5.12: arch/arm64/kvm/trng.c); its own return codes (deliberately not the SMCCC ones)
export const ARM_SMCCC_TRNG_VERSION = 0x84000050;
export const ARM_SMCCC_TRNG_FEATURES = 0x84000051;
export const ARM_SMCCC_TRNG_GET_UUID = 0x84000052;
export const ARM_SMCCC_TRNG_RND32 = 0x84000053;
export const ARM_SMCCC_TRNG_RND64 = 0xc4000053;
export const ARM_SMCCC_TRNG_VERSION_1_0 = 0x10000;
export const TRNG_SUCCESS = 0;
export const TRNG_NOT_SUPPORTED = -1;
export const TRNG_INVALID_PARAMETER = -2;
/** KVM's arm_smc_trng_uuid 0d21e000-4384-11eb-8070-5244554e5a4c as the four little-endian words of its bytes */
export const ARM_SMCCC_TRNG_UUID_KVM = [0x00e0210d, 0xeb118443, 0x44527080, 0x4c5a4e55] as const;

// ---------------------------------------------------------------------------------------------------------------
// PSCI (D.3; include/uapi/linux/psci.h, include/kvm/arm_psci.h)

export const PSCI_0_2_FN_BASE = 0x84000000;
export const PSCI_0_2_FN64_BASE = 0xc4000000;
export const PSCI_0_2_64BIT = 0x40000000;
const fn32 = (n: number): number => PSCI_0_2_FN_BASE + n;
const fn64 = (n: number): number => PSCI_0_2_FN64_BASE + n;

export const PSCI_0_2_FN_PSCI_VERSION = fn32(0);
export const PSCI_0_2_FN_CPU_SUSPEND = fn32(1);
export const PSCI_0_2_FN64_CPU_SUSPEND = fn64(1);
export const PSCI_0_2_FN_CPU_OFF = fn32(2);
export const PSCI_0_2_FN_CPU_ON = fn32(3);
export const PSCI_0_2_FN64_CPU_ON = fn64(3);
export const PSCI_0_2_FN_AFFINITY_INFO = fn32(4);
export const PSCI_0_2_FN64_AFFINITY_INFO = fn64(4);
export const PSCI_0_2_FN_MIGRATE = fn32(5);
export const PSCI_0_2_FN64_MIGRATE = fn64(5);
export const PSCI_0_2_FN_MIGRATE_INFO_TYPE = fn32(6);
export const PSCI_0_2_FN_MIGRATE_INFO_UP_CPU = fn32(7);
export const PSCI_0_2_FN64_MIGRATE_INFO_UP_CPU = fn64(7);
export const PSCI_0_2_FN_SYSTEM_OFF = fn32(8);
export const PSCI_0_2_FN_SYSTEM_RESET = fn32(9);
export const PSCI_1_0_FN_PSCI_FEATURES = fn32(10);
export const PSCI_1_0_FN_SYSTEM_SUSPEND = fn32(14);
export const PSCI_1_0_FN64_SYSTEM_SUSPEND = fn64(14);

/** PSCI 0.1 as KVM defines it (arch/arm64/include/uapi/asm/kvm.h): KVM_PSCI_FN_BASE + n */
export const KVM_PSCI_FN_BASE = 0x95c1ba5e;
export const KVM_PSCI_FN_CPU_SUSPEND = KVM_PSCI_FN_BASE + 0;
export const KVM_PSCI_FN_CPU_OFF = KVM_PSCI_FN_BASE + 1;
export const KVM_PSCI_FN_CPU_ON = KVM_PSCI_FN_BASE + 2;
export const KVM_PSCI_FN_MIGRATE = KVM_PSCI_FN_BASE + 3;

export const PSCI_RET_SUCCESS = 0;
export const PSCI_RET_NOT_SUPPORTED = -1;
export const PSCI_RET_INVALID_PARAMS = -2;
export const PSCI_RET_DENIED = -3;
export const PSCI_RET_ALREADY_ON = -4;
export const PSCI_RET_ON_PENDING = -5;
export const PSCI_RET_INTERNAL_FAILURE = -6;
export const PSCI_RET_NOT_PRESENT = -7;
export const PSCI_RET_DISABLED = -8;
export const PSCI_RET_INVALID_ADDRESS = -9;

export const PSCI_0_2_AFFINITY_LEVEL_ON = 0;
export const PSCI_0_2_AFFINITY_LEVEL_OFF = 1;
export const PSCI_0_2_AFFINITY_LEVEL_ON_PENDING = 2;
/** MIGRATE_INFO_TYPE: Trusted OS not present or MP */
export const PSCI_0_2_TOS_MP = 2;

export function psciVersion(major: number, minor: number): number { return ((major & 0x7fff) << 16) | (minor & 0xffff); }
export const KVM_ARM_PSCI_0_1 = psciVersion(0, 1);
export const KVM_ARM_PSCI_0_2 = psciVersion(0, 2);
export const KVM_ARM_PSCI_1_0 = psciVersion(1, 0);

// ---------------------------------------------------------------------------------------------------------------
// Names and the predefined symbols

/** Names of the fixed ids (PSCI 32-bit and 64-bit variants share a name; `fn` tells them apart). */
const FIXED_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [ARM_SMCCC_VERSION_FUNC_ID, 'SMCCC_VERSION'],
  [ARM_SMCCC_ARCH_FEATURES_FUNC_ID, 'SMCCC_ARCH_FEATURES'],
  [ARM_SMCCC_ARCH_SOC_ID, 'SMCCC_ARCH_SOC_ID'],
  [ARM_SMCCC_ARCH_WORKAROUND_1, 'SMCCC_ARCH_WORKAROUND_1'],
  [ARM_SMCCC_ARCH_WORKAROUND_2, 'SMCCC_ARCH_WORKAROUND_2'],
  [ARM_SMCCC_ARCH_WORKAROUND_3, 'SMCCC_ARCH_WORKAROUND_3'],
  [ARM_SMCCC_HV_PV_TIME_FEATURES, 'PV_TIME_FEATURES'],
  [ARM_SMCCC_HV_PV_TIME_ST, 'PV_TIME_ST'],
  [ARM_SMCCC_TRNG_VERSION, 'TRNG_VERSION'],
  [ARM_SMCCC_TRNG_FEATURES, 'TRNG_FEATURES'],
  [ARM_SMCCC_TRNG_GET_UUID, 'TRNG_GET_UUID'],
  [ARM_SMCCC_TRNG_RND32, 'TRNG_RND'], [ARM_SMCCC_TRNG_RND64, 'TRNG_RND'],
  [ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID, 'KVM_HYP_UID'],
  [ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID, 'KVM_HYP_FEATURES'],
  [ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID, 'KVM_HYP_PTP'],
  [PSCI_0_2_FN_PSCI_VERSION, 'PSCI_VERSION'],
  [PSCI_0_2_FN_CPU_SUSPEND, 'PSCI_CPU_SUSPEND'], [PSCI_0_2_FN64_CPU_SUSPEND, 'PSCI_CPU_SUSPEND'],
  [PSCI_0_2_FN_CPU_OFF, 'PSCI_CPU_OFF'],
  [PSCI_0_2_FN_CPU_ON, 'PSCI_CPU_ON'], [PSCI_0_2_FN64_CPU_ON, 'PSCI_CPU_ON'],
  [PSCI_0_2_FN_AFFINITY_INFO, 'PSCI_AFFINITY_INFO'], [PSCI_0_2_FN64_AFFINITY_INFO, 'PSCI_AFFINITY_INFO'],
  [PSCI_0_2_FN_MIGRATE, 'PSCI_MIGRATE'], [PSCI_0_2_FN64_MIGRATE, 'PSCI_MIGRATE'],
  [PSCI_0_2_FN_MIGRATE_INFO_TYPE, 'PSCI_MIGRATE_INFO_TYPE'],
  [PSCI_0_2_FN_MIGRATE_INFO_UP_CPU, 'PSCI_MIGRATE_INFO_UP_CPU'], [PSCI_0_2_FN64_MIGRATE_INFO_UP_CPU, 'PSCI_MIGRATE_INFO_UP_CPU'],
  [PSCI_0_2_FN_SYSTEM_OFF, 'PSCI_SYSTEM_OFF'],
  [PSCI_0_2_FN_SYSTEM_RESET, 'PSCI_SYSTEM_RESET'],
  [PSCI_1_0_FN_PSCI_FEATURES, 'PSCI_FEATURES'],
  [PSCI_1_0_FN_SYSTEM_SUSPEND, 'PSCI_SYSTEM_SUSPEND'], [PSCI_1_0_FN64_SYSTEM_SUSPEND, 'PSCI_SYSTEM_SUSPEND'],
  [KVM_PSCI_FN_CPU_SUSPEND, 'KVM_PSCI_0_1_CPU_SUSPEND'],
  [KVM_PSCI_FN_CPU_OFF, 'KVM_PSCI_0_1_CPU_OFF'],
  [KVM_PSCI_FN_CPU_ON, 'KVM_PSCI_0_1_CPU_ON'],
  [KVM_PSCI_FN_MIGRATE, 'KVM_PSCI_0_1_MIGRATE'],
]);

/** The MMIO guard function ids of a flavour (D.5), or null when the flavour has no MMIO guard. */
export function mmioGuardIds(flavour: Flavour): { info: number; enroll: number; map: number; unmap: number } | null {
  const g = flavour.mmioGuard;
  return g === null ? null : { info: g.info >>> 0, enroll: g.enroll >>> 0, map: g.map >>> 0, unmap: g.unmap >>> 0 };
}

/** The name a `hypercall` event carries for function id `fn` (W0), or 'unknown'. */
export function hypercallName(fn: number, flavour: Flavour): string {
  const f = fn >>> 0;
  const g = mmioGuardIds(flavour);
  if (g !== null) {
    if (f === g.info) return 'MMIO_GUARD_INFO';
    if (f === g.enroll) return 'MMIO_GUARD_ENROLL';
    if (f === g.map) return 'MMIO_GUARD_MAP';
    if (f === g.unmap) return 'MMIO_GUARD_UNMAP';
  }
  return FIXED_NAMES.get(f) ?? 'unknown';
}

/**
 * LANGUAGE.md predefined symbols (function ids, 64-bit PSCI ids where PSCI has one). MMIO_GUARD_* only in flavours
 * that have the MMIO guard; a symbol missing from the map is a checker error.
 */
export function predefinedSymbols(flavour: Flavour): Map<string, bigint> {
  const m = new Map<string, bigint>([
    ['PSCI_VERSION', BigInt(PSCI_0_2_FN_PSCI_VERSION)],
    ['PSCI_CPU_ON', BigInt(PSCI_0_2_FN64_CPU_ON)],
    ['PSCI_CPU_OFF', BigInt(PSCI_0_2_FN_CPU_OFF)],
    ['PSCI_SYSTEM_OFF', BigInt(PSCI_0_2_FN_SYSTEM_OFF)],
    ['PSCI_SYSTEM_RESET', BigInt(PSCI_0_2_FN_SYSTEM_RESET)],
    ['PSCI_FEATURES', BigInt(PSCI_1_0_FN_PSCI_FEATURES)],
    ['PSCI_AFFINITY_INFO', BigInt(PSCI_0_2_FN64_AFFINITY_INFO)],
    ['SMCCC_VERSION', BigInt(ARM_SMCCC_VERSION_FUNC_ID)],
    ['SMCCC_ARCH_FEATURES', BigInt(ARM_SMCCC_ARCH_FEATURES_FUNC_ID)],
    ['KVM_HYP_UID', BigInt(ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID)],
    ['KVM_HYP_FEATURES', BigInt(ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID)],
    ['KVM_HYP_PTP', BigInt(ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID)],
  ]);
  const g = mmioGuardIds(flavour);
  if (g !== null) {
    m.set('MMIO_GUARD_INFO', BigInt(g.info));
    m.set('MMIO_GUARD_ENROLL', BigInt(g.enroll));
    m.set('MMIO_GUARD_MAP', BigInt(g.map));
    m.set('MMIO_GUARD_UNMAP', BigInt(g.unmap));
  }
  return m;
}
