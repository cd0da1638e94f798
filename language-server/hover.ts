// Hover (issue 6 item 2), with the spec section cited:
// - host statement: the ioctl it issues and its arguments as the checker resolved them;
// - `lock`: the E.3 LOCK rules in check order and what this line returns here (the checker's prediction);
// - guest instruction: address, encoding word, disassembly and operation (the real assembler's output);
// - system register: encoding and fields (arch/sysregs.ts);
// - predefined symbol: value in this flavour, in the other flavours, SMCCC decoding (arch/smccc.ts);
// - errno: the rules that produce it (errnoRules.ts);
// - number: hex / decimal / size / binary forms; constants and labels: their value / address.

import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import {
  locate, vocabulary, type Expr, type GuestLine, type HostStatement, type Range, type ResolvedStatement,
} from '../emulator/scenario';
import { decodeFunctionId } from '../emulator/arch/smccc';
import { predefinedSymbols } from '../emulator/arch/smccc';
import { lookupSysreg } from '../emulator/arch/sysregs';
import { disassemble } from '../emulator/cpu/disasm';
import { FLAVOUR_NAMES, getFlavour } from '../emulator/kvm/flavours';
import { ERRNO } from '../emulator/kvm/errno';
import { MAX_ASSEMBLER_DIAGNOSTICS, type Analysis } from './documents';
import { analyseScenario } from '../emulator/scenario/runner';
import { guestOperandTokens, isGpRegister, nameIndex } from './names';
import { hex, hexGrouped, lineCol, sizeForm, toLspRange } from './positions';
import { rulesForErrno, rulesWithPrefix, type ErrnoRule } from './errnoRules';
import { mnemonicDoc } from './mnemonics';

const md = (value: string, range?: Range): Hover => ({ contents: { kind: MarkupKind.Markdown, value }, ...(range ? { range: toLspRange(range) } : {}) });
const code = (s: string, lang = 'kvms'): string => '```' + lang + '\n' + s + '\n```';

export function hover(a: Analysis, p: Position): Hover | null {
  const at = lineCol(p);
  const loc = locate(a.ast, at);
  if (loc.role === 'guest-line') return loc.guestLine ? guestHover(a, loc.guestLine, p) : null;
  if (loc.expr) {
    const h = exprHover(a, loc.expr);
    if (h) return h;
  }
  const s = loc.statement;
  switch (loc.role) {
    case 'top-keyword': return loc.word ? md(topKeywordDoc(loc.word.text), loc.word.range) : null;
    case 'const-name': return loc.word ? nameHover(a, loc.word.text, loc.word.range) : null;
    case 'machine-key': {
      const spec = loc.word && vocabulary.MACHINE_KEY_MAP.get(loc.word.text);
      if (!spec || !loc.word) return null;
      const values = spec.words ? `\n\nValues: ${spec.words.map((w) => `\`${w}\``).join(', ')}` : '';
      return md(`**machine** \`${spec.key}\`: ${spec.doc}\n\nDefault: \`${spec.default}\`${values}`, loc.word.range);
    }
    case 'machine-value':
      if (loc.machineEntry?.key.text === 'flavour' && loc.word) return flavourHover(loc.word.text, loc.word.range);
      return null;
    case 'statement-keyword':
      return s ? statementHover(a, s, s.keyword.range) : null;
    case 'result':
      if (loc.result?.kind === 'errno') return errnoHover(loc.result.name, loc.result.range, s && resolved(a, s), s && prediction(a, s));
      if (loc.result?.kind === 'exit') return md(`\`=> exit ${loc.result.reason.text}\`: KVM_RUN returned 0 with \`run->exit_reason\` = KVM_EXIT_${loc.result.reason.text.toUpperCase()} (spec C.5, LANGUAGE.md results)`, loc.result.range);
      if (loc.result?.kind === 'ok') return md('`=> ok`: the ioctl returns 0', loc.result.range);
      if (loc.result?.kind === 'hyp_panic') return md('`=> hyp_panic`: the host access hits a page the hypervisor owns; pKVM panics (spec B.8)', loc.result.range);
      return null;
    case 'option-key':
      if (s && loc.word) return optionHover(a, s, loc.word.text, loc.word.range);
      return null;
    case 'positional':
    case 'option-value':
      if (loc.word && s) return wordHover(a, s, loc.word.text, loc.word.range, loc.arg && 'role' in loc.arg ? loc.arg.role : '');
      return null;
    case 'flag':
      if (loc.word && s) return flagHover(s, loc.word.text, loc.word.range);
      return null;
    default:
      return null;
  }
}

