// The EL1/EL0 system registers the CPU itself owns (ARCHITECTURE.md "Emulated CPU identity"), plus routing of
// device-owned registers (SPE, GIC CPU interface: devices.ts). PSTATE views (NZCV, DAIF, SPSel, CurrentEL) and the
// banked stack pointers live in the Cpu and are answered there before this file is consulted.

import type { SysregDevice } from './devices';

/**
 * Identity, fixed so traces agree. MIDR: Arm Neoverse N1 r3p1 (0x413FD0C1) — a real ARMv8.2 core with LSE and SPE,
 * the features this machine exposes (KVM shows the host's MIDR to the guest).
 */
export const MIDR_NEOVERSE_N1 = 0x413f_d0c1n;
/** PARange=0b0101 (48 bits), ASIDBits=0b0010 (16), SNSMem=1, TGran16 not supported (0), TGran64 not supported (0xF), TGran4 supported (0) */
export const ID_AA64MMFR0 = 0x0f00_1025n;
/** EL0=EL1=AArch64 only, EL2/EL3 not visible, FP/AdvSIMD not implemented (0xF), GIC system registers (1) */
export const ID_AA64PFR0 = 0x01ff_0011n;
/** Atomic=0b0010 (LSE) */
export const ID_AA64ISAR0 = 0x0020_0000n;
/** CTR_EL0: RES1 bit 31, CWG=ERG=DminLine=IminLine=4 (64 bytes), L1Ip=PIPT, IDC=DIC=0 */
export const CTR_EL0 = 0x8444_c004n;
/** DCZID_EL0.BS=4: DC ZVA zeroes 64 bytes */
export const DCZID_EL0 = 4n;
export const DC_ZVA_BYTES = 64;
/** CNTFRQ_EL0 = 100 MHz; CNTVCT_EL0 counts one per instruction or idle tick */
export const CNTFRQ = 100_000_000n;
/**
 * SCTLR_EL1 as KVM resets it: arch/arm64/kvm/sys_regs.c `{ SYS_DESC(SYS_SCTLR_EL1), access_vm_reg, reset_val,
 * SCTLR_EL1, 0x00C50078 }` (5.x): M=C=I=0, SA=SA0=1 (SP alignment checked), nTWI/nTWE set.
 */
export const SCTLR_RESET = 0x00c5_0078n;

/** Registers stored as plain values (read/write from EL1). */
const STORED = [
  'SCTLR_EL1', 'ACTLR_EL1', 'CPACR_EL1', 'TTBR0_EL1', 'TTBR1_EL1', 'TCR_EL1', 'MAIR_EL1', 'AMAIR_EL1',
  'CONTEXTIDR_EL1', 'SPSR_EL1', 'ELR_EL1', 'AFSR0_EL1', 'AFSR1_EL1', 'ESR_EL1', 'FAR_EL1', 'PAR_EL1', 'VBAR_EL1',
  'TPIDR_EL1', 'TPIDR_EL0', 'TPIDRRO_EL0', 'CNTKCTL_EL1', 'CNTP_CTL_EL0', 'CNTP_CVAL_EL0', 'CNTV_CTL_EL0',
  'CNTV_CVAL_EL0', 'CSSELR_EL1', 'MDSCR_EL1', 'OSDLR_EL1', 'PAN', 'UAO', 'FPCR', 'FPSR',
] as const;

/** Registers whose write changes translation: the TLB is flushed (mmu.ts). */
export const TRANSLATION_REGS: ReadonlySet<string> = new Set(['SCTLR_EL1', 'TCR_EL1', 'TTBR0_EL1', 'TTBR1_EL1', 'MAIR_EL1']);

/** Registers EL0 may access (others are UNDEFINED from EL0). */
export const EL0_READABLE: ReadonlySet<string> = new Set([
  'NZCV', 'TPIDR_EL0', 'TPIDRRO_EL0', 'CNTFRQ_EL0', 'CNTVCT_EL0', 'CTR_EL0', 'DCZID_EL0', 'FPCR', 'FPSR',
]);
export const EL0_WRITABLE: ReadonlySet<string> = new Set(['NZCV', 'TPIDR_EL0', 'FPCR', 'FPSR']);

export interface SysregIdentity {
  readonly midr?: bigint;
  readonly mpidr?: bigint;
}

export class SysregFile {
  private values = new Map<string, bigint>();
  private readonly devices = new Map<string, SysregDevice>();
  private readonly constants = new Map<string, bigint>();

