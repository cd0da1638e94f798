// `expect` statements (LANGUAGE.md "Expectations"): they check state now. A failed expectation stops the scenario
// at its line and reports expected and actual values. Each evaluation emits an `expect` event {line, ok, message}.

import type { HostStatement, Arg, OptionArg } from './ast';
import { argOf, exprOf, flagsOf, hasFlag, optionOf, optionsOf, wordOf } from './ast';
import type { Machine, OpOutcome } from '../machine';
import type { ScenarioRuntime } from './host-ops';
import { ScenarioError } from './host-ops';
import { compare } from './expr';
import { eventMatches, describeEvent, type ExpectedValue, type FieldExpectation } from './event-match';
import type { EventKind } from '../events';
import { EVENT_KINDS } from '../events';
import type { Stage2PageTable } from '../kvm/pgtable/stage2-pgtable';
import type { DecodedPte } from '../kvm/pgtable/pte-decode';
import { lookupSysreg } from '../arch/sysregs';

const hex = (v: bigint | number): string => '0x' + BigInt.asUintN(64, BigInt(v)).toString(16);

function outcome(rt: ScenarioRuntime, st: HostStatement, ok: boolean, message: string, expected?: string, actual?: string): OpOutcome {
  rt.events.emit('expect', { line: st.range.start.line + 1, ok, message });
  return ok ? { kind: 'done' } : { kind: 'fail', message, expected, actual };
}

function tableFor(rt: ScenarioRuntime, st: HostStatement): Stage2PageTable {
  const name = wordOf(st, 'table');
  if (name === undefined || name === 'vm') return rt.vm.stage2;
  if (name === 'host') {
    if (!rt.vm.hostStage2) throw new ScenarioError('expect stage2 host: there is no host stage 2 (machine mode protected)');
    return rt.vm.hostStage2;
  }
  const t = rt.vm.pgtables.get(name);
  if (!t) throw new ScenarioError(`no page table named ${name}`);
  return t;
}

function permText(d: DecodedPte): string {
  if (d.kind !== 'block' && d.kind !== 'page') return 'none';
  const r = d.s2ap === 'r' || d.s2ap === 'rw';
  const w = d.s2ap === 'w' || d.s2ap === 'rw';
  const s = `${r ? 'r' : ''}${w ? 'w' : ''}${!d.xn ? 'x' : ''}`;
  return s === '' ? 'none' : s;
}

function describeDecoded(d: DecodedPte, level: number): string {
  switch (d.kind) {
    case 'block': case 'page':
      return `mapped level=${level} perm=${permText(d)} oa=${hex(d.oa)}${d.device ? ' device' : ''}`;
    case 'unmapped': return 'unmapped';
    case 'table': return 'a table entry';
    case 'prot-none': return `prot_none oa=${hex(d.oa)}`;
    case 'owner': return `annotated owner=${d.owner}`;
    case 'annotation': return `annotated value=${hex(d.value)}${d.mmioGuard ? ' mmio_guard' : ''}`;
    case 'locked': return 'locked (break-before-make in progress)';
    case 'invalid-other': return `invalid ${hex(d.raw)}`;
  }
}

function expectedValueOf(rt: ScenarioRuntime, o: OptionArg): ExpectedValue {
  const v = o.value;
  switch (v.kind) {
    case 'expr': return rt.value(v.expr, o.key.text);
    case 'word': return v.word.text === 'true' ? true : v.word.text === 'false' ? false : v.word.text;
    case 'string': return v.value;
    case 'list': return v.items.map((e) => rt.value(e, o.key.text));
    case 'wordlist': return v.items.map((w) => w.text);
  }
}

function eventFilter(rt: ScenarioRuntime, st: HostStatement): { kind: EventKind; fields: FieldExpectation[]; text: string } {
  const kind = wordOf(st, 'kind') ?? '';
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) throw new ScenarioError(`unknown event kind ${kind}`);
  const fields = optionsOf(st.args).map((o) => ({ name: o.key.text, value: expectedValueOf(rt, o) }));
  const text = [kind, ...optionsOf(st.args).map((o) => `${o.key.text}=${showExpected(expectedValueOf(rt, o))}`)].join(' ');
  return { kind: kind as EventKind, fields, text };
}

function showExpected(v: ExpectedValue): string {
  if (typeof v === 'bigint') return hex(v);
  if (Array.isArray(v)) return `[${v.map(showExpected).join(', ')}]`;
  return String(v);
}

function compareArg(st: HostStatement): string {
  const a = st.args.find((x: Arg) => x.kind === 'compare');
  return a && a.kind === 'compare' ? a.op : '==';
}