// ------------------------------------------------------------------ names and numbers

function numberForms(v: bigint): string {
  const parts = [`\`${hexGrouped(v)}\``, `\`${v.toString(10)}\``];
  const size = sizeForm(v);
  if (size) parts.push(`\`${size}\``);
  if (v > 0n && v < 1n << 16n) parts.push(`\`0b${v.toString(2)}\``);
  if (v >= 1n << 63n) parts.push(`\`${BigInt.asIntN(64, v)}\` (signed)`);
  return parts.join(' · ');
}

function exprHover(a: Analysis, e: Expr): Hover | null {
  if (e.kind === 'number') return e.value === null ? null : md(numberForms(e.value), e.range);
  if (e.kind === 'ref') return nameHover(a, e.name, e.range);
  if (e.kind === 'call') return md(`\`${e.callee.text}(ID)\`: ${e.callee.text === 'hva' ? "memslot ID's userspace (backing) address" : "memslot ID's first host-physical address"}, known only at run time (LANGUAGE.md expressions)`, e.callee.range);
  return null;
}

function nameHover(a: Analysis, name: string, range: Range): Hover | null {
  const idx = nameIndex(a);
  switch (idx.kindOf(name)) {
    case 'const': {
      const v = a.info.constants.get(name);
      return md(`**const** \`${name}\`${v === undefined ? '' : ` = ${numberForms(v)}`}`, range);
    }
    case 'label': {
      const v = a.info.labels.get(name);
      return md(`**label** \`${name}\`${v === undefined ? '' : ` at IPA \`${hexGrouped(v)}\``}`, range);
    }
    case 'predefined': return predefinedHover(a, name, range);
    case 'spe-field': {
      const v = idx.speFields.get(name)!;
      const reg = name.startsWith('PMSCR_EL2_') ? 'PMSCR_EL2' : name.replace(/_[A-Z0-9]+$/, '') + '_EL1';
      const field = name.slice(name.lastIndexOf('_') + 1);
      const bits = lookupSysreg(reg)?.fields?.[field];
      return md(`**SPE field mask** \`${name}\` = \`${hex(v)}\`: ${reg}.${field}${bits ? ` bits [${bits[0]}:${bits[1]}]` : ''} (spec E.1)`, range);
    }
    default: {
      const sys = lookupSysreg(name);
      if (sys) return sysregHover(name, range);
      return null;
    }
  }
}

const SYMBOL_MEANING: { readonly [prefix: string]: string } = {
  PSCI_: 'PSCI function id (SMCCC standard secure service; KVM answers it, spec D.3)',
  SMCCC_: 'SMCCC architecture function id (spec D.3)',
  KVM_HYP_: 'KVM vendor hypervisor service function id (spec D.3)',
  MMIO_GUARD_: 'MMIO guard hypercall (vendor hypervisor service; RFC, ids differ between postings, spec D.5/D.6)',
};

function predefinedHover(a: Analysis, name: string, range: Range): Hover {
  const v = nameIndex(a).predefined.get(name)!;
  const d = decodeFunctionId(Number(v & 0xffff_ffffn));
  const meaning = Object.entries(SYMBOL_MEANING).find(([k]) => name.startsWith(k))?.[1] ?? 'predefined symbol';
  const others = FLAVOUR_NAMES.filter((f) => f !== a.info.flavour.name).map((f) => {
    const x = predefinedSymbols(getFlavour(f)).get(name);
    return `${f}: ${x === undefined ? '—' : `\`${hex(x)}\``}`;
  });
  return md([
    `**${name}** = \`${hex(v)}\` in **${a.info.flavour.name}**`,
    '',
    meaning,
    '',
    `SMCCC: ${d.fast ? 'fast' : 'yielding'} call, ${d.smc64 ? 'SMC64/HVC64' : 'SMC32/HVC32'}, owner ${d.owner} (${d.ownerName}), function ${d.number} (spec D.1)`,
    '',
    `Other flavours: ${others.join(', ')}`,
  ].join('\n'), range);
}

