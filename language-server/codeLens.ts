// Code lens data (issue 6 item 6): "Run" and "Debug" above the scenario. The extension registers the commands
// (`kvm-arm64-lab.runScenario` / `kvm-arm64-lab.debugScenario`), each called with the document URI.

import type { CodeLens } from 'vscode-languageserver';
import type { Analysis } from './documents';
import { toLspRange } from './positions';

export const RUN_COMMAND = 'kvm-arm64-lab.runScenario';
export const DEBUG_COMMAND = 'kvm-arm64-lab.debugScenario';

export function codeLenses(a: Analysis): CodeLens[] {
  // above `scenario "…"` when there is one, else above the first item, else line 0
  const anchor = a.ast.title ?? a.ast.items[0];
  const range = anchor ? toLspRange({ start: anchor.range.start, end: anchor.range.start }) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return [
    { range, command: { title: '$(play) Run', command: RUN_COMMAND, arguments: [a.uri] } },
    { range, command: { title: '$(debug-alt) Debug', command: DEBUG_COMMAND, arguments: [a.uri] } },
  ];
}
