// Every word of the `.kvms` language, by context, as data: the parser is driven by HOST_FORMS and
// MACHINE_KEYS, and the language server's completion/hover and the TextMate grammar tests read the same
// tables. LANGUAGE.md is the source; a form listed there is listed here exactly (forms may be added, never changed).

import { EVENT_KINDS, type EventKind } from '../events';
import { ERRNO_NAMES } from '../kvm/errno';
import { FLAVOUR_NAMES } from '../kvm/flavours';
import type { CompareOp, ResultKind } from './ast';

export const TOP_LEVEL_KEYWORDS = ['scenario', 'const', 'machine', 'guest', 'host'] as const;

// ---------------------------------------------------------------- machine keys

export interface MachineKeySpec {
  readonly key: string;
  /** 'expr': a number expression; 'name': NAME-with-dash; 'words': one of `words` */
  readonly value: 'expr' | 'name' | 'words';
  readonly words?: readonly string[];
  /** for 'expr' keys whose values are a fixed set of sizes (page_size) */
  readonly sizes?: readonly bigint[];
  readonly default: string;
  /** a feature key: in a flavour without the feature it is a warning (LANGUAGE.md `machine`) */
  readonly feature?: 'spe' | 'mmioGuard' | 'protectedMode';
  readonly doc: string;
}

export const MACHINE_KEYS: readonly MachineKeySpec[] = [
  { key: 'flavour', value: 'name', words: FLAVOUR_NAMES, default: 'spe-rfc-v5', doc: 'kernel behaviour table' },
  { key: 'ipa_bits', value: 'expr', default: '40', doc: 'VM IPA size (KVM_CREATE_VM type); 32..48 (52 with 64K pages)' },
  { key: 'page_size', value: 'expr', sizes: [4096n, 16384n, 65536n], default: '4K', doc: 'host PAGE_SIZE: 4K, 16K or 64K; the stage 2 granule follows it' },
  { key: 'vcpus', value: 'expr', default: '1', doc: 'vcpus created' },
  { key: 'memlock', value: 'expr', default: 'unlimited', doc: "the VMM's RLIMIT_MEMLOCK in bytes (locking counts against it)" },
  { key: 'fwb', value: 'words', words: ['on', 'off'], default: 'off', doc: 'FEAT_S2FWB' },
  { key: 'gic', value: 'words', words: ['v3', 'none'], default: 'v3', doc: 'an in-kernel vGICv3' },
  { key: 'spe', value: 'words', words: ['on', 'off'], default: 'on', feature: 'spe', doc: 'SPE implemented' },
  { key: 'spe_irq', value: 'expr', default: '21', doc: "the SPE buffer interrupt's INTID" },
  { key: 'mmio_guard', value: 'words', words: ['on', 'off'], default: 'on', feature: 'mmioGuard', doc: 'MMIO guard hypercalls available' },
  { key: 'nisv_to_user', value: 'words', words: ['on', 'off'], default: 'off', doc: 'KVM_CAP_ARM_NISV_TO_USER enabled at VM creation' },
  { key: 's1_tables', value: 'expr', default: '(none)', doc: 'IPA where `s1map` builds guest stage 1 tables (inside a memslot)' },
  { key: 'guest_exceptions', value: 'words', words: ['deliver', 'stop'], default: 'deliver', doc: '`stop`: a guest exception ends the run' },
  { key: 'mode', value: 'words', words: ['normal', 'protected'], default: 'normal', feature: 'protectedMode', doc: '`protected`: pKVM host stage 2' },
];

export const MACHINE_KEY_MAP: ReadonlyMap<string, MachineKeySpec> = new Map(MACHINE_KEYS.map((k) => [k.key, k]));

// ---------------------------------------------------------------- host statement forms

export type PartSpec =
  /** an expression; `noAnd`: stops before a top-level `&` (the address of `expect pte … A & MASK`) */
  | { readonly t: 'expr'; readonly role: string; readonly noAnd?: boolean }
  /** exactly one of `words` */
  | { readonly t: 'word'; readonly role: string; readonly words: readonly string[] }
  /** a name: identifier, or NAME-with-dash when `dash` (event KIND) */
  | { readonly t: 'name'; readonly role: string; readonly dash?: boolean }
  | { readonly t: 'string'; readonly role: string }
  /** `[expr, …]` */
  | { readonly t: 'list'; readonly role: string }
  | { readonly t: 'compare'; readonly role: string; readonly ops: readonly CompareOp[] }
  /** literal punctuation (not kept as an argument) */
  | { readonly t: 'punct'; readonly text: string }
  /** an optional group: tried present first, then absent */
  | { readonly t: 'opt'; readonly parts: readonly PartSpec[] }
  /** one or more of `words` (a WordListArg) */
  | { readonly t: 'wordseq'; readonly role: string; readonly words: readonly string[] };