function sysregHover(name: string, range: Range): Hover | null {
  const d = lookupSysreg(name);
  if (!d) return null;
  const lines = [`**${d.name}** — op0=${d.op0}, op1=${d.op1}, CRn=${d.crn}, CRm=${d.crm}, op2=${d.op2} (\`S${d.op0}_${d.op1}_C${d.crn}_C${d.crm}_${d.op2}\`), ${d.access === 'r' ? 'read-only' : d.access === 'w' ? 'write-only' : 'read/write'}`];
  const fields = Object.entries(d.fields ?? {});
  if (fields.length) {
    lines.push('', '| field | bits | mask |', '|---|---|---|');
    for (const [f, [msb, lsb]] of fields) lines.push(`| ${f} | [${msb}:${lsb}] | \`${hex(((1n << BigInt(msb - lsb + 1)) - 1n) << BigInt(lsb))}\` |`);
  }
  if (/^PM[SB]/.test(d.name)) lines.push('', 'SPE register (spec E.1)');
  return md(lines.join('\n'), range);
}

function registerHover(name: string, range: Range): Hover | null {
  if (vocabulary.CORE_REGISTERS.includes(name.toLowerCase())) {
    return md(`**${name}**: KVM core register (KVM_REG_ARM_CORE, LANGUAGE.md set_reg/get_reg)`, range);
  }
  return sysregHover(name, range);
}

// ------------------------------------------------------------------ guest code

interface AsmProgramView {
  readonly blocks: readonly { readonly base: bigint; readonly bytes: Uint8Array }[];
  readonly lines: readonly { readonly line: number; readonly addr: bigint; readonly size: number; readonly block: number }[];
  readonly labels: ReadonlyMap<string, bigint>;
}

function guestHover(a: Analysis, l: GuestLine, p: Position): Hover | null {
  if (l.label && p.character >= l.label.range.start.col && p.character <= l.label.range.end.col) return nameHover(a, l.label.text, l.label.range);
  if (l.mnemonic && p.character >= l.mnemonic.range.start.col && p.character <= l.mnemonic.range.end.col) return instructionHover(a, l);
  for (const t of guestOperandTokens(l)) {
    if (p.character < t.col || p.character > t.col + t.text.length) continue;
    const range: Range = { start: { line: l.range.start.line, col: t.col, offset: 0 }, end: { line: l.range.start.line, col: t.col + t.text.length, offset: 0 } };
    if (/^[0-9]/.test(t.text)) {
      const v = parseGuestNumber(t.text);
      return v === undefined ? null : md(numberForms(v), range);
    }
    if (isGpRegister(t.text)) return md(`**${t.text}**: general-purpose register (${/^w/i.test(t.text) ? '32-bit view' : '64-bit'})`, range);
    const h = nameHover(a, t.text, range);
    if (h) return h;
  }
  return l.mnemonic ? instructionHover(a, l) : null;
}

function parseGuestNumber(text: string): bigint | undefined {
  try {
    return BigInt(text.replace(/_/g, ''));
  } catch {
    return undefined;
  }
}

