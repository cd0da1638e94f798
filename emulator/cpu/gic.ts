// The in-kernel vGICv3, reduced to what the SPE buffer-management interrupt needs (ARCHITECTURE.md
// "Interrupts"): a distributor, one redistributor per vcpu and the ICC_* system-register CPU interface, with
// the private interrupts (SGIs 0–15, PPIs 16–31) of each vcpu. SGIs are never generated (no ICC_SGI1R) and SPIs
// are not delivered; every interrupt is group 1 and every PPI is level-sensitive, as KVM's vgic-v3 sets them up.
//
// What a guest sees is what KVM's vgic-v3 (v5.14–v5.16, arch/arm64/kvm/vgic/vgic-mmio-v3.c, vgic-init.c,
// vgic-v3.c) reports, not a physical GIC-600:
//   - GICD_CTLR reads ARE_NS|DS (0x50) and only EnableGrp1 (bit 1) is writable (vgic_mmio_{read,write}_v3_misc);
//     distribution of every interrupt stops while it is 0 (kvm_vgic_vcpu_pending_irq checks dist->enabled).
//   - GICR_WAKER is RAZ/WI in KVM (`vgic_mmio_read_raz, vgic_mmio_write_wi` in vgic_v3_rd_registers), so the
//     architectural reset value ProcessorSleep=1/ChildrenAsleep=1 (0x6) is never seen by a KVM guest. The
//     `waker: 'architectural'` option models a GIC that has them (reset 0x6, ChildrenAsleep follows ProcessorSleep
//     at once) for comparison; the default is KVM's.
//   - SGIs reset enabled and edge-triggered, PPIs reset disabled and level-sensitive (kvm_vgic_vcpu_init), so
//     GICR_ISENABLER0 reads 0x0000ffff at reset; every priority resets to 0; IGROUPR0 reads all ones (group 1).
//   - Five priority bits (ICH_VTR_EL2.PRIbits = 4, VGIC_PRI_BITS): the low three bits of IPRIORITYR and PMR are
//     RAZ/WI.
//   - ICC_SRE_EL1 reads SRE|DFB|DIB (0x7) and ignores writes; ICC_CTLR_EL1 reads PRIbits=4, IDbits=0 (16 bits),
//     A3V=1 (0x8400) plus the writable CBPR/EOImode bits; PMR, IGRPEN1 and BPR1 reset to 0 (vgic_vmcr = 0).
//   - GICD_PIDR2 / GICR_PIDR2 read 0x3b (ArchRev 3); GICD_IIDR / GICR_IIDR = KVM product id 0x4b, implementer
//     ARM 0x43b, revision 2 (UNCONFIRMED: the revision KVM reported at 5.14–5.16).
// Simplifications: no binary-point preemption (a pending interrupt preempts when its whole priority is higher
// than the running priority); no GICv4, LPIs or ITS.
//
// Layout (kvmtool arm/include/arm-common/kvm-arch.h and arm/gic.c, looked up): ARM_AXI_AREA = 0x4000_0000,
// ARM_GIC_DIST_SIZE = 0x1_0000, ARM_GIC_DIST_BASE = ARM_AXI_AREA - ARM_GIC_DIST_SIZE = 0x3fff_0000;
// ARM_GIC_REDIST_SIZE = 0x2_0000 per vcpu (RD_base + SGI_base frames), gic_redists_size = nrcpus * 0x2_0000,
// gic_redists_base = ARM_GIC_DIST_BASE - gic_redists_size (0x3ffd_0000 for one vcpu). The machine must keep
// memslots out of these ranges: the vGIC is in-kernel MMIO and never exits to userspace.

import type { IrqSource, SysregDevice } from './devices';

export const GICD_BASE = 0x3fff_0000;
export const GICD_SIZE = 0x1_0000;
/** one redistributor = RD_base frame (64K) + SGI_base frame (64K) */
export const GICR_SIZE_PER_VCPU = 0x2_0000;
export const GICR_SGI_FRAME = 0x1_0000;

