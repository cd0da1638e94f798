// Every example a new user opens first must pass (`kvms test examples/` in CI), and say something checkable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { runScenario } from '../../../emulator/scenario/runner';

const dir = 'examples';
const files = readdirSync(dir).filter((f) => f.endsWith('.kvms')).sort();

test('there are examples for every seed behaviour', () => {
  assert.ok(files.length >= 10, `${files.length} examples`);
});

for (const f of files) {
  test(`examples/${f} passes`, () => {
    const path = join(dir, f);
    const text = readFileSync(path, 'utf8');
    const o = runScenario(text, {
      file: path, keepEvents: true,
      readFile: (p) => ({ data: new Uint8Array(readFileSync(resolve(dirname(path), p))) }),
    });
    const why = o.failure ? `line ${o.failure.line + 1}: ${o.failure.message}` : o.diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`).join('\n');
    assert.equal(o.exitCode, 0, why);
    assert.ok(o.title, 'has a scenario title');
    assert.equal(o.diagnostics.filter((d) => d.severity === 'warning').length, 0, `no checker warnings: ${o.diagnostics.map((d) => d.message).join('; ')}`);
    assert.ok(o.events.some((e) => e.event === 'expect'), 'checks something with expect');
  });
}