function instructionHover(a: Analysis, l: GuestLine): Hover | null {
  const mn = l.mnemonic!;
  const doc = mnemonicDoc(mn.text);
  const out: string[] = [`**${mn.text}**${doc ? ` — ${doc.operation}` : ''}`];
  const prog = a.info.program as unknown as AsmProgramView | undefined;
  // the assembler numbers lines from 1 (runner.ts wires it with assemblerLineBase 1)
  const entries = prog?.lines.filter((x) => x.line === l.range.start.line + 1) ?? [];
  if (prog && entries.length) {
    const byAddr = new Map<bigint, string>();
    for (const [n, v] of prog.labels) byAddr.set(v, n);
    for (const e of entries) {
      const b = prog.blocks[e.block];
      if (!b) continue;
      const off = Number(e.addr - b.base);
      const bytes = Array.from(b.bytes.slice(off, off + e.size));
      if (e.size === 4 && !mn.text.startsWith('.')) {
        const word = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
        out.push('', code(`${hexGrouped(e.addr)}:  ${word.toString(16).padStart(8, '0')}  ${disassemble(word, e.addr, (x) => byAddr.get(x)).replace(/\s+/g, ' ')}`, 'text'));
      } else if (e.size > 0) {
        const shown = bytes.slice(0, 16).map((x) => x.toString(16).padStart(2, '0')).join(' ');
        out.push('', code(`${hexGrouped(e.addr)}:  ${shown}${e.size > 16 ? ' …' : ''}  (${e.size} bytes)`, 'text'));
      }
    }
  } else if (a.diagnostics.some((d) => d.code === 'assemble' && d.range.start.line === l.range.start.line)) {
    out.push('', '_does not assemble (see the diagnostic)_');
  }
  if (/^(hvc|smc)$/i.test(mn.text)) out.push('', 'KVM handles the call by the function id in W0 (SMCCC, spec D.1–D.3).');
  if (/^(ldp|stp)$/i.test(mn.text)) out.push('', 'A stage 2 abort on a pair access has ISV = 0: outside memslots KVM cannot emulate it (ENOSYS or exit arm_nisv, spec C.5).');
  return md(out.join('\n'), mn.range);
}

// ------------------------------------------------------------------ host statements

/** the spec sections behind each statement form (form id or its prefix before '.') */
const FORM_SPEC: readonly (readonly [string, string])[] = [
  ['memslot', 'A.1, A.2'], ['set_memory_region', 'A.1, A.2'], ['get_dirty_log', 'A.5'], ['lock', 'E.3'], ['unlock', 'E.3'],
  ['enable_cap', 'G, E.3'], ['check_extension', 'G'], ['vcpu_init', 'F'], ['set_reg', 'F'], ['get_reg', 'F'], ['spe_attr', 'E.5'],
  ['run', 'C.4, C.5, F'], ['join', 'F'], ['mmio_reply', 'C.5, G.2'], ['inject_ext_dabt', 'G.4'], ['unmap_host', 'B.5'],
  ['pgtable', 'B.5'], ['pgtable_map', 'B.5'], ['pgtable_unmap', 'B.5'], ['pgtable_set_owner', 'B.8'], ['pgtable_annotate', 'B.8'],
  ['pkvm_mark_hyp', 'B.8'], ['host_access', 'B.8'], ['expect.stage2', 'B.3'], ['expect.pte', 'B.3'], ['expect.pending_ops', 'E.4'],
  ['expect.locked_vm', 'E.3#8'], ['expect.memslot', 'A.6, E.3'],
];

function resolved(a: Analysis, s: HostStatement): ResolvedStatement | undefined {
  return a.info.statements.find((r) => r.statement === s);
}

function valueText(v: bigint | undefined): string {
  if (v === undefined) return '(known at run time)';
  return v < 10n ? `${v}` : `${hexGrouped(v)}${sizeForm(v) ? ` (${sizeForm(v)})` : ''}`;
}

