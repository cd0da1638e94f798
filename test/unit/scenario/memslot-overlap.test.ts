// The checker's A.2#11 overlap scan takes shortcuts on big scenarios (doubles instead of bigints below 2^53, and
// no scan at all for a create above every slot's end); these cases pin that the predictions stay the exact ones.
// (Slots above 2^53 cannot exist in the model: the IPA space is at most 52 bits, so such creates fail first.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../../emulator/scenario/index';

function warnings(hostLines: string[], machine = 'ipa_bits 48'): string[] {
  const text = `machine { ${machine} }\nhost {\n${hostLines.map((l) => '    ' + l).join('\n')}\n}\n`;
  return analyse(text).diagnostics.map((d) => `${d.range.start.line} ${d.code} ${d.message}${d.related ? ` @${d.related[0].range.start.line}` : ''}`);
}

test('A.2#11 a create below earlier slots reports the first-created slot it overlaps', () => {
  const ds = warnings([
    'memslot 0 gpa=0x4000_0000 size=2M',
    'memslot 1 gpa=0x4020_0000 size=2M',
    'memslot 2 gpa=0x4040_0000 size=2M',
    'memslot 3 gpa=0x4010_0000 size=4M', // overlaps 0 and 1: the first created is named
  ]);
  assert.equal(ds.length, 1, ds.join('\n'));
  assert.match(ds[0], /^5 A\.2#11 .*overlaps memslot 0 @2$/);
});

test('A.2#11 slots laid out upwards never overlap; one that reaches back into the last slot does', () => {
  const up = Array.from({ length: 50 }, (_, k) => `memslot ${k} gpa=0x1_0000_0000 + ${k} * 0x20_0000 size=2M`);
  assert.deepEqual(warnings(up), []);
  const ds = warnings([...up, 'memslot 60 gpa=0x1_0000_0000 + 49 * 0x20_0000 + 0x1000 size=2M']);
  assert.equal(ds.length, 1, ds.join('\n'));
  assert.match(ds[0], /^52 A\.2#11 .*overlaps memslot 49 @51$/);
});

test('A.2#11 after a delete or a move the freed range is free and the new range is taken', () => {
  assert.deepEqual(warnings([
    'memslot 0 gpa=0x4000_0000 size=2M',
    'memslot 1 gpa=0x4020_0000 size=2M',
    'memslot 1 delete',
    'memslot 2 gpa=0x4020_0000 size=2M',
  ]), []);
  const ds = warnings([
    'memslot 0 gpa=0x4000_0000 size=2M',
    'memslot 0 move gpa=0x8000_0000',
    'memslot 1 gpa=0x4000_0000 size=2M',
    'memslot 2 gpa=0x8010_0000 size=2M',
  ]);
  assert.equal(ds.length, 1, ds.join('\n'));
  assert.match(ds[0], /^5 A\.2#11 .*overlaps memslot 0 @2$/);
});

test('A.2#11 near the top of a 52-bit IPA space (64K pages) overlaps are found and adjacency is not one', () => {
  const top = '0xf_ffff_fe00_0000';
  const m = 'page_size 64K ipa_bits 52';
  assert.deepEqual(warnings([`memslot 0 gpa=${top} size=16M`, `memslot 1 gpa=${top} - 0x100_0000 size=16M`], m), []);
  const ds = warnings([`memslot 0 gpa=${top} size=16M`, `memslot 1 gpa=${top} - 0x1_0000 size=16M`], m);
  assert.equal(ds.length, 1, ds.join('\n'));
  assert.match(ds[0], /^3 A\.2#11 .*overlaps memslot 0 @2$/);
});
