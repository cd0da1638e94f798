// The kvm-arm64 debug session the views follow: which one is active, whether it is stopped, and a change event
// fired on every `kvm/stateChanged` (the adapter sends it after every stop, ARCHITECTURE.md "Contracts"), on
// `continued` and when the session ends. Also keeps the `kvm-arm64-lab.sessionActive` context key for the views'
// welcome content.

import * as vscode from 'vscode';
import { DEBUG_TYPE, type StateChangedBody } from './kvmProtocol';

export type MachineState =
  | { kind: 'idle' }
  | { kind: 'running'; session: vscode.DebugSession }
  /** `stop` counts the stops of this window (a step may add no event, so `seq` can repeat) */
  | { kind: 'stopped'; session: vscode.DebugSession; reason: string; seq: number; threadId?: number; stop: number }
  | { kind: 'exited'; exitCode: number };

export interface ExceptionBreakpointArgs {
  filters: string[];
  filterOptions?: { filterId: string; condition?: string }[];
}

export class KvmSession implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<MachineState>();
  /** fires after every stop (with fresh adapter state), continue and session end */
  readonly onDidChange = this.changed.event;
  private current: MachineState = { kind: 'idle' };
  private readonly sessions = new Set<vscode.DebugSession>();

  constructor() {
    this.disposables.push(
      this.changed,
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type !== DEBUG_TYPE) return;
        this.sessions.add(s);
        if (!s.configuration.noDebug) this.set({ kind: 'running', session: s });
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        if (!this.sessions.delete(s)) return;
        if (this.session === s || this.sessions.size === 0) {
          const exitCode = this.exitCodes.get(s.id);
          this.set(exitCode === undefined ? { kind: 'idle' } : { kind: 'exited', exitCode });
        }
      }),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
        if (e.session.type !== DEBUG_TYPE || e.event !== 'kvm/stateChanged') return;
        const b = e.body as StateChangedBody;
        this.set({ kind: 'stopped', session: e.session, reason: b.reason, seq: b.seq, threadId: this.stoppedThreads.get(e.session.id), stop: ++this.stops });
      }),
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => ({
          onWillReceiveMessage: (m: { type?: string; command?: string; arguments?: ExceptionBreakpointArgs }) => {
            if (m.type === 'request' && m.command === 'setExceptionBreakpoints' && m.arguments) this.exceptionBreakpoints.set(session.id, m.arguments);
          },
          onDidSendMessage: (m: { type?: string; event?: string; body?: { exitCode?: number; threadId?: number } }) => {
            if (m.type !== 'event') return;
            // `stopped` precedes `kvm/stateChanged`: remember which thread (host or vcpu N) stopped
            if (m.event === 'stopped') this.stoppedThreads.set(session.id, m.body?.threadId);
            if (m.event === 'continued' && this.session === session) this.set({ kind: 'running', session });
            if (m.event === 'exited' && typeof m.body?.exitCode === 'number') this.exitCodes.set(session.id, m.body.exitCode);
          },
        }),
      }),
    );
    void vscode.commands.executeCommand('setContext', 'kvm-arm64-lab.sessionActive', false);
  }

  private readonly exitCodes = new Map<string, number>();
  private readonly stoppedThreads = new Map<string, number | undefined>();
  private stops = 0;
  /** what VS Code last sent as `setExceptionBreakpoints` per session (the checkboxes and their conditions) */
  readonly exceptionBreakpoints = new Map<string, ExceptionBreakpointArgs>();

  get state(): MachineState { return this.current; }

  /** the session the views read from (running or stopped) */
  get session(): vscode.DebugSession | undefined {
    return this.current.kind === 'running' || this.current.kind === 'stopped' ? this.current.session : undefined;
  }

  get stopped(): boolean { return this.current.kind === 'stopped'; }

  /** a custom request to the followed session, or undefined when none is stopped or the adapter refuses */
  async request<T>(command: string, args?: unknown): Promise<T | undefined> {
    const s = this.session;
    if (!s || !this.stopped) return undefined;
    try {
      return (await s.customRequest(command, args)) as T;
    } catch {
      return undefined;
    }
  }

  private set(state: MachineState): void {
    this.current = state;
    const active = state.kind === 'running' || state.kind === 'stopped';
    void vscode.commands.executeCommand('setContext', 'kvm-arm64-lab.sessionActive', active);
    this.changed.fire(state);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