export function evaluateExpectation(st: HostStatement, rt: ScenarioRuntime, m: Machine): OpOutcome {
  const vm = rt.vm;
  switch (st.form) {
    case 'expect.memslot': {
      const id = rt.num(exprOf(st, 'slot'), 'memslot id');
      const s = vm.memslots.get(id);
      const flags = flagsOf(st.args);
      const actual = s === undefined ? 'absent'
        : `present${s.lock ? ` locked ${s.lock.read ? 'read' : ''}${s.lock.write ? ' write' : ''}` : ' unlocked'}${s.readonly ? ' readonly' : ''}${s.dirtyLog ? ' dirty_log' : ''}`;
      const expected = `memslot ${id} ${flags.join(' ')}`.trim();
      const bad = (why: string) => outcome(rt, st, false, `expect memslot ${id}: ${why}`, expected, actual);
      if (flags.includes('absent')) return s === undefined ? outcome(rt, st, true, expected) : bad('the memslot exists');
      if (s === undefined) return bad('no such memslot');
      if (flags.includes('locked')) {
        if (!s.lock) return bad('not locked');
        const wantWrite = flags.includes('write');
        if (s.lock.read !== true || s.lock.write !== wantWrite) return bad(`locked for ${s.lock.read ? 'read' : ''}${s.lock.write ? ' write' : ''}`);
      } else {
        if (flags.includes('read') || flags.includes('write')) return bad('`read`/`write` go with `locked`');
      }
      if (flags.includes('unlocked') && s.lock) return bad('locked');
      if (flags.includes('readonly') && !s.readonly) return bad('not readonly');
      if (flags.includes('dirty_log') && !s.dirtyLog) return bad('not logging dirty pages');
      return outcome(rt, st, true, expected);
    }
    case 'expect.stage2.unmapped':
    case 'expect.stage2.mapped':
    case 'expect.stage2.annotated':
    case 'expect.stage2.prot_none': {
      const t = tableFor(rt, st);
      const addr = rt.num(exprOf(st, 'addr'), 'address');
      const leaf = t.lookup(addr);
      const d = leaf.decoded;
      const actual = describeDecoded(d, leaf.level);
      const state = st.form.slice('expect.stage2.'.length);
      const expectedText = `${state}${st.args.filter((a) => a.kind === 'option' || a.kind === 'flag').map((a) => ' ' + (a.kind === 'flag' ? a.word.text : `${a.key.text}=…`)).join('')}`;
      const where = `stage2 ${t.name} ${hex(addr)}`;
      const bad = (why: string) => outcome(rt, st, false, `expect ${where} ${expectedText}: ${why}`, expectedText, actual);
      const valid = d.kind === 'block' || d.kind === 'page';
      if (state === 'unmapped') return valid ? bad('a valid leaf maps it') : outcome(rt, st, true, `${where} unmapped`);
      if (state === 'prot_none') return d.kind === 'prot-none' ? outcome(rt, st, true, `${where} prot_none`) : bad(`the entry is ${actual}`);
      if (state === 'mapped') {
        if (!valid) return bad('no valid leaf');
        const lvl = optionOf(st.args, 'level');
        if (lvl && lvl.value.kind === 'expr' && Number(rt.value(lvl.value.expr, 'level')) !== leaf.level) return bad(`the leaf is at level ${leaf.level}`);
        const perm = optionOf(st.args, 'perm');
        if (perm && perm.value.kind === 'word' && perm.value.word.text !== permText(d)) return bad(`perm is ${permText(d)}`);
        const pa = optionOf(st.args, 'pa');
        if (pa && pa.value.kind === 'expr') {
          const tr = t.translate(addr);
          const want = rt.value(pa.value.expr, 'pa');
          if (!tr.valid || BigInt(tr.pa) !== want) return bad(`pa is ${tr.valid ? hex(tr.pa) : 'none'}`);
        }
        if (hasFlag(st.args, 'device') && !d.device) return bad('not device memory');
        return outcome(rt, st, true, `${where} ${actual}`);
      }
      // annotated
      if (d.kind !== 'owner' && d.kind !== 'annotation') return bad(`the entry is ${actual}`);
      const owner = optionOf(st.args, 'owner');
      if (owner && owner.value.kind === 'expr') {
        const want = Number(rt.value(owner.value.expr, 'owner'));
        const got = d.kind === 'owner' ? d.owner : undefined;
        if (got !== want) return bad(`owner is ${got ?? 'none'}`);
      }
      const value = optionOf(st.args, 'value');
      if (value && value.value.kind === 'expr') {
        const want = rt.value(value.value.expr, 'value');
        if (BigInt.asUintN(64, leaf.raw) !== want) return bad(`value is ${hex(leaf.raw)}`);
      }
      if (hasFlag(st.args, 'mmio_guard') && !(d.kind === 'annotation' && d.mmioGuard)) return bad('not an MMIO guard annotation');
      return outcome(rt, st, true, `${where} ${actual}`);
    }
    case 'expect.pte': {
      const name = wordOf(st, 'table') ?? 'vm';
      const t = name === 'vm' ? vm.stage2 : name === 'host' ? vm.hostStage2 : vm.pgtables.get(name);
      if (!t) throw new ScenarioError(`no page table named ${name}`);
      const addr = rt.num(exprOf(st, 'addr'), 'address');
      const maskExpr = exprOf(st, 'mask');
      const mask = maskExpr ? rt.value(maskExpr, 'mask') : (1n << 64n) - 1n;
      const want = rt.value(exprOf(st, 'value'), 'value');
      const raw = BigInt.asUintN(64, t.getLeaf(addr).raw);
      const got = raw & mask;
      return outcome(rt, st, got === want, `pte ${name} ${hex(addr)}${maskExpr ? ` & ${hex(mask)}` : ''} == ${hex(want)}${got === want ? '' : `: the descriptor is ${hex(raw)}`}`, hex(want), hex(got));
    }
    case 'expect.pending_ops': {
      const a = argOf(st, 'ops');
      const words = a && a.kind === 'wordlist' ? a.items.map((w) => w.text) : [];
      const want = words.filter((w) => w !== 'none').sort();
      const got = vm.pendingOps.list().slice().sort();
      const ok = want.length === got.length && want.every((w, i) => w === got[i]);
      const show = (l: string[]) => (l.length ? l.join(' ') : 'none');
      return outcome(rt, st, ok, `pending_ops ${show(want)}${ok ? '' : `: pending ops are ${show(got)}`}`, show(want), show(got));
    }
    case 'expect.reg': {
      const v = rt.vcpuIndex(exprOf(st, 'vcpu'));
      if (m.inKvmRun(v)) throw new ScenarioError(`expect reg on vcpu ${v} while it is inside KVM_RUN: join it first`);
      const a = argOf(st, 'reg');
      const name = a && a.kind === 'word' ? a.word.text : '';
      const cpu = rt.board.cpus[v];
      const n = name.toLowerCase();
      let got: bigint;
      const x = /^x(\d+)$/.exec(n);
      if (x && Number(x[1]) <= 30) got = cpu.getX(Number(x[1]));
      else if (n === 'pc') got = cpu.getPc();
      else if (n === 'pstate') got = cpu.getPstate();
      else if (n === 'sp') got = cpu.getSp(0);
      else if (n === 'sp_el1') got = cpu.getSp(1);
      else {
        const def = lookupSysreg(name);
        if (!def) throw new ScenarioError(`unknown register ${name}`);
        got = cpu.getSysreg(def.name);
      }
      const op = compareArg(st);
      const want = rt.value(exprOf(st, 'value'), 'value');
      const ok = compare(op, got, want);
      return outcome(rt, st, ok, `reg ${v} ${name} ${op} ${hex(want)}${ok ? '' : `: ${name} is ${hex(got)}`}`, `${op} ${hex(want)}`, hex(got));
    }
    case 'expect.mem': {
      const addr = rt.num(exprOf(st, 'addr'), 'address');
      const width = wordOf(st, 'width') ?? 'u64';
      const n = width === 'u8' ? 1 : width === 'u16' ? 2 : width === 'u32' ? 4 : 8;
      const bytes = rt.board.readGuest(addr, n);
      if (!bytes) throw new ScenarioError(`expect mem: no memslot backs IPA ${hex(addr)}`);
      let got = 0n;
      for (let i = n - 1; i >= 0; i--) got = (got << 8n) | BigInt(bytes[i]);
      const want = rt.value(exprOf(st, 'value'), 'value');
      const ok = got === BigInt.asUintN(n * 8, want);
      return outcome(rt, st, ok, `mem ${hex(addr)} ${width} == ${hex(want)}${ok ? '' : `: it holds ${hex(got)}`}`, hex(want), hex(got));
    }
    case 'expect.locked_vm': {
      const want = rt.value(exprOf(st, 'value'), 'pages');
      const got = BigInt(vm.lockedVmPages);
      return outcome(rt, st, got === want, `locked_vm == ${want}${got === want ? '' : `: locked_vm is ${got}`}`, String(want), String(got));
    }
    case 'expect.event':
    case 'expect.no_event': {
      const f = eventFilter(rt, st);
      const window = rt.events.since(m.windowStart).filter((e) => e.event !== 'expect' || f.kind === 'expect');
      const hit = window.find((e) => eventMatches(e, f.kind, f.fields));
      const sameKind = window.filter((e) => e.event === f.kind);
      const seen = sameKind.length ? sameKind.slice(0, 3).map(describeEvent).join('; ') + (sameKind.length > 3 ? `; … (${sameKind.length})` : '') : `no ${f.kind} event`;
      if (st.form === 'expect.event') {
        return outcome(rt, st, hit !== undefined, `event ${f.text}${hit ? '' : ` not emitted by the last statement (saw: ${seen})`}`, f.text, seen);
      }
      return outcome(rt, st, hit === undefined, `no event ${f.text}${hit ? `: the last statement emitted ${describeEvent(hit)}` : ''}`, `no ${f.text}`, hit ? describeEvent(hit) : 'none');
    }
    case 'expect.total': {
      const f = eventFilter(rt, st);
      const all = rt.events.all();
      let count = 0;
      for (const e of all) if (eventMatches(e, f.kind, f.fields)) count++;
      const op = compareArg(st);
      const want = rt.value(exprOf(st, 'count'), 'count');
      const ok = compare(op, BigInt(count), want);
      return outcome(rt, st, ok, `total ${f.text} ${op} ${want}${ok ? '' : `: ${count} so far`}`, `${op} ${want}`, String(count));
    }
  }
  throw new ScenarioError(`unknown expectation form ${st.form}`);
}
