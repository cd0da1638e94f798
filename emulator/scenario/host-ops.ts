// Host statements -> machine `HostOp`s, with the semantics of LANGUAGE.md "host statements" and "Expectations":
// every statement is one VMM action (most are one ioctl); an ioctl without `=>` must succeed; `=> RESULT` is
// compared with what happened; `expect` checks state now. A failed expectation stops the scenario at its line with
// expected and actual values. Nothing here throws to the caller: a problem becomes an `error` outcome.

import type { Arg, Expr, HostStatement, Result } from './ast';
import { argOf, exprOf, flagsOf, hasFlag, optionOf, optionsOf, wordOf } from './ast';
import type { Board } from '../board';
import type { HostOp, Machine, OpOutcome, RunResult, Snapshotable } from '../machine';
import { DEFAULT_RUN_STEPS } from '../machine';
import type { IoctlResult } from '../kvm/errno';
import { fail as ioctlFail, OK } from '../kvm/errno';
import type { AsmResult } from '../cpu/assembler';
import type { MachineSettings, SymbolTable } from './loader';
import { S1TableBuilder, S1MAP_MAIR_EL1, S1MAP_SCTLR_SET, S1MAP_TCR_EL1, type S1MapState, type S1Perm, type S1Attr } from './s1map';
import { evaluateExpectation } from './expectations';
import { KVM_ARM_TARGET_GENERIC_V8, KVM_ARM_VCPU_EL1_32BIT, KVM_ARM_VCPU_PMU_V3, KVM_ARM_VCPU_POWER_OFF, KVM_ARM_VCPU_PSCI_0_2 } from '../kvm/vcpu-state';
import { KVM_ARM_VCPU_SPE_INIT, KVM_ARM_VCPU_SPE_IRQ, KVM_ARM_VCPU_SPE_RESUME, KVM_ARM_VCPU_SPE_STOP, KVM_ARM_VCPU_SPE_STOP_EXIT, KVM_ARM_VCPU_SPE_STOP_TRAP } from '../kvm/spe';
import type { BackingKind } from '../kvm/host-memory';
import { protFromNames } from '../arch/stage2';
import { lookupSysreg } from '../arch/sysregs';

/** A scenario error at run time (LANGUAGE.md "Execution model"): exit code 2. */
export class ScenarioError extends Error {}

const hex = (v: bigint | number): string => '0x' + BigInt.asUintN(64, BigInt(v)).toString(16);

interface RuntimeState {
  codeLoaded: boolean;
  s1: S1MapState | undefined;
  s1Mapped: boolean;
}

/** Run-time state of the scenario beyond the board: guest code loading, `s1map`, the symbol table. */
export class ScenarioRuntime implements Snapshotable {
  private state: RuntimeState = { codeLoaded: false, s1: undefined, s1Mapped: false };
  readonly s1Builder: S1TableBuilder | undefined;

  constructor(
    readonly board: Board,
    readonly settings: MachineSettings,
    readonly symbols: SymbolTable,
    readonly program: AsmResult,
    readonly readFile?: (path: string) => { data?: Uint8Array; error?: string },
  ) {
    if (settings.s1Tables !== undefined) {
      const base = settings.s1Tables;
      const mem = {
        read64: (ipa: number) => {
          const b = board.readGuest(ipa, 8);
          if (b === undefined) return undefined;
          return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
        },
        write64: (ipa: number, v: bigint) => {
          const b = new Uint8Array(8);
          new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
          return board.writeGuest(ipa, b);
        },
      };
      const slot = () => board.vm.memslots.findByIpa(base);
      this.s1Builder = new S1TableBuilder(base, Number.MAX_SAFE_INTEGER, mem);
      // the limit is the memslot holding s1_tables at map time
      Object.defineProperty(this.s1Builder, 'limit', { get: () => { const s = slot(); return s ? s.gpa + s.size : base; } });
    }
  }

  get vm() { return this.board.vm; }
  get events() { return this.board.events; }

  value(e: Expr | undefined, what: string): bigint {
    if (e === undefined) throw new ScenarioError(`${what}: missing value`);
    const v = this.symbols.value(e);
    if (typeof v === 'string') throw new ScenarioError(`${what}: ${v}`);
    return v;
  }

