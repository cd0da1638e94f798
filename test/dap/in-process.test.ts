// The in-process factory (issue "Debug adapter" §7): the extension's inline adapter drives the same session
// through handleMessage / onDidSendMessage, and dist/debug-adapter.js exports createSession when required.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { createSession } from '../../debug-adapter/index';
import { ADAPTER, fixture } from './harness';

describe('DAP in-process factory', () => {
  it('createSession(): a vscode.DebugAdapter-shaped session that launches and stops on entry', async () => {
    const s = createSession();
    const seen: DebugProtocol.ProtocolMessage[] = [];
    const waiters: ((m: DebugProtocol.ProtocolMessage) => boolean)[] = [];
    s.onDidSendMessage((m) => {
      const msg = m as DebugProtocol.ProtocolMessage;
      seen.push(msg);
      for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i](msg)) waiters.splice(i, 1);
    });
    const wait = (pred: (m: DebugProtocol.ProtocolMessage) => boolean) =>
      new Promise<DebugProtocol.ProtocolMessage>((resolve) => {
        const hit = seen.find(pred);
        if (hit) return resolve(hit);
        waiters.push((m) => { if (pred(m)) { resolve(m); return true; } return false; });
      });
    let seq = 1;
    const send = (command: string, args?: unknown) => s.handleMessage({ seq: seq++, type: 'request', command, arguments: args } as DebugProtocol.Request);
    send('initialize', { adapterID: 'kvm-arm64' });
    send('launch', { program: fixture('faults.kvms'), stopOnEntry: true });
    await wait((m) => m.type === 'event' && (m as DebugProtocol.Event).event === 'initialized');
    send('configurationDone');
    const stopped = (await wait((m) => m.type === 'event' && (m as DebugProtocol.Event).event === 'stopped')) as DebugProtocol.StoppedEvent;
    assert.equal(stopped.body.reason, 'entry');
    send('threads');
    const threads = (await wait((m) => m.type === 'response' && (m as DebugProtocol.Response).command === 'threads')) as DebugProtocol.ThreadsResponse;
    assert.deepEqual(threads.body.threads.map((t) => t.name), ['host (VMM)', 'vcpu 0']);
    send('disconnect', {});
    await wait((m) => m.type === 'response' && (m as DebugProtocol.Response).command === 'disconnect');
    s.dispose();
  });

  it('dist/debug-adapter.js exports createSession without starting a stdio server', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(ADAPTER) as { createSession: () => { handleMessage: unknown; dispose(): void }; DEBUG_TYPE: string };
    assert.equal(mod.DEBUG_TYPE, 'kvm-arm64');
    const s = mod.createSession();
    assert.equal(typeof s.handleMessage, 'function');
    s.dispose();
  });
});
