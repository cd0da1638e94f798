// Completion (issue 6 item 3), by context: top-level keywords; `machine` keys and their values; mnemonics,
// directives, registers, system registers, labels, constants and predefined symbols in `guest`; statement
// keywords, their words, flags and `key=` options, option values, memslot ids, errno names after `=>`, event
// kinds and fields after `expect event`, in `host`; snippets for the common shapes (memslot, lock, run with an
// expectation).
//
// The context comes from the current text (a backwards scan for the enclosing block and the words before the
// cursor), never from a fresh analysis: while the user types, names come from the latest analysis, so a
// completion costs no parse (latency target 30 ms on a 5,000-line scenario).

import {
  CompletionItemKind, InsertTextFormat, type CompletionItem, type Position, type Range as LspRange,
} from 'vscode-languageserver';
import { vocabulary } from '../emulator/scenario';
import { predefinedSymbols } from '../emulator/arch/smccc';
import { SYSREGS, SYS_OPS, speFieldSymbols } from '../emulator/arch/sysregs';
import { FLAVOUR_NAMES } from '../emulator/kvm/flavours';
import type { Analysis } from './documents';
import { DIRECTIVES, MNEMONICS } from './mnemonics';
import { hex, hexGrouped } from './positions';
import { rulesForErrno } from './errnoRules';

export const COMPLETION_TRIGGERS = ['=', ' ', '.', ',', '#'];

type Block = 'top' | 'machine' | 'guest' | 'host';

/** the block the cursor is in, by a backwards brace scan; `prefix` is the line's text before the cursor inside it */
export function contextAt(lines: readonly string[], p: Position): { block: Block; prefix: string } {
  const cur = (lines[p.line] ?? '').slice(0, p.character);
  let depth = 0;
  for (let i = p.line; i >= 0 && i > p.line - 50_000; i--) {
    const raw = i === p.line ? cur : lines[i] ?? '';
    const text = raw.replace(/"(?:[^"\\]|\\.)*"?/g, (m) => ' '.repeat(m.length)).replace(/\/\/.*$/, '');
    for (let j = text.length - 1; j >= 0; j--) {
      const c = text[j];
      if (c === '}') depth++;
      else if (c === '{') {
        if (depth > 0) { depth--; continue; }
        const head = /\b(machine|guest|host)\b[^{]*$/.exec(text.slice(0, j));
        const block: Block = head ? (head[1] as Block) : 'top';
        return { block, prefix: i === p.line ? cur.slice(j + 1) : cur };
      }
    }
  }
  return { block: 'top', prefix: cur };
}

// ------------------------------------------------------------------ static item lists

const kw = (label: string, detail?: string, doc?: string): CompletionItem => ({ label, kind: CompletionItemKind.Keyword, detail, documentation: doc });
const snippet = (label: string, body: string, detail: string): CompletionItem => ({ label, kind: CompletionItemKind.Snippet, insertText: body, insertTextFormat: InsertTextFormat.Snippet, detail });

const TOP_ITEMS: CompletionItem[] = [
  ...vocabulary.TOP_LEVEL_KEYWORDS.map((k) => kw(k)),
  snippet('scenario "…"', 'scenario "${1:title}"', 'the scenario title'),
  snippet('machine { … }', 'machine {\n    flavour ${1|' + FLAVOUR_NAMES.join(',') + '|}\n}', 'machine block'),
  snippet('guest at … { … }', 'guest at ${1:0x4000_0000} {\n${2:start}:\n    $0\n}', 'guest code block'),
  snippet('host { … }', 'host {\n    memslot 0 gpa=${1:0x4000_0000} size=${2:2M}\n    vcpu_init 0\n    $0\n}', 'host block'),
  snippet('const NAME = …', 'const ${1:NAME} = ${2:0}', 'constant'),
];

