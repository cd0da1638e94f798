// Shared setup for the stage 2 page-table tests. Named *.test.ts only to stay inside the test paths this module
// owns; it declares no tests.
import { PhysMem } from '../../../emulator/memory/physmem';
import { TablePool } from '../../../emulator/memory/table-pool';
import { EventLog, type TraceEvent } from '../../../emulator/events';
import { getFlavour, type FlavourName } from '../../../emulator/kvm/flavours';
import { Stage2PageTable } from '../../../emulator/kvm/pgtable/stage2-pgtable';

export const POOL_BASE = 0x10_0000_0000;

export interface Fixture {
  mem: PhysMem;
  pool: TablePool;
  log: EventLog;
  pt: Stage2PageTable;
  /** events since the last call to `take` */
  take(): TraceEvent[];
}

export function makeTable(opts: {
  ipaBits?: number; pageSize?: 4096 | 16384 | 65536; flavour?: FlavourName; fwb?: boolean; name?: string;
  poolBytes?: number; cmos?: boolean;
} = {}): Fixture {
  const mem = new PhysMem();
  const pool = new TablePool(mem, POOL_BASE, opts.poolBytes ?? 64 * 2 ** 20);
  const log = new EventLog();
  const pt = new Stage2PageTable(mem, pool, {
    ipaBits: opts.ipaBits ?? 40, pageSize: opts.pageSize ?? 4096, flavour: getFlavour(opts.flavour ?? 'spe-rfc-v5'),
    fwb: opts.fwb ?? false, name: opts.name ?? 'vm', cmos: opts.cmos,
  }, log);
  let mark = log.nextSeq;
  return {
    mem, pool, log, pt,
    take() {
      const out = log.since(mark).slice();
      mark = log.nextSeq;
      return out;
    },
  };
}

/** compact form of events for order assertions: "pte L2 0x..->0x..", "tlbi ipa L2", "tlbi vmid", "cmo dcache ..." */
export function brief(e: TraceEvent): string {
  const f = e.fields;
  switch (e.event) {
    case 'pte': return `pte L${f.level} ${hex(f.old)}->${hex(f.new)}`;
    case 'tlbi': return f.scope === 'vmid' ? 'tlbi vmid' : `tlbi ipa ${hex(f.ipa)} L${f.level}`;
    case 'cmo': return `cmo ${f.op} ${hex(f.ipa)} ${hex(f.size)}`;
    default: return e.event;
  }
}

function hex(v: unknown): string {
  return typeof v === 'bigint' ? '0x' + v.toString(16) : String(v);
}
