// Registers by name for variables, `evaluate`, conditions and `setVariable`: x0–x30, w0–w30, sp, pc, pstate,
// system registers by name (the CPU's sysreg file), and the EL2 syndrome registers as KVM saw them at the vcpu's
// last stage 2 fault (ESR_EL2, FAR_EL2, HPFAR_EL2 come from that `stage2-fault` event: the guest CPU models EL1
// only). `reg.field` reads a decoded field: ESR_ELx fields from arch/esr.ts, others from arch/sysregs.ts.

import type { Cpu } from '../emulator/cpu/cpu';
import type { EventLog, TraceEvent } from '../emulator/events';
import { decodeEsr } from '../emulator/arch/esr';
import { sysregFields } from '../emulator/arch/sysregs';

const MASK64 = (1n << 64n) - 1n;

/** the registers the System registers scope shows (those the CPU has; SPE ones only with SPE) */
export const SHOWN_SYSREGS: readonly string[] = [
  'ESR_EL2', 'FAR_EL2', 'HPFAR_EL2',
  'ESR_EL1', 'FAR_EL1', 'ELR_EL1', 'SPSR_EL1', 'VBAR_EL1', 'SCTLR_EL1', 'TCR_EL1', 'TTBR0_EL1', 'MAIR_EL1',
  'MPIDR_EL1', 'CNTVCT_EL0',
  'PMBSR_EL1', 'PMBPTR_EL1', 'PMBLIMITR_EL1', 'PMSCR_EL1', 'PMSIRR_EL1', 'PMSICR_EL1',
];

const EL2_FROM_FAULT: { readonly [name: string]: string } = { ESR_EL2: 'esr', FAR_EL2: 'far', HPFAR_EL2: 'hpfar' };

export function lastFault(events: EventLog, vcpu: number): TraceEvent | undefined {
  const all = events.all();
  for (let i = all.length - 1; i >= 0; i--) {
    const e = all[i];
    if (e.event === 'stage2-fault' && e.vcpu === vcpu) return e;
  }
  return undefined;
}

export class RegisterFile {
  constructor(private readonly cpu: Cpu, private readonly events: EventLog, private readonly vcpu: number) {}

  /** a register's value, or undefined when there is no such register */
  read(nameIn: string): bigint | undefined {
    const name = nameIn.toLowerCase();
    let m = /^x(\d+)$/.exec(name);
    if (m && Number(m[1]) <= 30) return this.cpu.getX(Number(m[1]));
    m = /^w(\d+)$/.exec(name);
    if (m && Number(m[1]) <= 30) return this.cpu.getX(Number(m[1])) & 0xffff_ffffn;
    switch (name) {
      case 'xzr': case 'wzr': return 0n;
      case 'pc': return this.cpu.getPc();
      case 'sp': return this.cpu.regs().sp;
      case 'sp_el0': return this.cpu.getSp(0);
      case 'sp_el1': return this.cpu.getSp(1);
      case 'pstate': case 'cpsr': return this.cpu.getPstate();
      case 'lr': return this.cpu.getX(30);
      case 'fp': return this.cpu.getX(29);
      default: break;
    }
    const upper = name.toUpperCase();
    const el2 = EL2_FROM_FAULT[upper];
    if (el2 !== undefined) {
      const f = lastFault(this.events, this.vcpu);
      const v = f?.fields[el2];
      return typeof v === 'bigint' ? v : 0n;
    }
    try {
      return this.cpu.getSysreg(upper);
    } catch {
      return undefined;
    }
  }

  /** `reg.field`: a decoded field of a register, or undefined */
  readField(reg: string, field: string): bigint | undefined {
    const v = this.read(reg);
    if (v === undefined) return undefined;
    const fields = registerFields(reg.toUpperCase(), v);
    const f = fields.find((x) => x.name.toLowerCase() === field.toLowerCase());
    return f?.value;
  }

  /** write a register; an error message when it cannot be written */
  write(nameIn: string, value: bigint): string | undefined {
    const name = nameIn.toLowerCase();
    const v = value & MASK64;
    let m = /^x(\d+)$/.exec(name);
    if (m && Number(m[1]) <= 30) { this.cpu.setX(Number(m[1]), v); return undefined; }
    m = /^w(\d+)$/.exec(name);
    if (m && Number(m[1]) <= 30) { this.cpu.setX(Number(m[1]), v & 0xffff_ffffn); return undefined; }
    switch (name) {
      case 'pc': this.cpu.setPc(v); return undefined;
      case 'sp': this.cpu.setSp(this.cpu.regs().el === 0 ? 0 : ((this.cpu.getPstate() & 1n) === 1n ? 1 : 0), v); return undefined;
      case 'sp_el0': this.cpu.setSp(0, v); return undefined;
      case 'sp_el1': this.cpu.setSp(1, v); return undefined;
      case 'pstate': this.cpu.setPstate(v); return undefined;
      default: break;
    }
    if (EL2_FROM_FAULT[name.toUpperCase()] !== undefined) return `${nameIn.toUpperCase()} is KVM's record of the last stage 2 fault; it cannot be changed`;
    try {
      this.cpu.setSysreg(name.toUpperCase(), v);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }
}

export interface RegisterField { readonly name: string; readonly value: bigint; readonly text?: string }

/** Decoded fields of a register value, like a peripheral view (ESR_ELx via the ESR decoder). */
export function registerFields(reg: string, v: bigint): RegisterField[] {
  const name = reg.toUpperCase();
  if (name.startsWith('ESR_EL')) {
    const d = decodeEsr(v);
    const out: RegisterField[] = [
      { name: 'EC', value: BigInt(d.ec), text: `0x${d.ec.toString(16)} (${d.ecName})` },
      { name: 'IL', value: d.il ? 1n : 0n },
      { name: 'ISS', value: BigInt(d.iss) },
    ];
    if (d.abort) {
      const a = d.abort;
      out.push(
        { name: 'FSC', value: BigInt(a.fsc), text: `0x${a.fsc.toString(16)} (${a.fscName})` },
        { name: 'WnR', value: a.wnr ? 1n : 0n },
        { name: 'S1PTW', value: a.s1ptw ? 1n : 0n },
        { name: 'CM', value: a.cm ? 1n : 0n },
        { name: 'EA', value: a.ea ? 1n : 0n },
        { name: 'FnV', value: a.fnv ? 1n : 0n },
        { name: 'ISV', value: a.isv ? 1n : 0n },
      );
      if (a.isv) {
        out.push(
          { name: 'SAS', value: BigInt(a.sas), text: `${a.sas} (${a.len} bytes)` },
          { name: 'SSE', value: a.sse ? 1n : 0n },
          { name: 'SRT', value: BigInt(a.srt), text: `${a.srt} (x${a.srt})` },
          { name: 'SF', value: a.sf ? 1n : 0n },
          { name: 'AR', value: a.ar ? 1n : 0n },
        );
      }
    }
    if (d.imm16 !== undefined) out.push({ name: 'imm16', value: BigInt(d.imm16) });
    return out;
  }
  if (name === 'HPFAR_EL2') {
    // FIPA = IPA[51:12] in bits [43:4]
    const fipa = (v >> 4n) & ((1n << 40n) - 1n);
    return [{ name: 'FIPA', value: fipa, text: `0x${fipa.toString(16)} (IPA 0x${(fipa << 12n).toString(16)})` }];
  }
  const fields = sysregFields(name);
  if (!fields) return [];
  return Object.entries(fields).map(([f, [msb, lsb]]) => ({
    name: f, value: (v >> BigInt(lsb)) & ((1n << BigInt(msb - lsb + 1)) - 1n),
  }));
}
