// The generic stage 2 walker, shaped like __kvm_pgtable_walk / __kvm_pgtable_visit in arch/arm64/kvm/hyp/pgtable.c
// (5.x): visit every entry that covers [addr, end) level by level, calling the visitor with LEAF for a leaf (an
// invalid entry counts as a leaf), TABLE_PRE before descending into a table and TABLE_POST after it. After a LEAF
// visit the entry is read again, so a visitor that installs a table (map splitting a block) is descended into.
//
// One deviation, kept because it is simpler and has the same effect: when a TABLE_PRE visitor replaces the table by
// a leaf (map collapsing a table into a block), the walk does not descend into the old table; pgtable.c instead
// keeps walking the detached table with an "anchor" to drop its references. Our visitor frees the old subtree itself.
//
// Addresses are JS numbers (IPAs < 2^52); all arithmetic here is float-exact integer arithmetic, never 32-bit
// bitwise operators.

import * as stage2 from '../../arch/stage2';
import type { Stage2Geometry } from '../../arch/stage2';
import type { PhysMem } from '../../memory/physmem';

// Module-level copies of imported bindings: under tsx (CommonJS interop) every use of an imported name is a getter
// call, and these run several times per stage 2 fault-in (the bundled build is unaffected).
const { levelShift } = stage2;

const TWO32 = 4294967296;

/** kvm_granule_size, from a small table for the three granules (called for every entry visited) */
const GRANULES: Record<number, number[]> = {};
function granuleOf(level: number, pageSize: number): number {
  const t = GRANULES[pageSize] ??= [0, 1, 2, 3].map((l) => 2 ** levelShift(l, pageSize));
  return t[level];
}

export const WALK_LEAF = 1;
export const WALK_TABLE_PRE = 2;
export const WALK_TABLE_POST = 4;
export type WalkFlag = typeof WALK_LEAF | typeof WALK_TABLE_PRE | typeof WALK_TABLE_POST;

/** A visitor's verdict: 'ok' continues the walk; anything else stops it and is returned by the walk. */
export type WalkResult = 'ok' | 'EAGAIN' | 'EINVAL' | 'ENOMEM' | 'ERANGE' | 'E2BIG';

/**
 * kvm_pgtable_visitor_fn_t: `addr` is the walk's current address inside the entry's range (not necessarily aligned
 * to the entry's granule), `end` the walk's end, `ptep` the host-physical address of the 8-byte descriptor.
 */
export type Stage2Visitor = (addr: number, end: number, level: number, ptep: number, flag: WalkFlag) => WalkResult;

export interface WalkTarget {
  readonly mem: PhysMem;
  readonly geometry: Stage2Geometry;
  readonly rootPa: number;
}

interface WalkData {
  addr: number;
  end: number;
  readonly flags: number;
  readonly visit: Stage2Visitor;
}

export function alignDown(x: number, a: number): number {
  return x - (x % a);
}

export function alignUp(x: number, a: number): number {
  const r = x % a;
  return r === 0 ? x : x + (a - r);
}

/**
 * kvm_pgtable_walk: page-align the range (addr down, end up) and visit it. Beyond the IPA size is -ERANGE, as in
 * pgtable.c (`data->addr > limit || data->end > limit`).
 */
export function walkStage2(t: WalkTarget, addr: number, size: number, flags: number, visit: Stage2Visitor): WalkResult {
  const g = t.geometry;
  const limit = 2 ** g.ipaBits;
  const data: WalkData = { addr: alignDown(addr, g.pageSize), end: alignUp(addr + size, g.pageSize), flags, visit };
  if (data.addr > limit || data.end > limit) return 'ERANGE';
  // the concatenated root is one table of rootPages * entries entries (pages are contiguous)
  const gran = granuleOf(g.startLevel, g.pageSize);
  const n = g.rootPages * g.entriesPerTable;
  for (let idx = Math.floor(data.addr / gran); idx < n; idx++) {
    if (data.addr >= data.end) break;
    const r = visitEntry(t, data, t.rootPa + idx * 8, g.startLevel);
    if (r !== 'ok') return r;
  }
  return 'ok';
}

function walkTable(t: WalkTarget, data: WalkData, tablePa: number, level: number): WalkResult {
  const g = t.geometry;
  const gran = granuleOf(level, g.pageSize);
  for (let idx = Math.floor(data.addr / gran) % g.entriesPerTable; idx < g.entriesPerTable; idx++) {
    if (data.addr >= data.end) break;
    const r = visitEntry(t, data, tablePa + idx * 8, level);
    if (r !== 'ok') return r;
  }
  return 'ok';
}

function visitEntry(t: WalkTarget, data: WalkData, ptep: number, level: number): WalkResult {
  const g = t.geometry;
  const mem = t.mem;
  const addr = data.addr;
  // kvm_pte_table on the low half: valid, TYPE=1, not the last level
  let table = level < 3 && (mem.read32(ptep) & 3) === 3;
  let r: WalkResult = 'ok';
  if (table && (data.flags & WALK_TABLE_PRE)) {
    r = data.visit(addr, data.end, level, ptep, WALK_TABLE_PRE);
    if (r !== 'ok') return r;
    table = (mem.read32(ptep) & 3) === 3;
    if (!table) return advance(data, level, g.pageSize);
  } else if (!table && (data.flags & WALK_LEAF)) {
    r = data.visit(addr, data.end, level, ptep, WALK_LEAF);
    if (r !== 'ok') return r;
    table = level < 3 && (mem.read32(ptep) & 3) === 3;
  }
  if (!table) return advance(data, level, g.pageSize);
  r = walkTable(t, data, tableAddress(mem, ptep, g.pageSize), level + 1);
  if (r !== 'ok') return r;
  if (data.flags & WALK_TABLE_POST) r = data.visit(addr, data.end, level, ptep, WALK_TABLE_POST);
  return r;
}

/** kvm_pte_follow: the next table's PA, OA[47:PAGE_SHIFT] from the two halves (no BigInt) */
function tableAddress(mem: PhysMem, ptep: number, pageSize: number): number {
  const lo = mem.read32(ptep);
  const hi = mem.read32(ptep + 4);
  return (hi & 0xffff) * TWO32 + ((lo & ~(pageSize - 1)) >>> 0);
}

function advance(data: WalkData, level: number, pageSize: number): 'ok' {
  const gran = granuleOf(level, pageSize);
  data.addr = alignDown(data.addr, gran) + gran;
  return 'ok';
}