export interface OptionSpec {
  readonly key: string;
  /** expr; name (NAME-with-dash); word (one of `words`); wordlist (`a,b,c` of `words`); list (`[e, …]`) */
  readonly value: 'expr' | 'name' | 'word' | 'wordlist' | 'list';
  readonly words?: readonly string[];
  readonly required?: boolean;
}

export interface FormSpec {
  /** stable id, e.g. "memslot.delete"; HostStatement.form */
  readonly id: string;
  readonly keyword: string;
  /** the LANGUAGE.md syntax line, for hover and completion */
  readonly syntax: string;
  readonly parts: readonly PartSpec[];
  readonly options?: readonly OptionSpec[];
  readonly flags?: readonly string[];
  /** free `KEY=V …` options: register assignments (set_reg) or event fields (expect event/no event/total) */
  readonly freeOptions?: 'register' | 'event-field';
  /** parts after the options (`expect total KIND [field=V …] == N`) */
  readonly tail?: readonly PartSpec[];
  /** accepts a trailing `&` (run) */
  readonly background?: boolean;
  /** the `=>` results that can happen for this statement; empty: no `=>` */
  readonly results: readonly ResultKind[];
  /** the statement is an ioctl (or kvm_pgtable call) that can fail with an errno */
  readonly ioctl: boolean;
  readonly doc: string;
}

const IOCTL: readonly ResultKind[] = ['ok', 'errno'];
const RUN: readonly ResultKind[] = ['exit', 'errno'];
const WIDTHS = ['u8', 'u16', 'u32', 'u64'] as const;
export const COMPARE_OPS: readonly CompareOp[] = ['==', '!=', '<', '<=', '>', '>='];
const TOTAL_OPS: readonly CompareOp[] = ['==', '<', '<=', '>', '>='];
export const VCPU_FEATURES = ['power_off', 'el1_32bit', 'pmu_v3', 'spe', 'psci_0_1'] as const;
export const BACKINGS = ['anon', 'hugetlb-2M', 'hugetlb-1G', 'hugetlb-32M', 'hugetlb-512M', 'pfnmap'] as const;
export const PGTABLE_PROTS = ['r', 'w', 'x', 'device', 'none'] as const;
export const S2_PERMS = ['r', 'w', 'x', 'rw', 'rx', 'wx', 'rwx', 'none'] as const;
export const PENDING_OPS = ['flush_dcache', 'inval_icache', 'sanitise_tags'] as const;
export const SPE_STOP_MODES = ['trap', 'exit', 'resume'] as const;

const s2target: PartSpec = { t: 'opt', parts: [{ t: 'name', role: 'table' }] };

