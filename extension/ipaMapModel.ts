// The IPA map's model: each memslot cut into at most MAX_CELLS cells, each cell coloured by what stage 2 holds
// for it (mapped, or an invalid entry's annotation), plus the stage 2 entries outside every memslot (MMIO guard
// pages, annotations). Pure data, no vscode: the webview draws it, unit tests check it.

import type { MemslotsBody } from './kvmProtocol';

export interface MappedRange { ipa: number; size: number; kind: string; decoded: string }

export interface IpaMapModel {
  slots: { id: number; gpa: number; size: number; lock: string; readonly: boolean; dirtyLog: boolean; cells: string[]; cellSize: number }[];
  outside: MappedRange[];
  stoppedAt: string;
}

const MAX_CELLS = 256;

export function buildIpaMap(memslots: MemslotsBody, ranges: MappedRange[], stoppedAt: string): IpaMapModel {
  const slots = memslots.memslots.slice().sort((a, b) => a.gpa - b.gpa).map((s) => {
    const pages = Math.max(1, Math.ceil(s.size / 4096));
    const cellPages = Math.ceil(pages / MAX_CELLS);
    const cellSize = cellPages * 4096;
    const n = Math.ceil(s.size / cellSize);
    const cells: string[] = new Array(n).fill('unmapped');
    for (const r of ranges) {
      const lo = Math.max(r.ipa, s.gpa), hi = Math.min(r.ipa + r.size, s.gpa + s.size);
      if (lo >= hi) continue;
      for (let c = Math.floor((lo - s.gpa) / cellSize); c < n && s.gpa + c * cellSize < hi; c++) {
        cells[c] = r.kind === 'block' || r.kind === 'page' ? (cells[c] === 'unmapped' || cells[c] === 'mapped' ? 'mapped' : cells[c]) : r.kind;
      }
    }
    const lock = s.lock ? `locked ${s.lock.write ? 'rw' : 'r'}` : 'unlocked';
    return { id: s.id, gpa: s.gpa, size: s.size, lock, readonly: s.readonly, dirtyLog: s.dirtyLog, cells, cellSize };
  });
  const inSlot = (ipa: number): boolean => memslots.memslots.some((s) => ipa >= s.gpa && ipa < s.gpa + s.size);
  return { slots, outside: ranges.filter((r) => !inSlot(r.ipa)), stoppedAt };
}

