// Public surface of the debug adapter: the session class and an in-process factory. The extension's inline
// factory `require`s dist/debug-adapter.js and calls `createSession()` (ARCHITECTURE.md dependency rule: the
// extension bundle never contains the emulator); a `DebugSession` is a vscode.DebugAdapter (handleMessage /
// onDidSendMessage), so `new vscode.DebugAdapterInlineImplementation(createSession())` works as is.

import { KvmDebugSession } from './session';

export { KvmDebugSession, HOST_THREAD, vcpuThread } from './session';
export { CUSTOM_REQUESTS } from './custom-requests';
export { FILTERS } from './exception-filters';

/** the debug type of launch configurations (ARCHITECTURE.md "Contracts") */
export const DEBUG_TYPE = 'kvm-arm64';

export function createSession(): KvmDebugSession {
  const s = new KvmDebugSession();
  // in-process: never exit the extension host when the session ends
  s.setRunAsServer(true);
  return s;
}
