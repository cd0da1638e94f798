// The DAP session (microsoft/vscode-mock-debug style): it owns one Machine and only translates between the Debug
// Adapter Protocol and the machine API. Contract names (debug type `kvm-arm64`, filter ids, threads, custom
// requests, `kvm/stateChanged`) are ARCHITECTURE.md "Contracts" / "Debug adapter shapes".
//
// Threads: 1 = `host (VMM)` (steps are host statements), 2+N = `vcpu N` (steps are guest instructions).

import {
  DebugSession, Event, ExitedEvent, InitializedEvent, InvalidatedEvent, MemoryEvent, OutputEvent, Source, StoppedEvent,
  TerminatedEvent, Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { basename } from 'node:path';
import type { Failure } from '../emulator/machine';
import { Breakpoints, dataId } from './breakpoints';
import { ConditionError, evalCondition, formatValue, parseCondition } from './conditions';
import { CUSTOM_REQUESTS, BadArguments, handleCustomRequest } from './custom-requests';
import { disassembleAt, parseAddress } from './disassembly';
import { exceptionBreakpointFilters } from './exception-filters';
import { exceptionInfo } from './exception-info';
import { Execution, SLICE, type Outcome, type Stop } from './execution';
import { launchScenario, writeTrace, type KvmLaunchArguments } from './launch';
import { readGuestMemory, writeGuestMemory } from './memory';
import { registerFields } from './registers';
import { hex } from './stage2-walk';
import type { ScenarioTarget } from './target';
import { Inspector } from './variables';

export const HOST_THREAD = 1;
export const vcpuThread = (v: number): number => 2 + v;
const FRAMES_PER_THREAD = 10_000;

type LaunchArgs = DebugProtocol.LaunchRequestArguments & KvmLaunchArguments;

/** the raw breakpoint requests, re-applied after a restart */
interface BreakpointRequests {
  lines: Map<string, DebugProtocol.SourceBreakpoint[]>;
  functions: DebugProtocol.FunctionBreakpoint[];
  filters: { filters: string[]; options: DebugProtocol.ExceptionFilterOptions[] };
  data: DebugProtocol.DataBreakpoint[];
  instructions: DebugProtocol.InstructionBreakpoint[];
}

export class KvmDebugSession extends DebugSession {
  private target: ScenarioTarget | undefined;
  private bps: Breakpoints | undefined;
  private exec: Execution | undefined;
  private inspector: Inspector | undefined;
  private launchArgs: LaunchArgs | undefined;
  private configurationDone!: Promise<void>;
  private resolveConfigurationDone!: () => void;
  private readonly requests: BreakpointRequests = {
    lines: new Map(), functions: [], filters: { filters: [], options: [] }, data: [], instructions: [],
  };
  private ended = false;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.resetConfiguration();
  }

  private resetConfiguration(): void {
    this.configurationDone = new Promise((r) => { this.resolveConfigurationDone = r; });
  }

  // ============================================================================================ lifecycle

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, _args: DebugProtocol.InitializeRequestArguments): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsExceptionFilterOptions: true,
      exceptionBreakpointFilters: exceptionBreakpointFilters(),
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsFunctionBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsInstructionBreakpoints: true,
      supportsDisassembleRequest: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsStepBack: true,
      supportsExceptionInfoRequest: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsSteppingGranularity: true,
      supportsTerminateRequest: true,
      supportsRestartRequest: true,
      supportsCancelRequest: false,
    };
    this.sendResponse(response);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.resolveConfigurationDone();
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArgs): Promise<void> {
    this.launchArgs = args;
    try {
      if (!this.load(args, response)) return;
    } catch (e) {
      this.sendErrorResponse(response, { id: 3000, format: `launch failed: ${(e as Error).message}`, showUser: true });
      return;
    }
    this.sendEvent(new InitializedEvent());
    // breakpoints are set between `initialized` and `configurationDone`: none is missed (configurationDone ordering)
    await Promise.race([this.configurationDone, new Promise((r) => setTimeout(r, 5000))]);
    this.sendResponse(response);
    this.startScenario(args);
  }

  /** load the scenario; on failure answer `response` with the diagnostics and return false */
  private load(args: LaunchArgs, response: DebugProtocol.Response): boolean {
    const r = launchScenario(args);
    if (!r.ok) {
      for (const d of r.diagnostics) this.sendEvent(new OutputEvent(d + '\n', 'stderr'));
      this.sendErrorResponse(response, { id: 3001, format: r.message, showUser: true });
      return false;
    }
    for (const w of r.warnings) this.sendEvent(new OutputEvent(w + '\n', 'console'));
    this.target = r.target;
    this.bps = new Breakpoints({
      sourceMap: r.target.sourceMap,
      sourcePath: r.target.file,
      env: (vcpu, event) => r.target.env(vcpu, event),
      symbol: (name) => r.target.symbol(name),
      log: (text, line) => {
        const e = new OutputEvent(text, 'console') as DebugProtocol.OutputEvent;
        if (line !== undefined) { e.body.source = this.source(); e.body.line = line; }
        this.sendEvent(e);
      },
    });
    this.applyBreakpointRequests();
    this.exec = new Execution(r.target.machine, r.target.board, this.bps);
    if (typeof args.maxSteps === 'number' && args.maxSteps > 0) this.exec.stepLimit = args.maxSteps;
    this.inspector = new Inspector(r.target);
    this.ended = false;
    return true;
  }

  private applyBreakpointRequests(): void {
    const b = this.bps!;
    for (const [path, list] of this.requests.lines) b.setLineBreakpoints(path, list);
    b.setFunctionBreakpoints(this.requests.functions);
    b.setExceptionFilters(this.requests.filters.filters, this.requests.filters.options);
    b.setDataBreakpoints(this.requests.data);
    b.setInstructionBreakpoints(this.requests.instructions);
  }

  private startScenario(args: LaunchArgs): void {
    if (args.noDebug) {
      this.runNoDebug().catch((e: Error) => {
        this.sendEvent(new OutputEvent(`internal error: ${e.stack ?? e.message}\n`, 'stderr'));
        this.finish(2, undefined);
      });
      return;
    }
    if (args.stopOnEntry) {
      const stop: Stop = { reason: 'entry', hitBreakpointIds: [] };
      this.exec!.markStopped(stop);
      this.reportStop(stop);
      return;
    }
    void this.resume(() => this.exec!.continue());
  }

  /** Test Explorer: just run; failures as output with the expectation's line, exit code via `exited` */
  private async runNoDebug(): Promise<void> {
    const t = this.target!;
    const m = t.machine;
    m.conditions = {};
    for (const c of t.board.cpus) c.setBreakpoints({});
    const limit = this.exec!.stepLimit;
    for (;;) {
      if (this.ended) return;
      const st = m.run(SLICE);
      if (st.state === 'finished') { this.finish(st.exitCode, st.failure); return; }
      if (m.steps >= limit) {
        this.finish(1, { line: m.currentOp?.range.start.line ?? 0, message: `the scenario did not finish within ${limit} steps` });
        return;
      }
      await new Promise((r) => setImmediate(r));
    }
  }

  private finish(exitCode: number, failure: Failure | undefined): void {
    if (this.ended) return;
    const t = this.target!;
    if (failure) {
      let text = `${t.file}:${failure.line + 1}: ${failure.message}\n`;
      if (failure.expected !== undefined) text += `  expected: ${failure.expected}\n`;
      if (failure.actual !== undefined) text += `  actual:   ${failure.actual}\n`;
      const e = new OutputEvent(text, 'stderr') as DebugProtocol.OutputEvent;
      e.body.source = this.source();
      e.body.line = failure.line + 1;
      this.sendEvent(e);
    } else {
      this.sendEvent(new OutputEvent(`${basename(t.file)}: ${exitCode === 0 ? 'all expectations held' : `exit code ${exitCode}`}\n`, 'console'));
    }
    this.writeTraceIfAsked();
    this.ended = true;
    this.sendEvent(new ExitedEvent(exitCode));
    this.sendEvent(new TerminatedEvent());
  }

  private writeTraceIfAsked(): void {
    if (!this.launchArgs?.trace || !this.target) return;
    try {
      const out = writeTrace(this.target.file, this.target.machine.events.all());
      this.sendEvent(new OutputEvent(`trace written to ${out}\n`, 'console'));
    } catch (e) {
      this.sendEvent(new OutputEvent(`cannot write the trace: ${(e as Error).message}\n`, 'stderr'));
    }
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    const wasEnded = this.ended;
    this.stopRunning();
    this.sendResponse(response);
    if (!wasEnded) {
      this.writeTraceIfAsked();
      this.sendEvent(new TerminatedEvent());
    }
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.stopRunning();
    this.ended = true;
    this.sendResponse(response);
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse, args: DebugProtocol.RestartArguments): void {
    const launch = ((args.arguments as LaunchArgs | undefined) ?? this.launchArgs);
    if (!launch) { this.sendErrorResponse(response, { id: 3002, format: 'restart: the session was never launched' }); return; }
    this.stopRunning();
    this.launchArgs = launch;
    try {
      if (!this.load(launch, response)) return;
    } catch (e) {
      this.sendErrorResponse(response, { id: 3000, format: `restart failed: ${(e as Error).message}`, showUser: true });
      return;
    }
    this.sendResponse(response);
    this.startScenario(launch);
  }

  private stopRunning(): void {
    if (this.exec) this.exec.terminated = true;
    this.ended = true;
  }

  // ============================================================================================ running

  private guard(response: DebugProtocol.Response): boolean {
    if (!this.exec || !this.target) { this.sendErrorResponse(response, { id: 3003, format: 'no scenario is running (launch first)' }); return false; }
    if (this.ended) { this.sendErrorResponse(response, { id: 3004, format: 'the scenario has ended' }); return false; }
    if (this.exec.running) { this.sendErrorResponse(response, { id: 3005, format: 'the machine is running: pause it first' }); return false; }
    return true;
  }

  private async resume(run: () => Promise<Outcome> | Outcome): Promise<void> {
    this.inspector?.reset();
    let out: Outcome;
    try {
      out = await run();
    } catch (e) {
      this.sendEvent(new OutputEvent(`internal error: ${(e as Error).stack ?? String(e)}\n`, 'stderr'));
      out = { kind: 'stopped', stop: { reason: 'pause', hitBreakpointIds: [], text: 'internal error' } };
      this.exec?.markStopped(out.stop);
    }
    if (out.kind === 'terminated') return;
    if (out.kind === 'finished') { this.finish(out.status.exitCode, out.status.failure); return; }
    this.reportStop(out.stop);
  }

  private reportStop(stop: Stop): void {
    const threadId = stop.vcpu !== undefined ? vcpuThread(stop.vcpu) : HOST_THREAD;
    const e = new StoppedEvent(stop.reason, threadId, stop.text) as DebugProtocol.StoppedEvent;
    e.body.allThreadsStopped = true;
    if (stop.hitBreakpointIds.length > 0) e.body.hitBreakpointIds = stop.hitBreakpointIds;
    if (stop.reason === 'exception' && stop.text) e.body.description = stop.text;
    this.sendEvent(e);
    const m = this.target!.machine;
    this.sendEvent(new Event('kvm/stateChanged', { reason: stop.reason, seq: m.events.nextSeq - 1 }));
  }

  private threadVcpu(threadId: number | undefined): number | undefined {
    if (threadId === undefined || threadId < 2) return undefined;
    const v = threadId - 2;
    return v < (this.target?.vcpuCount ?? 0) ? v : undefined;
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    if (!this.guard(response)) return;
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    void this.resume(() => this.exec!.continue());
  }

  /** the vcpu a step acts on: the thread's, or with `instruction` granularity on the host thread, the running one */
  private stepVcpu(threadId: number, granularity: DebugProtocol.SteppingGranularity | undefined): number | undefined {
    const v = this.threadVcpu(threadId);
    if (v === undefined && granularity === 'instruction') return this.target!.machine.waitingFor;
    return v;
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    if (!this.guard(response)) return;
    this.sendResponse(response);
    const v = this.stepVcpu(args.threadId, args.granularity);
    void this.resume(() => (v === undefined ? this.exec!.stepHost() : this.exec!.stepVcpu(v, 'over')));
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    if (!this.guard(response)) return;
    this.sendResponse(response);
    const v = this.stepVcpu(args.threadId, args.granularity);
    void this.resume(() => (v === undefined ? this.exec!.stepInHost() : this.exec!.stepVcpu(v, 'in')));
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    if (!this.guard(response)) return;
    this.sendResponse(response);
    const v = this.threadVcpu(args.threadId);
    void this.resume(() => (v === undefined ? this.exec!.stepHost() : this.exec!.stepVcpu(v, 'out')));
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    if (!this.guard(response)) return;
    this.sendResponse(response);
    const v = this.threadVcpu(args.threadId);
    void this.resume(() => this.exec!.stepBack(v));
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    if (!this.guard(response)) return;
    this.sendResponse(response);
    void this.resume(() => this.exec!.reverseContinue());
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    if (!this.exec || this.ended) { this.sendErrorResponse(response, { id: 3003, format: 'no scenario is running' }); return; }
    this.sendResponse(response);
    if (this.exec.running) this.exec.pauseRequested = true;
    else {
      const stop: Stop = { reason: 'pause', vcpu: this.target!.machine.waitingFor, hitBreakpointIds: [] };
      this.exec.markStopped(stop);
      this.reportStop(stop);
    }
  }

  // ============================================================================================ breakpoints

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const path = args.source.path ?? '';
    const list = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
    this.requests.lines.set(path, list);
    const result = this.bps ? this.bps.setLineBreakpoints(path, list) : list.map((b) => ({ verified: false, line: b.line, message: 'launch first' }));
    response.body = { breakpoints: result };
    this.sendResponse(response);
    this.rearm();
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.requests.functions = args.breakpoints ?? [];
    response.body = { breakpoints: this.bps ? this.bps.setFunctionBreakpoints(this.requests.functions) : this.requests.functions.map(() => ({ verified: false })) };
    this.sendResponse(response);
    this.rearm();
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.requests.filters = { filters: args.filters ?? [], options: args.filterOptions ?? [] };
    const result = this.bps ? this.bps.setExceptionFilters(this.requests.filters.filters, this.requests.filters.options) : [];
    response.body = { breakpoints: result };
    this.sendResponse(response);
    this.rearm();
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments & { asAddress?: boolean; bytes?: number }): void {
    const t = this.target;
    const unavailable = (why: string) => { response.body = { dataId: null, description: why }; this.sendResponse(response); };
    if (!t) return unavailable('launch first');
    const bytes = args.bytes ?? 8;
    let ipa: bigint | undefined;
    if (args.asAddress) ipa = parseAddress(args.name);
    if (ipa === undefined) {
      // a memslot variable: its whole range
      const slot = /^memslot (\d+)$/.exec(args.name);
      if (slot) {
        const s = t.board.vm.memslots.get(Number(slot[1]));
        if (s) {
          response.body = { dataId: dataId(s.gpa, s.size), description: `memslot ${s.id} (IPA ${hex(s.gpa)}, ${hex(s.size)} bytes)`, accessTypes: ['read', 'write', 'readWrite'], canPersist: false };
          this.sendResponse(response);
          return;
        }
      }
      try {
        const v = evalCondition(parseCondition(args.name), t.env(undefined));
        if (typeof v === 'bigint') ipa = v;
      } catch { /* not an address */ }
    }
    if (ipa === undefined || ipa >= 1n << 52n || bytes <= 0) return unavailable(`'${args.name}' is not an IPA`);
    response.body = {
      dataId: dataId(Number(ipa), bytes), description: `IPA ${hex(ipa)} (${bytes} bytes)`,
      accessTypes: ['read', 'write', 'readWrite'], canPersist: true,
    };
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.requests.data = args.breakpoints ?? [];
    response.body = { breakpoints: this.bps ? this.bps.setDataBreakpoints(this.requests.data) : this.requests.data.map(() => ({ verified: false })) };
    this.sendResponse(response);
    this.rearm();
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.requests.instructions = args.breakpoints ?? [];
    response.body = { breakpoints: this.bps ? this.bps.setInstructionBreakpoints(this.requests.instructions) : this.requests.instructions.map(() => ({ verified: false })) };
    this.sendResponse(response);
    this.rearm();
  }

  /** new CPU breakpoints take effect at once (also while running) */
  private rearm(): void { this.exec?.arm(); }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const s = this.exec?.current;
    if (!s) { this.sendErrorResponse(response, { id: 3006, format: 'not stopped' }); return; }
    response.body = exceptionInfo(s.filter, s.event, s.text);
    this.sendResponse(response);
  }

  // ============================================================================================ inspection

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const threads = [new Thread(HOST_THREAD, 'host (VMM)')];
    for (let v = 0; v < (this.target?.vcpuCount ?? 0); v++) threads.push(new Thread(vcpuThread(v), `vcpu ${v}`));
    response.body = { threads };
    this.sendResponse(response);
  }

  private source(): DebugProtocol.Source {
    const f = this.target!.file;
    return new Source(basename(f), this.convertDebuggerPathToClient(f));
  }

  /** the PC the top frame shows: the causing instruction of an event stop (ARCHITECTURE.md stop semantics) */
  private displayPc(vcpu: number): bigint {
    const cpu = this.target!.board.cpus[vcpu];
    const s = this.exec?.current;
    const pc = cpu.getPc();
    if (s?.event && s.vcpu === vcpu) {
      if (s.event.event === 'hypercall' && s.event.fields.conduit === 'hvc') return pc - 4n;
      if (s.event.event === 'guest-exception' && typeof s.event.fields.elr === 'bigint') return s.event.fields.elr;
    }
    return pc;
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const t = this.target;
    if (!t) { this.sendErrorResponse(response, { id: 3003, format: 'launch first' }); return; }
    const frames: DebugProtocol.StackFrame[] = [];
    const m = t.machine;
    const v = this.threadVcpu(args.threadId);
    if (args.threadId !== HOST_THREAD && v === undefined) { this.sendErrorResponse(response, { id: 3007, format: `no thread ${args.threadId}` }); return; }
    const base = args.threadId * FRAMES_PER_THREAD;
    const cur = this.exec?.current;
    const hostFrame = (id: number, prefix: string): DebugProtocol.StackFrame => {
      // a host event stop (a failed ioctl) shows the statement that emitted the event, which has completed
      const evOp = cur?.event && cur.vcpu === undefined ? m.ops.find((o) => o.range.start.line + 1 === cur.event!.line) : undefined;
      const op = evOp ?? m.currentOp ?? m.ops[m.ops.length - 1];
      if (!op) return { id, name: `${prefix}(no host statements)`, line: 0, column: 0 };
      return {
        id, name: prefix + op.text, source: this.source(),
        line: op.range.start.line + 1, column: op.range.start.col + 1, endLine: op.range.end.line + 1, endColumn: op.range.end.col + 1,
      };
    };
    if (v === undefined) {
      frames.push(hostFrame(base, m.finished ? '(finished) ' : ''));
    } else {
      const cpu = t.board.cpus[v];
      const pcs: bigint[] = [this.displayPc(v), ...cpu.callStack().reverse().map((f) => f.callPc)];
      pcs.forEach((pc, i) => {
        const ipaN = cpu.translate(pc).ipa;
        const ipa = ipaN === undefined ? pc : BigInt(ipaN);
        const line = t.sourceMap.lineOf(ipa);
        const sym = t.sourceMap.symbolOf(ipa);
        const f: DebugProtocol.StackFrame = {
          id: base + i, name: `${sym ?? hex(pc)}${m.inKvmRun(v) ? '' : ' (not in KVM_RUN)'}`,
          line: line ?? 0, column: line ? 1 : 0, instructionPointerReference: hex(ipa),
        };
        if (line) f.source = this.source();
        else f.presentationHint = 'subtle';
        frames.push(f);
      });
      if (m.inKvmRun(v)) frames.push({ ...hostFrame(base + pcs.length, 'KVM_RUN: '), presentationHint: 'label' });
    }
    const start = args.startFrame ?? 0;
    const levels = args.levels && args.levels > 0 ? args.levels : frames.length;
    response.body = { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
    this.sendResponse(response);
  }

  private frameVcpu(frameId: number | undefined): number | undefined {
    if (frameId === undefined) return this.exec?.current?.vcpu;
    return this.threadVcpu(Math.floor(frameId / FRAMES_PER_THREAD));
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    if (!this.inspector) { this.sendErrorResponse(response, { id: 3003, format: 'launch first' }); return; }
    const v = this.frameVcpu(args.frameId);
    const s = this.exec?.current;
    response.body = { scopes: this.inspector.scopes(v, s?.event) };
    this.sendResponse(response);
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const vars = this.inspector?.variables(args.variablesReference);
    if (!vars) { this.sendErrorResponse(response, { id: 3008, format: `unknown variablesReference ${args.variablesReference}` }); return; }
    const start = args.start ?? 0;
    response.body = { variables: args.count ? vars.slice(start, start + args.count) : vars.slice(start) };
    this.sendResponse(response);
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    if (!this.inspector || !this.exec) { this.sendErrorResponse(response, { id: 3003, format: 'launch first' }); return; }
    if (this.exec.running) { this.sendErrorResponse(response, { id: 3005, format: 'the machine is running: pause it first' }); return; }
    const r = this.inspector.setVariable(args.variablesReference, args.name, args.value);
    if (typeof r === 'string') { this.sendErrorResponse(response, { id: 3009, format: r }); return; }
    this.exec.history.rebase();
    response.body = r;
    this.sendResponse(response);
    this.sendEvent(new InvalidatedEvent(['variables']));
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    const t = this.target;
    if (!t || !this.inspector) { this.sendErrorResponse(response, { id: 3003, format: 'launch first' }); return; }
    const vcpu = this.frameVcpu(args.frameId);
    const event = this.exec?.current?.event;
    try {
      const expr = parseCondition(args.expression);
      const value = evalCondition(expr, t.env(vcpu, event));
      let ref = 0;
      if (expr.kind === 'name' && typeof value === 'bigint') {
        const rv = t.registers(vcpu ?? 0)?.read(expr.name);
        if (rv !== undefined && registerFields(expr.name, rv).length > 0) ref = this.inspector.fieldsRef(vcpu ?? 0, expr.name);
      }
      response.body = {
        result: formatValue(value),
        type: typeof value === 'bigint' ? 'u64' : typeof value,
        variablesReference: ref,
        memoryReference: typeof value === 'bigint' && value < 1n << 52n ? hex(value) : undefined,
      };
      this.sendResponse(response);
    } catch (e) {
      const msg = e instanceof ConditionError ? e.message : `cannot evaluate: ${(e as Error).message}`;
      this.sendErrorResponse(response, { id: 3010, format: msg });
    }
  }

  // ============================================================================================ memory

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    if (!this.target) { this.sendErrorResponse(response, { id: 3003, format: 'launch first' }); return; }
    try {
      response.body = readGuestMemory(this.target, args);
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, { id: 3011, format: (e as Error).message });
    }
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    if (!this.target || !this.exec) { this.sendErrorResponse(response, { id: 3003, format: 'launch first' }); return; }
    if (this.exec.running) { this.sendErrorResponse(response, { id: 3005, format: 'the machine is running: pause it first' }); return; }
    try {
      const r = writeGuestMemory(this.target, args);
      this.exec.history.rebase();
      response.body = { offset: r.offset, bytesWritten: r.bytesWritten };
      this.sendResponse(response);
      this.sendEvent(new MemoryEvent(args.memoryReference, r.offset, r.bytesWritten));
      this.sendEvent(new InvalidatedEvent(['variables']));
    } catch (e) {
      this.sendErrorResponse(response, { id: 3012, format: (e as Error).message });
    }
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    if (!this.target) { this.sendErrorResponse(response, { id: 3003, format: 'launch first' }); return; }
    try {
      response.body = { instructions: disassembleAt(this.target, args) };
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, { id: 3013, format: (e as Error).message });
    }
  }

  // ============================================================================================ custom

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    if (!(CUSTOM_REQUESTS as readonly string[]).includes(command)) {
      this.sendErrorResponse(response, { id: 1014, format: `unknown request '${command}'`, showUser: false });
      return;
    }
    if (!this.target) { this.sendErrorResponse(response, { id: 3003, format: 'launch first' }); return; }
    if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
      this.sendErrorResponse(response, { id: 3014, format: `${command}: arguments must be an object` });
      return;
    }
    try {
      response.body = handleCustomRequest(this.target, command, args as { [k: string]: unknown } | undefined);
      this.sendResponse(response);
    } catch (e) {
      const msg = e instanceof BadArguments ? `${command}: ${e.message}` : `${command} failed: ${(e as Error).message}`;
      this.sendErrorResponse(response, { id: 3015, format: msg });
    }
  }
}
