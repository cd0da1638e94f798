// `kvms run/test/disasm`: exit codes, trace formats, reporters, the load path rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../../cli/main';

const F = 'test/fixtures/cli';
function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out, err };
}

test('kvms run: exit 0, readable trace ending in PASS', () => {
  const r = cli('run', `${F}/pass.kvms`);
  assert.equal(r.code, 0);
  assert.equal(r.out[r.out.length - 1], 'PASS');
  assert.ok(r.out.some((l) => /ioctl\s+name=KVM_ENABLE_CAP/.test(l)));
});

test('kvms run --json: one JSON object per line with seq, event, line', () => {
  const r = cli('run', `${F}/pass.kvms`, '--json');
  assert.equal(r.code, 0);
  const events = r.out.map((l) => JSON.parse(l));
  assert.ok(events.length > 3);
  events.forEach((e, i) => {
    assert.equal(e.seq, i + 1);
    assert.equal(typeof e.event, 'string');
    assert.equal(typeof e.line, 'number');
  });
  const slot = events.find((e) => e.event === 'ioctl' && e.name === 'KVM_SET_USER_MEMORY_REGION');
  assert.deepEqual(slot.args, [0, 0, '0x40000000', '0x10000', '0x7f0000000000']);
  assert.equal(slot.line, 3);
});

test('kvms run: a failed expectation exits 1 with file:line and the message', () => {
  const r = cli('run', `${F}/fail.kvms`);
  assert.equal(r.code, 1);
  assert.ok(r.err.some((l) => l.startsWith(`${F}/fail.kvms:4: `) && /not readonly/.test(l)), r.err.join('\n'));
});

test('kvms run: scenario errors exit 2 as file:line:col: error: message', () => {
  const r = cli('run', `${F}/error.kvms`);
  assert.equal(r.code, 2);
  assert.ok(r.err.some((l) => /^test\/fixtures\/cli\/error\.kvms:3:5: error: /.test(l)), r.err.join('\n'));
});

test('kvms run --flavour overrides the file and is validated', () => {
  assert.equal(cli('run', `${F}/pass.kvms`, '--flavour', 'mainline-5.15').code, 2, 'lock does not exist in mainline-5.15');
  assert.equal(cli('run', `${F}/pass.kvms`, '--flavour', 'nope').code, 2);
});

test('load: a file beside the scenario is read; a path escaping the folder is refused', () => {
  assert.equal(cli('run', `${F}/guest.kvms`).code, 0);
  const r = cli('run', `${F}/escape.kvms`);
  assert.equal(r.code, 2);
  assert.ok(r.err.some((l) => /outside the scenario's folder/.test(l)), r.err.join('\n'));
});

test('kvms test: largest exit code over the files; spec, tap and junit reporters', () => {
  const files = [`${F}/pass.kvms`, `${F}/fail.kvms`, `${F}/error.kvms`];
  const spec = cli('test', ...files);
  assert.equal(spec.code, 2);
  assert.equal(spec.out[spec.out.length - 1], '1 passed, 2 failed');
  const tap = cli('test', ...files, '--reporter', 'tap');
  assert.equal(tap.out[0], 'TAP version 13');
  assert.equal(tap.out[1], '1..3');
  assert.ok(tap.out.includes(`ok 1 - ${F}/pass.kvms # a memslot and a lock`));
  assert.ok(tap.out.some((l) => l.startsWith(`not ok 2 - ${F}/fail.kvms`)));
  const junit = cli('test', ...files, '--reporter', 'junit').out.join('\n');
  assert.match(junit, /<testsuite name="kvms" tests="3" failures="1" errors="1"/);
  assert.match(junit, /<failure message="line 4: /);
});

test('kvms disasm: addresses, encodings, GNU text and the literal pool', () => {
  const r = cli('disasm', `${F}/guest.kvms`);
  assert.equal(r.code, 0);
  const text = r.out.join('\n');
  assert.match(text, /40000000:\td2800020 \tmov\tx0, #0x1/);
  assert.match(text, /<start>:/);
  assert.match(text, /\.word\t0x56789abc/);
});

test('usage errors exit 2', () => {
  assert.equal(cli('frob').code, 2);
  assert.equal(cli('run').code, 2);
  assert.equal(cli('test', `${F}/pass.kvms`, '--reporter', 'xml').code, 2);
});