export const GIC_SPURIOUS_INTID = 1023;
export const GIC_NR_PRIVATE_IRQS = 32;

export function isPpi(intid: number): boolean { return intid >= 16 && intid < 32; }
export function isSgi(intid: number): boolean { return intid >= 0 && intid < 16; }

/** kvmtool: redistributors sit right below the distributor, one 128K region per vcpu. */
export function gicrBase(nrVcpus: number): number {
  return GICD_BASE - nrVcpus * GICR_SIZE_PER_VCPU;
}

export interface GicRange { readonly base: number; readonly size: number; readonly name: 'GICD' | 'GICR' }

export type WakerModel = 'kvm' | 'architectural';

export interface VgicV3Options {
  readonly nrVcpus: number;
  /** KVM_DEV_ARM_VGIC_GRP_NR_IRQS (kvmtool: ALIGN(lines, 32) + 32); default 64 */
  readonly nrIrqs?: number;
  readonly waker?: WakerModel;
}

// register offsets (include/linux/irqchip/arm-gic-v3.h)
const GICD_CTLR = 0x0000, GICD_TYPER = 0x0004, GICD_IIDR = 0x0008, GIC_PIDR2 = 0xffe8;
const GICR_CTLR = 0x0000, GICR_IIDR = 0x0004, GICR_TYPER = 0x0008, GICR_WAKER = 0x0014;
const GICR_IGROUPR0 = 0x0080, GICR_ISENABLER0 = 0x0100, GICR_ICENABLER0 = 0x0180, GICR_ISPENDR0 = 0x0200,
  GICR_ICPENDR0 = 0x0280, GICR_ISACTIVER0 = 0x0300, GICR_ICACTIVER0 = 0x0380, GICR_IPRIORITYR0 = 0x0400,
  GICR_ICFGR0 = 0x0c00, GICR_ICFGR1 = 0x0c04;

const GICD_CTLR_ENABLE_G1 = 1 << 1;
const GICD_CTLR_ARE_NS = 1 << 4;
const GICD_CTLR_DS = 1 << 6;
const GICR_WAKER_PROCESSOR_SLEEP = 1 << 1;
const GICR_WAKER_CHILDREN_ASLEEP = 1 << 2;
/** VGIC_PRI_BITS = 5: priority bits [7:3] implemented */
const PRIORITY_MASK = 0xf8;
const IIDR_KVM = (0x4b << 24) | (2 << 12) | 0x43b;
const PIDR2_GICV3 = 0x3b;
/** ICC_CTLR_EL1: PRIbits [10:8] = 4, IDbits [13:11] = 0, A3V [15] = 1 */
const ICC_CTLR_RO = (4 << 8) | (1 << 15);
const ICC_CTLR_CBPR = 1 << 0;
const ICC_CTLR_EOIMODE = 1 << 1;
const ICC_SRE_VALUE = 0x7n;
/** priority of an idle CPU interface (ICC_RPR_EL1 reads 0xff) */
const IDLE_PRIORITY = 0x100;

/** One vcpu's private interrupts (redistributor state) plus its CPU interface state. */
class PrivateIrqs {
  /** bit n = INTID n */
  enabled = 0x0000ffff;
  /** line level of level-sensitive PPIs (driven by devices) */
  level = 0;
  /** pending latch set by GICR_ISPENDR0 (and edge SGIs), cleared by ICPENDR0 or acknowledge */
  latch = 0;
  active = 0;
  readonly priority = new Uint8Array(GIC_NR_PRIVATE_IRQS);
  readonly owner: (object | null)[] = new Array<object | null>(GIC_NR_PRIVATE_IRQS).fill(null);
  // CPU interface (ICH_VMCR_EL2 fields)
  pmr = 0;
  igrpen1 = 0;
  bpr1 = 0;
  ctlr = 0;
  /** INTIDs acknowledged and not yet priority-dropped, oldest first (the active priorities) */
  dropStack: number[] = [];
  waker = 0;

