// dist/debug-adapter.js: run over stdio when started as a program (`node dist/debug-adapter.js`), and export
// the in-process factory when `require`d by the extension.

import { DebugSession } from '@vscode/debugadapter';
import { KvmDebugSession } from './session';

export { createSession, KvmDebugSession, DEBUG_TYPE, HOST_THREAD, vcpuThread, CUSTOM_REQUESTS, FILTERS } from './index';

if (require.main === module) DebugSession.run(KvmDebugSession);
