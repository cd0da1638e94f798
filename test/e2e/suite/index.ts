// Extension-host entry of the e2e suite (extensionTestsPath): mocha (tdd) over the compiled suite files. Report
// lines are prefixed "[e2e]" so the code-server launcher can pick them out of the workbench console.
// Mocha 11 (CommonJS) because the extension host `require`s this file.

import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, slow: 10_000, bail: false, grep: process.env.E2E_GREP || undefined });
  // spec reporter output goes to the extension host console, which code-server forwards to the page
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  base.consoleLog = (...args: unknown[]) => console.log(`[e2e] ${format(...args)}`);
  for (const f of readdirSync(__dirname).filter((n) => n.endsWith('.test.js')).sort()) mocha.addFile(join(__dirname, f));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} e2e test(s) failed`)) : resolve()));
  });
}
