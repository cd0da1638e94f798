// `.kvms` lines <-> what runs there: host statements (HostOp ranges, 0-based) and guest instructions (the
// assembler's line table: 1-based lines, IPAs). Line breakpoints are verified against these and moved to the
// nearest line that has code; stack frames and disassembly map addresses back to lines.

import type { LoadedScenario } from '../emulator/scenario/loader';

export type LineTarget =
  | { readonly kind: 'host'; readonly line: number; readonly opIndex: number }
  | { readonly kind: 'guest'; readonly line: number; readonly addr: bigint };

interface Region { readonly first: number; readonly last: number; readonly kind: 'host' | 'guest'; readonly block?: number }

export class SourceMap {
  /** 1-based line -> host op index (first op starting on that line) */
  private readonly hostLines = new Map<number, number>();
  /** 1-based line -> first instruction address on that line */
  private readonly guestLines = new Map<number, bigint>();
  /** instruction address -> 1-based line */
  private readonly addrLines = new Map<bigint, number>();
  private readonly poolRanges: { addr: bigint; size: number }[];
  private readonly regions: Region[] = [];
  readonly labels: Map<bigint, string> = new Map();
  private readonly sortedLabels: [bigint, string][];

  constructor(loaded: LoadedScenario) {
    loaded.ops.forEach((op, i) => {
      const line = op.range.start.line + 1;
      if (!this.hostLines.has(line)) this.hostLines.set(line, i);
    });
    this.poolRanges = (loaded.program.pools ?? []).map((p) => ({ addr: p.addr, size: p.size }));
    for (const l of loaded.program.lines) {
      if (l.size === 0) continue;
      if (!this.addrLines.has(l.addr)) this.addrLines.set(l.addr, l.line);
      // data directives are not places to stop
      if (l.size % 4 === 0 && !this.guestLines.has(l.line) && !this.inPool(l.addr)) this.guestLines.set(l.line, l.addr);
    }
    loaded.script.guests.forEach((g, i) => this.regions.push({ first: g.range.start.line + 1, last: g.range.end.line + 1, kind: 'guest', block: i }));
    const h = loaded.script.host;
    if (h) this.regions.push({ first: h.range.start.line + 1, last: h.range.end.line + 1, kind: 'host' });
    for (const [name, addr] of loaded.program.labels) if (!this.labels.has(addr)) this.labels.set(addr, name);
    this.sortedLabels = [...this.labels.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  inPool(addr: bigint): boolean {
    return this.poolRanges.some((p) => addr >= p.addr && addr < p.addr + BigInt(p.size));
  }

  /** the 1-based line of the instruction at this IPA */
  lineOf(addr: bigint): number | undefined { return this.addrLines.get(addr); }

  /** `label` or `label+0x10` for an address inside the guest code */
  symbolOf(addr: bigint): string | undefined {
    let best: [bigint, string] | undefined;
    for (const l of this.sortedLabels) {
      if (l[0] > addr) break;
      best = l;
    }
    if (!best || addr - best[0] > 0x10000n) return undefined;
    return addr === best[0] ? best[1] : `${best[1]}+0x${(addr - best[0]).toString(16)}`;
  }

  /**
   * Where a breakpoint on `line` lands: the line itself or the next line with code in the same block (host
   * statements in `host { }`, instructions in a `guest { }`); outside both, the nearest code line after it.
   */
  resolveLine(line: number): LineTarget | undefined {
    const region = this.regions.find((r) => line >= r.first && line <= r.last);
    const host = (from: number, to: number): LineTarget | undefined => {
      for (let l = from; l <= to; l++) { const i = this.hostLines.get(l); if (i !== undefined) return { kind: 'host', line: l, opIndex: i }; }
      return undefined;
    };
    const guest = (from: number, to: number): LineTarget | undefined => {
      for (let l = from; l <= to; l++) { const a = this.guestLines.get(l); if (a !== undefined) return { kind: 'guest', line: l, addr: a }; }
      return undefined;
    };
    const lastLine = Math.max(0, ...this.regions.map((r) => r.last));
    if (region?.kind === 'host') return host(line, region.last);
    if (region?.kind === 'guest') return guest(line, region.last);
    const candidates = [host(line, lastLine), guest(line, lastLine)].filter((x): x is LineTarget => x !== undefined);
    candidates.sort((a, b) => a.line - b.line);
    return candidates[0];
  }
}