function statementHover(a: Analysis, s: HostStatement, range: Range): Hover | null {
  const form = vocabulary.FORM_BY_ID.get(s.form);
  if (!form) {
    const forms = vocabulary.FORMS_BY_KEYWORD.get(s.keyword.text) ?? [];
    return forms.length ? md(forms.map((f) => code(f.syntax) + '\n' + f.doc).join('\n\n'), range) : null;
  }
  const r = resolved(a, s);
  const spec = FORM_SPEC.find(([prefix]) => s.form === prefix || s.form.startsWith(prefix + '.'))?.[1];
  const lines = [code(form.syntax), '', form.doc + (spec && !form.doc.includes('spec ') ? ` (spec ${spec})` : '')];
  const args = r ? [...r.values.entries()] : [];
  if (args.length) {
    lines.push('', '| argument | value |', '|---|---|');
    for (const [k, v] of args) lines.push(`| ${k} | \`${valueText(v)}\` |`);
  }
  const ioctl = ioctlDetail(a, s, r);
  if (ioctl) lines.push('', ioctl);
  if (form.id === 'lock' || form.id === 'unlock' || form.id === 'unlock.all') lines.push('', lockRules(form.id === 'lock'));
  if (form.ioctl) {
    const pr = prediction(a, s);
    if (pr) lines.push('', `**Here:** ${pr}`);
  }
  return md(lines.join('\n'), range);
}

/** the C struct the statement fills, with the resolved values */
function ioctlDetail(a: Analysis, s: HostStatement, r: ResolvedStatement | undefined): string | undefined {
  const v = (k: string) => valueText(r?.values.get(k));
  const flags = (s.args.some((x) => x.kind === 'flag' && x.word.text === 'dirty_log') ? 1 : 0) | (s.args.some((x) => x.kind === 'flag' && x.word.text === 'readonly') ? 2 : 0);
  const lock = a.info.flavour.lock;
  switch (s.form) {
    case 'memslot':
      return `\`KVM_SET_USER_MEMORY_REGION\` (spec A.1, A.2): \`{ slot = ${v('slot')}, flags = ${flags}, guest_phys_addr = ${v('gpa')}, memory_size = ${v('size')}, userspace_addr = ${s.args.some((x) => x.kind === 'option' && x.key.text === 'hva') ? v('hva') : '(the VMM\'s mapping)'} }\``;
    case 'memslot.delete':
      return `\`KVM_SET_USER_MEMORY_REGION\` with \`memory_size = 0\` (delete, spec A.2#8)`;
    case 'lock': {
      const rw = (s.args.some((x) => x.kind === 'flag' && x.word.text === 'read') ? 1 : 0) | (s.args.some((x) => x.kind === 'flag' && x.word.text === 'write') ? 2 : 0);
      return lock
        ? `\`KVM_ENABLE_CAP\` (spec E.3): \`{ cap = ${lock.cap} (KVM_CAP_ARM_LOCK_USER_MEMORY_REGION in ${a.info.flavour.name}), flags = 1 (FLAGS_LOCK), args = [${v('slot')}, ${rw} (${['', 'READ', 'WRITE', 'READ|WRITE'][rw] || '0'}), 0, 0] }\``
        : `${a.info.flavour.name} has no memslot lock API (spec E.3)`;
    }
    case 'unlock':
    case 'unlock.all':
      return lock ? `\`KVM_ENABLE_CAP\` (spec E.3): \`{ cap = ${lock.cap}, flags = 2 (FLAGS_UNLOCK), args = [${s.form === 'unlock' ? v('slot') : 0}, ${s.form === 'unlock.all' ? '1 (UNLOCK_MEM_ALL)' : 0}, 0, 0] }\`` : undefined;
    default:
      return undefined;
  }
}

function rulesTable(rules: readonly ErrnoRule[]): string {
  return ['| rule | errno | when |', '|---|---|---|', ...rules.map((r) => `| spec ${r.rule} | ${r.errno} | ${r.text} |`)].join('\n');
}

function lockRules(lock: boolean): string {
  const rules = rulesWithPrefix('E.3#').filter((r) => lock ? !r.rule.includes('unlock') : r.rule.includes('unlock') || r.rule === 'E.3#args' || r.rule === 'E.3#flags');
  return `**${lock ? 'LOCK' : 'UNLOCK'} rules, in check order (spec E.3)**\n\n${rulesTable(rules)}`;
}