  pendingMask(): number { return (this.level | this.latch) >>> 0; }
}

interface PrivateIrqsSnapshot {
  readonly enabled: number; readonly level: number; readonly latch: number; readonly active: number;
  readonly priority: readonly number[]; readonly owner: readonly (object | null)[];
  readonly pmr: number; readonly igrpen1: number; readonly bpr1: number; readonly ctlr: number;
  readonly dropStack: readonly number[]; readonly waker: number;
}

export interface VgicV3Snapshot {
  readonly initialized: boolean;
  readonly enableGrp1: boolean;
  readonly cpus: readonly PrivateIrqsSnapshot[];
  readonly spiOwner: readonly (readonly [number, object])[];
  readonly spiLevel: readonly number[];
}

/** The vGICv3 of one VM. */
export class VgicV3 {
  readonly nrVcpus: number;
  readonly nrIrqs: number;
  readonly waker: WakerModel;
  private initDone = false;
  private enableGrp1 = false;
  private readonly cpus: PrivateIrqs[];
  private readonly spiOwner = new Map<number, object>();
  private readonly spiLevel = new Set<number>();
  private readonly ifaces: GicCpuInterface[];

  constructor(opts: VgicV3Options) {
    this.nrVcpus = opts.nrVcpus;
    this.nrIrqs = opts.nrIrqs ?? 64;
    this.waker = opts.waker ?? 'kvm';
    this.cpus = [];
    this.ifaces = [];
    for (let i = 0; i < this.nrVcpus; i++) {
      const c = new PrivateIrqs();
      if (this.waker === 'architectural') c.waker = GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP;
      this.cpus.push(c);
      this.ifaces.push(new GicCpuInterface(this, i));
    }
  }

  // ----- KVM side ---------------------------------------------------------------------------------------------

  /** KVM_DEV_ARM_VGIC_CTRL_INIT (vgic_initialized() afterwards) */
  init(): void { this.initDone = true; }
  initialized(): boolean { return this.initDone; }

  /** the guest-physical ranges this vGIC decodes (the machine must keep memslots out of them) */
  ranges(): readonly GicRange[] {
    return [
      { name: 'GICD', base: GICD_BASE, size: GICD_SIZE },
      { name: 'GICR', base: gicrBase(this.nrVcpus), size: this.nrVcpus * GICR_SIZE_PER_VCPU },
    ];
  }

  contains(ipa: number): boolean {
    return ipa >= gicrBase(this.nrVcpus) && ipa < GICD_BASE + GICD_SIZE;
  }

  /**
   * kvm_vgic_set_owner(): claim an interrupt for an in-kernel device (SPE, PMU, timer). Returns null on success
   * or the errno the kernel returns: EAGAIN before vgic init, EINVAL for an INTID that is neither a PPI nor a
   * valid SPI, EEXIST when another owner holds it.
   */
  setOwner(vcpu: number, intid: number, owner: object): 'EAGAIN' | 'EINVAL' | 'EEXIST' | null {
    if (!this.initDone) return 'EAGAIN';
    if (isPpi(intid)) {
      const c = this.cpus[vcpu];
      if (c.owner[intid] !== null && c.owner[intid] !== owner) return 'EEXIST';
      c.owner[intid] = owner;
      return null;
    }
    if (intid >= GIC_NR_PRIVATE_IRQS && intid < this.nrIrqs) {
      const cur = this.spiOwner.get(intid);
      if (cur !== undefined && cur !== owner) return 'EEXIST';
      this.spiOwner.set(intid, owner);
      return null;
    }
    return 'EINVAL';
  }

  ownerOf(vcpu: number, intid: number): object | null {
    if (intid < GIC_NR_PRIVATE_IRQS) return this.cpus[vcpu]?.owner[intid] ?? null;
    return this.spiOwner.get(intid) ?? null;
  }

