// The board: host-physical memory, the VM, the vcpus' CPUs, the vGICv3 and the SPE units wired together, as a VMM
// builds them at the `machine` line (KVM_CREATE_VM, KVM_CREATE_VCPU × N, the vGIC created and initialised once the
// vcpus exist, as kvmtool does). Everything that holds state is snapshotted here, for step-back.

import { EventLog } from './events';
import { PhysMem, type MemSnapshot } from './memory/physmem';
import { Vm, type VmConfig } from './kvm/vm';
import { KvmRun } from './kvm/run';
import { KvmSpeVcpu, type KvmSpeVcpuSnapshot } from './kvm/spe';
import { Cpu, type CpuSnapshot } from './cpu/cpu';
import { VgicV3, type VgicV3Snapshot } from './cpu/gic';
import { SpeUnit, type SpeUnitSnapshot } from './cpu/spe';
import type { Flavour } from './kvm/flavours';
import type { Stage2PageSize } from './arch/stage2';
import { OK, type IoctlResult } from './kvm/errno';
import { KVM_ARM_VCPU_SPE } from './kvm/vcpu-state';
import type { Snapshotable } from './machine';

export interface BoardConfig {
  readonly flavour: Flavour;
  readonly ipaBits: number;
  readonly pageSize: Stage2PageSize;
  readonly vcpus: number;
  /** RLIMIT_MEMLOCK in bytes; Infinity = unlimited */
  readonly memlockBytes: number;
  readonly fwb: boolean;
  readonly gic: boolean;
  /** SPE implemented (`spe on`) — only where the flavour has SPE */
  readonly spe: boolean;
  readonly speIrq: number;
  /** MMIO guard hypercalls available (`mmio_guard on`) — only where the flavour has them */
  readonly mmioGuard: boolean;
  readonly nisvToUser: boolean;
  readonly protectedMode: boolean;
  readonly guestExceptions: 'deliver' | 'stop';
}

interface BoardSnapshot {
  readonly mem: MemSnapshot;
  readonly vm: unknown;
  readonly cpus: readonly CpuSnapshot[];
  readonly gic: VgicV3Snapshot | undefined;
  readonly spe: readonly (SpeUnitSnapshot | undefined)[];
  readonly kvmSpe: readonly (KvmSpeVcpuSnapshot | undefined)[];
  readonly run: unknown;
}

export class Board implements Snapshotable {
  readonly cpus: Cpu[] = [];
  readonly speUnits: (SpeUnit | null)[] = [];
  readonly kvmSpe: (KvmSpeVcpu | null)[] = [];
  readonly gic: VgicV3 | null;
  readonly kvmRun: KvmRun;

  private constructor(readonly config: BoardConfig, readonly mem: PhysMem, readonly events: EventLog, readonly vm: Vm) {
    const n = vm.vcpus.length;
    this.gic = config.gic ? new VgicV3({ nrVcpus: n }) : null;
    if (this.gic) {
      // kvmtool: KVM_CREATE_DEVICE(VGIC_V3) at VM creation, KVM_DEV_ARM_VGIC_CTRL_INIT once the vcpus exist
      vm.ioctl('KVM_CREATE_DEVICE', ['KVM_DEV_TYPE_ARM_VGIC_V3'], OK);
      this.gic.init();
      vm.ioctl('KVM_SET_DEVICE_ATTR', ['KVM_DEV_ARM_VGIC_GRP_CTRL', 'KVM_DEV_ARM_VGIC_CTRL_INIT'], OK);
    }
    const speHost = {
      flavour: config.flavour,
      events,
      hostSupportsSpe: config.spe,
      irqchip: this.gic,
      vcpuHasSpe: (i: number) => vm.vcpus[i]?.features.has(KVM_ARM_VCPU_SPE) ?? false,
      speVcpus: () => this.kvmSpe.filter((s): s is KvmSpeVcpu => s !== null),
      now: () => this.cpus[0]?.ticks ?? 0,
    };
    for (let i = 0; i < n; i++) {
      const cpu = new Cpu({ index: i, mem, stage2: vm.stage2, events, guestExceptions: config.guestExceptions });
      this.cpus.push(cpu);
      if (this.gic) {
        const iface = this.gic.cpuInterface(i);
        cpu.attachSysregDevice(iface);
        cpu.setIrqSource(iface);
      }
      if (config.spe && config.flavour.spe !== null) {
        const unit = new SpeUnit(cpu.memoryPort());
        const kspe = new KvmSpeVcpu(i, speHost, unit);
        cpu.attachSysregDevice(kspe.guestSysregs);
        cpu.setSampler(unit);
        this.speUnits.push(unit);
        this.kvmSpe.push(kspe);
        vm.firstRunHooks.push((v) => (v === i ? kspe.firstRunInit() : null));
      } else {
        this.speUnits.push(null);
        this.kvmSpe.push(null);
      }
    }
    // every TLBI KVM issues drops the CPUs' cached translations
    vm.stage2.onTlbi(() => { for (const c of this.cpus) c.tlbFlush(); });
    const gic = this.gic;
    // the vGIC's GICD/GICR frames are KVM_MMIO_BUS devices: accesses complete in the kernel, never exit
    if (gic) vm.inKernelMmio = (ipa, len, write, data) => (gic.contains(ipa) ? gic.mmio(ipa, len, write, data) : { handled: false });
    this.kvmRun = new KvmRun(vm, this.cpus, events, this.kvmSpe);
  }