const predictionCache = new WeakMap<Analysis, Map<HostStatement, string | undefined>>();
const PREDICTION = /^this fails with (E[A-Z]+) \(spec ([^)]+)\): (.*?)(?:, not `[^`]*`)?$/;

/** what the checker predicts for this statement: "EPERM (spec E.3#6): …" or "succeeds (0)" */
export function prediction(a: Analysis, s: HostStatement): string | undefined {
  let m = predictionCache.get(a);
  if (!m) predictionCache.set(a, (m = new Map()));
  if (m.has(s)) return m.get(s);
  const own = (diags: Analysis['diagnostics']): string | undefined => {
    for (const d of diags) {
      if (d.severity !== 'warning' || d.range.start.line < s.range.start.line || d.range.start.line > s.range.end.line) continue;
      const x = PREDICTION.exec(d.message);
      if (x) return `returns **${x[1]}** (spec ${x[2]}): ${x[3]}`;
    }
    return undefined;
  };
  let out = own(a.diagnostics);
  if (!out && s.result?.result.kind === 'errno') {
    // `=> EXXX` as predicted hides the warning: ask the checker again without this line's result
    // Predictions depend only on the statements before: keep the text up to this statement (its result blanked)
    // and from the host block's closing brace on (guest blocks after the host block still define labels).
    const r = s.result.range;
    const host = a.ast.host!;
    const tail = host.range.end.offset > s.range.end.offset && a.text[host.range.end.offset - 1] === '}' ? a.text.slice(host.range.end.offset - 1) : '';
    const text = a.text.slice(0, r.start.offset) + ' '.repeat(r.end.offset - r.start.offset) + a.text.slice(r.end.offset, s.range.end.offset) + '\n' + tail;
    const again = analyseScenario(text, a.info.flavourSource === 'override' ? a.info.flavour.name : undefined, { maxAssemblerDiagnostics: MAX_ASSEMBLER_DIAGNOSTICS });
    out = own(again.diagnostics);
    if (!out) out = `the checker predicts success here, not ${s.result.result.name} (values it cannot decide are not predicted)`;
  }
  if (!out) {
    const r = resolved(a, s);
    const unknown = r ? [...r.values.values()].some((v) => v === undefined) : true;
    out = unknown ? 'not predicted: an argument is known only at run time'
      : s.form === 'run' || s.form === 'join' ? 'no errno predicted; how KVM_RUN returns depends on the guest code'
      : 'succeeds (returns 0), as far as the checker can tell';
  }
  m.set(s, out);
  return out;
}

function errnoHover(name: string, range: Range, r: ResolvedStatement | undefined, here: string | undefined): Hover {
  const n = (ERRNO as { readonly [k: string]: number })[name];
  const rules = rulesForErrno(name);
  const lines = [`**${name}**${n !== undefined ? ` (-${n})` : ''}`];
  if (rules.length) lines.push('', 'Produced by:', '', rulesTable(rules));
  if (r?.form?.id === 'lock') lines.push('', 'For `lock`: see the E.3 table (hover `lock`).');
  if (here) lines.push('', `**Here:** ${here}`);
  return md(lines.join('\n'), range);
}

function optionHover(a: Analysis, s: HostStatement, key: string, range: Range): Hover | null {
  const form = vocabulary.FORM_BY_ID.get(s.form);
  if (form?.freeOptions === 'register') return registerHover(key, range);
  if (form?.freeOptions === 'event-field') {
    const kind = s.args.find((x) => x.kind === 'word' && x.role === 'kind');
    const k = kind && kind.kind === 'word' ? kind.word.text : '';
    const t = (vocabulary.EVENT_FIELDS as { readonly [k: string]: { readonly [f: string]: string } })[k]?.[key] ?? vocabulary.COMMON_EVENT_FIELDS[key];
    return t ? md(`\`${k}\` event field \`${key}\`: ${t} (LANGUAGE.md "Trace events")`, range) : null;
  }
  const spec = form?.options?.find((o) => o.key === key);
  if (!spec) return null;
  const r = resolved(a, s);
  const v = r?.values.get(key);
  return md(`\`${key}=\`${spec.required ? ' (required)' : ''}${spec.words ? `: one of ${spec.words.map((w) => `\`${w}\``).join(', ')}` : ''}${v !== undefined ? `\n\n${numberForms(v)}` : ''}\n\n${code(form!.syntax)}`, range);
}