export const HOST_FORMS: readonly FormSpec[] = [
  // ---- memslots (spec A)
  { id: 'memslot.delete', keyword: 'memslot', syntax: 'memslot ID delete', parts: [{ t: 'expr', role: 'slot' }, { t: 'word', role: 'action', words: ['delete'] }], results: IOCTL, ioctl: true, doc: 'KVM_SET_USER_MEMORY_REGION with size 0 (delete)' },
  { id: 'memslot.move', keyword: 'memslot', syntax: 'memslot ID move gpa=A', parts: [{ t: 'expr', role: 'slot' }, { t: 'word', role: 'action', words: ['move'] }], options: [{ key: 'gpa', value: 'expr', required: true }], results: IOCTL, ioctl: true, doc: 'KVM_SET_USER_MEMORY_REGION moving the slot to a new gpa' },
  { id: 'memslot.flags', keyword: 'memslot', syntax: 'memslot ID flags [dirty_log] [readonly]', parts: [{ t: 'expr', role: 'slot' }, { t: 'word', role: 'action', words: ['flags'] }], flags: ['dirty_log', 'readonly'], results: IOCTL, ioctl: true, doc: 'KVM_SET_USER_MEMORY_REGION setting the flags (the listed flags are the complete new value)' },
  {
    id: 'memslot', keyword: 'memslot', syntax: 'memslot ID gpa=A size=S [readonly] [dirty_log] [hva=H] [backing=anon|hugetlb-2M|hugetlb-1G|pfnmap]',
    parts: [{ t: 'expr', role: 'slot' }],
    options: [{ key: 'gpa', value: 'expr', required: true }, { key: 'size', value: 'expr', required: true }, { key: 'hva', value: 'expr' }, { key: 'backing', value: 'name', words: BACKINGS }],
    flags: ['readonly', 'dirty_log'], results: IOCTL, ioctl: true, doc: 'KVM_SET_USER_MEMORY_REGION, create or modify',
  },
  {
    id: 'set_memory_region', keyword: 'set_memory_region', syntax: 'set_memory_region slot=N flags=N gpa=A size=S hva=H', parts: [],
    options: ['slot', 'flags', 'gpa', 'size', 'hva'].map((key) => ({ key, value: 'expr' as const, required: true })),
    results: IOCTL, ioctl: true, doc: 'the raw KVM_SET_USER_MEMORY_REGION ioctl, any values',
  },
  { id: 'get_dirty_log', keyword: 'get_dirty_log', syntax: 'get_dirty_log ID', parts: [{ t: 'expr', role: 'slot' }], results: ['ok', 'errno', 'pages'], ioctl: true, doc: 'KVM_GET_DIRTY_LOG; result `pages [i, …]`' },
  // ---- memslot locking (spec E.3)
  { id: 'lock', keyword: 'lock', syntax: 'lock ID [read] [write]', parts: [{ t: 'expr', role: 'slot' }], flags: ['read', 'write'], results: IOCTL, ioctl: true, doc: 'KVM_ENABLE_CAP(KVM_CAP_ARM_LOCK_USER_MEMORY_REGION), FLAGS_LOCK with exactly the listed READ/WRITE bits' },
  { id: 'unlock.all', keyword: 'unlock', syntax: 'unlock all', parts: [{ t: 'word', role: 'which', words: ['all'] }], results: IOCTL, ioctl: true, doc: 'FLAGS_UNLOCK + UNLOCK_MEM_ALL' },
  { id: 'unlock', keyword: 'unlock', syntax: 'unlock ID', parts: [{ t: 'expr', role: 'slot' }], results: IOCTL, ioctl: true, doc: 'FLAGS_UNLOCK of one memslot' },
  // ---- capabilities
  { id: 'enable_cap', keyword: 'enable_cap', syntax: 'enable_cap CAP [flags=N] [args=[a, b, c, d]]', parts: [{ t: 'expr', role: 'cap' }], options: [{ key: 'flags', value: 'expr' }, { key: 'args', value: 'list' }], results: IOCTL, ioctl: true, doc: 'raw KVM_ENABLE_CAP; CAP by name or number' },
  { id: 'check_extension', keyword: 'check_extension', syntax: 'check_extension CAP', parts: [{ t: 'expr', role: 'cap' }], results: ['ok', 'errno', 'value'], ioctl: true, doc: 'KVM_CHECK_EXTENSION; result is the returned value' },
  // ---- vcpus (spec F, E.5)
  { id: 'vcpu_init', keyword: 'vcpu_init', syntax: 'vcpu_init N [features=f,…] [pc=LABEL|A]', parts: [{ t: 'expr', role: 'vcpu' }], options: [{ key: 'features', value: 'wordlist', words: VCPU_FEATURES }, { key: 'pc', value: 'expr' }], results: IOCTL, ioctl: true, doc: 'KVM_ARM_VCPU_INIT, then set PC (default: the first guest block)' },
  { id: 'set_reg', keyword: 'set_reg', syntax: 'set_reg N REG=V …', parts: [{ t: 'expr', role: 'vcpu' }], freeOptions: 'register', results: IOCTL, ioctl: true, doc: 'KVM_SET_ONE_REG' },
  { id: 'get_reg', keyword: 'get_reg', syntax: 'get_reg N REG', parts: [{ t: 'expr', role: 'vcpu' }, { t: 'name', role: 'reg' }], results: ['ok', 'errno', 'value'], ioctl: true, doc: 'KVM_GET_ONE_REG' },
  { id: 'spe_attr', keyword: 'spe_attr', syntax: 'spe_attr N irq=INTID | init | stop=trap|exit|resume', parts: [{ t: 'expr', role: 'vcpu' }], options: [{ key: 'irq', value: 'expr' }, { key: 'stop', value: 'word', words: SPE_STOP_MODES }], flags: ['init', 'irq'], results: IOCTL, ioctl: true, doc: 'SPE vcpu attributes KVM_ARM_VCPU_SPE_IRQ / _INIT / _STOP (spec E.5)' },
  { id: 'run', keyword: 'run', syntax: 'run N [steps=K] [&]', parts: [{ t: 'expr', role: 'vcpu' }], options: [{ key: 'steps', value: 'expr' }], background: true, results: RUN, ioctl: true, doc: 'KVM_RUN until KVM returns to userspace (`&`: in the background)' },
  { id: 'join', keyword: 'join', syntax: 'join N', parts: [{ t: 'expr', role: 'vcpu' }], results: RUN, ioctl: true, doc: 'wait for a background run; carries its result' },
  { id: 'mmio_reply', keyword: 'mmio_reply', syntax: 'mmio_reply N data=V', parts: [{ t: 'expr', role: 'vcpu' }], options: [{ key: 'data', value: 'expr', required: true }], results: [], ioctl: false, doc: 'fill run->mmio.data for the pending MMIO read' },
  { id: 'inject_ext_dabt', keyword: 'inject_ext_dabt', syntax: 'inject_ext_dabt N', parts: [{ t: 'expr', role: 'vcpu' }], results: IOCTL, ioctl: true, doc: 'KVM_SET_VCPU_EVENTS with ext_dabt_pending' },
  // ---- userspace memory
  { id: 'write.bytes', keyword: 'write', syntax: 'write A bytes [b, …]', parts: [{ t: 'expr', role: 'addr' }, { t: 'word', role: 'width', words: ['bytes'] }, { t: 'list', role: 'bytes' }], results: [], ioctl: false, doc: 'userspace writes guest memory through the memslot mapping' },
  { id: 'write', keyword: 'write', syntax: 'write A u8|u16|u32|u64 V', parts: [{ t: 'expr', role: 'addr' }, { t: 'word', role: 'width', words: WIDTHS }, { t: 'expr', role: 'value' }], results: [], ioctl: false, doc: 'userspace writes guest memory through the memslot mapping' },
  { id: 'load', keyword: 'load', syntax: 'load A file "PATH"', parts: [{ t: 'expr', role: 'addr' }, { t: 'word', role: 'file', words: ['file'] }, { t: 'string', role: 'path' }], results: [], ioctl: false, doc: "load a file (relative to the scenario's folder) into guest memory" },
  { id: 's1map', keyword: 's1map', syntax: 's1map va=V ipa=A size=S [perm=r|rw|rx|rwx] [attr=normal|device]', parts: [], options: [{ key: 'va', value: 'expr', required: true }, { key: 'ipa', value: 'expr', required: true }, { key: 'size', value: 'expr', required: true }, { key: 'perm', value: 'word', words: ['r', 'rw', 'rx', 'rwx'] }, { key: 'attr', value: 'word', words: ['normal', 'device'] }], results: [], ioctl: false, doc: 'build guest stage 1 tables at s1_tables' },
  { id: 'unmap_host', keyword: 'unmap_host', syntax: 'unmap_host hva=H size=S', parts: [], options: [{ key: 'hva', value: 'expr', required: true }, { key: 'size', value: 'expr', required: true }], results: [], ioctl: false, doc: 'the VMM munmaps part of its address space (MMU notifiers unmap stage 2)' },
  // ---- standalone page tables (spec B)
  { id: 'pgtable', keyword: 'pgtable', syntax: 'pgtable NAME ipa_bits=N [page_size=P]', parts: [{ t: 'name', role: 'name' }], options: [{ key: 'ipa_bits', value: 'expr', required: true }, { key: 'page_size', value: 'expr' }], results: IOCTL, ioctl: true, doc: 'a standalone stage 2 page table' },
  { id: 'pgtable_map', keyword: 'pgtable_map', syntax: 'pgtable_map NAME A size=S phys=P prot=r,w,x,device,none', parts: [{ t: 'name', role: 'name' }, { t: 'expr', role: 'addr' }], options: [{ key: 'size', value: 'expr', required: true }, { key: 'phys', value: 'expr', required: true }, { key: 'prot', value: 'wordlist', words: PGTABLE_PROTS, required: true }], results: IOCTL, ioctl: true, doc: 'kvm_pgtable_stage2_map' },
  { id: 'pgtable_unmap', keyword: 'pgtable_unmap', syntax: 'pgtable_unmap NAME A size=S', parts: [{ t: 'name', role: 'name' }, { t: 'expr', role: 'addr' }], options: [{ key: 'size', value: 'expr', required: true }], results: IOCTL, ioctl: true, doc: 'kvm_pgtable_stage2_unmap' },
  { id: 'pgtable_set_owner', keyword: 'pgtable_set_owner', syntax: 'pgtable_set_owner NAME A size=S owner=ID', parts: [{ t: 'name', role: 'name' }, { t: 'expr', role: 'addr' }], options: [{ key: 'size', value: 'expr', required: true }, { key: 'owner', value: 'expr', required: true }], results: IOCTL, ioctl: true, doc: 'kvm_pgtable_stage2_set_owner' },
  { id: 'pgtable_annotate', keyword: 'pgtable_annotate', syntax: 'pgtable_annotate NAME A value=V', parts: [{ t: 'name', role: 'name' }, { t: 'expr', role: 'addr' }], options: [{ key: 'value', value: 'expr', required: true }], results: IOCTL, ioctl: true, doc: 'kvm_pgtable_stage2_annotate' },
  // ---- protected mode (pKVM)
  { id: 'pkvm_mark_hyp', keyword: 'pkvm_mark_hyp', syntax: 'pkvm_mark_hyp PA size=S', parts: [{ t: 'expr', role: 'addr' }], options: [{ key: 'size', value: 'expr', required: true }], results: IOCTL, ioctl: true, doc: '(mode protected) the hypervisor takes pages from the host' },
  { id: 'host_access', keyword: 'host_access', syntax: 'host_access read|write|exec PA', parts: [{ t: 'word', role: 'access', words: ['read', 'write', 'exec'] }, { t: 'expr', role: 'addr' }], results: ['ok', 'hyp_panic'], ioctl: false, doc: '(mode protected) a host kernel access through the host stage 2' },
  // ---- expectations
  { id: 'expect.memslot', keyword: 'expect', syntax: 'expect memslot ID [present|absent] [locked read [write]|unlocked] [readonly] [dirty_log]', parts: [{ t: 'word', role: 'what', words: ['memslot'] }, { t: 'expr', role: 'slot' }], flags: ['present', 'absent', 'locked', 'unlocked', 'read', 'write', 'readonly', 'dirty_log'], results: [], ioctl: false, doc: 'the listed memslot properties must hold' },
  { id: 'expect.stage2.unmapped', keyword: 'expect', syntax: 'expect stage2 [host|NAME] A unmapped', parts: [{ t: 'word', role: 'what', words: ['stage2'] }, s2target, { t: 'expr', role: 'addr' }, { t: 'word', role: 'state', words: ['unmapped'] }], results: [], ioctl: false, doc: 'no valid leaf at A' },
  { id: 'expect.stage2.mapped', keyword: 'expect', syntax: 'expect stage2 [host|NAME] A mapped [level=L] [perm=r|w|x|rw|rx|wx|rwx|none] [pa=P] [device]', parts: [{ t: 'word', role: 'what', words: ['stage2'] }, s2target, { t: 'expr', role: 'addr' }, { t: 'word', role: 'state', words: ['mapped'] }], options: [{ key: 'level', value: 'expr' }, { key: 'perm', value: 'word', words: S2_PERMS }, { key: 'pa', value: 'expr' }], flags: ['device'], results: [], ioctl: false, doc: 'a valid leaf' },
  { id: 'expect.stage2.annotated', keyword: 'expect', syntax: 'expect stage2 [host|NAME] A annotated [owner=ID] [value=V] [mmio_guard]', parts: [{ t: 'word', role: 'what', words: ['stage2'] }, s2target, { t: 'expr', role: 'addr' }, { t: 'word', role: 'state', words: ['annotated'] }], options: [{ key: 'owner', value: 'expr' }, { key: 'value', value: 'expr' }], flags: ['mmio_guard'], results: [], ioctl: false, doc: 'an invalid leaf carrying metadata' },
  { id: 'expect.stage2.prot_none', keyword: 'expect', syntax: 'expect stage2 [host|NAME] A prot_none', parts: [{ t: 'word', role: 'what', words: ['stage2'] }, s2target, { t: 'expr', role: 'addr' }, { t: 'word', role: 'state', words: ['prot_none'] }], results: [], ioctl: false, doc: 'a pkvm-v3 PROT_NONE entry' },
  { id: 'expect.pte', keyword: 'expect', syntax: 'expect pte NAME|vm A [& MASK] == V', parts: [{ t: 'word', role: 'what', words: ['pte'] }, { t: 'name', role: 'table' }, { t: 'expr', role: 'addr', noAnd: true }, { t: 'opt', parts: [{ t: 'punct', text: '&' }, { t: 'expr', role: 'mask' }] }, { t: 'compare', role: 'op', ops: ['=='] }, { t: 'expr', role: 'value' }], results: [], ioctl: false, doc: 'raw leaf descriptor value, optionally masked' },
  { id: 'expect.pending_ops', keyword: 'expect', syntax: 'expect pending_ops none | OP…', parts: [{ t: 'word', role: 'what', words: ['pending_ops'] }, { t: 'wordseq', role: 'ops', words: ['none', ...PENDING_OPS] }], results: [], ioctl: false, doc: 'exactly this set of pending ops' },
  { id: 'expect.reg', keyword: 'expect', syntax: 'expect reg N REG == V', parts: [{ t: 'word', role: 'what', words: ['reg'] }, { t: 'expr', role: 'vcpu' }, { t: 'name', role: 'reg' }, { t: 'compare', role: 'op', ops: COMPARE_OPS }, { t: 'expr', role: 'value' }], results: [], ioctl: false, doc: 'a vcpu register (also !=, <, <=, >, >=, unsigned)' },
  { id: 'expect.mem', keyword: 'expect', syntax: 'expect mem A u8|u16|u32|u64 == V', parts: [{ t: 'word', role: 'what', words: ['mem'] }, { t: 'expr', role: 'addr' }, { t: 'word', role: 'width', words: WIDTHS }, { t: 'compare', role: 'op', ops: ['=='] }, { t: 'expr', role: 'value' }], results: [], ioctl: false, doc: 'guest memory at IPA A' },
  { id: 'expect.locked_vm', keyword: 'expect', syntax: 'expect locked_vm == PAGES', parts: [{ t: 'word', role: 'what', words: ['locked_vm'] }, { t: 'compare', role: 'op', ops: ['=='] }, { t: 'expr', role: 'value' }], results: [], ioctl: false, doc: 'pages counted against RLIMIT_MEMLOCK' },
  { id: 'expect.event', keyword: 'expect', syntax: 'expect event KIND [field=V …]', parts: [{ t: 'word', role: 'what', words: ['event'] }, { t: 'name', role: 'kind', dash: true }], freeOptions: 'event-field', results: [], ioctl: false, doc: 'at least one such event from the latest statement that is not an expect' },
  { id: 'expect.no_event', keyword: 'expect', syntax: 'expect no event KIND [field=V …]', parts: [{ t: 'word', role: 'what', words: ['no'] }, { t: 'word', role: 'event', words: ['event'] }, { t: 'name', role: 'kind', dash: true }], freeOptions: 'event-field', results: [], ioctl: false, doc: 'no such event from the latest statement that is not an expect' },
  { id: 'expect.total', keyword: 'expect', syntax: 'expect total KIND [field=V …] == N', parts: [{ t: 'word', role: 'what', words: ['total'] }, { t: 'name', role: 'kind', dash: true }], freeOptions: 'event-field', tail: [{ t: 'compare', role: 'op', ops: TOTAL_OPS }, { t: 'expr', role: 'count' }], results: [], ioctl: false, doc: 'count of such events since the scenario started (also <, <=, >, >=)' },
];

