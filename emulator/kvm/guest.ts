// The contract between the guest CPU (emulator/cpu) and the hypervisor (emulator/kvm).
//
// The CPU runs EL1/EL0 code. Whatever the hardware would take to EL2 comes back to KVM as a `CpuExit`, built
// exactly as the hardware reports it (ESR_EL2, FAR_EL2, HPFAR_EL2; spec C.1–C.3). KVM handles it and resumes the
// CPU, injects an exception through `GuestCpu.injectSync`, or returns to userspace. The CPU translates every IPA
// through the VM's stage 2 via `Stage2Lookup` (implemented by kvm/ over the stage 2 page table), and KVM tells
// the CPU to drop cached translations with `tlbFlush` whenever it issues a TLBI.
//
// Values: general registers, PC, system registers and syndromes are `bigint` on this interface (the CPU may keep
// them as hi/lo 32-bit halves inside). IPAs and PAs are JS numbers (≤ 52 bits, exact).

/** What a stage 2 walk found for one IPA (one level's leaf or the invalid entry that stopped the walk). */
export type S2Translation =
  | {
      readonly valid: true;
      /** level of the leaf (block or page) */
      readonly level: number;
      /** output address for the IPA (leaf OA + offset within the leaf) */
      readonly pa: number;
      /** size of the leaf in bytes (page or block) */
      readonly leafSize: number;
      /** S2AP[0] / S2AP[1] (spec B.3) */
      readonly read: boolean;
      readonly write: boolean;
      /** executable at EL1 and at EL0 after decoding XN (bit 54, or XN[1:0] where the flavour has FEAT_XNX) */
      readonly execEl1: boolean;
      readonly execEl0: boolean;
      /** access flag (bit 10) */
      readonly af: boolean;
      /** MemAttr says Device (MemAttr[3:2] == 0b00, spec B.3) */
      readonly device: boolean;
    }
  | {
      readonly valid: false;
      /** level at which the walk met the invalid entry (the fault's level, spec C.2) */
      readonly level: number;
      /** 'address-size': the IPA is beyond the VM's IPA size (reported at the start level) */
      readonly reason: 'translation' | 'address-size';
    };

export interface Stage2Lookup {
  translate(ipa: number): S2Translation;
}

/** Why the CPU stopped executing and came back to the hypervisor (or to the scheduler). */
export type CpuExit =
  /** stage 2 data / instruction abort from EL1/EL0 (EC 0x24 / 0x20), syndrome built per spec C.1 */
  | { readonly kind: 'dabt' | 'iabt'; readonly esr: bigint; readonly far: bigint; readonly hpfar: bigint }
  /** HVC (EC 0x16) — PC already at the next instruction; SMC (EC 0x17) — PC at the SMC itself (spec D.2) */
  | { readonly kind: 'hvc' | 'smc'; readonly esr: bigint; readonly imm: number }
  /** WFI with nothing pending: the vcpu idles (spends ticks) until an interrupt is pending */
  | { readonly kind: 'wfi' }
  /** the instruction budget given to `execute` is spent */
  | { readonly kind: 'budget' }
  /** a breakpoint-like stop requested by the machine (instruction or data breakpoint hit) */
  | { readonly kind: 'stop'; readonly reason: string }
  /** `guest_exceptions stop`: a synchronous exception / SError was about to be taken to EL1 (LANGUAGE.md) */
  | { readonly kind: 'guest-exception'; readonly esr: bigint; readonly far: bigint; readonly elr: bigint; readonly vector: string; readonly cause: 'injected' | 'architectural' };

/** What KVM needs from a vcpu's CPU. */
export interface GuestCpu {
  readonly index: number;
  /** X0–X30; n = 31 reads 0 (XZR) and writes are discarded */
  getX(n: number): bigint;
  setX(n: number, v: bigint): void;
  getPc(): bigint;
  setPc(v: bigint): void;
  /** PSTATE as SPSR-format bits (NZCV [31:28], DAIF [9:6], M[3:0] = EL and SP select) */
  getPstate(): bigint;
  setPstate(v: bigint): void;
  /** SP_EL0 / SP_EL1 */
  getSp(el: 0 | 1): bigint;
  setSp(el: 0 | 1, v: bigint): void;
  /** system registers by architectural name (upper case, e.g. "ESR_EL1", "VBAR_EL1") */
  getSysreg(name: string): bigint;
  setSysreg(name: string, v: bigint): void;
  /**
   * Take a synchronous exception to EL1 as KVM's inject_abt64 / inject_undef64 do (spec C.6): ESR_EL1 = esr,
   * FAR_EL1 = far (when `far` is given), ELR_EL1 = PC, SPSR_EL1 = PSTATE, PSTATE = EL1h with DAIF masked,
   * PC = VBAR_EL1 + vector offset. `cause` is reported in the `guest-exception` event.
   */
  injectSync(esr: bigint, far: bigint | undefined, cause: 'injected' | 'architectural'): void;
  /** KVM_ARM_VCPU_INIT reset: EL1h, DAIF masked, MMU off, registers zero (LANGUAGE.md vcpu_init) */
  reset(): void;
  /** drop cached stage 1+2 translations (TLBI by VMID / IPA from KVM, or a stage 2 change) */
  tlbFlush(): void;
  /** execute at most `budget` instructions (an idle WFI tick counts as one); returns why it stopped */
  execute(budget: number): CpuExit;
  /** instructions retired + idle ticks since creation: the virtual counter's base (CNTVCT_EL0) */
  readonly ticks: number;
}
