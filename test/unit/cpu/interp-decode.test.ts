// The execution decoder (interp.ts) against the codec's decoder (decode.ts): every word the codec accepts
// executes (is not UNDEFINED), except MRS/MSR/SYS encodings that name no implemented register or operation,
// which the codec prints generically but which are UNDEFINED when executed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../emulator/cpu/decode';
import { decodeExec, isUndefinedExec } from '../../../emulator/cpu/interp';
import { sysOpByEncoding, sysregByEncoding } from '../../../emulator/arch/sysregs';

function namesSomething(w: number): boolean {
  const op0 = (w >>> 19) & 3, op1 = (w >>> 16) & 7, crn = (w >>> 12) & 15, crm = (w >>> 8) & 15, op2 = (w >>> 5) & 7;
  return op0 === 1 ? sysOpByEncoding(op1, crn, crm, op2) !== undefined : sysregByEncoding(op0, op1, crn, crm, op2) !== undefined;
}

test('decoders agree: codec-accepted words execute', () => {
  let seed = 0x9e3779b9;
  const next = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed; };
  // bias towards the allocated A64 classes: the top byte from a list, the rest random
  const tops = [0x91, 0xd1, 0xb1, 0xf1, 0x12, 0x32, 0x52, 0x72, 0x92, 0xd2, 0xf2, 0x13, 0x53, 0x93, 0x8b, 0xcb, 0xab, 0xeb, 0x8a, 0xaa,
    0xca, 0xea, 0x9a, 0xda, 0x9b, 0x1a, 0x14, 0x94, 0x54, 0xb4, 0xb5, 0x36, 0x37, 0xd4, 0xd5, 0xd6, 0xf9, 0xb9, 0x79, 0x39, 0xf8,
    0xb8, 0x78, 0x38, 0xa9, 0xa8, 0x29, 0x69, 0x58, 0x18, 0x98, 0xc8, 0x88, 0x48, 0x08, 0x10, 0x90];
  const bad: string[] = [];
  for (let i = 0; i < 200000; i++) {
    const r = next();
    const w = (i & 1) === 0 ? ((tops[r % tops.length] << 24) | (next() & 0xffffff)) >>> 0 : r;
    const d = decode(w);
    if (d.op === 'UNDEFINED') continue;
    if ((d.op === 'MRS' || d.op === 'MSR_REG' || d.op === 'SYS') && !namesSomething(w)) continue;
    if (isUndefinedExec(decodeExec(w)) && bad.length < 10) bad.push(`${w.toString(16)} (${d.op})`);
  }
  assert.deepEqual(bad, []);
});