export const FORMS_BY_KEYWORD: ReadonlyMap<string, readonly FormSpec[]> = (() => {
  const m = new Map<string, FormSpec[]>();
  for (const f of HOST_FORMS) {
    const l = m.get(f.keyword) ?? [];
    l.push(f);
    m.set(f.keyword, l);
  }
  return m;
})();
export const FORM_BY_ID: ReadonlyMap<string, FormSpec> = new Map(HOST_FORMS.map((f) => [f.id, f]));
export const HOST_STATEMENT_KEYWORDS: readonly string[] = [...FORMS_BY_KEYWORD.keys()];
/** the word after `expect` */
export const EXPECT_WORDS: readonly string[] = ['memslot', 'stage2', 'pte', 'pending_ops', 'reg', 'mem', 'locked_vm', 'event', 'no', 'total'];

// ---------------------------------------------------------------- `=>` results

export const ERRNOS: readonly string[] = ['EINVAL', 'EPERM', 'EBUSY', 'EEXIST', 'ENOENT', 'ENOMEM', 'EFAULT', 'ENOSYS', 'ENOEXEC', 'EINTR', 'EAGAIN', 'ENXIO'];
// errno.ts is the source of the numbers; the language lists the same names
void ERRNO_NAMES;
export const EXIT_REASONS = ['mmio', 'system_event', 'arm_nisv', 'guest_exception'] as const;
export const SYSTEM_EVENT_TYPES = ['shutdown', 'reset'] as const;
export const RESULT_WORDS: readonly string[] = ['ok', 'hyp_panic', 'exit', 'pages', ...ERRNOS];
/** options of `=> exit REASON …` */
export const EXIT_OPTIONS: { readonly [reason: string]: readonly string[] } = {
  mmio: ['addr', 'len', 'data'], system_event: [], arm_nisv: ['addr'], guest_exception: [],
};