  /** KVM_CREATE_VM and the machine block's other implicit ioctls; a refused KVM_CREATE_VM gives no board. */
  static create(config: BoardConfig, events = new EventLog()): { board?: Board; result: IoctlResult; events: EventLog } {
    const mem = new PhysMem();
    const vmConfig: VmConfig = {
      flavour: config.flavour,
      ipaBits: config.ipaBits,
      pageSize: config.pageSize,
      vcpus: config.vcpus,
      memlockBytes: config.memlockBytes,
      fwb: config.fwb,
      protectedMode: config.protectedMode,
      nisvToUser: config.nisvToUser,
      spe: config.spe,
      mmioGuard: config.mmioGuard,
    };
    const { vm, result } = Vm.create(vmConfig, mem, events);
    if (!vm) return { result, events };
    return { board: new Board(config, mem, events, vm), result, events };
  }

  /** Guest-physical memory through the VMM's memslot mappings (no stage 2): the IPA's host-physical address. */
  ipaToPa(ipa: number): number | undefined {
    const slot = this.vm.memslots.findByIpa(ipa);
    if (slot === undefined) return undefined;
    return this.vm.hostMemory.hvaToPa(slot.hva + (ipa - slot.gpa));
  }

  /** is `ipa` backed by a pfnmap (device) VMA, which reads 0 and ignores writes? */
  private isDeviceIpa(ipa: number): boolean {
    const slot = this.vm.memslots.findByIpa(ipa);
    if (slot === undefined) return false;
    return this.vm.hostMemory.backingAt(slot.hva + (ipa - slot.gpa))?.kind === 'pfnmap';
  }

  /** userspace write to guest memory through the memslot mapping; false where no memslot/VMA backs a byte */
  writeGuest(ipa: number, bytes: Uint8Array): boolean {
    for (let i = 0; i < bytes.length;) {
      const pa = this.ipaToPa(ipa + i);
      if (pa === undefined) return false;
      const n = Math.min(bytes.length - i, 0x1000 - ((ipa + i) & 0xfff));
      if (!this.isDeviceIpa(ipa + i)) this.mem.writeBytes(pa, bytes.subarray(i, i + n));
      i += n;
    }
    return true;
  }

  /** userspace read of guest memory through the memslot mapping; undefined where nothing backs it */
  readGuest(ipa: number, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    for (let i = 0; i < len;) {
      const pa = this.ipaToPa(ipa + i);
      if (pa === undefined) return undefined;
      const n = Math.min(len - i, 0x1000 - ((ipa + i) & 0xfff));
      if (!this.isDeviceIpa(ipa + i)) out.set(this.mem.readBytes(pa, n), i);
      i += n;
    }
    return out;
  }

  snapshot(): BoardSnapshot {
    return {
      mem: this.mem.snapshot(),
      vm: this.vm.snapshot(),
      cpus: this.cpus.map((c) => c.snapshot()),
      gic: this.gic?.snapshot(),
      spe: this.speUnits.map((u) => u?.snapshot()),
      kvmSpe: this.kvmSpe.map((k) => k?.snapshot()),
      run: this.kvmRun.snapshot(),
    };
  }

  restore(raw: unknown): void {
    const s = raw as BoardSnapshot;
    this.mem.restore(s.mem);
    this.vm.restore(s.vm);
    this.cpus.forEach((c, i) => c.restore(s.cpus[i]));
    if (this.gic && s.gic) this.gic.restore(s.gic);
    this.speUnits.forEach((u, i) => { const x = s.spe[i]; if (u && x) u.restore(x); });
    this.kvmSpe.forEach((k, i) => { const x = s.kvmSpe[i]; if (k && x) k.restore(x); });
    this.kvmRun.restore(s.run);
    for (const c of this.cpus) c.tlbFlush();
  }
}