const HOST_SNIPPETS: CompletionItem[] = [
  snippet('memslot ID gpa= size=', 'memslot ${1:0} gpa=${2:0x4000_0000} size=${3:2M}', 'create a memslot (KVM_SET_USER_MEMORY_REGION)'),
  snippet('lock ID read write => …', 'lock ${1:0} read${2: write}${3: => ${4|ok,EINVAL,EPERM,EBUSY,ENOMEM,EAGAIN|}}', 'lock a memslot (spec E.3)'),
  snippet('run N => exit …', 'run ${1:0} => exit ${2|mmio,system_event,arm_nisv,guest_exception|}', 'run a vcpu and state how KVM_RUN returns'),
  snippet('run N + expect event', 'run ${1:0}${2: steps=${3:1000}}\nexpect event ${4|' + vocabulary.EVENT_KINDS.join(',') + '|}$0', 'run a vcpu, then expect an event'),
  snippet('expect event KIND …', 'expect event ${1|' + vocabulary.EVENT_KINDS.join(',') + '|} $0', 'expect a trace event'),
];

const HOST_KEYWORD_ITEMS: CompletionItem[] = vocabulary.HOST_STATEMENT_KEYWORDS.map((k) => {
  const forms = vocabulary.FORMS_BY_KEYWORD.get(k) ?? [];
  return { label: k, kind: CompletionItemKind.Keyword, detail: forms[0]?.doc, documentation: { kind: 'markdown', value: forms.map((f) => '`' + f.syntax + '`').join('\n\n') } };
});

const ERRNO_ITEMS: CompletionItem[] = vocabulary.ERRNOS.map((e) => ({
  label: e, kind: CompletionItemKind.EnumMember,
  detail: rulesForErrno(e).slice(0, 4).map((r) => r.rule).join(', ') || 'errno',
}));