  /**
   * kvm_vgic_inject_irq() for a level-sensitive line: PPIs are per vcpu; an SPI only records its level (SPIs
   * are not delivered in this model). Returns false where KVM returns an error (an owned interrupt driven by
   * someone else: -EPERM; an INTID out of range: -EINVAL).
   */
  setLevel(vcpu: number, intid: number, level: boolean, owner: object | null = null): boolean {
    if (intid < GIC_NR_PRIVATE_IRQS) {
      const c = this.cpus[vcpu];
      if (!c) return false;
      if (c.owner[intid] !== null && c.owner[intid] !== owner) return false;
      if (isSgi(intid)) return false;
      const bit = 1 << intid;
      c.level = level ? (c.level | bit) >>> 0 : (c.level & ~bit) >>> 0;
      return true;
    }
    if (intid >= this.nrIrqs) return false;
    const o = this.spiOwner.get(intid);
    if (o !== undefined && o !== owner) return false;
    if (level) this.spiLevel.add(intid); else this.spiLevel.delete(intid);
    return true;
  }

  lineLevel(vcpu: number, intid: number): boolean {
    if (intid < GIC_NR_PRIVATE_IRQS) return ((this.cpus[vcpu].level >>> intid) & 1) === 1;
    return this.spiLevel.has(intid);
  }

  /** the ICC_* system registers and IRQ line of one vcpu, to attach to its CPU */
  cpuInterface(vcpu: number): GicCpuInterface { return this.ifaces[vcpu]; }

  /** observation for views and tests */
  privateState(vcpu: number): { enabled: number; pending: number; active: number; priority: readonly number[] } {
    const c = this.cpus[vcpu];
    return { enabled: c.enabled, pending: c.pendingMask(), active: c.active, priority: [...c.priority] };
  }

  // ----- CPU interface logic (called by GicCpuInterface) -----------------------------------------------------

  /** highest-priority pending, enabled, inactive group 1 private interrupt, or -1 */
  highestPending(vcpu: number): number {
    const c = this.cpus[vcpu];
    const cand = (c.pendingMask() & c.enabled & ~c.active) >>> 0;
    if (cand === 0) return -1;
    let best = -1;
    let bestPrio = 0x1ff;
    for (let i = 0; i < GIC_NR_PRIVATE_IRQS; i++) {
      if (((cand >>> i) & 1) === 0) continue;
      if (c.priority[i] < bestPrio) { best = i; bestPrio = c.priority[i]; }
    }
    return best;
  }

  runningPriority(vcpu: number): number {
    const c = this.cpus[vcpu];
    let p = IDLE_PRIORITY;
    for (const id of c.dropStack) p = Math.min(p, c.priority[id]);
    return p;
  }

  /** would the CPU interface signal an IRQ now (before PSTATE.I, which is the CPU's business) */
  signalled(vcpu: number): number {
    if (!this.enableGrp1) return -1;
    const c = this.cpus[vcpu];
    if ((c.igrpen1 & 1) === 0) return -1;
    const id = this.highestPending(vcpu);
    if (id < 0) return -1;
    const prio = c.priority[id];
    if (prio >= c.pmr || prio >= this.runningPriority(vcpu)) return -1;
    return id;
  }

  acknowledge(vcpu: number): number {
    const id = this.signalled(vcpu);
    if (id < 0) return GIC_SPURIOUS_INTID;
    const c = this.cpus[vcpu];
    const bit = 1 << id;
    c.active = (c.active | bit) >>> 0;
    // a level-sensitive line stays pending while asserted (active and pending); the software latch is consumed
    c.latch = (c.latch & ~bit) >>> 0;
    c.dropStack.push(id);
    return id;
  }

  endOfInterrupt(vcpu: number, value: bigint): void {
    const c = this.cpus[vcpu];
    const id = Number(value & 0xffffffn);
    const at = c.dropStack.lastIndexOf(id);
    if (at < 0) return; // EOI of an interrupt that was not acknowledged: UNPREDICTABLE, ignored
    c.dropStack.splice(at, 1);
    if ((c.ctlr & ICC_CTLR_EOIMODE) === 0 && id < GIC_NR_PRIVATE_IRQS) c.active = (c.active & ~(1 << id)) >>> 0;
  }

