// arch/sysregs.ts: the system register table (spec E.1 encodings for SPE), generic names, SPE field symbols.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGenericSysreg, lookupSysreg, parseGenericSysreg, speFieldSymbols, sysregByEncoding, sysregFields, SYSREGS } from '../../../emulator/arch/sysregs';

test('E.1 SPE register encodings (op0,op1,CRn,CRm,op2)', () => {
  const enc = (n: string): number[] => {
    const d = lookupSysreg(n)!;
    return [d.op0, d.op1, d.crn, d.crm, d.op2];
  };
  assert.deepEqual(enc('PMSCR_EL1'), [3, 0, 9, 9, 0]);
  assert.deepEqual(enc('PMSCR_EL2'), [3, 4, 9, 9, 0]);
  assert.deepEqual(enc('PMSIDR_EL1'), [3, 0, 9, 9, 7]);
  assert.deepEqual(enc('PMBLIMITR_EL1'), [3, 0, 9, 10, 0]);
  assert.deepEqual(enc('PMBPTR_EL1'), [3, 0, 9, 10, 1]);
  assert.deepEqual(enc('PMBSR_EL1'), [3, 0, 9, 10, 3]);
  assert.deepEqual(enc('PMBIDR_EL1'), [3, 0, 9, 10, 7]);
});

test('LANGUAGE predefined symbols: SPE REG_FIELD masks from spec E.1', () => {
  const s = speFieldSymbols();
  assert.equal(s.get('PMBLIMITR_E'), 1n);
  assert.equal(s.get('PMBLIMITR_FM'), 0x6n);
  assert.equal(s.get('PMBLIMITR_LIMIT'), 0xffff_ffff_ffff_f000n);
  assert.equal(s.get('PMSCR_E0SPE'), 1n);
  assert.equal(s.get('PMSCR_E1SPE'), 2n);
  assert.equal(s.get('PMBSR_S'), 1n << 17n);
  assert.equal(s.get('PMBSR_EC'), 0x3fn << 26n);
  assert.equal(s.get('PMBSR_MSS'), 0xffffn);
  assert.equal(s.get('PMSIDR_MAXSIZE'), 0xf000n);
  assert.equal(s.get('PMBIDR_P'), 0x10n);
  assert.equal(s.get('PMSCR_EL2_E2SPE'), 2n);
});

test('guest blocks: system registers by name (any case) and generic s3_… form', () => {
  assert.equal(lookupSysreg('sctlr_el1')!.name, 'SCTLR_EL1');
  assert.equal(lookupSysreg('S3_0_C1_C0_0')!.name, 'SCTLR_EL1');
  assert.equal(lookupSysreg('s3_0_c15_c2_0')!.name, 'S3_0_C15_C2_0');
  assert.equal(lookupSysreg('s1_0_c0_c0_0'), undefined);
  assert.equal(lookupSysreg('nope_el1'), undefined);
  assert.deepEqual(parseGenericSysreg('s3_7_c15_c1_7'), { op0: 3, op1: 7, crn: 15, crm: 1, op2: 7 });
  assert.equal(formatGenericSysreg(3, 0, 9, 9, 0), 'S3_0_C9_C9_0');
  assert.equal(sysregByEncoding(3, 3, 14, 0, 2)!.name, 'CNTVCT_EL0');
  assert.deepEqual(sysregFields('pmbsr_el1')!.S, [17, 17]);
});

test('guest blocks: the register table has unique names and encodings', () => {
  const names = new Set(SYSREGS.map((r) => r.name));
  const encs = new Set(SYSREGS.map((r) => `${r.op0},${r.op1},${r.crn},${r.crm},${r.op2}`));
  assert.equal(names.size, SYSREGS.length);
  assert.equal(encs.size, SYSREGS.length);
});