  num(e: Expr | undefined, what: string): number {
    const v = this.value(e, what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ScenarioError(`${what}: ${hex(v)} is beyond the emulator's 2^53 address range`);
    return Number(v);
  }

  vcpuIndex(e: Expr | undefined): number {
    const v = this.num(e, 'vcpu');
    if (v >= this.board.cpus.length) throw new ScenarioError(`vcpu ${v} does not exist (vcpus ${this.board.cpus.length})`);
    return v;
  }

  /** The VMM writes the assembled guest code at the first KVM_ARM_VCPU_INIT (LANGUAGE.md guest blocks). */
  loadGuestCode(): void {
    if (this.state.codeLoaded) return;
    this.state.codeLoaded = true;
    for (const b of this.program.blocks) {
      if (b.bytes.length === 0) continue;
      if (!this.board.writeGuest(Number(b.base), b.bytes)) {
        throw new ScenarioError(`guest code at ${hex(b.base)} (${b.bytes.length} bytes) is not inside a memslot at the first vcpu_init`);
      }
    }
  }

  /** Set the s1map registers on an initialised vcpu (TCR/MAIR/TTBR0/SCTLR.M, LANGUAGE.md s1map). */
  applyS1(vcpu: number): void {
    const root = this.s1Builder?.root;
    if (!this.state.s1Mapped || root === undefined) return;
    const cpu = this.board.cpus[vcpu];
    cpu.setSysreg('TCR_EL1', S1MAP_TCR_EL1);
    cpu.setSysreg('MAIR_EL1', S1MAP_MAIR_EL1);
    cpu.setSysreg('TTBR0_EL1', BigInt(root));
    cpu.setSysreg('SCTLR_EL1', cpu.getSysreg('SCTLR_EL1') | S1MAP_SCTLR_SET);
    cpu.tlbFlush();
  }

  s1map(va: bigint, ipa: number, size: number, perm: S1Perm, attr: S1Attr): void {
    if (!this.s1Builder) throw new ScenarioError('s1map needs the machine key `s1_tables`');
    const err = this.s1Builder.map(va, ipa, size, perm, attr);
    if (err) throw new ScenarioError(err);
    this.state.s1Mapped = true;
    this.board.vm.vcpus.forEach((v, i) => { if (v.initialized) this.applyS1(i); });
  }

  snapshot(): unknown {
    return { state: { ...this.state }, s1: this.s1Builder?.snapshot() };
  }

  restore(raw: unknown): void {
    const s = raw as { state: RuntimeState; s1?: S1MapState };
    this.state = { ...s.state };
    if (this.s1Builder && s.s1) this.s1Builder.restore(s.s1);
  }
}

// --------------------------------------------------------------------------------------------------------------
// `=>` results

function errnoText(r: IoctlResult): string { return r.ok ? 'ok' : r.errno; }

function failedIoctl(name: string, r: IoctlResult & { ok: false }): OpOutcome {
  return { kind: 'fail', message: `${name} failed with ${r.errno} (spec ${r.rule}): ${r.message}`, expected: 'ok', actual: r.errno };
}

function resultText(res: Result, rt: ScenarioRuntime): string {
  switch (res.kind) {
    case 'ok': return 'ok';
    case 'errno': return res.name;
    case 'hyp_panic': return 'hyp_panic';
    case 'pages': return `pages [${res.items.map((e) => String(rt.value(e, 'pages'))).join(', ')}]`;
    case 'value': return hex(rt.value(res.expr, 'value'));
    case 'exit': return `exit ${res.reason.text}`;
  }
}

/** Compare an ioctl's result with the statement's `=>` (or require success). */
function checkIoctl(st: HostStatement, name: string, r: IoctlResult, rt: ScenarioRuntime, extra?: { pages?: number[] }): OpOutcome {
  const res = st.result?.result;
  if (!res) return r.ok ? { kind: 'done' } : failedIoctl(name, r);
  switch (res.kind) {
    case 'ok':
      return r.ok ? { kind: 'done' } : { kind: 'fail', message: `expected ok, ${name} failed with ${r.errno} (spec ${r.rule}): ${r.message}`, expected: 'ok', actual: r.errno };
    case 'errno':
      if (!r.ok && r.errno === res.name) return { kind: 'done' };
      return {
        kind: 'fail',
        message: r.ok ? `expected ${res.name}, ${name} succeeded` : `expected ${res.name}, ${name} failed with ${r.errno} (spec ${r.rule}): ${r.message}`,
        expected: res.name, actual: errnoText(r),
      };
    case 'value': {
      const want = rt.value(res.expr, '=> value');
      if (r.ok && r.value !== undefined && BigInt.asUintN(64, r.value) === want) return { kind: 'done' };
      const actual = r.ok ? (r.value === undefined ? 'ok' : hex(r.value)) : r.errno;
      return { kind: 'fail', message: `expected ${hex(want)}, ${name} returned ${actual}`, expected: hex(want), actual };
    }
    case 'pages': {
      const want = res.items.map((e) => Number(rt.value(e, 'pages')));
      const got = extra?.pages;
      if (r.ok && got && want.length === got.length && want.every((p, i) => p === got[i])) return { kind: 'done' };
      const actual = r.ok ? `pages [${(got ?? []).join(', ')}]` : r.errno;
      return { kind: 'fail', message: `expected pages [${want.join(', ')}], got ${actual}`, expected: `pages [${want.join(', ')}]`, actual };
    }
    default:
      return { kind: 'error', message: `\`=> ${resultText(res, rt)}\` cannot happen for ${st.keyword.text}` };
  }
}

function runResultText(r: RunResult): string {
  if (r.kind === 'errno') return r.errno;
  const e = r.exit;
  switch (e.reason) {
    case 'mmio': return `exit mmio ${e.write ? 'write' : 'read'} addr=${hex(e.addr)} len=${e.len}${e.write ? ` data=${hex(e.data)}` : ''}`;
    case 'system_event': return `exit system_event ${e.type}`;
    case 'arm_nisv': return `exit arm_nisv addr=${hex(e.addr)}`;
    case 'guest_exception': return `exit guest_exception (esr=${hex(e.esr)} elr=${hex(e.elr)})`;
    case 'fail_entry': return 'exit fail_entry';
  }
}

function checkRun(st: HostStatement, r: RunResult, rt: ScenarioRuntime): OpOutcome {
  const res = st.result?.result;
  const actual = runResultText(r);
  if (!res) {
    if (r.kind === 'errno') {
      return { kind: 'fail', message: `KVM_RUN failed with ${r.errno}${r.rule ? ` (spec ${r.rule})` : ''}${r.message ? `: ${r.message}` : ''}`, expected: 'an exit', actual };
    }
    return { kind: 'done' };
  }
  if (res.kind === 'errno') {
    if (r.kind === 'errno' && r.errno === res.name) return { kind: 'done' };
    return { kind: 'fail', message: `expected ${res.name}, KVM_RUN returned ${actual}${r.kind === 'errno' && r.message ? ` (${r.message})` : ''}`, expected: res.name, actual };
  }
  if (res.kind !== 'exit') return { kind: 'error', message: `\`=> ${resultText(res, rt)}\` cannot happen for ${st.keyword.text}` };
  const reason = res.reason.text;
  const expectedText = `exit ${reason}${res.args.map((a) => ' ' + argText(a)).join('')}`;
  const mismatch = (why: string): OpOutcome => ({ kind: 'fail', message: `expected ${expectedText}, KVM_RUN returned ${actual}${why ? ` (${why})` : ''}`, expected: expectedText, actual });
  if (r.kind !== 'exit') return mismatch(r.message ?? '');
  const e = r.exit;
  if (e.reason !== reason) return mismatch('');
  const opt = (k: string) => optionOf(res.args, k);
  const optVal = (k: string): bigint | undefined => {
    const o = opt(k);
    return o && o.value.kind === 'expr' ? rt.value(o.value.expr, `${k}=`) : undefined;
  };
  if (e.reason === 'mmio') {
    if (hasFlag(res.args, 'read') && e.write) return mismatch('a write, not a read');
    if (hasFlag(res.args, 'write') && !e.write) return mismatch('a read, not a write');
    const a = optVal('addr'); if (a !== undefined && a !== BigInt(e.addr)) return mismatch(`addr ${hex(e.addr)}`);
    const l = optVal('len'); if (l !== undefined && l !== BigInt(e.len)) return mismatch(`len ${e.len}`);
    const d = optVal('data'); if (d !== undefined && d !== e.data) return mismatch(`data ${hex(e.data)}`);
  } else if (e.reason === 'system_event') {
    const words = res.args.filter((a) => a.kind === 'word' || a.kind === 'flag').map(argText);
    if (words.length > 0 && !words.includes(e.type)) return mismatch(`type ${e.type}`);
  } else if (e.reason === 'arm_nisv') {
    const a = optVal('addr'); if (a !== undefined && a !== BigInt(e.addr)) return mismatch(`addr ${hex(e.addr)}`);
  }
  return { kind: 'done' };
}

function argText(a: Arg): string {
  switch (a.kind) {
    case 'flag': return a.word.text;
    case 'word': return a.word.text;
    case 'option': return `${a.key.text}=${a.value.kind === 'word' ? a.value.word.text : '…'}`;
    default: return '…';
  }
}

// --------------------------------------------------------------------------------------------------------------
// statements

const LOCK_FLAGS_LOCK = 1n << 0n;
const LOCK_FLAGS_UNLOCK = 1n << 1n;
const LOCK_MEM_READ = 1n << 0n;
const LOCK_MEM_WRITE = 1n << 1n;
const UNLOCK_MEM_ALL = 1n << 0n;

function lockCap(rt: ScenarioRuntime): number {
  const lock = rt.vm.flavour.lock;
  if (lock === null) throw new ScenarioError(`flavour ${rt.vm.flavour.name} has no KVM_CAP_ARM_LOCK_USER_MEMORY_REGION`);
  return lock.cap;
}

/** A vcpu ioctl on a vcpu inside KVM_RUN is a scenario error (real KVM would block on the vcpu mutex). */
function notInRun(m: Machine, vcpu: number, what: string): void {
  if (m.inKvmRun(vcpu)) throw new ScenarioError(`${what} on vcpu ${vcpu} while it is inside KVM_RUN (run ${vcpu} &): join it first`);
}

function featureBits(rt: ScenarioRuntime, names: readonly string[]): number[] {
  const bits = new Set<number>([KVM_ARM_VCPU_PSCI_0_2]);
  for (const n of names) {
    switch (n) {
      case 'power_off': bits.add(KVM_ARM_VCPU_POWER_OFF); break;
      case 'el1_32bit': bits.add(KVM_ARM_VCPU_EL1_32BIT); break;
      case 'pmu_v3': bits.add(KVM_ARM_VCPU_PMU_V3); break;
      case 'psci_0_1': bits.delete(KVM_ARM_VCPU_PSCI_0_2); break;
      case 'spe': {
        const spe = rt.vm.flavour.spe;
        if (spe === null) throw new ScenarioError(`flavour ${rt.vm.flavour.name} has no SPE vcpu feature`);
        bits.add(spe.vcpuFeature);
        break;
      }
      default: throw new ScenarioError(`unknown vcpu feature ${n}`);
    }
  }
  return [...bits].sort((a, b) => a - b);
}

/** KVM_SET_ONE_REG / KVM_GET_ONE_REG by the language's register names */
function regAccess(rt: ScenarioRuntime, vcpu: number, name: string): { get(): bigint; set(v: bigint): void } {
  const cpu = rt.board.cpus[vcpu];
  const n = name.toLowerCase();
  const x = /^x(\d+)$/.exec(n);
  if (x && Number(x[1]) <= 30) return { get: () => cpu.getX(Number(x[1])), set: (v) => cpu.setX(Number(x[1]), v) };
  switch (n) {
    case 'pc': return { get: () => cpu.getPc(), set: (v) => cpu.setPc(v) };
    case 'pstate': return { get: () => cpu.getPstate(), set: (v) => cpu.setPstate(v) };
    case 'sp': return { get: () => cpu.getSp(0), set: (v) => cpu.setSp(0, v) };
    case 'sp_el1': return { get: () => cpu.getSp(1), set: (v) => cpu.setSp(1, v) };
  }
  const def = lookupSysreg(name);
  if (!def) throw new ScenarioError(`unknown register ${name}`);
  return { get: () => cpu.getSysreg(def.name), set: (v) => cpu.setSysreg(def.name, v) };
}

function oneRegPrecheck(rt: ScenarioRuntime, vcpu: number, name: string, ioctl: string): IoctlResult | null {
  if (!rt.vm.vcpus[vcpu].initialized) {
    // arm.c kvm_arch_vcpu_ioctl: KVM_SET/GET_ONE_REG need an initialised vcpu
    return ioctlFail('ENOEXEC', 'F#one-reg', `${ioctl} ${name}: vcpu ${vcpu} has not been initialised (KVM_ARM_VCPU_INIT)`);
  }
  return null;
}

type Compiled = (m: Machine) => OpOutcome;

function compile(st: HostStatement, rt: ScenarioRuntime): { run: Compiled; ioctl?: string } {
  const opt = (k: string) => optionOf(st.args, k);
  const optExpr = (k: string): Expr | undefined => { const o = opt(k); return o && o.value.kind === 'expr' ? o.value.expr : undefined; };
  const optWord = (k: string): string | undefined => { const o = opt(k); return o && o.value.kind === 'word' ? o.value.word.text : undefined; };
  const optWords = (k: string): string[] | undefined => {
    const o = opt(k);
    if (!o) return undefined;
    if (o.value.kind === 'wordlist') return o.value.items.map((w) => w.text);
    if (o.value.kind === 'word') return [o.value.word.text];
    return undefined;
  };
  const vm = () => rt.vm;
  const slotOf = () => rt.num(exprOf(st, 'slot'), 'memslot id');

  switch (st.form) {
    case 'memslot':
      return {
        ioctl: 'KVM_SET_USER_MEMORY_REGION',
        run: () => checkIoctl(st, 'KVM_SET_USER_MEMORY_REGION', vm().createMemslot({
          id: slotOf(),
          gpa: rt.num(optExpr('gpa'), 'gpa'),
          size: rt.num(optExpr('size'), 'size'),
          readonly: hasFlag(st.args, 'readonly'),
          dirtyLog: hasFlag(st.args, 'dirty_log'),
          hva: optExpr('hva') ? rt.num(optExpr('hva'), 'hva') : undefined,
          backing: (optWord('backing') ?? (opt('backing')?.value.kind === 'word' ? undefined : undefined)) as BackingKind | undefined,
        }), rt),
      };
    case 'memslot.delete':
      return { ioctl: 'KVM_SET_USER_MEMORY_REGION', run: () => checkIoctl(st, 'KVM_SET_USER_MEMORY_REGION', vm().deleteMemslot(slotOf()), rt) };
    case 'memslot.move':
      return { ioctl: 'KVM_SET_USER_MEMORY_REGION', run: () => checkIoctl(st, 'KVM_SET_USER_MEMORY_REGION', vm().moveMemslot(slotOf(), rt.num(optExpr('gpa'), 'gpa')), rt) };
    case 'memslot.flags':
      return {
        ioctl: 'KVM_SET_USER_MEMORY_REGION',
        run: () => checkIoctl(st, 'KVM_SET_USER_MEMORY_REGION',
          vm().setMemslotFlags(slotOf(), { dirtyLog: hasFlag(st.args, 'dirty_log'), readonly: hasFlag(st.args, 'readonly') }), rt),
      };
    case 'set_memory_region':
      return {
        ioctl: 'KVM_SET_USER_MEMORY_REGION',
        run: () => checkIoctl(st, 'KVM_SET_USER_MEMORY_REGION', vm().setUserMemoryRegion({
          slot: rt.value(optExpr('slot'), 'slot'), flags: rt.value(optExpr('flags'), 'flags'), gpa: rt.value(optExpr('gpa'), 'gpa'),
          size: rt.value(optExpr('size'), 'size'), hva: rt.value(optExpr('hva'), 'hva'),
        }), rt),
      };
    case 'get_dirty_log':
      return {
        ioctl: 'KVM_GET_DIRTY_LOG',
        run: () => {
          const r = vm().getDirtyLog(slotOf());
          return checkIoctl(st, 'KVM_GET_DIRTY_LOG', r, rt, { pages: r.pages });
        },
      };
    case 'lock':
      return {
        ioctl: 'KVM_ENABLE_CAP',
        run: () => {
          const flags = (hasFlag(st.args, 'read') ? LOCK_MEM_READ : 0n) | (hasFlag(st.args, 'write') ? LOCK_MEM_WRITE : 0n);
          return checkIoctl(st, 'KVM_ENABLE_CAP(LOCK)', vm().enableCap(lockCap(rt), Number(LOCK_FLAGS_LOCK), [BigInt(slotOf()), flags, 0n, 0n]), rt);
        },
      };
    case 'unlock':
      return { ioctl: 'KVM_ENABLE_CAP', run: () => checkIoctl(st, 'KVM_ENABLE_CAP(UNLOCK)', vm().enableCap(lockCap(rt), Number(LOCK_FLAGS_UNLOCK), [BigInt(slotOf()), 0n, 0n, 0n]), rt) };
    case 'unlock.all':
      return { ioctl: 'KVM_ENABLE_CAP', run: () => checkIoctl(st, 'KVM_ENABLE_CAP(UNLOCK)', vm().enableCap(lockCap(rt), Number(LOCK_FLAGS_UNLOCK), [0n, UNLOCK_MEM_ALL, 0n, 0n]), rt) };
    case 'enable_cap':
      return {
        ioctl: 'KVM_ENABLE_CAP',
        run: () => {
          const cap = rt.num(exprOf(st, 'cap'), 'cap');
          const flags = optExpr('flags') ? rt.num(optExpr('flags'), 'flags') : 0;
          const a = opt('args');
          const args = a && a.value.kind === 'list' ? a.value.items.map((e) => rt.value(e, 'args')) : [];
          while (args.length < 4) args.push(0n);
          return checkIoctl(st, 'KVM_ENABLE_CAP', vm().enableCap(cap, flags, args), rt);
        },
      };
    case 'check_extension':
      return { ioctl: 'KVM_CHECK_EXTENSION', run: () => checkIoctl(st, 'KVM_CHECK_EXTENSION', vm().checkExtension(rt.num(exprOf(st, 'cap'), 'cap')), rt) };
    case 'vcpu_init':
      return {
        ioctl: 'KVM_ARM_VCPU_INIT',
        run: (m) => {
          const v = rt.vcpuIndex(exprOf(st, 'vcpu'));
          notInRun(m, v, 'vcpu_init');
          const features = featureBits(rt, optWords('features') ?? []);
          const r = vm().vcpuInit(v, { target: KVM_ARM_TARGET_GENERIC_V8, features });
          if (r.ok) {
            rt.loadGuestCode();
            const cpu = rt.board.cpus[v];
            cpu.reset();
            rt.board.kvmSpe[v]?.resetRegisters();
            const pcExpr = optExpr('pc');
            const first = rt.program.blocks[0];
            const pc = pcExpr ? rt.value(pcExpr, 'pc') : first ? first.base : 0n;
            cpu.setPc(pc);
            rt.applyS1(v);
          }
          return checkIoctl(st, 'KVM_ARM_VCPU_INIT', r, rt);
        },
      };
    case 'set_reg':
      return {
        ioctl: 'KVM_SET_ONE_REG',
        run: (m) => {
          const v = rt.vcpuIndex(exprOf(st, 'vcpu'));
          notInRun(m, v, 'set_reg');
          for (const o of optionsOf(st.args)) {
            const name = o.key.text;
            const value = o.value.kind === 'expr' ? rt.value(o.value.expr, name) : undefined;
            if (value === undefined) throw new ScenarioError(`set_reg ${name}: a value is needed`);
            const pre = oneRegPrecheck(rt, v, name, 'KVM_SET_ONE_REG');
            const r = pre ?? OK;
            vm().ioctl('KVM_SET_ONE_REG', [v, name, BigInt.asUintN(64, value)], r, v);
            if (!r.ok) return checkIoctl(st, 'KVM_SET_ONE_REG', r, rt);
            regAccess(rt, v, name).set(BigInt.asUintN(64, value));
          }
          return checkIoctl(st, 'KVM_SET_ONE_REG', OK, rt);
        },
      };
    case 'get_reg':
      return {
        ioctl: 'KVM_GET_ONE_REG',
        run: (m) => {
          const v = rt.vcpuIndex(exprOf(st, 'vcpu'));
          notInRun(m, v, 'get_reg');
          const name = wordOf(st, 'reg') ?? (argOf(st, 'reg') as { word?: { text: string } } | undefined)?.word?.text ?? '';
          const pre = oneRegPrecheck(rt, v, name, 'KVM_GET_ONE_REG');
          const r: IoctlResult = pre ?? { ok: true, value: regAccess(rt, v, name).get() };
          vm().ioctl('KVM_GET_ONE_REG', [v, name], r, v);
          return checkIoctl(st, 'KVM_GET_ONE_REG', r, rt);
        },
      };
    case 'spe_attr':
      return {
        ioctl: 'KVM_SET_DEVICE_ATTR',
        run: (m) => {
          const v = rt.vcpuIndex(exprOf(st, 'vcpu'));
          notInRun(m, v, 'spe_attr');
          const spe = rt.board.kvmSpe[v];
          let attr: number;
          let value: number | undefined;
          let label: string;
          if (opt('irq') || hasFlag(st.args, 'irq')) {
            attr = KVM_ARM_VCPU_SPE_IRQ;
            value = optExpr('irq') ? rt.num(optExpr('irq'), 'irq') : rt.settings.speIrq;
            label = 'KVM_ARM_VCPU_SPE_IRQ';
          } else if (hasFlag(st.args, 'init')) {
            attr = KVM_ARM_VCPU_SPE_INIT;
            label = 'KVM_ARM_VCPU_SPE_INIT';
          } else {
            const mode = optWord('stop');
            attr = KVM_ARM_VCPU_SPE_STOP;
            value = mode === 'trap' ? KVM_ARM_VCPU_SPE_STOP_TRAP : mode === 'exit' ? KVM_ARM_VCPU_SPE_STOP_EXIT : KVM_ARM_VCPU_SPE_RESUME;
            label = 'KVM_ARM_VCPU_SPE_STOP';
          }
          const r = spe ? spe.setAttr(attr, { value }) : ioctlFail('ENXIO', 'E.5#supports', 'SPE not supported by the host (kvm_supports_spe)');
          vm().ioctl('KVM_SET_DEVICE_ATTR', ['KVM_ARM_VCPU_SPE_CTRL', label, ...(value !== undefined ? [value] : [])], r, v);
          return checkIoctl(st, 'KVM_SET_DEVICE_ATTR', r, rt);
        },
      };
    case 'run':
      return {
        ioctl: 'KVM_RUN',
        run: () => {
          const v = rt.vcpuIndex(exprOf(st, 'vcpu'));
          if (vm().vcpus[v].features.has(KVM_ARM_VCPU_EL1_32BIT) && vm().vcpus[v].initialized) {
            throw new ScenarioError(`vcpu ${v} was initialised with el1_32bit: the emulator has no AArch32 interpreter`);
          }
          const steps = optExpr('steps') ? rt.num(optExpr('steps'), 'steps') : DEFAULT_RUN_STEPS;
          return { kind: 'run', vcpu: v, steps, background: st.background !== undefined, complete: (r) => runComplete(st, v, r, rt) };
        },
      };
    case 'join':
      return {
        ioctl: 'KVM_RUN',
        run: () => {
          const v = rt.vcpuIndex(exprOf(st, 'vcpu'));
          return { kind: 'join', vcpu: v, complete: (r) => runComplete(st, v, r, rt) };
        },
      };
    case 'mmio_reply':
      return {
        run: () => {
          const v = rt.vcpuIndex(exprOf(st, 'vcpu'));
          rt.board.kvmRun.setMmioData(v, rt.value(optExpr('data'), 'data'));
          return { kind: 'done' };
        },
      };
    case 'inject_ext_dabt':
      return {
        ioctl: 'KVM_SET_VCPU_EVENTS',
        run: (m) => {
          const v = rt.vcpuIndex(exprOf(st, 'vcpu'));
          notInRun(m, v, 'inject_ext_dabt');
          const r = rt.board.kvmRun.injectExtDabt(v);
          vm().ioctl('KVM_SET_VCPU_EVENTS', [v, 'ext_dabt_pending'], r, v);
          return checkIoctl(st, 'KVM_SET_VCPU_EVENTS', r, rt);
        },
      };
    case 'write':
      return {
        run: () => {
          const addr = rt.num(exprOf(st, 'addr'), 'address');
          const width = wordOf(st, 'width') ?? 'u64';
          const n = width === 'u8' ? 1 : width === 'u16' ? 2 : width === 'u32' ? 4 : 8;
          const value = rt.value(exprOf(st, 'value'), 'value');
          const bytes = new Uint8Array(n);
          for (let i = 0; i < n; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
          if (!rt.board.writeGuest(addr, bytes)) throw new ScenarioError(`write: no memslot backs IPA ${hex(addr)}`);
          return { kind: 'done' };
        },
      };
    case 'write.bytes':
      return {
        run: () => {
          const addr = rt.num(exprOf(st, 'addr'), 'address');
          const a = argOf(st, 'bytes');
          const items = a && a.kind === 'list' ? a.items.map((e) => Number(rt.value(e, 'byte') & 0xffn)) : [];
          if (!rt.board.writeGuest(addr, Uint8Array.from(items))) throw new ScenarioError(`write: no memslot backs IPA ${hex(addr)}`);
          return { kind: 'done' };
        },
      };
    case 'load':
      return {
        run: () => {
          const addr = rt.num(exprOf(st, 'addr'), 'address');
          const p = argOf(st, 'path');
          const path = p && p.kind === 'string' ? p.value : '';
          if (!rt.readFile) throw new ScenarioError(`load "${path}": no file access in this context`);
          const f = rt.readFile(path);
          if (!f.data) throw new ScenarioError(f.error ?? `load "${path}": cannot read the file`);
          if (!rt.board.writeGuest(addr, f.data)) throw new ScenarioError(`load: no memslot backs IPA ${hex(addr)} for ${f.data.length} bytes`);
          return { kind: 'done' };
        },
      };
    case 's1map':
      return {
        run: () => {
          rt.s1map(rt.value(optExpr('va'), 'va'), rt.num(optExpr('ipa'), 'ipa'), rt.num(optExpr('size'), 'size'),
            (optWord('perm') ?? 'rw') as S1Perm, (optWord('attr') ?? 'normal') as S1Attr);
          return { kind: 'done' };
        },
      };
    case 'unmap_host':
      return {
        run: () => {
          vm().unmapHost(rt.num(optExpr('hva'), 'hva'), rt.num(optExpr('size'), 'size'));
          return { kind: 'done' };
        },
      };
    case 'pgtable':
      return {
        run: () => {
          const name = wordOf(st, 'name') ?? '';
          const ps = optExpr('page_size') ? rt.num(optExpr('page_size'), 'page_size') : vm().pageSize;
          const t = vm().createPgtable(name, rt.num(optExpr('ipa_bits'), 'ipa_bits'), ps as 4096 | 16384 | 65536);
          const r = t === 'ENOMEM' ? ioctlFail('ENOMEM', 'B.5', 'no table pages left for the root') : OK;
          return checkIoctl(st, 'kvm_pgtable_stage2_init', r, rt);
        },
      };
    case 'pgtable_map':
    case 'pgtable_unmap':
    case 'pgtable_set_owner':
    case 'pgtable_annotate':
      return {
        run: () => {
          const name = wordOf(st, 'name') ?? '';
          const t = vm().pgtables.get(name);
          if (!t) throw new ScenarioError(`no page table named ${name} (create it with \`pgtable ${name} ipa_bits=N\`)`);
          const addr = rt.num(exprOf(st, 'addr'), 'address');
          let res: string;
          let fn: string;
          if (st.form === 'pgtable_map') {
            fn = 'kvm_pgtable_stage2_map';
            const prot = protFromNames(optWords('prot') ?? []);
            if (prot === undefined) throw new ScenarioError('pgtable_map: unknown prot');
            res = t.map(addr, rt.num(optExpr('size'), 'size'), rt.num(optExpr('phys'), 'phys'), prot);
          } else if (st.form === 'pgtable_unmap') {
            fn = 'kvm_pgtable_stage2_unmap';
            res = t.unmap(addr, rt.num(optExpr('size'), 'size'));
          } else if (st.form === 'pgtable_set_owner') {
            fn = 'kvm_pgtable_stage2_set_owner';
            res = t.setOwner(addr, rt.num(optExpr('size'), 'size'), rt.num(optExpr('owner'), 'owner'));
          } else {
            fn = 'kvm_pgtable_stage2_annotate';
            res = t.annotate(addr, vm().pageSize, rt.value(optExpr('value'), 'value'));
          }
          const r: IoctlResult = res === 'ok' ? OK
            : ioctlFail(res === 'EAGAIN' ? 'EAGAIN' : res === 'ENOMEM' ? 'ENOMEM' : res === 'ERANGE' ? 'EFAULT' : 'EINVAL', 'B.5', `${fn} returned -${res}`);
          return checkIoctl(st, fn, r, rt);
        },
      };
    case 'pkvm_mark_hyp':
      return {
        run: () => checkIoctl(st, '__pkvm_host_donate_hyp', vm().pkvmMarkHyp(rt.num(exprOf(st, 'addr'), 'address'), rt.num(optExpr('size'), 'size')), rt),
      };
    case 'host_access':
      return {
        run: () => {
          const kind = (wordOf(st, 'access') ?? 'read') as 'read' | 'write' | 'exec';
          const got = vm().hostAccess(kind, rt.num(exprOf(st, 'addr'), 'address'));
          const res = st.result?.result;
          const want = res?.kind === 'hyp_panic' ? 'hyp_panic' : 'ok';
          if (got === want) return { kind: 'done' };
          return { kind: 'fail', message: `expected ${want}, the host ${kind} gave ${got}`, expected: want, actual: got };
        },
      };
    default:
      if (st.form.startsWith('expect.')) return { run: (m) => evaluateExpectation(st, rt, m) };
      return { run: () => ({ kind: 'error', message: `statement \`${st.keyword.text}\` could not be compiled (form '${st.form}')` }) };
  }
}

function runComplete(st: HostStatement, v: number, r: RunResult, rt: ScenarioRuntime): OpOutcome {
  if (r.kind === 'errno') {
    if (r.errno === 'EINTR') rt.events.emit('kvm-exit', { reason: 'intr' }, v);
    // the step budget (LANGUAGE.md `run steps=`) is no spec rule: the event then has no `rule`
    if (r.rule) rt.vm.ioctl('KVM_RUN', [v], ioctlFail(r.errno, r.rule, r.message ?? ''), v);
    else rt.events.emit('ioctl', { name: 'KVM_RUN', args: [v], result: r.errno }, v);
  } else {
    rt.vm.ioctl('KVM_RUN', [v], OK, v);
  }
  return checkRun(st, r, rt);
}

export function statementText(st: HostStatement, source?: string): string {
  if (source !== undefined) {
    const lines = source.split('\n');
    const l = lines[st.range.start.line] ?? '';
    return l.slice(st.range.start.col, st.range.end.line === st.range.start.line ? st.range.end.col : undefined).trim();
  }
  return [st.keyword.text, ...flagsOf(st.args)].join(' ');
}

export function compileHostStatements(statements: readonly HostStatement[], rt: ScenarioRuntime, source?: string): HostOp[] {
  return statements.map((st) => {
    const c = compile(st, rt);
    const op: HostOp = {
      range: { start: { line: st.range.start.line, col: st.range.start.col }, end: { line: st.range.end.line, col: st.range.end.col } },
      text: statementText(st, source),
      isExpect: st.keyword.text === 'expect',
      ioctl: c.ioctl,
      execute: (m) => {
        try {
          return c.run(m);
        } catch (e) {
          if (e instanceof ScenarioError) return { kind: 'error', message: e.message };
          // an emulator bug must not crash the editor: report it as a scenario error with the cause
          return { kind: 'error', message: `internal error: ${(e as Error).message ?? String(e)}` };
        }
      },
    };
    return op;
  });
}