function wordHover(a: Analysis, s: HostStatement, word: string, range: Range, role: string): Hover | null {
  if (role === 'reg') return registerHover(word, range);
  if (role === 'kind') {
    const fields = (vocabulary.EVENT_FIELDS as { readonly [k: string]: { readonly [f: string]: string } })[word];
    if (!fields) return null;
    return md(`**${word}** event — fields: ${Object.entries(fields).map(([f, t]) => `\`${f}\` (${t})`).join(', ')}; every event also has \`vcpu\`, \`seq\` (LANGUAGE.md "Trace events")`, range);
  }
  if (role === 'name' || role === 'table') {
    const d = a.info.pgtables.get(word);
    return md(`**pgtable** \`${word}\`${d ? ` declared on line ${d.start.line + 1}` : ''}: a standalone stage 2 page table (spec B)`, range);
  }
  if (role === 'cap' || word.startsWith('KVM_CAP_')) return capHover(a, word, range);
  return null;
}

function capHover(a: Analysis, name: string, range: Range): Hover | null {
  const n = a.info.flavour.caps[name];
  const others = FLAVOUR_NAMES.map((f) => `${f}: ${getFlavour(f).caps[name] ?? '—'}`).join(', ');
  return md(`**${name}** = ${n ?? '—'} in ${a.info.flavour.name}\n\nAll flavours: ${others}`, range);
}

function flagHover(s: HostStatement, word: string, range: Range): Hover | null {
  if (s.form === 'lock' && (word === 'read' || word === 'write')) {
    return md(word === 'read' ? '`KVM_ARM_LOCK_MEM_READ` (1 << 0): mandatory (spec E.3#2)' : '`KVM_ARM_LOCK_MEM_WRITE` (1 << 1): map writable; EPERM for a read-only or dirty-logging memslot (spec E.3#6)', range);
  }
  if (word === 'readonly') return md('`KVM_MEM_READONLY` (1 << 1): guest writes exit as `exit mmio` (spec A.1, G.5)', range);
  if (word === 'dirty_log') return md('`KVM_MEM_LOG_DIRTY_PAGES` (1 << 0): the slot is write-protected and writes are logged (spec A.5, G.1)', range);
  return null;
}

function flavourHover(name: string, range: Range): Hover | null {
  if (!(FLAVOUR_NAMES as readonly string[]).includes(name)) return null;
  const f = getFlavour(name as (typeof FLAVOUR_NAMES)[number]);
  const lines = [
    `**${f.name}** — ${f.base}`, '',
    `- memslots: ${f.memSlotsNum} (spec A.3)`,
    `- memslot lock API: ${f.lock ? `cap ${f.lock.cap} (spec E.3)` : 'no'}`,
    `- SPE: ${f.spe ? `cap ${f.spe.cap} (spec E.5)` : 'no'}`,
    `- MMIO guard: ${f.mmioGuard ? `cap ${f.mmioGuard.cap} (spec D.5)` : 'no'}`,
    `- protected mode: ${f.protectedMode ?? 'no'}`,
  ];
  if (f.quirks.length) lines.push('', ...f.quirks.map((q) => `- ${q}`));
  return md(lines.join('\n'), range);
}

function topKeywordDoc(word: string): string {
  switch (word) {
    case 'scenario': return '`scenario "TITLE"`: the scenario\'s name (LANGUAGE.md)';
    case 'const': return '`const NAME = EXPR`: a constant usable in every expression and in guest code';
    case 'machine': return '`machine { KEY VALUE … }`: the VM and host configuration (flavour, ipa_bits, page_size, vcpus, …)';
    case 'guest': return '`guest at IPA { … }`: A64 code (GNU as syntax), loaded into memslots by the first vcpu_init';
    case 'host': return '`host { … }`: the VMM\'s statements in order; `=> RESULT` states what each returns';
    default: return word;
  }
}
