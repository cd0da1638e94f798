// Shared setup for the DAP tests: a DebugClient against the stdio adapter (dist/debug-adapter.js, built by
// `node esbuild.mjs`; `npm test` builds first), fixtures in test/fixtures/dap.
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';

export const ROOT = resolve(__dirname, '..', '..');
export const ADAPTER = join(ROOT, 'dist', 'debug-adapter.js');
export const fixture = (name: string): string => join(ROOT, 'test', 'fixtures', 'dap', name);

export async function client(): Promise<DebugClient> {
  const dc = new DebugClient('node', ADAPTER, 'kvm-arm64');
  dc.defaultTimeout = 10_000;
  await dc.start();
  return dc;
}

/**
 * Launch and wait for the first stop. `configure` runs between `initialized` and `configurationDone` (where
 * VS Code sets breakpoints).
 */
export async function launchToStop(
  dc: DebugClient, args: Record<string, unknown>, configure?: () => Promise<unknown>,
): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped');
  await Promise.all([
    dc.waitForEvent('initialized').then(async () => { await configure?.(); await dc.configurationDoneRequest(); }),
    dc.launch(args),
  ]);
  return (await stopped) as DebugProtocol.StoppedEvent;
}

/** send a request that makes the machine run and wait for the next stop */
export async function untilStopped(dc: DebugClient, go: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped');
  await go();
  return (await stopped) as DebugProtocol.StoppedEvent;
}

export async function topFrame(dc: DebugClient, threadId: number): Promise<DebugProtocol.StackFrame> {
  const st = await dc.stackTraceRequest({ threadId });
  return st.body.stackFrames[0];
}

export async function evaluate(dc: DebugClient, expression: string, frameId?: number): Promise<string> {
  const r = await dc.evaluateRequest({ expression, frameId, context: 'watch' });
  return r.body.result;
}

/** the 1-based line of the first line containing `text` in a fixture */
export function lineOf(file: string, text: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`'${text}' not in ${file}`);
  return i + 1;
}

export const VCPU0 = 2;
export const HOST = 1;