// ---------------------------------------------------------------- registers

/** KVM core registers by the language's names (LANGUAGE.md set_reg/get_reg); system registers come from arch/sysregs */
export const CORE_REGISTERS: readonly string[] = [
  ...Array.from({ length: 31 }, (_, i) => `x${i}`), 'pc', 'pstate', 'sp', 'sp_el1', 'elr_el1', 'spsr_el1',
];

// ---------------------------------------------------------------- trace events

export type FieldType = 'number' | 'bool' | 'name' | 'string' | 'numbers' | 'names' | 'any';

/** Fields of each event kind (LANGUAGE.md "Trace events"), typed for `expect event … field=V` */
export const EVENT_FIELDS: { readonly [K in EventKind]: { readonly [field: string]: FieldType } } = {
  'ioctl': { name: 'name', args: 'any', result: 'name', rule: 'name' },
  'kvm-exit': { reason: 'name', addr: 'number', len: 'number', write: 'bool', data: 'number', type: 'name', esr_iss: 'number' },
  'stage2-fault': {
    stage: 'name', ipa: 'number', va: 'number', esr: 'number', far: 'number', hpfar: 'number', fsc: 'number', kind: 'name',
    level: 'number', write: 'bool', exec: 'bool', s1ptw: 'bool', isv: 'bool', resolution: 'name',
  },
  'hypercall': { conduit: 'name', fn: 'number', name: 'name', args: 'numbers', ret: 'numbers' },
  'mmio-guard': { op: 'name', ipa: 'number', ok: 'bool' },
  'spe-irq': { intid: 'number', line: 'number', level: 'number', pmbsr: 'number', pmbptr: 'number', ec: 'number', bsc: 'number', fsc: 'number', hw_pmbsr: 'number', hw_ec: 'number' },
  'guest-exception': { vector: 'name', esr: 'number', far: 'number', elr: 'number', cause: 'name' },
  'cmo': { op: 'name', ipa: 'number', size: 'number' },
  'tlbi': { scope: 'name', ipa: 'number', level: 'number' },
  'pte': { table: 'name', ipa: 'number', level: 'number', old: 'number', new: 'number' },
  'pending-ops': { set: 'names', cleared: 'names', now: 'names' },
  'warning': { message: 'string' },
  'expect': { line: 'number', ok: 'bool', message: 'string' },
};
/** fields every event has */
export const COMMON_EVENT_FIELDS: { readonly [field: string]: FieldType } = { vcpu: 'number', seq: 'number' };
export { EVENT_KINDS };

/** known name values of name-typed fields (completion; other names are accepted) */
export const EVENT_FIELD_VALUES: { readonly [field: string]: readonly string[] } = {
  reason: ['mmio', 'system_event', 'arm_nisv', 'intr', 'fail_entry'],
  type: ['shutdown', 'reset', 'crash'],
  stage: ['guest', 'host'],
  kind: ['translation', 'permission', 'access-flag', 'address-size', 'external', 'other'],
  resolution: ['map', 'relax', 'mkyoung', 'mmio', 'nisv', 'inject', 'skip', 'serror', 'in-kernel', 'error'],
  conduit: ['hvc', 'smc'],
  vector: ['sync', 'irq', 'fiq', 'serror'],
  cause: ['injected', 'architectural'],
  scope: ['vmid', 'ipa'],
  result: ['ok', ...ERRNOS],
};

export const EXPRESSION_FUNCTIONS: readonly string[] = ['hva', 'pa'];