const MNEMONIC_ITEMS: CompletionItem[] = [
  ...MNEMONICS.map((m) => ({ label: m.name, kind: CompletionItemKind.Keyword, detail: m.operation, documentation: m.example })),
  ...['ne', 'cs', 'hs', 'cc', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al'].map((c) => ({ label: `b.${c}`, kind: CompletionItemKind.Keyword, detail: 'conditional branch' })),
  ...DIRECTIVES.map((d) => ({ label: d.name, kind: CompletionItemKind.Keyword, detail: d.operation, documentation: d.example })),
];

const GP_REGISTERS: CompletionItem[] = [
  ...Array.from({ length: 31 }, (_, i) => `x${i}`), ...Array.from({ length: 31 }, (_, i) => `w${i}`), 'sp', 'wsp', 'xzr', 'wzr', 'lr',
].map((r) => ({ label: r, kind: CompletionItemKind.Variable, detail: 'register' }));

const SYSREG_ITEMS: CompletionItem[] = SYSREGS.map((d) => ({
  label: d.name.toLowerCase(), kind: CompletionItemKind.Variable,
  detail: `S${d.op0}_${d.op1}_C${d.crn}_C${d.crm}_${d.op2}${d.access === 'r' ? ' (read-only)' : d.access === 'w' ? ' (write-only)' : ''}`,
}));

const SYSOP_ITEMS = (mn: string): CompletionItem[] => SYS_OPS.filter((o) => o.name.startsWith(mn.toUpperCase() + ' ')).map((o) => ({
  label: o.name.slice(mn.length + 1).toLowerCase(), kind: CompletionItemKind.EnumMember, detail: o.name,
}));

const BARRIERS = ['sy', 'st', 'ld', 'ish', 'ishst', 'ishld', 'nsh', 'nshst', 'nshld', 'osh', 'oshst', 'oshld'].map((b) => ({ label: b, kind: CompletionItemKind.EnumMember, detail: 'barrier option' }));

const SPE_FIELDS = speFieldSymbols();

const REGISTER_ITEMS: CompletionItem[] = [
  ...vocabulary.CORE_REGISTERS.map((r) => ({ label: r, kind: CompletionItemKind.Variable, detail: 'core register' })),
  ...SYSREG_ITEMS,
];

// ------------------------------------------------------------------ names from the analysis

function nameItems(a: Analysis | undefined, withSpeFields = true): CompletionItem[] {
  if (!a) return [];
  const out: CompletionItem[] = [];
  for (const [n, v] of a.info.constants) out.push({ label: n, kind: CompletionItemKind.Constant, detail: v === undefined ? 'const' : `const = ${hex(v)}` });
  for (const n of a.info.labelDefinitions.keys()) {
    const v = a.info.labels.get(n);
    out.push({ label: n, kind: CompletionItemKind.Reference, detail: v === undefined ? 'label' : `label at ${hexGrouped(v)}` });
  }
  for (const [n, v] of predefinedSymbols(a.info.flavour)) out.push({ label: n, kind: CompletionItemKind.EnumMember, detail: `${hex(v)} in ${a.info.flavour.name}` });
  if (withSpeFields) for (const [n, v] of SPE_FIELDS) out.push({ label: n, kind: CompletionItemKind.EnumMember, detail: `SPE field mask ${hex(v)} (spec E.1)` });
  return out;
}

function memslotItems(a: Analysis | undefined): CompletionItem[] {
  if (!a) return [];
  const seen = new Set<bigint>();
  const out: CompletionItem[] = [];
  for (const m of a.info.memslots) {
    if (seen.has(m.slot)) continue;
    seen.add(m.slot);
    out.push({
      label: m.slot.toString(), kind: CompletionItemKind.Value, sortText: `0${m.slot.toString().padStart(6, '0')}`,
      detail: m.gpa !== undefined && m.size !== undefined ? `memslot [${hexGrouped(m.gpa)}, ${hexGrouped(m.gpa + m.size)})` : 'memslot',
    });
  }
  return out;
}

function capItems(a: Analysis | undefined): CompletionItem[] {
  if (!a) return [];
  return Object.entries(a.info.flavour.caps).map(([n, v]) => ({ label: n, kind: CompletionItemKind.Constant, detail: `${v} in ${a.info.flavour.name}` }));
}

const words = (ws: readonly string[], kind: CompletionItemKind, detail?: string): CompletionItem[] => ws.map((w) => ({ label: w, kind, detail }));

// ------------------------------------------------------------------ per block

function machineItems(prefix: string): CompletionItem[] {
  const ws = prefix.trim() === '' ? [] : prefix.trim().split(/\s+/);
  const typing = /\S$/.test(prefix);
  const complete = typing ? ws.slice(0, -1) : ws;
  if (complete.length % 2 === 0) {
    return vocabulary.MACHINE_KEYS.map((k) => ({ label: k.key, kind: CompletionItemKind.Property, detail: k.doc, documentation: `default: ${k.default}` }));
  }
  const spec = vocabulary.MACHINE_KEY_MAP.get(complete[complete.length - 1]);
  if (!spec) return [];
  if (spec.words) return words(spec.words, spec.key === 'flavour' ? CompletionItemKind.EnumMember : CompletionItemKind.Value, spec.doc);
  if (spec.sizes) return words(['4K', '16K', '64K'], CompletionItemKind.Value, spec.doc);
  return [];
}

function guestItems(prefix: string, a: Analysis | undefined): CompletionItem[] {
  const code = prefix.replace(/^\s*[A-Za-z_.$][A-Za-z0-9_.$]*\s*:/, '');
  const m = /^\s*([A-Za-z_.][A-Za-z0-9_.]*)(\s+.*)?$/.exec(code);
  if (!m || m[2] === undefined) return MNEMONIC_ITEMS; // the first word: a mnemonic or a directive
  const mn = m[1].toLowerCase();
  const operands = m[2];
  if (mn === 'msr' || mn === 'mrs') return [...SYSREG_ITEMS, ...GP_REGISTERS, ...words(['daifset', 'daifclr', 'spsel'], CompletionItemKind.Variable, 'PSTATE field')];
  if (['dc', 'ic', 'at', 'tlbi'].includes(mn) && !operands.includes(',')) return SYSOP_ITEMS(mn);
  if (mn === 'dsb' || mn === 'dmb') return BARRIERS;
  if (/[#=]\s*[A-Za-z_0-9]*$/.test(operands)) return nameItems(a);
  return [...GP_REGISTERS, ...nameItems(a)];
}

function hostItems(prefix: string, a: Analysis | undefined): CompletionItem[] {
  const trimmed = prefix.replace(/^\s+/, '');
  const firstWord = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(trimmed)?.[1];
  if (!firstWord || /^[A-Za-z_][A-Za-z0-9_]*$/.test(trimmed)) return [...HOST_KEYWORD_ITEMS, ...HOST_SNIPPETS];
  const forms = vocabulary.FORMS_BY_KEYWORD.get(firstWord) ?? [];
  // after `=>`
  const arrow = trimmed.indexOf('=>');
  if (arrow >= 0) {
    const after = trimmed.slice(arrow + 2).trim().split(/\s+/).filter(Boolean);
    const typing = /\S$/.test(prefix);
    const done = typing ? after.slice(0, -1) : after;
    if (done[0] === 'exit') {
      if (done.length === 1) return words(vocabulary.EXIT_REASONS, CompletionItemKind.EnumMember, 'KVM_RUN exit reason');
      const reason = done[1];
      if (reason === 'system_event') return words(vocabulary.SYSTEM_EVENT_TYPES, CompletionItemKind.EnumMember);
      return [...words((vocabulary.EXIT_OPTIONS[reason] ?? []).map((o) => `${o}=`), CompletionItemKind.Property), ...(reason === 'mmio' ? words(['read', 'write'], CompletionItemKind.Keyword) : [])];
    }
    if (done.length > 0) return nameItems(a);
    const kinds = new Set(forms.flatMap((f) => f.results));
    const out: CompletionItem[] = [];
    if (kinds.size === 0 || kinds.has('ok')) out.push(kw('ok', 'the ioctl returns 0'));
    if (kinds.size === 0 || kinds.has('errno')) out.push(...ERRNO_ITEMS);
    if (kinds.has('exit')) out.push(kw('exit', 'KVM_RUN returned to userspace'));
    if (kinds.has('pages')) out.push(snippet('pages […]', 'pages [$1]', 'dirty pages'));
    if (kinds.has('hyp_panic')) out.push(kw('hyp_panic'));
    if (kinds.has('value')) out.push(...nameItems(a, false));
    return out;
  }
  // `key=value` being typed
  const opt = /([A-Za-z_][A-Za-z0-9_]*)=([^\s=]*)$/.exec(trimmed);
  if (opt) return optionValueItems(firstWord, opt[1], trimmed, a);
  const ws = trimmed.trim().split(/\s+/).filter(Boolean);
  const typing = /\S$/.test(prefix);
  const done = typing ? ws.slice(0, -1) : ws; // complete words, the keyword first
  const pos = done.length; // index of the word being typed
  if (firstWord === 'expect') {
    if (pos === 1) return words(vocabulary.EXPECT_WORDS, CompletionItemKind.Keyword, 'expect form');
    const what = done[1];
    const eventForm = what === 'event' || what === 'total' || (what === 'no' && done[2] === 'event');
    if (what === 'no' && pos === 2) return [kw('event')];
    if (eventForm) {
      const kindAt = what === 'no' ? 3 : 2;
      if (pos === kindAt) return words(vocabulary.EVENT_KINDS, CompletionItemKind.Event, 'trace event kind');
      const kind = done[kindAt] as keyof typeof vocabulary.EVENT_FIELDS;
      const fields = { ...(vocabulary.EVENT_FIELDS[kind] ?? {}), ...vocabulary.COMMON_EVENT_FIELDS };
      const items: CompletionItem[] = Object.entries(fields).map(([f, t]) => ({ label: `${f}=`, kind: CompletionItemKind.Field, detail: `${kind} field (${t})` }));
      if (what === 'total') items.push(...words(['==', '<', '<=', '>', '>='], CompletionItemKind.Operator));
      return items;
    }
    if (what === 'memslot' && pos === 2) return memslotItems(a);
    if (what === 'reg' && pos === 3) return REGISTER_ITEMS;
  }
  if (['memslot', 'lock', 'unlock', 'get_dirty_log'].includes(firstWord) && pos === 1) {
    return [...memslotItems(a), ...(firstWord === 'unlock' ? [kw('all', 'FLAGS_UNLOCK + UNLOCK_MEM_ALL')] : [])];
  }
  if ((firstWord === 'enable_cap' || firstWord === 'check_extension') && pos === 1) return capItems(a);
  if (firstWord === 'get_reg' && pos === 2) return REGISTER_ITEMS;
  if (firstWord === 'set_reg' && pos >= 2) return REGISTER_ITEMS.map((r) => ({ ...r, label: `${r.label}=` }));
  // the words, flags and options of the statement's forms
  const out: CompletionItem[] = [];
  const seen = new Set<string>();
  const add = (label: string, kind: CompletionItemKind, detail?: string) => {
    if (seen.has(label) || done.includes(label) || done.some((w) => w.startsWith(label) && label.endsWith('='))) return;
    seen.add(label);
    out.push({ label, kind, detail });
  };
  for (const f of forms) {
    const walk = (parts: readonly vocabulary.PartSpec[]) => {
      for (const part of parts) {
        if (part.t === 'word' || part.t === 'wordseq') for (const w of part.words) add(w, CompletionItemKind.Keyword, f.syntax);
        if (part.t === 'opt') walk(part.parts);
      }
    };
    walk(f.parts);
    for (const fl of f.flags ?? []) add(fl, CompletionItemKind.Keyword, f.syntax);
    for (const o of f.options ?? []) add(`${o.key}=`, CompletionItemKind.Property, `${f.syntax}${o.required ? ' (required)' : ''}`);
  }
  if (forms.some((f) => f.background)) add('&', CompletionItemKind.Operator, 'run in the background');
  if (forms.some((f) => f.results.length > 0)) add('=>', CompletionItemKind.Operator, 'state the result');
  return [...out, ...nameItems(a)];
}

function optionValueItems(keyword: string, key: string, trimmed: string, a: Analysis | undefined): CompletionItem[] {
  const forms = vocabulary.FORMS_BY_KEYWORD.get(keyword) ?? [];
  const spec = forms.flatMap((f) => f.options ?? []).find((o) => o.key === key);
  if (spec?.words) return words(spec.words, CompletionItemKind.EnumMember, `${key}=`);
  if (keyword === 'expect') {
    const vals = vocabulary.EVENT_FIELD_VALUES[key];
    if (vals) return words(vals, CompletionItemKind.EnumMember, `${key}=`);
    if (key === 'fn') return nameItems(a, false).filter((i) => i.kind === CompletionItemKind.EnumMember);
    const ws = trimmed.split(/\s+/);
    const kind = ws[1] === 'no' ? ws[3] : ws[2];
    const t = (vocabulary.EVENT_FIELDS as { readonly [k: string]: { readonly [f: string]: string } })[kind ?? '']?.[key];
    if (t === 'bool') return words(['true', 'false'], CompletionItemKind.Value);
    if (key === 'perm') return words(vocabulary.S2_PERMS, CompletionItemKind.EnumMember, 'perm=');
  }
  if (key === 'pc') return nameItems(a, false).filter((i) => i.kind === CompletionItemKind.Reference);
  return nameItems(a);
}

/** the range of the word being typed (names with `-` and `.` included) */
function wordRange(lines: readonly string[], p: Position): LspRange {
  const before = (lines[p.line] ?? '').slice(0, p.character);
  const m = /[A-Za-z0-9_.$-]*$/.exec(before);
  const start = p.character - (m ? m[0].length : 0);
  return { start: { line: p.line, character: start }, end: p };
}

export function completion(text: string, p: Position, a: Analysis | undefined): CompletionItem[] {
  const lines = text.split('\n');
  const { block, prefix } = contextAt(lines, p);
  let items: CompletionItem[];
  switch (block) {
    case 'machine': items = machineItems(prefix); break;
    case 'guest': items = guestItems(prefix, a); break;
    case 'host': items = hostItems(prefix, a); break;
    default:
      items = /^\s*const\s+[A-Za-z_][A-Za-z0-9_]*\s*=/.test(prefix) ? nameItems(a) : TOP_ITEMS;
  }
  const range = wordRange(lines, p);
  const typed = (lines[p.line] ?? '').slice(range.start.character, p.character);
  return items.map((i) => {
    if (i.insertTextFormat === InsertTextFormat.Snippet) return i;
    // replace the whole typed word (names contain `-` and `.`, which editors do not treat as word characters)
    const label = i.label;
    if (typed && !label.toLowerCase().startsWith(typed.toLowerCase().replace(/^.*[=,]/, ''))) return i;
    return { ...i, textEdit: { range, newText: i.insertText ?? label }, filterText: label };
  });
}
