// Field decoding of a stage 2 block/page descriptor for the Stage 2 view (spec B.3, the bit table; Arm ARM
// "VMSAv8-64 translation table format descriptors"). The adapter gives each entry's kind and a one-line summary;
// the view shows the fields as children. MemAttr is decoded without FEAT_S2FWB (spec B.3: FWB changes it).

export interface DescriptorField {
  name: string;
  value: string;
}

const bits = (v: bigint, hi: number, lo: number): number => Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));

const S2AP = ['none', 'read-only', 'write-only', 'read/write'];
const SH = ['non-shareable', 'reserved', 'outer shareable', 'inner shareable'];

/** MemAttr[3:0] without FWB: [3:2] 00 = Device (with [1:0] the Device type), otherwise Normal outer/inner */
function memAttr(v: number): string {
  if ((v & 0b1100) === 0) return ['Device-nGnRnE', 'Device-nGnRE', 'Device-nGRE', 'Device-GRE'][v & 3];
  const cache = ['', 'non-cacheable', 'write-through', 'write-back'];
  return `Normal (outer ${cache[v >> 2]}, inner ${cache[v & 3] || 'non-cacheable'})`;
}

export function decodeStage2Leaf(raw: bigint, pageSize = 4096): DescriptorField[] {
  const oaMask = ((1n << 48n) - 1n) & ~BigInt(pageSize - 1);
  const xn = bits(raw, 54, 53);
  return [
    { name: 'output address', value: '0x' + (raw & oaMask).toString(16) },
    { name: 'S2AP', value: `${bits(raw, 7, 6).toString(2).padStart(2, '0')} (${S2AP[bits(raw, 7, 6)]})` },
    { name: 'XN', value: `${xn.toString(2).padStart(2, '0')} (${xn === 0 ? 'executable' : xn === 2 ? 'execute-never' : xn === 1 ? 'EL1 XN only' : 'EL0 XN only'})` },
    { name: 'MemAttr', value: `${bits(raw, 5, 2).toString(2).padStart(4, '0')} (${memAttr(bits(raw, 5, 2))})` },
    { name: 'SH', value: SH[bits(raw, 9, 8)] },
    { name: 'AF', value: bits(raw, 10, 10) ? '1 (accessed)' : '0 (access flag fault on use)' },
    { name: 'DBM', value: String(bits(raw, 51, 51)) },
    { name: 'contiguous', value: String(bits(raw, 52, 52)) },
    { name: 'SW bits [58:55]', value: '0b' + bits(raw, 58, 55).toString(2).padStart(4, '0') },
  ];
}

/** what an invalid entry carries (pKVM PROT_NONE bit 55, owner id in bits 9:2, MMIO guard note, lock annotation) */
export function invalidAnnotation(kind: string, decoded: string): string | undefined {
  switch (kind) {
    case 'prot-none': return `PROT_NONE (${decoded})`;
    case 'owner': return `owner annotation (${decoded})`;
    case 'annotation': return decoded.includes('mmio_guard') ? 'MMIO guard page (MMIO_NOTE)' : `annotation (${decoded})`;
    case 'locked': return 'LOCKED';
    case 'invalid-other': return `invalid (${decoded})`;
    default: return undefined;
  }
}
