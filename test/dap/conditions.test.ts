// The condition grammar (ARCHITECTURE.md "Debug adapter shapes"): LANGUAGE.md expressions plus
// `== != < <= > >= && || !` and string literals, evaluated over 64-bit values like a .kvms file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConditionError, evalCondition, namesOf, parseCondition, type CondEnv, type CondValue } from '../../debug-adapter/conditions';

const env = (names: Record<string, CondValue>, mem: Record<string, bigint> = {}): CondEnv => ({
  resolve: (n) => names[n],
  readMemory: (ipa, size) => mem[`${ipa}:${size}`],
  call: (fn, arg) => (fn === 'double' ? arg * 2n : undefined),
});
const ev = (text: string, names: Record<string, CondValue> = {}, mem: Record<string, bigint> = {}) => evalCondition(parseCondition(text), env(names, mem));

describe('DAP conditions', () => {
  it('event-field conditions: kind == "permission" && ipa >= 0x8000_0000', () => {
    const c = 'kind == "permission" && ipa >= 0x8000_0000';
    assert.equal(ev(c, { kind: 'permission', ipa: 0x8000_0008n }), true);
    assert.equal(ev(c, { kind: 'translation', ipa: 0x8000_0008n }), false);
    assert.equal(ev(c, { kind: 'permission', ipa: 0x4000_0000n }), false);
    assert.deepEqual(namesOf(parseCondition(c)), ['kind', 'ipa']);
  });

  it('LANGUAGE.md semantics: C precedence, modulo 2^64, unsigned compares, logical >>, size suffixes', () => {
    assert.equal(ev('1 + 2 * 3 == 7'), true);
    assert.equal(ev('-1 == 0xffff_ffff_ffff_ffff'), true);
    assert.equal(ev('-1 > 0'), true); // unsigned
    assert.equal(ev('(0x8000_0000_0000_0000 >> 63) == 1'), true); // logical shift
    assert.equal(ev('2M == 0x20_0000'), true);
    assert.equal(ev('1 << 64'), 0n);
    assert.equal(ev('6 & 3 | 8 ^ 1'), 11n); // & before ^ before |
    assert.equal(ev('1 == 1 && 2 == 3 || 4 == 4'), true); // && before ||
    assert.equal(ev('!write && !0', { write: false }), true);
    assert.equal(ev('hw_ec == 0x25', { hw_ec: 0x25n }), true);
  });

  it('memory reads *(u8|u16|u32|u64*)ADDR and calls', () => {
    assert.equal(ev('*(u64*)0x4000_0000', {}, { '1073741824:8': 0x1122n }), 0x1122n);
    assert.equal(ev('*(u32*)(BASE + 4) == 7', { BASE: 0x1000n }, { '4100:4': 7n }), true);
    assert.equal(ev('double(21)'), 42n);
    assert.throws(() => ev('*(u64*)0x9'), /no guest memory at IPA 0x9/);
    assert.throws(() => ev('nope(1)'), /has no value/);
  });

  it('errors: unknown names, syntax, strings used as numbers, division by zero', () => {
    assert.throws(() => ev('bogus == 1'), /unknown name 'bogus'/);
    assert.throws(() => parseCondition('name == '), ConditionError);
    assert.throws(() => parseCondition('(1 + 2'), /missing '\)'/);
    assert.throws(() => parseCondition('*(u128*)0'), /\*\(u8\|u16\|u32\|u64\*\)/);
    assert.throws(() => parseCondition(''), /empty/);
    assert.throws(() => ev('name + 1', { name: 'MMIO_GUARD_MAP' }), /string/);
    assert.throws(() => ev('1 / 0'), /division by zero/);
    assert.equal(ev('name != "x"', { name: 'MMIO_GUARD_MAP' }), true);
  });
});
