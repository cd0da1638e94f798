// Scopes and variables (issue "Debug adapter" §4): General registers, System registers (ESR/HPFAR/PMBSR… with
// decoded fields as children, like a peripheral view), KVM (memslots with lock state, pending ops, locked_vm),
// Stage 2 (the walk for the last fault), the host statement, and the stop's event. References are valid until
// the next resume (VS Code asks again after every stop).

import { Handles, Scope, type Variable } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { TraceEvent } from '../emulator/events';
import { toJson } from '../emulator/events';
import { registerFields, lastFault, SHOWN_SYSREGS } from './registers';
import { walkStage2View, hex } from './stage2-walk';
import type { ScenarioTarget } from './target';
import { evalCondition, formatValue, parseCondition } from './conditions';

type VarRef =
  | { kind: 'gpr'; vcpu: number }
  | { kind: 'sysregs'; vcpu: number }
  | { kind: 'fields'; vcpu: number; reg: string }
  | { kind: 'kvm' }
  | { kind: 'memslots' }
  | { kind: 'memslot'; id: number }
  | { kind: 'stage2'; vcpu: number | undefined }
  | { kind: 'host' }
  | { kind: 'event'; event: TraceEvent };

export class Inspector {
  private handles = new Handles<VarRef>();

  constructor(private readonly target: ScenarioTarget) {}

  /** after a resume: old references are gone */
  reset(): void { this.handles.reset(); }

  scopes(vcpu: number | undefined, event: TraceEvent | undefined): DebugProtocol.Scope[] {
    const out: DebugProtocol.Scope[] = [];
    if (vcpu !== undefined) {
      out.push(new Scope('General registers', this.handles.create({ kind: 'gpr', vcpu }), false));
      const sys = new Scope('System registers', this.handles.create({ kind: 'sysregs', vcpu }), false);
      out.push(sys);
    } else {
      out.push(new Scope('Host', this.handles.create({ kind: 'host' }), false));
    }
    if (event) out.push(new Scope(`Event: ${event.event}`, this.handles.create({ kind: 'event', event }), false));
    out.push(new Scope('KVM', this.handles.create({ kind: 'kvm' }), false));
    out.push(new Scope('Stage 2', this.handles.create({ kind: 'stage2', vcpu }), true));
    return out;
  }

  /** the variablesReference of a register's decoded fields (0 when it has none) */
  fieldsRef(vcpu: number, reg: string): number {
    const v = this.target.registers(vcpu)?.read(reg);
    if (v === undefined || registerFields(reg, v).length === 0) return 0;
    return this.handles.create({ kind: 'fields', vcpu, reg: reg.toUpperCase() });
  }