  deactivate(vcpu: number, value: bigint): void {
    const c = this.cpus[vcpu];
    const id = Number(value & 0xffffffn);
    if ((c.ctlr & ICC_CTLR_EOIMODE) === 0 || id >= GIC_NR_PRIVATE_IRQS) return;
    c.active = (c.active & ~(1 << id)) >>> 0;
  }

  readIcc(vcpu: number, name: string): bigint {
    const c = this.cpus[vcpu];
    switch (name) {
      case 'ICC_PMR_EL1': return BigInt(c.pmr);
      case 'ICC_IGRPEN1_EL1': return BigInt(c.igrpen1);
      case 'ICC_IAR1_EL1': return BigInt(this.acknowledge(vcpu));
      case 'ICC_HPPIR1_EL1': {
        const id = this.highestPending(vcpu);
        return BigInt(id < 0 ? GIC_SPURIOUS_INTID : id);
      }
      case 'ICC_RPR_EL1': {
        const p = this.runningPriority(vcpu);
        return BigInt(p === IDLE_PRIORITY ? 0xff : p);
      }
      case 'ICC_CTLR_EL1': return BigInt(ICC_CTLR_RO | c.ctlr);
      case 'ICC_SRE_EL1': return ICC_SRE_VALUE;
      case 'ICC_BPR1_EL1': return BigInt(c.bpr1);
      default: return 0n; // ICC_EOIR1_EL1 / ICC_DIR_EL1 are write-only
    }
  }

  writeIcc(vcpu: number, name: string, value: bigint): void {
    const c = this.cpus[vcpu];
    switch (name) {
      case 'ICC_PMR_EL1': c.pmr = Number(value & 0xffn) & PRIORITY_MASK; return;
      case 'ICC_IGRPEN1_EL1': c.igrpen1 = Number(value & 1n); return;
      case 'ICC_EOIR1_EL1': this.endOfInterrupt(vcpu, value); return;
      case 'ICC_DIR_EL1': this.deactivate(vcpu, value); return;
      case 'ICC_CTLR_EL1': c.ctlr = Number(value & BigInt(ICC_CTLR_CBPR | ICC_CTLR_EOIMODE)); return;
      case 'ICC_BPR1_EL1': c.bpr1 = Number(value & 7n); return;
      default: return; // SRE is WI; IAR1/HPPIR1/RPR are read-only
    }
  }

  // ----- in-kernel MMIO (GICD and GICR frames) ---------------------------------------------------------------

  /**
   * A guest access to the vGIC's MMIO ranges, handled in the kernel (never a KVM_EXIT_MMIO).
   * `handled` is false when the IPA is outside both ranges. Little-endian; 1/2/4/8-byte accesses.
   */
  mmio(ipa: number, len: number, write: boolean, data: bigint): { handled: boolean; data: bigint } {
    if (ipa >= GICD_BASE && ipa < GICD_BASE + GICD_SIZE) {
      const off = ipa - GICD_BASE;
      if (write) { this.writeBytes(off, len, data, (o, v) => this.writeGicd32(o, v)); return { handled: true, data: 0n }; }
      return { handled: true, data: this.readBytes(off, len, (o) => this.readGicd32(o)) };
    }
    const rbase = gicrBase(this.nrVcpus);
    if (ipa >= rbase && ipa < GICD_BASE) {
      const vcpu = Math.floor((ipa - rbase) / GICR_SIZE_PER_VCPU);
      const off = (ipa - rbase) % GICR_SIZE_PER_VCPU;
      if (off >= GICR_SGI_FRAME + GICR_IPRIORITYR0 && off < GICR_SGI_FRAME + GICR_IPRIORITYR0 + 32) {
        return this.priorityAccess(vcpu, off - GICR_SGI_FRAME - GICR_IPRIORITYR0, len, write, data);
      }
      if (write) { this.writeBytes(off, len, data, (o, v) => this.writeGicr32(vcpu, o, v)); return { handled: true, data: 0n }; }
      return { handled: true, data: this.readBytes(off, len, (o) => this.readGicr32(vcpu, o)) };
    }
    return { handled: false, data: 0n };
  }

