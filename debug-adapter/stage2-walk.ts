// Stage 2 walks as the views show them (the `kvm/translate` request, the Stage 2 scope): one step per level,
// reading the real descriptors from simulated memory (ARCHITECTURE.md "Real formats"), and the `kvm/stage2`
// table pages. Geometry (levels, concatenated root) is the table's own (spec B.2).

import type { Stage2PageTable } from '../emulator/kvm/pgtable/stage2-pgtable';
import { decodePte, describePte } from '../emulator/kvm/pgtable/pte-decode';
import { granuleSize, pteIsTable, pteToPhys } from '../emulator/arch/stage2';

export interface WalkStepView {
  readonly stage: 's1' | 's2';
  readonly level: number;
  readonly tablePa: number;
  readonly index: number;
  /** the descriptor as a trace-style hex string */
  readonly raw: string;
}

export interface Stage2WalkView {
  readonly steps: WalkStepView[];
  readonly pa?: number;
  readonly fault?: { readonly stage: 's2'; readonly kind: string; readonly level: number };
  /** human text of the final descriptor */
  readonly leaf: string;
}

export const hex = (v: bigint | number): string => '0x' + BigInt.asUintN(64, BigInt(v)).toString(16);

export function walkStage2View(t: Stage2PageTable, ipa: number): Stage2WalkView {
  const steps: WalkStepView[] = [];
  let ref = t.tableAt([]);
  const path: number[] = [];
  if (ipa >= 2 ** t.ipaBits) {
    return { steps, fault: { stage: 's2', kind: 'address-size', level: t.startLevel }, leaf: 'outside the IPA space' };
  }
  while (ref) {
    const gran = granuleSize(ref.level, t.pageSize);
    const index = Math.floor((ipa - ref.baseIpa) / gran);
    const raw = t.mem.read64(ref.tablePa + index * 8);
    steps.push({ stage: 's2', level: ref.level, tablePa: ref.tablePa, index, raw: hex(raw) });
    const decoded = decodePte(raw, ref.level, t.pageSize, t.flavour, t.fwb);
    if (pteIsTable(raw, ref.level)) {
      path.push(index);
      ref = t.tableAt(path);
      continue;
    }
    if (decoded.kind === 'block' || decoded.kind === 'page') {
      const pa = pteToPhys(raw, t.pageSize) + (ipa % gran);
      return { steps, pa, leaf: describePte(decoded) };
    }
    return { steps, fault: { stage: 's2', kind: 'translation', level: ref.level }, leaf: describePte(decoded) };
  }
  return { steps, leaf: 'no table' };
}

export interface Stage2PageView {
  readonly level: number;
  readonly tablePa: number;
  readonly total: number;
  readonly entries: { index: number; ipa: number; raw: string; kind: string; decoded: string }[];
}

/** `kvm/stage2`: the table page reached by `path` from the root, entries [start, start+count). */
export function stage2Page(t: Stage2PageTable, path: readonly number[], start: number, count: number): Stage2PageView | undefined {
  const ref = t.tableAt(path);
  if (!ref) return undefined;
  const gran = granuleSize(ref.level, t.pageSize);
  const entries: Stage2PageView['entries'] = [];
  const end = Math.min(ref.entries, start + count);
  for (let i = Math.max(0, start); i < end; i++) {
    const raw = t.mem.read64(ref.tablePa + i * 8);
    const d = decodePte(raw, ref.level, t.pageSize, t.flavour, t.fwb);
    entries.push({ index: i, ipa: ref.baseIpa + i * gran, raw: hex(raw), kind: d.kind, decoded: describePte(d) });
  }
  return { level: ref.level, tablePa: ref.tablePa, total: ref.entries, entries };
}