  variables(ref: number): DebugProtocol.Variable[] | undefined {
    const r = this.handles.get(ref);
    if (!r) return undefined;
    const t = this.target;
    const vm = t.board.vm;
    switch (r.kind) {
      case 'gpr': {
        const regs = t.board.cpus[r.vcpu].regs();
        const out: DebugProtocol.Variable[] = regs.x.map((v, i) => reg(`x${i}`, v, 0, true));
        out.push(reg('sp', regs.sp, 0, true), reg('pc', regs.pc, 0, true), reg('pstate', regs.pstate, this.fieldsRef(r.vcpu, 'SPSR_EL1') ? this.handles.create({ kind: 'fields', vcpu: r.vcpu, reg: 'PSTATE' }) : 0));
        out.push({ name: 'EL', value: String(regs.el), variablesReference: 0 });
        return out;
      }
      case 'sysregs': {
        const rf = t.registers(r.vcpu)!;
        const out: DebugProtocol.Variable[] = [];
        for (const name of SHOWN_SYSREGS) {
          const v = rf.read(name);
          if (v === undefined) continue;
          out.push(reg(name, v, registerFields(name, v).length > 0 ? this.handles.create({ kind: 'fields', vcpu: r.vcpu, reg: name }) : 0));
        }
        return out;
      }
      case 'fields': {
        const rf = t.registers(r.vcpu)!;
        const v = r.reg === 'PSTATE' ? t.board.cpus[r.vcpu].getPstate() : rf.read(r.reg);
        if (v === undefined) return [];
        return registerFields(r.reg === 'PSTATE' ? 'SPSR_EL1' : r.reg, v).map((f) => ({
          name: f.name, value: f.text ?? hex(f.value), variablesReference: 0, evaluateName: `${r.reg.toLowerCase()}.${f.name.toLowerCase()}`,
        }));
      }
      case 'kvm': {
        const view = vm.memslotsView();
        const running = t.board.cpus.map((_, i) => i).filter((i) => t.machine.inKvmRun(i));
        return [
          { name: 'memslots', value: `${view.memslots.length} memslot(s)`, variablesReference: this.handles.create({ kind: 'memslots' }), indexedVariables: view.memslots.length },
          { name: 'locked_vm', value: `${view.lockedVm} page(s)`, variablesReference: 0 },
          { name: 'pending_ops', value: view.pendingOps.length ? view.pendingOps.join(' ') : 'none', variablesReference: 0 },
          { name: 'flavour', value: t.loaded.settings.flavourName, variablesReference: 0 },
          { name: 'in KVM_RUN', value: running.length ? running.map((i) => `vcpu ${i}`).join(', ') : 'none', variablesReference: 0 },
          { name: 'steps', value: String(t.machine.steps), variablesReference: 0 },
        ];
      }
      case 'memslots':
        return vm.memslotsView().memslots.map((s) => ({
          name: `memslot ${s.id}`,
          value: `gpa=${hex(s.gpa)} size=${hex(s.size)} ${s.lock ? `locked ${s.lock.read ? 'read' : ''}${s.lock.write ? ' write' : ''}` : 'unlocked'}${s.readonly ? ' readonly' : ''}${s.dirtyLog ? ' dirty_log' : ''}`,
          variablesReference: this.handles.create({ kind: 'memslot', id: s.id }),
          memoryReference: hex(s.gpa),
        }));
      case 'memslot': {
        const s = vm.memslotsView().memslots.find((x) => x.id === r.id);
        if (!s) return [];
        return [
          { name: 'gpa', value: hex(s.gpa), variablesReference: 0, memoryReference: hex(s.gpa) },
          { name: 'size', value: hex(s.size), variablesReference: 0 },
          { name: 'hva', value: hex(s.hva), variablesReference: 0 },
          { name: 'readonly', value: String(s.readonly), variablesReference: 0 },
          { name: 'dirty_log', value: String(s.dirtyLog), variablesReference: 0 },
          { name: 'lock', value: s.lock ? `read=${s.lock.read} write=${s.lock.write}` : 'unlocked', variablesReference: 0 },
          { name: 'pinned_pages', value: String(s.pinnedPages), variablesReference: 0 },
          { name: 'dirty_pages', value: String(s.dirtyPages), variablesReference: 0 },
        ];
      }
      case 'stage2': {
        const f = r.vcpu !== undefined ? lastFault(t.machine.events, r.vcpu) : t.machine.events.last('stage2-fault');
        if (!f) return [{ name: 'last fault', value: 'none yet', variablesReference: 0 }];
        const ipa = f.fields.ipa;
        if (typeof ipa !== 'bigint') return [];
        const table = f.fields.stage === 'host' ? vm.hostStage2 : vm.stage2;
        const out: DebugProtocol.Variable[] = [
          { name: 'ipa', value: hex(ipa), variablesReference: 0, memoryReference: hex(ipa) },
          { name: 'fault', value: `${String(f.fields.kind)} level ${String(f.fields.level)} (${f.fields.write ? 'write' : f.fields.exec ? 'exec' : 'read'})`, variablesReference: 0 },
          { name: 'resolution', value: String(f.fields.resolution), variablesReference: 0 },
        ];
        if (table) {
          const w = walkStage2View(table, Number(ipa));
          for (const s of w.steps) out.push({ name: `L${s.level}[${s.index}]`, value: `${s.raw} @ table ${hex(s.tablePa)}`, variablesReference: 0 });
          out.push({ name: 'now', value: w.leaf + (w.pa !== undefined ? ` -> pa ${hex(w.pa)}` : ''), variablesReference: 0 });
        }
        return out;
      }
      case 'host': {
        const m = t.machine;
        const op = m.currentOp;
        return [
          { name: 'statement', value: op ? op.text : '(scenario finished)', variablesReference: 0 },
          { name: 'line', value: op ? String(op.range.start.line + 1) : '-', variablesReference: 0 },
          { name: 'waiting for', value: m.waitingFor !== undefined ? `vcpu ${m.waitingFor} (KVM_RUN)` : 'nothing', variablesReference: 0 },
          { name: 'steps', value: String(m.steps), variablesReference: 0 },
          { name: 'events', value: String(m.events.length), variablesReference: 0 },
        ];
      }
      case 'event': {
        const j = toJson(r.event);
        return Object.entries(j).map(([k, v]) => ({ name: k, value: typeof v === 'string' ? v : JSON.stringify(v), variablesReference: 0 }));
      }
    }
  }

  /** setVariable on a register (General or System registers scope, or a register field's parent) */
  setVariable(ref: number, name: string, valueText: string): { value: string; variablesReference: number } | string {
    const r = this.handles.get(ref);
    if (!r || (r.kind !== 'gpr' && r.kind !== 'sysregs')) return `'${name}' cannot be changed here (registers only)`;
    const rf = this.target.registers(r.vcpu);
    if (!rf) return 'no such vcpu';
    let v;
    try {
      v = evalCondition(parseCondition(valueText), this.target.env(r.vcpu));
    } catch (e) {
      return `invalid value: ${(e as Error).message}`;
    }
    if (typeof v !== 'bigint') v = typeof v === 'boolean' ? (v ? 1n : 0n) : undefined;
    if (v === undefined) return 'a register takes a number';
    const err = rf.write(name, v);
    if (err) return err;
    const now = rf.read(name) ?? v;
    return { value: formatValue(now), variablesReference: 0 };
  }
}

function reg(name: string, v: bigint, ref: number, memRef = false): Variable & DebugProtocol.Variable {
  const out: DebugProtocol.Variable = { name, value: hex(v), variablesReference: ref, evaluateName: name.toLowerCase() };
  if (memRef) out.memoryReference = hex(v);
  return out as Variable & DebugProtocol.Variable;
}