  private readBytes(off: number, len: number, read32: (o: number) => number): bigint {
    let out = 0n;
    for (let i = 0; i < len; i++) {
      const a = off + i;
      const word = read32(a & ~3);
      const byte = (word >>> ((a & 3) * 8)) & 0xff;
      out |= BigInt(byte) << BigInt(i * 8);
    }
    return out;
  }

  /** sub-word writes to 32-bit registers are ignored (the GIC architecture requires word accesses there) */
  private writeBytes(off: number, len: number, data: bigint, write32: (o: number, v: number) => void): void {
    if (len === 4 && (off & 3) === 0) { write32(off, Number(data & 0xffffffffn)); return; }
    if (len === 8 && (off & 7) === 0) {
      write32(off, Number(data & 0xffffffffn));
      write32(off + 4, Number((data >> 32n) & 0xffffffffn));
    }
  }

  private priorityAccess(vcpu: number, idx: number, len: number, write: boolean, data: bigint): { handled: boolean; data: bigint } {
    const c = this.cpus[vcpu];
    let out = 0n;
    for (let i = 0; i < len && idx + i < GIC_NR_PRIVATE_IRQS; i++) {
      if (write) c.priority[idx + i] = Number((data >> BigInt(8 * i)) & 0xffn) & PRIORITY_MASK;
      else out |= BigInt(c.priority[idx + i]) << BigInt(8 * i);
    }
    return { handled: true, data: out };
  }

  private readGicd32(off: number): number {
    switch (off) {
      case GICD_CTLR: return (this.enableGrp1 ? GICD_CTLR_ENABLE_G1 : 0) | GICD_CTLR_ARE_NS | GICD_CTLR_DS;
      // ITLinesNumber = nr_irqs/32 - 1; IDbits = INTERRUPT_ID_BITS_SPIS (10) - 1
      case GICD_TYPER: return ((((this.nrIrqs >> 5) - 1) & 0x1f) | ((10 - 1) << 19)) >>> 0;
      case GICD_IIDR: return IIDR_KVM >>> 0;
      case GIC_PIDR2: return PIDR2_GICV3;
      default: return 0;
    }
  }

  private writeGicd32(off: number, v: number): void {
    if (off === GICD_CTLR) this.enableGrp1 = (v & GICD_CTLR_ENABLE_G1) !== 0;
  }

  private readGicr32(vcpu: number, off: number): number {
    const c = this.cpus[vcpu];
    if (off < GICR_SGI_FRAME) {
      switch (off) {
        case GICR_CTLR: return 0;
        case GICR_IIDR: return IIDR_KVM >>> 0;
        // Processor_Number [23:8], Last [4]
        case GICR_TYPER: return (((vcpu & 0xffff) << 8) | (vcpu === this.nrVcpus - 1 ? 1 << 4 : 0)) >>> 0;
        // Affinity_Value [63:32]: MPIDR Aff0 = vcpu index (ARCHITECTURE.md "Emulated CPU identity")
        case GICR_TYPER + 4: return vcpu & 0xff;
        case GICR_WAKER: return this.waker === 'kvm' ? 0 : c.waker;
        case GIC_PIDR2: return PIDR2_GICV3;
        default: return 0;
      }
    }
    switch (off - GICR_SGI_FRAME) {
      case GICR_IGROUPR0: return 0xffffffff;
      case GICR_ISENABLER0: case GICR_ICENABLER0: return c.enabled >>> 0;
      case GICR_ISPENDR0: case GICR_ICPENDR0: return c.pendingMask();
      case GICR_ISACTIVER0: case GICR_ICACTIVER0: return c.active >>> 0;
      case GICR_ICFGR0: return 0xaaaaaaaa; // SGIs edge
      case GICR_ICFGR1: return 0;          // PPIs level
      default: return 0;
    }
  }

