// The launched scenario as the adapter sees it: the loaded machine, its source map, and the name environment that
// conditions, logpoints and `evaluate` use (event fields shadow registers, registers shadow symbols).

import type { LoadedScenario } from '../emulator/scenario/loader';
import type { TraceEvent } from '../emulator/events';
import type { CondEnv, CondValue } from './conditions';
import { eventField } from './exception-filters';
import { RegisterFile } from './registers';
import { SourceMap } from './source-map';

export class ScenarioTarget {
  readonly sourceMap: SourceMap;
  private readonly regFiles: RegisterFile[];

  constructor(readonly loaded: LoadedScenario, readonly file: string, readonly text: string) {
    this.sourceMap = new SourceMap(loaded);
    this.regFiles = loaded.board.cpus.map((c, i) => new RegisterFile(c, loaded.machine.events, i));
  }

  get machine() { return this.loaded.machine; }
  get board() { return this.loaded.board; }
  get vcpuCount(): number { return this.loaded.board.cpus.length; }

  registers(vcpu: number): RegisterFile | undefined { return this.regFiles[vcpu]; }

  symbol(name: string): bigint | undefined {
    return this.loaded.runtime.symbols.lookup(name);
  }

  readMemory(ipa: bigint, size: 1 | 2 | 4 | 8): bigint | undefined {
    if (ipa < 0n || ipa >= 1n << 52n) return undefined;
    const b = this.board.readGuest(Number(ipa), size);
    if (!b) return undefined;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    return v;
  }

  /** names for vcpu `vcpu` (vcpu 0 for the host thread), with `event`'s fields first */
  env(vcpu: number | undefined, event?: TraceEvent): CondEnv {
    const regs = this.registers(vcpu ?? 0);
    return {
      resolve: (name: string): CondValue | undefined => {
        if (event) {
          const f = eventField(event, name);
          if (f !== undefined) return f;
        }
        if (regs) {
          const r = regs.read(name);
          if (r !== undefined) return r;
          const dot = name.lastIndexOf('.');
          if (dot > 0) {
            const f = regs.readField(name.slice(0, dot), name.slice(dot + 1));
            if (f !== undefined) return f;
          }
        }
        return this.symbol(name);
      },
      call: (fn: string, arg: bigint): CondValue | undefined => {
        switch (fn) {
          case 'hva': case 'pa': return this.loaded.runtime.symbols.memslotAddr?.(fn, arg);
          case 'ipa': case 'translate': {
            const cpu = this.board.cpus[vcpu ?? 0];
            if (!cpu) return undefined;
            const t = cpu.translate(arg);
            const v = fn === 'ipa' ? t.ipa : t.pa;
            return v === undefined ? undefined : BigInt(v);
          }
          default: return undefined;
        }
      },
      readMemory: (ipa, size) => this.readMemory(ipa, size),
    };
  }
}