  constructor(index: number, identity: SysregIdentity = {}) {
    // MPIDR_EL1: bit 31 RES1, Aff0 = vcpu index (ARCHITECTURE.md), Aff1 = index >> 8 as KVM's reset_mpidr does (U=0)
    const mpidr = identity.mpidr ?? ((1n << 31n) | BigInt(index & 0xff) | (BigInt((index >> 8) & 0xff) << 8n));
    const c = this.constants;
    c.set('MIDR_EL1', identity.midr ?? MIDR_NEOVERSE_N1);
    c.set('MPIDR_EL1', mpidr);
    c.set('REVIDR_EL1', 0n);
    c.set('ID_AA64PFR0_EL1', ID_AA64PFR0);
    c.set('ID_AA64PFR1_EL1', 0n);
    c.set('ID_AA64ZFR0_EL1', 0n);
    c.set('ID_AA64DFR0_EL1', 0x6n); // DebugVer=v8; PMSVer is filled in when an SPE device attaches
    c.set('ID_AA64DFR1_EL1', 0n);
    c.set('ID_AA64AFR0_EL1', 0n);
    c.set('ID_AA64AFR1_EL1', 0n);
    c.set('ID_AA64ISAR0_EL1', ID_AA64ISAR0);
    c.set('ID_AA64ISAR1_EL1', 0n);
    c.set('ID_AA64MMFR0_EL1', ID_AA64MMFR0);
    c.set('ID_AA64MMFR1_EL1', 0n);
    c.set('ID_AA64MMFR2_EL1', 0n);
    c.set('CTR_EL0', CTR_EL0);
    c.set('DCZID_EL0', DCZID_EL0);
    c.set('CLIDR_EL1', 0x0a20_0023n);
    c.set('CCSIDR_EL1', 0x700f_e01an);
    c.set('AIDR_EL1', 0n);
    c.set('CNTFRQ_EL0', CNTFRQ);
    c.set('OSLSR_EL1', 0x8n);
    c.set('ISR_EL1', 0n);
    this.reset();
  }

  reset(): void {
    this.values = new Map();
    for (const n of STORED) this.values.set(n, 0n);
    this.values.set('SCTLR_EL1', SCTLR_RESET);
  }

  attach(dev: SysregDevice): void {
    for (const n of dev.sysregs) this.devices.set(n.toUpperCase(), dev);
    if (dev.sysregs.some((n) => n.toUpperCase() === 'PMSIDR_EL1')) {
      // ID_AA64DFR0_EL1.PMSVer [35:32] = 1 (SPE v1) when the vcpu has an SPE unit
      this.constants.set('ID_AA64DFR0_EL1', (this.constants.get('ID_AA64DFR0_EL1')! & ~(0xfn << 32n)) | (1n << 32n));
    }
  }

  /** Is the name a register this file (or an attached device) answers? */
  has(name: string): boolean {
    return this.values.has(name) || this.constants.has(name) || this.devices.has(name) || /^ID_/.test(name);
  }

  isReadOnly(name: string): boolean {
    return this.constants.has(name);
  }

  device(name: string): SysregDevice | undefined {
    return this.devices.get(name);
  }

  /** undefined: not implemented (the guest access is UNDEFINED) */
  read(name: string): bigint | undefined {
    const d = this.devices.get(name);
    if (d !== undefined) return BigInt.asUintN(64, d.read(name));
    const v = this.values.get(name);
    if (v !== undefined) return v;
    const c = this.constants.get(name);
    if (c !== undefined) return c;
    // the ID register space reads as zero where this CPU has nothing to report (ID_AA64ISAR2_EL1, ZFR0, ...)
    if (/^ID_/.test(name)) return 0n;
    return undefined;
  }

  /** false: not implemented or read-only from the guest */
  write(name: string, v: bigint): boolean {
    const d = this.devices.get(name);
    if (d !== undefined) { d.write(name, BigInt.asUintN(64, v)); return true; }
    if (!this.values.has(name)) return false; // includes every read-only register
    this.values.set(name, BigInt.asUintN(64, v));
    return true;
  }

  /** Host-side write (KVM_SET_ONE_REG-like): may also overwrite identity values. */
  hostWrite(name: string, v: bigint): boolean {
    if (this.write(name, v)) return true;
    if (this.constants.has(name)) { this.constants.set(name, BigInt.asUintN(64, v)); return true; }
    return false;
  }

  get(name: string): bigint {
    return this.values.get(name) ?? this.constants.get(name) ?? 0n;
  }

  set(name: string, v: bigint): void {
    this.values.set(name, BigInt.asUintN(64, v));
  }

  snapshot(): Record<string, bigint> {
    return Object.fromEntries(this.values);
  }

  restore(s: Record<string, bigint>): void {
    this.values = new Map(Object.entries(s));
  }
}