  private writeGicr32(vcpu: number, off: number, v: number): void {
    const c = this.cpus[vcpu];
    if (off < GICR_SGI_FRAME) {
      if (off === GICR_WAKER && this.waker === 'architectural') {
        const ps = v & GICR_WAKER_PROCESSOR_SLEEP;
        c.waker = ps ? GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP : 0;
      }
      return;
    }
    switch (off - GICR_SGI_FRAME) {
      case GICR_ISENABLER0: c.enabled = (c.enabled | v) >>> 0; return;
      case GICR_ICENABLER0: c.enabled = (c.enabled & ~v) >>> 0; return;
      case GICR_ISPENDR0: c.latch = (c.latch | v) >>> 0; return;
      case GICR_ICPENDR0: c.latch = (c.latch & ~v) >>> 0; return;
      case GICR_ISACTIVER0: c.active = (c.active | v) >>> 0; return;
      case GICR_ICACTIVER0: c.active = (c.active & ~v) >>> 0; return;
      default: return; // IGROUPR0 (all group 1), ICFGR (fixed) and the rest: WI
    }
  }

  // ----- snapshots (step-back) -------------------------------------------------------------------------------

  snapshot(): VgicV3Snapshot {
    return {
      initialized: this.initDone,
      enableGrp1: this.enableGrp1,
      cpus: this.cpus.map((c) => ({
        enabled: c.enabled, level: c.level, latch: c.latch, active: c.active, priority: [...c.priority],
        owner: [...c.owner], pmr: c.pmr, igrpen1: c.igrpen1, bpr1: c.bpr1, ctlr: c.ctlr,
        dropStack: [...c.dropStack], waker: c.waker,
      })),
      spiOwner: [...this.spiOwner.entries()],
      spiLevel: [...this.spiLevel],
    };
  }

  restore(s: VgicV3Snapshot): void {
    this.initDone = s.initialized;
    this.enableGrp1 = s.enableGrp1;
    s.cpus.forEach((p, i) => {
      const c = this.cpus[i];
      c.enabled = p.enabled; c.level = p.level; c.latch = p.latch; c.active = p.active;
      c.priority.set(p.priority);
      for (let k = 0; k < GIC_NR_PRIVATE_IRQS; k++) c.owner[k] = p.owner[k];
      c.pmr = p.pmr; c.igrpen1 = p.igrpen1; c.bpr1 = p.bpr1; c.ctlr = p.ctlr;
      c.dropStack = [...p.dropStack]; c.waker = p.waker;
    });
    this.spiOwner.clear();
    for (const [k, v] of s.spiOwner) this.spiOwner.set(k, v);
    this.spiLevel.clear();
    for (const k of s.spiLevel) this.spiLevel.add(k);
  }
}

/** The system-register CPU interface (ICC_*_EL1, ICC_SRE_EL1 = SRE) and IRQ line of one vcpu. */
export class GicCpuInterface implements SysregDevice, IrqSource {
  readonly sysregs: readonly string[] = [
    'ICC_PMR_EL1', 'ICC_IGRPEN1_EL1', 'ICC_IAR1_EL1', 'ICC_EOIR1_EL1', 'ICC_HPPIR1_EL1', 'ICC_DIR_EL1',
    'ICC_RPR_EL1', 'ICC_CTLR_EL1', 'ICC_SRE_EL1', 'ICC_BPR1_EL1',
  ];

  constructor(private readonly gic: VgicV3, readonly vcpu: number) {}

  read(name: string): bigint { return this.gic.readIcc(this.vcpu, name); }
  write(name: string, value: bigint): void { this.gic.writeIcc(this.vcpu, name, value); }
  irqPending(): boolean { return this.gic.signalled(this.vcpu) >= 0; }
}
