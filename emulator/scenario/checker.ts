// The `.kvms` checker: static diagnostics and the resolved facts the loader/runner and the language server need.
//
// Severity follows LANGUAGE.md "Checker" exactly:
// - errors (the scenario does not run): syntax (from the parser); undefined names (constants, labels, symbols,
//   registers, pgtables, event kinds and fields, flavours, caps, vcpu features); a value that does not fit its
//   field's C type (u16 memslot ids, u32 flags/caps/INTIDs, u8/u16/u32 writes and bytes, …); guest code that
//   cannot be assembled; a vcpu index >= `vcpus`; a statement, symbol, cap or flag the flavour does not have;
//   a `=>` result that cannot happen for the statement (no errno involved); hugetlb sizes that are not a block
//   size of the granule; `s1map` tables running past the memslot; duplicate labels/constants.
// - warnings: everything the kernel answers with an errno ("this fails with EXXX (spec A.2#3): …"), unless the
//   `=>` states exactly that errno; feature keys the flavour lacks (`spe on` in mainline-5.15); things that make
//   the run misbehave without an errno (guest code, `s1_tables` or `pc=` outside memslots/guest code) and
//   run-time scenario errors that are decidable from the text (`join` without a background run, …).
//
// Predictions come from a forward pass over the host statements with a static model of memslots, locks and
// vcpus. A statement without `=>` must succeed for the scenario to go on, so after it the model applies its
// success; after `=> EXXX` the state is unchanged. A value that is not decidable from the text (hva()/pa(),
// labels without the assembler) turns the affected prediction off, never into a guess.
// Rule ids are the ones the VM uses (emulator/kvm/vm.ts, memslot-lock.ts, spe.ts, vcpu-state.ts) so warning and
// run-time failure agree; the check order is theirs too. Not predicted on purpose (not decidable from the text):
// E.3#3 (a background vcpu leaves KVM_RUN when its guest exits), E.3#13 after guest runs (faults map pages),
// D.5#nisv-after-enroll, anything that depends on hva()/pa() or on what the guest does.
// Decisions: `mode protected` in a flavour without pKVM is a feature-key warning (the statements that need it are
// errors); a `load` path leaving the folder is a warning (the loader refuses it at run time).

import type {
  ConstDecl, Expr, GuestBlock, HostStatement, MachineEntry, OptionArg, Result, Script, ValueArg, Word,
} from './ast';
import { argOf as argOfImport, exprOf as exprOfImport, flagsOf, hasFlag as hasFlagImport, optionOf as optionOfImport, wordOf as wordOfImport } from './ast';
import { DiagnosticBag, type Diagnostic, type RelatedInformation } from './diagnostics';
import { evaluate as evaluateImport, type EvalEnv, type NameValue } from './expr';
import type { Range } from './tokens';
import { EVENT_KINDS, type EventKind } from '../events';
import { DEFAULT_FLAVOUR, FLAVOURS, FLAVOUR_NAMES, getFlavour, isFlavourName, type Flavour, type FlavourName } from '../kvm/flavours';
import {
  allPredefinedSymbolFlavours, defaultEnvironment, isRegisterName, type AssembledProgram, type CheckEnvironment,
} from './symbols';
import {
  BACKINGS, COMMON_EVENT_FIELDS, EVENT_FIELDS, FORM_BY_ID as FORM_BY_ID_IMPORT, MACHINE_KEY_MAP, PGTABLE_PROTS, VCPU_FEATURES,
  type FieldType, type FormSpec,
} from './vocabulary';

// Hot imported bindings copied into module-level locals: under tsx every use of an imported binding is a getter
// call (thousands per statement on big scenarios).
const argOf = argOfImport;
const exprOf = exprOfImport;
const hasFlag = hasFlagImport;
const optionOf = optionOfImport;
const wordOf = wordOfImport;
const FORM_BY_ID = FORM_BY_ID_IMPORT;
const evaluate = evaluateImport;

export interface CheckOptions {
  /** `--flavour` / the launch configuration's flavour: wins over `machine { flavour }` (LANGUAGE.md "Flavour precedence") */
  readonly flavourOverride?: FlavourName;
  /** replace parts of the environment (tests; a language server without the assembler) */
  readonly environment?: Partial<CheckEnvironment>;
}

/** The machine block with defaults applied (LANGUAGE.md `machine` keys) */
export interface MachineConfig {
  readonly flavour: FlavourName;
  readonly ipaBits: number;
  readonly pageSize: number;
  readonly vcpus: number;
  /** RLIMIT_MEMLOCK in bytes; null = unlimited */
  readonly memlock: bigint | null;
  readonly fwb: boolean;
  readonly gic: 'v3' | 'none';
  readonly spe: boolean;
  readonly speIrq: number;
  readonly mmioGuard: boolean;
  readonly nisvToUser: boolean;
  readonly s1Tables: bigint | null;
  readonly guestExceptions: 'deliver' | 'stop';
  readonly mode: 'normal' | 'protected';
}

export interface MemslotDeclaration {
  readonly slot: bigint;
  readonly gpa: bigint | undefined;
  readonly size: bigint | undefined;
  /** the creating statement */
  readonly statement: HostStatement;
  readonly range: Range;
}

/** A host statement with its numeric arguments evaluated (undefined: known only at run time, e.g. hva()) */
export interface ResolvedStatement {
  readonly statement: HostStatement;
  readonly form: FormSpec | undefined;
  /** 0-based line of the statement */
  readonly line: number;
  /** positional roles and option keys -> value ("slot", "gpa", "size", "vcpu", "value", "mask", "count", …) */
  readonly values: ReadonlyMap<string, bigint | undefined>;
  /** list arguments (`args=[…]`, `bytes […]`) evaluated */
  readonly lists: ReadonlyMap<string, readonly (bigint | undefined)[]>;
}

export interface CheckInfo {
  readonly flavour: Flavour;
  readonly flavourSource: 'override' | 'machine' | 'default';
  readonly machine: MachineConfig;
  /** constant values (undefined: could not be evaluated, an error was reported) */
  readonly constants: ReadonlyMap<string, bigint | undefined>;
  /** label -> address (from the assembler; empty without it) */
  readonly labels: ReadonlyMap<string, bigint>;
  /** label -> definition range */
  readonly labelDefinitions: ReadonlyMap<string, Range>;
  /** guest block base IPAs, in block order (undefined when not evaluable) */
  readonly guestBases: readonly (bigint | undefined)[];
  /** the assembled guest program, when the assembler is available (its own 1-based line numbers) */
  readonly program?: AssembledProgram;
  /** every assembled guest statement: 0-based file line, address, size in bytes, block index (debugger line <-> PC) */
  readonly guestCode: readonly { readonly line: number; readonly addr: bigint; readonly size: number; readonly block: number }[];
  readonly memslots: readonly MemslotDeclaration[];
  readonly pgtables: ReadonlyMap<string, Range>;
  readonly statements: readonly ResolvedStatement[];
  /** resolve a name as expressions do (constants, labels, predefined symbols of the flavour, SPE fields) */
  lookup(name: string): bigint | undefined;
}

export interface CheckResult {
  readonly diagnostics: Diagnostic[];
  readonly info: CheckInfo;
}

const U64 = (1n << 64n) - 1n;
/** shared by statements without list arguments (never written) */
const NO_LISTS: Map<string, (bigint | undefined)[]> = new Map();
const MAX_CONST_CHAIN = 200;
const MAX_VCPUS = 512; // KVM_MAX_VCPUS on arm64 (5.x)
const KVM_MEM_MAX_NR_PAGES = (1n << 31n) - 1n; // spec A.2#7
/** TASK_SIZE_MAX of a 48-bit-VA arm64 host: access_ok() needs hva + size <= 2^48 (spec A.2#4) */
const TASK_SIZE = 1n << 48n;
/** doubles hold every integer up to here exactly */
const MAX_EXACT = 1n << 53n;

/** block sizes of each granule (LANGUAGE.md "Host memory model") */
const BLOCK_SIZES: { readonly [page: number]: readonly bigint[] } = {
  4096: [2n << 20n, 1n << 30n], 16384: [32n << 20n], 65536: [512n << 20n],
};

function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

function parseSize(s: string): bigint | undefined {
  const m = /^(\d+)([KMGT])$/.exec(s);
  if (!m) return undefined;
  return BigInt(m[1]) << BigInt({ K: 10, M: 20, G: 30, T: 40 }[m[2] as 'K']);
}

interface Prediction {
  readonly errno: string;
  readonly rule: string;
  readonly message: string;
  readonly related?: RelatedInformation[];
}

interface SlotState {
  id: bigint;
  gpa: bigint | undefined;
  size: bigint | undefined;
  /** gpa + size, cached (bigint arithmetic allocates; the overlap scan runs for every create) */
  end?: bigint;
  /** gpa and end as doubles, cached with `end` (endN -1: end above 2^53, compare the bigints) */
  gpaN?: number;
  endN?: number;
  hva: bigint | undefined;
  readonly: boolean;
  dirtyLog: boolean;
  backing: string;
  lock: { read: boolean; write: boolean } | null;
  /**
   * Stage 2 certainly still holds the pages a lock mapped (v4 leaves them mapped after UNLOCK): locking again
   * fails with EAGAIN (E.3#13). Cleared by anything that may unmap (v5 unlock, delete/move, unmap_host, reset).
   */
  lockMapped?: boolean;
  range: Range;
}

interface VcpuState {
  initialised: boolean;
  hasRunOnce: boolean;
  features: Set<string> | null;
  background: boolean;
  speIrq: boolean;
  /** the INTID set with spe_attr N irq (for the same-PPI rule across vcpus) */
  speIrqValue?: bigint;
  speInit: boolean;
}

export function check(ast: Script, opts: CheckOptions = {}): CheckResult {
  const c = new Checker(ast, opts);
  try {
    c.run();
  } catch (e) {
    const z = { line: 0, col: 0, offset: 0 };
    c.diags.error({ start: z, end: z }, `internal checker error: ${e instanceof Error ? e.message : String(e)}`, 'internal');
  }
  return { diagnostics: c.diags.items, info: c.info() };
}

class Checker {
  readonly diags = new DiagnosticBag();
  private readonly env: CheckEnvironment;
  private flavour: Flavour;
  private flavourSource: CheckInfo['flavourSource'] = 'default';
  private machine!: MachineConfig;
  private readonly constDecls = new Map<string, ConstDecl>();
  private readonly constValues = new Map<string, bigint | undefined>();
  private readonly constInProgress = new Set<string>();
  private readonly labelDefs = new Map<string, Range>();
  private labels = new Map<string, bigint>();
  private program: AssembledProgram | undefined;
  private guestCode: CheckInfo['guestCode'] = [];
  private guestBases: (bigint | undefined)[] = [];
  /** [start, end) of each guest block, when the assembler gave sizes */
  private guestExtents: ({ start: bigint; end: bigint; block: GuestBlock } | undefined)[] = [];
  private predefined = new Map<string, bigint>();
  private speFields = new Map<string, bigint>();
  private symbolFlavours = new Map<string, string[]>();
  private readonly memslotDecls: MemslotDeclaration[] = [];
  private readonly pgtables = new Map<string, Range>();
  private readonly resolved: ResolvedStatement[] = [];
  // static model for predictions
  private readonly slots = new Map<bigint, SlotState>();
  /**
   * An upper bound of every slot's gpa + size, as a double (Infinity above 2^53). Only grows (a delete or move
   * leaves it high, which only costs a scan): a create at or above it overlaps nothing, without scanning.
   */
  private slotEndBound = 0;
  private vcpus: VcpuState[] = [];
  private anyRun = false;
  private lockedPages = 0n;
  private guestPlacementChecked = false;
  private s1TablePages = new Set<string>();
  /** the feature set of the vcpu_init being checked (predict -> apply) */
  private initFeatures = new Set<string>();
  /** the INTID of the spe_attr irq being checked (predict -> apply) */
  private pendingSpeIrq: bigint | undefined;

  constructor(private readonly ast: Script, private readonly opts: CheckOptions) {
    this.env = { ...defaultEnvironment, ...(opts.environment ?? {}) };
    this.flavour = getFlavour(DEFAULT_FLAVOUR);
  }

  info(): CheckInfo {
    return {
      flavour: this.flavour,
      flavourSource: this.flavourSource,
      machine: this.machine ?? this.defaultMachine(),
      constants: this.constValues,
      labels: this.labels,
      labelDefinitions: this.labelDefs,
      guestBases: this.guestBases,
      program: this.program,
      guestCode: this.guestCode,
      memslots: this.memslotDecls,
      pgtables: this.pgtables,
      statements: this.resolved,
      lookup: (name) => {
        const v = this.lookupName(name);
        return typeof v === 'bigint' ? v : undefined;
      },
    };
  }

  run(): void {
    this.resolveFlavour();
    this.predefined = this.env.predefinedSymbols(this.flavour);
    this.speFields = this.env.speFieldSymbols();
    this.symbolFlavours = allPredefinedSymbolFlavours(this.env);
    for (const c of this.ast.consts) {
      const prev = this.constDecls.get(c.name.text);
      if (prev) this.diags.error(c.name.range, `constant '${c.name.text}' defined twice`, 'duplicate', [{ range: prev.name.range, message: 'first definition' }]);
      else this.constDecls.set(c.name.text, c);
    }
    this.collectLabels();
    this.checkMachine();
    for (const c of this.ast.consts) this.constValue(c.name.text);
    this.checkGuests();
    this.vcpus = Array.from({ length: Math.max(0, Math.min(this.machine.vcpus, MAX_VCPUS)) }, () => ({
      initialised: false, hasRunOnce: false, features: null, background: false, speIrq: false, speInit: false,
    }));
    for (const s of this.ast.host?.statements ?? []) this.checkStatement(s);
  }

  // ------------------------------------------------------------ flavour and machine

  private resolveFlavour(): void {
    const entry = this.ast.machine?.entries.find((e) => e.key.text === 'flavour');
    if (entry && entry.value.kind === 'word' && !isFlavourName(entry.value.word.text)) {
      this.diags.error(entry.value.range, `unknown flavour '${entry.value.word.text}' (flavours: ${FLAVOUR_NAMES.join(' ')})`, 'undefined-name');
    }
    if (this.opts.flavourOverride) {
      this.flavour = getFlavour(this.opts.flavourOverride);
      this.flavourSource = 'override';
    } else if (entry && entry.value.kind === 'word' && isFlavourName(entry.value.word.text)) {
      this.flavour = getFlavour(entry.value.word.text);
      this.flavourSource = 'machine';
    }
  }

  private defaultMachine(): MachineConfig {
    return {
      flavour: this.flavour.name, ipaBits: 40, pageSize: 4096, vcpus: 1, memlock: null, fwb: false, gic: 'v3', spe: true,
      speIrq: 21, mmioGuard: true, nisvToUser: false, s1Tables: null, guestExceptions: 'deliver', mode: 'normal',
    };
  }

  private checkMachine(): void {
    const m = { ...this.defaultMachine() } as { -readonly [K in keyof MachineConfig]: MachineConfig[K] };
    const entries: readonly MachineEntry[] = this.ast.machine?.entries ?? [];
    // page_size first: ipa_bits' range depends on it
    const order = [...entries].sort((a, b) => (a.key.text === 'page_size' ? -1 : 0) - (b.key.text === 'page_size' ? -1 : 0));
    for (const e of order) {
      const spec = MACHINE_KEY_MAP.get(e.key.text);
      if (!spec) continue;
      const word = e.value.kind === 'word' ? e.value.word.text : '';
      const num = e.value.kind === 'expr' ? this.evalExpr(e.value.expr) : undefined;
      if (spec.feature) {
        const has = spec.feature === 'protectedMode' ? this.flavour.protectedMode !== null : this.flavour[spec.feature] !== null;
        const on = word === 'on' || word === 'protected';
        if (on && !has) this.diags.warning(e.range, `${this.flavour.name} does not have ${spec.feature === 'mmioGuard' ? 'the MMIO guard' : spec.feature === 'spe' ? 'SPE' : 'protected mode (pKVM)'}: '${e.key.text} ${word}' has no effect`, 'feature');
      }
      switch (e.key.text) {
        case 'ipa_bits':
          if (num !== undefined) {
            if (num > 255n) this.diags.error(e.value.range, `ipa_bits ${num} does not fit KVM_CREATE_VM's type bits [7:0]`, 'range');
            else {
              m.ipaBits = Number(num);
              const max = m.pageSize === 65536 ? 52 : 48;
              if (num !== 0n && (num < 32n || num > BigInt(max))) {
                this.diags.warning(e.value.range, `this fails with EINVAL (spec A.4#3): KVM_CREATE_VM with IPA size ${num} outside [32, ${max}]`, 'A.4#3');
              }
              if (num === 0n) m.ipaBits = 40;
            }
          }
          break;
        case 'page_size':
          if (num !== undefined) {
            if (!spec.sizes!.includes(num)) this.diags.error(e.value.range, `page_size must be 4K, 16K or 64K`, 'range');
            else m.pageSize = Number(num);
          }
          break;
        case 'vcpus':
          if (num !== undefined) {
            if (num < 1n || num > BigInt(MAX_VCPUS)) this.diags.error(e.value.range, `vcpus must be 1..${MAX_VCPUS} (KVM_MAX_VCPUS)`, 'range');
            else m.vcpus = Number(num);
          }
          break;
        case 'memlock': m.memlock = word === 'unlimited' ? null : num ?? null; break;
        case 'spe_irq':
          if (num !== undefined) {
            if (num > 0xffff_ffffn) this.diags.error(e.value.range, 'spe_irq does not fit the u32 INTID', 'range');
            else m.speIrq = Number(num);
          }
          break;
        case 's1_tables':
          if (num !== undefined) {
            if (num % 4096n !== 0n) this.diags.error(e.value.range, 's1_tables must be 4K-aligned (table pages are 4K)', 'range');
            m.s1Tables = num;
          }
          break;
        case 'flavour': break;
        case 'fwb': m.fwb = word === 'on'; break;
        case 'gic': m.gic = word === 'none' ? 'none' : 'v3'; break;
        case 'spe': m.spe = word === 'on'; break;
        case 'mmio_guard': m.mmioGuard = word === 'on'; break;
        case 'nisv_to_user': m.nisvToUser = word === 'on'; break;
        case 'guest_exceptions': m.guestExceptions = word === 'stop' ? 'stop' : 'deliver'; break;
        case 'mode': m.mode = word === 'protected' ? 'protected' : 'normal'; break;
      }
    }
    m.flavour = this.flavour.name;
    if (!this.flavour.spe) m.spe = false;
    if (!this.flavour.mmioGuard) m.mmioGuard = false;
    if (this.flavour.protectedMode === null) m.mode = 'normal';
    this.machine = m;
  }

  // ------------------------------------------------------------ names

  private collectLabels(): void {
    for (const g of this.ast.guests) {
      for (const l of g.lines) {
        if (!l.label) continue;
        const name = l.label.text;
        const prev = this.labelDefs.get(name);
        if (prev) this.diags.error(l.label.range, `label '${name}' defined twice`, 'duplicate-label', [{ range: prev, message: 'first definition' }]);
        else {
          this.labelDefs.set(name, l.label.range);
          const c = this.constDecls.get(name);
          if (c) this.diags.error(l.label.range, `label '${name}' has the name of a constant`, 'duplicate', [{ range: c.name.range, message: 'the constant' }]);
        }
      }
    }
  }

  private constValue(name: string): NameValue {
    if (this.constValues.has(name)) return this.constValues.get(name);
    const d = this.constDecls.get(name)!;
    if (this.constInProgress.has(name)) {
      this.diags.error(d.name.range, `constant '${name}' is defined in terms of itself`, 'undefined-name');
      this.constValues.set(name, undefined);
      return undefined;
    }
    if (this.constInProgress.size >= MAX_CONST_CHAIN) {
      // constants defined through constants, deeper than any real scenario: stop before the stack does
      this.diags.error(d.name.range, `constant '${name}' is defined through more than ${MAX_CONST_CHAIN} other constants`, 'depth');
      this.constValues.set(name, undefined);
      return undefined;
    }
    this.constInProgress.add(name);
    const v = this.evalExpr(d.value);
    this.constInProgress.delete(name);
    this.constValues.set(name, v);
    return v;
  }

  private lookupName(name: string): NameValue {
    if (this.constDecls.has(name)) return this.constValue(name);
    if (this.labelDefs.has(name)) return this.labels.get(name);
    const p = this.predefined.get(name);
    if (p !== undefined) return p;
    // SPE field symbols are REG_FIELD; fields are spelled as in spec E.1 (`PMSFCR_FnE`) or upper case
    const s = this.speFields.get(name) ?? this.speFields.get(name.toUpperCase());
    if (s !== undefined) return s;
    return 'undefined';
  }

  private readonly evalEnv: EvalEnv = { lookup: (name) => this.lookupName(name) };

  /** evaluate with diagnostics for undefined names (flavour-aware) and division by zero */
  private evalExpr(e: Expr): bigint | undefined {
    if (e.kind === 'number' && e.value !== null) return e.value; // a literal: no result object
    const r = evaluate(e, this.evalEnv);
    for (const p of r.problems) {
      if (p.code === 'undefined-name') {
        const name = /'(.*)'/.exec(p.message)?.[1] ?? '';
        const fl = this.symbolFlavours.get(name);
        if (fl) this.diags.error(p.range, `${this.flavour.name} does not have the symbol '${name}' (only ${fl.join(', ')})`, 'flavour');
        else this.diags.error(p.range, p.message, 'undefined-name');
      } else {
        this.diags.error(p.range, p.message, p.code);
      }
    }
    return r.value;
  }

  // ------------------------------------------------------------ guest code

  private checkGuests(): void {
    const blocks = this.ast.guests;
    this.guestBases = blocks.map((g) => {
      const dyn = this.findCall(g.at);
      if (dyn) {
        this.diags.error(dyn, 'a guest block address must be known before the run (no hva()/pa())', 'range');
        return undefined;
      }
      return this.evalExpr(g.at);
    });
    this.guestExtents = blocks.map(() => undefined);
    const assemble = this.env.assembleProgram;
    if (!assemble || blocks.length === 0) return;
    if (this.guestBases.some((b) => b === undefined)) return;
    const base = this.env.assemblerLineBase ?? 0;
    const input = blocks.map((g, k) => ({ base: this.guestBases[k]!, source: g.source, line: g.sourceStart.line + base, col: g.sourceStart.col + base }));
    let prog: AssembledProgram;
    try {
      prog = assemble(input, (name) => {
        const v = this.lookupName(name);
        return typeof v === 'bigint' ? v : undefined;
      });
    } catch (e) {
      const g = blocks[0];
      this.diags.error(g.keyword.range, `the assembler failed: ${e instanceof Error ? e.message : String(e)}`, 'assemble');
      return;
    }
    this.program = prog;
    this.labels = new Map(prog.labels);
    const dupLabelLines = new Set(this.diags.items.filter((d) => d.code === 'duplicate-label').map((d) => d.range.start.line));
    for (const d of prog.diagnostics) {
      const line = d.line - base;
      if (dupLabelLines.has(line)) continue; // already reported as a duplicate label, with the first definition
      const col = Math.max(0, d.col - base);
      const endCol = Math.max(col, d.endCol - base);
      const range = { start: { line, col, offset: this.guestOffset(line, col) }, end: { line, col: endCol, offset: this.guestOffset(line, endCol) } };
      // a predefined symbol of another flavour is a flavour error, as in host expressions
      const sym = /undefined symbol '([^']+)'/.exec(d.message)?.[1];
      const fl = sym !== undefined ? this.symbolFlavours.get(sym) : undefined;
      if (fl) this.diags.error(range, `${this.flavour.name} does not have the symbol '${sym}' (only ${fl.join(', ')})`, 'flavour');
      else this.diags.error(range, d.message, 'assemble');
    }
    this.guestCode = prog.lines.map((l) => ({ line: l.line - base, addr: l.addr, size: l.size, block: l.block }));
    for (const l of prog.lines) {
      const ext = this.guestExtents[l.block];
      const end = l.addr + BigInt(l.size);
      if (!ext) this.guestExtents[l.block] = { start: this.guestBases[l.block]!, end: end, block: blocks[l.block] };
      else if (end > ext.end) ext.end = end;
    }
    // labels may now have addresses: constants defined with labels are evaluated again
    for (const c of this.ast.consts) {
      if (this.constValues.get(c.name.text) === undefined) {
        const r = evaluate(c.value, this.evalEnv);
        if (r.value !== undefined) this.constValues.set(c.name.text, r.value);
      }
    }
  }

  /** the text offset of a (line, col) inside a guest block body (assembler diagnostics carry no offsets) */
  private guestOffset(line: number, col: number): number {
    for (const g of this.ast.guests) {
      const k = line - g.sourceStart.line;
      if (k < 0) continue;
      const starts = this.guestLineStarts(g);
      if (k >= starts.length) continue;
      return g.sourceStart.offset + starts[k] + col - (k === 0 ? g.sourceStart.col : 0);
    }
    return 0;
  }

  /** offsets of each line start in a guest block's source, computed once (a block may have thousands of errors) */
  private readonly lineStarts = new Map<GuestBlock, number[]>();
  private guestLineStarts(g: GuestBlock): number[] {
    let starts = this.lineStarts.get(g);
    if (starts === undefined) {
      starts = [0];
      for (let i = g.source.indexOf('\n'); i >= 0; i = g.source.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts.set(g, starts);
    }
    return starts;
  }

  private findCall(e: Expr): Range | undefined {
    switch (e.kind) {
      case 'call': return e.range;
      case 'paren': return this.findCall(e.expr);
      case 'unary': return this.findCall(e.operand);
      case 'binary': return this.findCall(e.left) ?? this.findCall(e.right);
      default: return undefined;
    }
  }

  /** when the first vcpu_init loads the guest code, each block must lie inside a memslot (LANGUAGE.md `guest`) */
  private checkGuestPlacement(): void {
    if (this.guestPlacementChecked) return;
    this.guestPlacementChecked = true;
    this.ast.guests.forEach((g, k) => {
      const base = this.guestBases[k];
      if (base === undefined) return;
      const end = this.guestExtents[k]?.end ?? base + 1n;
      if (this.slotsUnknown()) return;
      const inside = [...this.slots.values()].some((s) => s.gpa !== undefined && s.size !== undefined && base >= s.gpa && end <= s.gpa + s.size);
      if (!inside) this.diags.warning(g.keyword.range, `guest code at ${hex(base)} is not inside a memslot when the first vcpu_init loads it: it is not written, and running it faults`, 'layout');
    });
  }

  private slotsUnknown(): boolean {
    return [...this.slots.values()].some((s) => s.gpa === undefined || s.size === undefined);
  }

  // ------------------------------------------------------------ statements

  private checkStatement(s: HostStatement): void {
    const form = FORM_BY_ID.get(s.form);
    const values = new Map<string, bigint | undefined>();
    let lists: Map<string, (bigint | undefined)[]> = NO_LISTS;
    this.resolved.push({ statement: s, form, line: s.range.start.line, values, lists });
    if (!form) return; // the parser reported it
    // evaluate every numeric argument (cap names and register keys are resolved by their own rules)
    for (const a of s.args) {
      const v: ValueArg | undefined = a.kind === 'option' ? a.value : a.kind === 'flag' || a.kind === 'compare' ? undefined : a;
      if (!v) continue;
      const key = a.kind === 'option' ? a.key.text : v.role;
      if (v.kind === 'expr') {
        if (key === 'cap') values.set(key, this.capValue(v.expr));
        else values.set(key, this.evalExpr(v.expr));
      } else if (v.kind === 'list') {
        if (lists === NO_LISTS) {
          lists = new Map();
          this.resolved[this.resolved.length - 1] = { statement: s, form, line: s.range.start.line, values, lists };
        }
        lists.set(key, v.items.map((x) => this.evalExpr(x)));
      }
    }
    this.checkResultKind(s, form);
    const pred = this.predict(s, form, values, lists);
    if (pred) this.reportPrediction(s, pred);
    this.apply(s, form, values, pred);
  }

  private checkResultKind(s: HostStatement, form: FormSpec): void {
    const r = s.result;
    if (!r) return;
    const kind = r.result.kind;
    if (s.background) {
      this.diags.error(r.range, 'a background run (`run N &`) has no result here: put `=>` on `join N`', 'result');
      return;
    }
    if (form.results.length === 0) {
      this.diags.error(r.range, `${s.keyword.text} has no result: \`=>\` cannot follow it`, 'result');
      return;
    }
    if (!form.results.includes(kind)) {
      this.diags.error(r.result.range, `\`=> ${describeResult(r.result)}\` cannot happen for ${s.keyword.text} (results: ${form.results.map(describeKind).join(', ')})`, 'result');
      return;
    }
    if (r.result.kind === 'exit' && r.result.reason.text === 'guest_exception' && this.machine.guestExceptions !== 'stop') {
      this.diags.error(r.result.range, '`exit guest_exception` happens only with `machine { guest_exceptions stop }`', 'result');
    }
    if (r.result.kind === 'exit') for (const a of r.result.args) if (a.kind === 'option' && a.value.kind === 'expr') this.evalExpr(a.value.expr);
    if (r.result.kind === 'pages') for (const x of r.result.items) this.evalExpr(x);
    if (r.result.kind === 'value') this.evalExpr(r.result.expr);
  }

  private reportPrediction(s: HostStatement, p: Prediction): void {
    const r = s.result?.result;
    if (r && r.kind === 'errno' && r.name === p.errno) return;
    const text = `this fails with ${p.errno} (spec ${p.rule}): ${p.message}`;
    this.diags.warning(r ? r.range : s.range, r ? `${text}, not \`${describeResult(r)}\`` : text, p.rule, p.related);
  }

  /** the outcome the scenario relies on: a statement without `=>` (or with `=> ok`/a value/exit) succeeds */
  private succeeds(s: HostStatement): boolean {
    const r = s.result?.result;
    return !r || r.kind !== 'errno';
  }

  // ------------------------------------------------------------ value checks

  private fits(range: Range, v: bigint | undefined, bits: number, what: string): boolean {
    if (v === undefined) return true;
    if (v >> BigInt(bits) !== 0n) {
      this.diags.error(range, `${hex(v)} does not fit ${what} (u${bits})`, 'range');
      return false;
    }
    return true;
  }

  private vcpuIndex(s: HostStatement, role = 'vcpu'): VcpuState | undefined {
    const e = exprOf(s, role);
    if (!e) return undefined;
    const v = this.evaluated(s, role);
    if (v === undefined) return undefined;
    if (v >= BigInt(this.machine.vcpus)) {
      this.diags.error(e.range, `vcpu ${v} does not exist: the machine has ${this.machine.vcpus} vcpu${this.machine.vcpus === 1 ? '' : 's'} (machine { vcpus N })`, 'vcpu-index');
      return undefined;
    }
    return this.vcpus[Number(v)];
  }

  private evaluated(s: HostStatement, key: string): bigint | undefined {
    return this.resolved[this.resolved.length - 1].values.get(key);
  }

  private capValue(e: Expr): bigint | undefined {
    if (e.kind === 'ref' && /^KVM_CAP_/.test(e.name) && !this.constDecls.has(e.name)) {
      const n = this.flavour.caps[e.name];
      if (n !== undefined) return BigInt(n);
      const others = FLAVOUR_NAMES.filter((f) => FLAVOURS[f].caps[e.name] !== undefined);
      if (others.length) this.diags.error(e.range, `${this.flavour.name} does not have ${e.name} (only ${others.join(', ')})`, 'flavour');
      else this.diags.error(e.range, `unknown capability '${e.name}'`, 'undefined-name');
      return undefined;
    }
    return this.evalExpr(e);
  }

  private checkRegister(w: Word): void {
    if (!isRegisterName(this.env, w.text)) this.diags.error(w.range, `unknown register '${w.text}' (x0…x30, pc, pstate, sp, sp_el1, elr_el1, spsr_el1 or a system register)`, 'undefined-name');
  }

  private requireVcpuOutsideRun(s: HostStatement, v: VcpuState | undefined): void {
    if (v?.background) this.diags.warning(s.range, `vcpu ${this.evaluated(s, 'vcpu')} is inside KVM_RUN (run … &): a vcpu ioctl now is a scenario error (real KVM would block on the vcpu mutex)`, 'runtime');
  }

  private flavourLacks(range: Range, what: string, having: (f: Flavour) => boolean): boolean {
    if (having(this.flavour)) return false;
    const others = FLAVOUR_NAMES.filter((n) => having(FLAVOURS[n]));
    this.diags.error(range, `${this.flavour.name} does not have ${what}${others.length ? ` (flavours that do: ${others.join(', ')})` : ''}`, 'flavour');
    return true;
  }

  private checkPgtableName(w: Word | undefined, special: string[]): void {
    if (!w) return;
    if (special.includes(w.text)) return;
    if (!this.pgtables.has(w.text)) this.diags.error(w.range, `undefined pgtable '${w.text}' (declare it with \`pgtable ${w.text} ipa_bits=N\`)`, 'undefined-name');
  }

  // ------------------------------------------------------------ predictions per statement

  private predict(s: HostStatement, form: FormSpec, values: Map<string, bigint | undefined>, lists: Map<string, (bigint | undefined)[]>): Prediction | undefined {
    switch (form.id) {
      case 'memslot': {
        const slotE = exprOf(s, 'slot')!;
        const slot = values.get('slot');
        if (!this.fits(slotE.range, slot, 16, 'a memslot id')) return undefined;
        const backingArg = optionOf(s.args, 'backing');
        const backing = backingArg?.value.kind === 'word' ? backingArg.value.word.text : 'anon';
        if (backingArg && !this.checkBacking(backingArg)) return undefined;
        const flags = (hasFlag(s.args, 'dirty_log') ? 1n : 0n) | (hasFlag(s.args, 'readonly') ? 2n : 0n);
        return this.predictSetRegion(s, slot, flags, values.get('gpa'), values.get('size'), optionOf(s.args, 'hva') ? values.get('hva') : null, backing);
      }
      case 'set_memory_region': {
        const slot = values.get('slot');
        const flags = values.get('flags');
        const ok = this.fits(optionOf(s.args, 'slot')!.value.range, slot, 32, 'the slot field')
          && this.fits(optionOf(s.args, 'flags')!.value.range, flags, 32, 'the flags field');
        if (!ok || flags === undefined) return undefined;
        return this.predictSetRegion(s, slot, flags, values.get('gpa'), values.get('size'), values.get('hva'), 'anon');
      }
      case 'memslot.delete': {
        const slot = values.get('slot');
        if (!this.fits(exprOf(s, 'slot')!.range, slot, 16, 'a memslot id')) return undefined;
        return this.predictSetRegion(s, slot, 0n, 0n, 0n, null, 'anon');
      }
      case 'memslot.move':
      case 'memslot.flags': {
        const slot = values.get('slot');
        if (!this.fits(exprOf(s, 'slot')!.range, slot, 16, 'a memslot id') || slot === undefined) return undefined;
        const old = this.slots.get(slot);
        if (!old) return undefined; // the runner reports a move/flags of a memslot that does not exist
        const flags = form.id === 'memslot.flags'
          ? (hasFlag(s.args, 'dirty_log') ? 1n : 0n) | (hasFlag(s.args, 'readonly') ? 2n : 0n)
          : (old.dirtyLog ? 1n : 0n) | (old.readonly ? 2n : 0n);
        const gpa = form.id === 'memslot.move' ? values.get('gpa') : old.gpa;
        return this.predictSetRegion(s, slot, flags, gpa, old.size, null, old.backing);
      }
      case 'get_dirty_log': {
        const slot = values.get('slot');
        if (slot === undefined || !this.fits(exprOf(s, 'slot')!.range, slot, 32, 'the slot field')) return undefined;
        const id = slot & 0xffffn;
        if (slot >> 16n !== 0n || id >= BigInt(this.flavour.memSlotsNum)) return { errno: 'EINVAL', rule: 'A.5#1', message: `slot ${hex(slot)}: as_id or id out of range` };
        const old = this.slots.get(slot);
        if (!old) return { errno: 'ENOENT', rule: 'A.5#2', message: `memslot ${slot} does not exist` };
        if (!old.dirtyLog) return { errno: 'ENOENT', rule: 'A.5#2', message: `memslot ${slot} does not log dirty pages` };
        return undefined;
      }
      case 'lock':
        if (this.flavourLacks(s.keyword.range, 'the memslot lock API (KVM_CAP_ARM_LOCK_USER_MEMORY_REGION)', (f) => f.lock !== null)) return undefined;
        return this.predictLock(values.get('slot'), hasFlag(s.args, 'read'), hasFlag(s.args, 'write'));
      case 'unlock':
        if (this.flavourLacks(s.keyword.range, 'the memslot lock API (KVM_CAP_ARM_LOCK_USER_MEMORY_REGION)', (f) => f.lock !== null)) return undefined;
        return this.predictUnlock(values.get('slot'));
      case 'unlock.all':
        this.flavourLacks(s.keyword.range, 'the memslot lock API (KVM_CAP_ARM_LOCK_USER_MEMORY_REGION)', (f) => f.lock !== null);
        return undefined;
      case 'enable_cap': return this.predictEnableCap(s, values, lists);
      case 'check_extension':
        this.fits(exprOf(s, 'cap')!.range, values.get('cap'), 32, 'a capability number');
        return undefined;
      case 'vcpu_init': return this.predictVcpuInit(s, values);
      case 'set_reg': {
        const v = this.vcpuIndex(s);
        this.requireVcpuOutsideRun(s, v);
        for (const o of s.args) if (o.kind === 'option') this.checkRegister(o.key);
        return undefined;
      }
      case 'get_reg': {
        const v = this.vcpuIndex(s);
        this.requireVcpuOutsideRun(s, v);
        const r = argOf(s, 'reg');
        if (r?.kind === 'word') this.checkRegister(r.word);
        return undefined;
      }
      case 'spe_attr': return this.predictSpeAttr(s, values);
      case 'run': {
        const v = this.vcpuIndex(s);
        if (!v) return undefined;
        if (v.background) {
          this.diags.warning(s.range, `vcpu ${values.get('vcpu')} already runs in the background: \`run\` now is a scenario error (use join)`, 'runtime');
          return undefined;
        }
        if (!v.initialised) return { errno: 'ENOEXEC', rule: 'F#run-init', message: `vcpu ${values.get('vcpu')} has not been initialised (KVM_ARM_VCPU_INIT)` };
        // kvm_vcpu_first_run_init checks only on the first KVM_RUN (has_run_once is set before them: vm.ts)
        if (v.hasRunOnce) return undefined;
        if (v.features?.has('pmu_v3')) return { errno: 'EINVAL', rule: 'F#run-pmu', message: 'kvm_arm_pmu_v3_enable: PMUv3 requested but not initialised' };
        if (v.features?.has('spe') && this.flavour.spe && this.machine.spe && !v.speInit) {
          return { errno: this.flavour.spe.runWithoutInitErrno, rule: 'E.5#first-run', message: 'the vcpu has the SPE feature but KVM_ARM_VCPU_SPE_INIT was not done' };
        }
        return undefined;
      }
      case 'join': {
        const v = this.vcpuIndex(s);
        if (v && !v.background) this.diags.warning(s.range, `vcpu ${values.get('vcpu')} has no background run to join: a scenario error at run time`, 'runtime');
        return undefined;
      }
      case 'mmio_reply':
      case 'inject_ext_dabt': {
        const v = this.vcpuIndex(s);
        this.requireVcpuOutsideRun(s, v);
        return undefined;
      }
      case 'write': {
        const w = wordOf(s, 'width')!;
        const bits = Number(w.slice(1));
        this.fits(exprOf(s, 'value')!.range, values.get('value'), bits, `a ${w} write`);
        return undefined;
      }
      case 'write.bytes': {
        const a = argOf(s, 'bytes');
        if (a?.kind === 'list') a.items.forEach((x, k) => this.fits(x.range, lists.get('bytes')?.[k], 8, 'a byte'));
        return undefined;
      }
      case 'load': {
        const p = argOf(s, 'path');
        if (p?.kind === 'string' && (p.value.startsWith('/') || p.value.split(/[\\/]/).includes('..'))) {
          this.diags.warning(p.range, "the path must stay inside the scenario's folder (or --root / the workspace): the loader refuses it", 'runtime');
        }
        return undefined;
      }
      case 's1map': this.checkS1map(s, values); return undefined;
      case 'pgtable': {
        const n = argOf(s, 'name');
        if (n?.kind === 'word') {
          const prev = this.pgtables.get(n.word.text);
          if (prev || n.word.text === 'vm' || n.word.text === 'host') this.diags.error(n.range, `pgtable '${n.word.text}' already exists`, 'duplicate', prev ? [{ range: prev, message: 'first declaration' }] : undefined);
          else this.pgtables.set(n.word.text, n.word.range);
        }
        const ps = values.get('page_size');
        if (ps !== undefined && !BLOCK_SIZES[Number(ps)]) this.diags.error(optionOf(s.args, 'page_size')!.value.range, 'page_size must be 4K, 16K or 64K', 'range');
        this.fits(optionOf(s.args, 'ipa_bits')!.value.range, values.get('ipa_bits'), 8, 'ipa_bits');
        return undefined;
      }
      case 'pgtable_map': {
        this.checkPgtableName(argOf(s, 'name')?.kind === 'word' ? (argOf(s, 'name') as { word: Word }).word : undefined, []);
        const prot = optionOf(s.args, 'prot');
        if (prot?.value.kind === 'wordlist') {
          for (const w of prot.value.items) {
            if (!(PGTABLE_PROTS as readonly string[]).includes(w.text)) this.diags.error(w.range, `unknown prot '${w.text}' (r, w, x, device, none)`, 'undefined-name');
            else if (w.text === 'none') this.flavourLacks(w.range, 'KVM_PGTABLE_PROT_NONE', (f) => f.hasProtNone);
          }
        }
        return undefined;
      }
      case 'pgtable_unmap':
        this.checkPgtableName((argOf(s, 'name') as { word: Word } | undefined)?.word, []);
        return undefined;
      case 'pgtable_set_owner':
        this.checkPgtableName((argOf(s, 'name') as { word: Word } | undefined)?.word, []);
        this.flavourLacks(s.keyword.range, 'owner ids (kvm_pgtable_stage2_set_owner)', (f) => f.invalidPte !== 'prot-none');
        return undefined;
      case 'pgtable_annotate':
        this.checkPgtableName((argOf(s, 'name') as { word: Word } | undefined)?.word, []);
        this.flavourLacks(s.keyword.range, 'kvm_pgtable_stage2_annotate', (f) => f.invalidPte === 'annotate');
        return undefined;
      case 'pkvm_mark_hyp':
      case 'host_access':
        this.requireProtected(s.keyword.range, s.keyword.text);
        return undefined;
      default:
        if (form.keyword === 'expect') this.checkExpect(s, form, values);
        return undefined;
    }
  }

  private requireProtected(range: Range, what: string): void {
    if (this.flavourLacks(range, 'protected mode (pKVM)', (f) => f.protectedMode !== null)) return;
    if (this.machine.mode !== 'protected') this.diags.error(range, `${what} needs \`machine { mode protected }\``, 'flavour');
  }

  private checkBacking(o: OptionArg): boolean {
    if (o.value.kind !== 'word') return false;
    const b = o.value.word.text;
    if (!(BACKINGS as readonly string[]).includes(b) && !/^hugetlb-\d+[KMGT]$/.test(b)) {
      this.diags.error(o.value.range, `unknown backing '${b}' (anon, hugetlb-SIZE, pfnmap)`, 'undefined-name');
      return false;
    }
    if (b.startsWith('hugetlb-')) {
      const size = parseSize(b.slice(8));
      const blocks = BLOCK_SIZES[this.machine.pageSize] ?? [];
      if (size === undefined || !blocks.includes(size)) {
        this.diags.error(o.value.range, `${b}: not a block size of the ${this.machine.pageSize / 1024}K granule (${blocks.map((x) => `hugetlb-${x >= 1n << 30n ? `${x >> 30n}G` : `${x >> 20n}M`}`).join(', ')})`, 'hugetlb');
        return false;
      }
    }
    return true;
  }

  /** KVM_SET_USER_MEMORY_REGION, spec A.2 in check order. `hva` null: chosen by the VMM (always aligned). */
  private predictSetRegion(s: HostStatement, slot: bigint | undefined, flags: bigint, gpa: bigint | undefined, size: bigint | undefined, hva: bigint | undefined | null, backing: string): Prediction | undefined {
    if (slot === undefined) return undefined;
    const page = BigInt(this.machine.pageSize);
    const id = slot & 0xffffn;
    const asId = slot >> 16n;
    if (id >= BigInt(this.flavour.memSlotsNum)) return { errno: 'EINVAL', rule: 'A.2#0', message: `(u16)slot ${id} >= KVM_USER_MEM_SLOTS (${this.flavour.memSlotsNum})` };
    if ((flags & ~3n) !== 0n) return { errno: 'EINVAL', rule: 'A.2#1', message: `flags ${hex(flags)}: only KVM_MEM_LOG_DIRTY_PAGES and KVM_MEM_READONLY` };
    if (size !== undefined && size % page !== 0n) return { errno: 'EINVAL', rule: 'A.2#2', message: `memory_size ${hex(size)} is not a multiple of PAGE_SIZE (${hex(page)})` };
    if (gpa !== undefined && gpa % page !== 0n) return { errno: 'EINVAL', rule: 'A.2#3', message: `guest_phys_addr ${hex(gpa)} is not PAGE_SIZE-aligned` };
    if (hva !== null && hva !== undefined) {
      if (hva % page !== 0n) return { errno: 'EINVAL', rule: 'A.2#4', message: `userspace_addr ${hex(hva)} is not PAGE_SIZE-aligned` };
      if (hva !== BigInt.asUintN(64, BigInt.asIntN(56, hva))) return { errno: 'EINVAL', rule: 'A.2#4', message: `userspace_addr ${hex(hva)} is tagged (!= untagged_addr())` };
      if (size !== undefined && hva + size > TASK_SIZE) return { errno: 'EINVAL', rule: 'A.2#4', message: 'access_ok() fails: userspace_addr + memory_size beyond TASK_SIZE (2^48)' };
    }
    if (asId !== 0n) return { errno: 'EINVAL', rule: 'A.2#5', message: `as_id ${asId} >= KVM_ADDRESS_SPACE_NUM (1)` };
    if (gpa === undefined || size === undefined) return undefined;
    if (gpa + size > U64) return { errno: 'EINVAL', rule: 'A.2#6', message: 'guest_phys_addr + memory_size wraps around' };
    if (size / page > KVM_MEM_MAX_NR_PAGES) return { errno: 'EINVAL', rule: 'A.2#7', message: `memory_size >> PAGE_SHIFT > KVM_MEM_MAX_NR_PAGES` };
    const old = this.slots.get(id);
    if (size === 0n) {
      if (!old) return { errno: 'EINVAL', rule: 'A.2#8', message: `DELETE of memslot ${id}, which does not exist` };
      if (old.lock) return { errno: 'EBUSY', rule: 'A.2#12', message: `memslot ${id} is locked: unlock it first`, related: [{ range: old.range, message: `memslot ${id}` }] };
      return undefined;
    }
    const readonly = (flags & 2n) !== 0n;
    const dirty = (flags & 1n) !== 0n;
    let change: 'create' | 'move' | 'flags' | 'none' = 'create';
    if (old) {
      if (hva !== null && hva !== undefined && old.hva !== undefined && hva !== old.hva) return { errno: 'EINVAL', rule: 'A.2#10', message: 'userspace_addr of an existing memslot cannot change' };
      if (old.size === undefined || old.gpa === undefined) return undefined;
      if (size !== old.size) return { errno: 'EINVAL', rule: 'A.2#10', message: `memslot ${id} exists with size ${hex(old.size)}: an existing memslot cannot be resized`, related: [{ range: old.range, message: `memslot ${id}` }] };
      if (readonly !== old.readonly) return { errno: 'EINVAL', rule: 'A.2#10', message: 'KVM_MEM_READONLY cannot change on an existing memslot', related: [{ range: old.range, message: `memslot ${id}` }] };
      change = gpa !== old.gpa ? 'move' : dirty !== old.dirtyLog ? 'flags' : 'none';
      if (change === 'none') return undefined;
    }
    const end = gpa + size;
    // (a gpa at or above every slot's end overlaps nothing: the usual create, slots laid out upwards)
    if ((change === 'create' || change === 'move') && !(gpa <= MAX_EXACT && Number(gpa) >= this.slotEndBound)) {
      // every create scans all slots: compare doubles when both intervals are exact below 2^53 (bigint
      // comparisons dominate this scan on big scenarios); the bigint test decides otherwise
      const exact = end <= MAX_EXACT;
      const gN = Number(gpa);
      const eN = Number(end);
      for (const o of this.slots.values()) {
        if (o.id === id || o.gpa === undefined || o.size === undefined) continue;
        let oEnd = o.end;
        if (oEnd === undefined) {
          oEnd = o.end = o.gpa + o.size;
          o.gpaN = Number(o.gpa);
          o.endN = oEnd <= MAX_EXACT ? Number(oEnd) : -1;
        }
        const oEndN = o.endN!;
        if (exact && oEndN >= 0 ? gN < oEndN && o.gpaN! < eN : gpa < oEnd && o.gpa < end) {
          return { errno: 'EEXIST', rule: 'A.2#11', message: `memslot ${id} [${hex(gpa)}, +${hex(size)}) overlaps memslot ${o.id}`, related: [{ range: o.range, message: `memslot ${o.id} [${hex(o.gpa)}, +${hex(o.size)})` }] };
        }
      }
    }
    // the one change a locked slot allows: turning dirty logging on (memslot_is_logging: not READONLY) for a
    // slot locked without WRITE (v4 08/39, v5 09/38)
    if (old?.lock && !(change === 'flags' && dirty && !readonly && !old.lock.write)) {
      return { errno: 'EBUSY', rule: 'A.2#12', message: `memslot ${id} is locked: unlock it first`, related: [{ range: old.range, message: `memslot ${id}` }] };
    }
    const limit = 1n << BigInt(this.machine.ipaBits);
    if (this.flavour.ipaLimitCheck === '>' ? end > limit : end >= limit) {
      return { errno: 'EFAULT', rule: 'A.2#12', message: `memslot end ${hex(end)} beyond the IPA size (${this.machine.ipaBits} bits)` };
    }
    if (dirty && backing === 'pfnmap') return { errno: 'EINVAL', rule: 'A.2#12', message: 'dirty logging on a VM_PFNMAP backing' };
    void s;
    return undefined;
  }

  private noteSlotExtent(gpa: bigint | undefined, size: bigint | undefined): void {
    if (gpa === undefined || size === undefined) return;
    const end = gpa + size;
    const n = end <= MAX_EXACT ? Number(end) : Infinity;
    if (n > this.slotEndBound) this.slotEndBound = n;
  }

  private predictLock(slot: bigint | undefined, read: boolean, write: boolean): Prediction | undefined {
    if (slot === undefined) return undefined;
    const api = this.flavour.lock!;
    if (slot >= BigInt(this.flavour.memSlotsNum)) return { errno: 'EINVAL', rule: 'E.3#1', message: `slot ${slot} >= KVM_MEM_SLOTS_NUM (${this.flavour.memSlotsNum})` };
    if (!read) return { errno: 'EINVAL', rule: 'E.3#2', message: 'KVM_ARM_LOCK_MEM_READ is mandatory' };
    // E.3#3 (a vcpu inside KVM_RUN holds its mutex) is not predicted: a background vcpu leaves KVM_RUN when its
    // guest exits, which the text does not say
    if (api.busyIfRunOnce && this.anyRun) return { errno: 'EBUSY', rule: 'E.3#4', message: 'memslots must be locked before any VCPU has run' };
    const old = this.slots.get(slot);
    if (!old) return { errno: 'EINVAL', rule: 'E.3#5', message: `memslot ${slot} does not exist` };
    if (write && (old.readonly || old.dirtyLog)) {
      return { errno: 'EPERM', rule: 'E.3#6', message: old.readonly ? 'write lock of a read-only memslot' : 'write lock of a memslot that logs dirty pages', related: [{ range: old.range, message: `memslot ${slot}` }] };
    }
    if (old.lock) return { errno: 'EBUSY', rule: 'E.3#7', message: `memslot ${slot} is already locked` };
    if (this.machine.memlock !== null && old.size !== undefined) {
      const shift = BigInt(Math.log2(this.machine.pageSize));
      const npages = old.size >> shift;
      const limit = this.machine.memlock >> shift;
      if (npages + this.lockedPages > limit) return { errno: 'ENOMEM', rule: 'E.3#8', message: `${npages} + locked_vm ${this.lockedPages} pages > RLIMIT_MEMLOCK ${limit} pages` };
    }
    if (old.backing === 'pfnmap') return { errno: 'ENOMEM', rule: 'E.3#9', message: 'pin_user_pages fails on a VM_PFNMAP backing' };
    if (old.lockMapped) return { errno: 'EAGAIN', rule: 'E.3#13', message: `the pages of memslot ${slot} are still mapped at stage 2 with the same PA (${this.flavour.name} leaves them mapped after UNLOCK)`, related: [{ range: old.range, message: `memslot ${slot}` }] };
    return undefined;
  }

  private predictUnlock(slot: bigint | undefined): Prediction | undefined {
    if (slot === undefined) return undefined;
    if (slot >= BigInt(this.flavour.memSlotsNum)) return { errno: 'EINVAL', rule: 'E.3#unlock-slot', message: `slot ${slot} >= KVM_MEM_SLOTS_NUM` };
    const old = this.slots.get(slot);
    if (!old) return { errno: 'EINVAL', rule: 'E.3#unlock-missing', message: `memslot ${slot} does not exist` };
    if (!old.lock && this.flavour.lock!.unlockRequiresLocked) return { errno: 'EINVAL', rule: 'E.3#unlock-not-locked', message: `memslot ${slot} is not locked (${this.flavour.name})` };
    return undefined;
  }

  private predictEnableCap(s: HostStatement, values: Map<string, bigint | undefined>, lists: Map<string, (bigint | undefined)[]>): Prediction | undefined {
    const cap = values.get('cap');
    const flagsOpt = optionOf(s.args, 'flags');
    const flags = flagsOpt ? values.get('flags') : 0n;
    if (!this.fits(exprOf(s, 'cap')!.range, cap, 32, 'a capability number')) return undefined;
    if (flagsOpt && !this.fits(flagsOpt.value.range, flags, 32, 'the flags field')) return undefined;
    const argsOpt = optionOf(s.args, 'args');
    const args = lists.get('args') ?? [];
    if (argsOpt && argsOpt.value.kind === 'list' && argsOpt.value.items.length > 4) {
      this.diags.error(argsOpt.value.range, 'struct kvm_enable_cap has 4 args', 'range');
      return undefined;
    }
    if (cap === undefined || flags === undefined) return undefined;
    const a = (k: number): bigint | undefined => (argsOpt ? args[k] : 0n) ?? 0n;
    const caps = this.flavour.caps;
    if (this.flavour.lock && cap === BigInt(this.flavour.lock.cap)) {
      if (a(2) === undefined || a(3) === undefined) return undefined;
      if (a(2) !== 0n || a(3) !== 0n) return { errno: 'EINVAL', rule: 'E.3#args', message: 'args[2] and args[3] must be 0' };
      if (flags === 1n) {
        const f = a(1);
        return f === undefined ? undefined : this.predictLock(a(0), (f & 1n) !== 0n, (f & 2n) !== 0n);
      }
      if (flags === 2n) {
        const f = a(1);
        if (f === undefined || (f & 1n) !== 0n) return undefined;
        return this.predictUnlock(a(0));
      }
      return { errno: 'EINVAL', rule: 'E.3#flags', message: `flags ${flags}: exactly one of FLAGS_LOCK (1) or FLAGS_UNLOCK (2)` };
    }
    // the VM's KVM_ENABLE_CAP (emulator/kvm/vm.ts) handles these caps; every other one is -EINVAL
    if (cap === BigInt(caps.KVM_CAP_ARM_NISV_TO_USER ?? -1)) return flags !== 0n ? { errno: 'EINVAL', rule: 'G.3#flags', message: 'KVM_CAP_ARM_NISV_TO_USER takes flags = 0' } : undefined;
    if (cap === BigInt(caps.KVM_CAP_ARM_MTE ?? -1)) {
      // the lock RFC's 02 patch moved the flags check into the NISV case only (as vm.ts models it)
      if (flags !== 0n && this.flavour.lock === null) return { errno: 'EINVAL', rule: 'G.6#flags', message: 'KVM_CAP_ARM_MTE takes flags = 0' };
      // the machine block creates the vcpus before the first host statement
      return { errno: 'EINVAL', rule: 'G.6#vcpus', message: 'KVM_CAP_ARM_MTE must be enabled before any vcpu is created (the machine block creates them)' };
    }
    return { errno: 'EINVAL', rule: 'G.15#unknown-cap', message: `KVM_ENABLE_CAP: cap ${cap} is not handled by ${this.flavour.name}` };
  }

  private predictVcpuInit(s: HostStatement, values: Map<string, bigint | undefined>): Prediction | undefined {
    const v = this.vcpuIndex(s);
    this.requireVcpuOutsideRun(s, v);
    const feats = new Set<string>();
    const fo = optionOf(s.args, 'features');
    let prediction: Prediction | undefined;
    if (fo?.value.kind === 'wordlist') {
      for (const w of fo.value.items) {
        if (!(VCPU_FEATURES as readonly string[]).includes(w.text)) {
          this.diags.error(w.range, `unknown vcpu feature '${w.text}' (${VCPU_FEATURES.join(', ')})`, 'undefined-name');
          continue;
        }
        feats.add(w.text);
      }
    }
    const pc = optionOf(s.args, 'pc');
    const pcv = values.get('pc');
    if (pc && pcv !== undefined && this.ast.guests.length > 0 && this.guestExtents.every((e) => e !== undefined)) {
      const inside = this.guestExtents.some((e) => e && pcv >= e.start && pcv < e.end);
      if (!inside) this.diags.warning(pc.value.range, `pc ${hex(pcv)} is outside the guest code`, 'layout');
    }
    // kvm_vcpu_set_target as emulator/kvm/vcpu-state.ts: feature bits in index order (ENOENT for a bit >= max,
    // EINVAL for a bit that differs from the first INIT), then the reset checks
    const bitOf = (f: string): number => (f === 'power_off' ? 0 : f === 'el1_32bit' ? 1 : f === 'pmu_v3' ? 3 : f === 'spe' ? (this.flavour.spe?.vcpuFeature ?? 7) : -1);
    const bits = (fs: Set<string>): Set<number> => {
      const out = new Set<number>();
      for (const f of fs) if (bitOf(f) >= 0) out.add(bitOf(f));
      if (!fs.has('psci_0_1')) out.add(2); // KVM_ARM_VCPU_PSCI_0_2: every VMM sets it
      return out;
    };
    const want = bits(feats);
    const prev = v?.features ? bits(v.features) : undefined;
    const max = this.flavour.spe ? Math.max(7, this.flavour.spe.vcpuFeature + 1) : 7;
    for (let i = 0; i < 32 && !prediction; i++) {
      if (want.has(i) && i >= max) prediction = { errno: 'ENOENT', rule: 'F#feature', message: `feature bit ${i} >= KVM_VCPU_MAX_FEATURES (${max})${i === 7 ? `: ${this.flavour.name} has no SPE vcpu feature` : ''}` };
      else if (prev && i < max && prev.has(i) !== want.has(i)) prediction = { errno: 'EINVAL', rule: 'F#feature-reinit', message: `feature bit ${i} differs from the first KVM_ARM_VCPU_INIT of this vcpu` };
    }
    if (!prediction && this.flavour.spe && feats.has('spe')) {
      if (feats.has('el1_32bit')) prediction = { errno: 'EINVAL', rule: 'F#reset', message: 'kvm_reset_vcpu: SPE is not supported with an AArch32 EL1' };
      else if (!this.machine.spe) prediction = { errno: 'EINVAL', rule: 'F#reset', message: 'kvm_reset_vcpu: SPE requested but the machine has no SPE (spe off)' };
    }
    this.initFeatures = feats;
    this.checkGuestPlacement();
    return prediction;
  }

  private predictSpeAttr(s: HostStatement, values: Map<string, bigint | undefined>): Prediction | undefined {
    this.pendingSpeIrq = undefined;
    const v = this.vcpuIndex(s);
    this.requireVcpuOutsideRun(s, v);
    if (this.flavourLacks(s.keyword.range, 'the SPE vcpu attributes', (f) => f.spe !== null)) return undefined;
    const which = s.args.filter((a) => a.kind === 'option' || a.kind === 'flag');
    if (which.length !== 1) {
      this.diags.error(s.range, 'spe_attr takes exactly one of irq=INTID, irq, init, stop=MODE', 'syntax');
      return undefined;
    }
    const irqOpt = optionOf(s.args, 'irq');
    if (irqOpt && !this.fits(irqOpt.value.range, values.get('irq'), 32, 'an INTID')) return undefined;
    if (!v) return undefined;
    // the order of emulator/kvm/spe.ts (E.5): supports(), then the attribute's own checks
    const hasSpe = v.features?.has('spe') ?? false;
    if (!this.machine.spe) return { errno: 'ENXIO', rule: 'E.5#supports', message: 'SPE not supported by the host (machine { spe off })' };
    if (!hasSpe) return { errno: 'ENXIO', rule: 'E.5#supports', message: `vcpu ${values.get('vcpu')} was not initialised with the SPE feature (vcpu_init … features=spe)` };
    if (this.machine.gic === 'none') return { errno: 'ENXIO', rule: 'E.5#supports', message: 'no in-kernel irqchip (machine { gic none })' };
    const attr = which[0].kind === 'option' ? which[0].key.text : which[0].word.text;
    if (attr === 'irq') {
      const irq = irqOpt ? values.get('irq') : BigInt(this.machine.speIrq);
      if (v.speInit) return { errno: 'EBUSY', rule: 'E.5#irq-initialized', message: 'KVM_ARM_VCPU_SPE_IRQ: SPE already initialised' };
      if (v.speIrq) return { errno: 'EBUSY', rule: 'E.5#irq-set', message: 'KVM_ARM_VCPU_SPE_IRQ: the interrupt is already set' };
      if (irq === undefined) return undefined;
      const ppi = irq >= 16n && irq < 32n;
      if (!ppi && !this.flavour.spe!.nonPpiIrqAccepted) return { errno: 'EINVAL', rule: 'E.5#irq-invalid', message: `INTID ${irq} is not a PPI (16..31)` };
      if (ppi) {
        const other = this.vcpus.findIndex((o) => o !== v && o.speIrqValue !== undefined && o.speIrqValue !== irq && o.speIrqValue >= 16n && o.speIrqValue < 32n);
        if (other >= 0) return { errno: 'EINVAL', rule: 'E.5#irq-invalid', message: `vcpu ${other} uses INTID ${this.vcpus[other].speIrqValue}; all vcpus must use the same PPI` };
      }
      this.pendingSpeIrq = irq;
    } else if (attr === 'init') {
      if (!v.speIrq) return { errno: 'ENXIO', rule: 'E.5#init-no-irq', message: 'KVM_ARM_VCPU_SPE_INIT: the interrupt number is not set (spe_attr N irq=INTID first)' };
      if (v.speInit) return { errno: 'EBUSY', rule: 'E.5#init-busy', message: 'KVM_ARM_VCPU_SPE_INIT: already initialised' };
    } else if (attr === 'stop') {
      if (!v.speInit) return { errno: 'EAGAIN', rule: 'E.5#stop-uninit', message: 'KVM_ARM_VCPU_SPE_STOP: SPE not initialised' };
    }
    return undefined;
  }

  private checkS1map(s: HostStatement, values: Map<string, bigint | undefined>): void {
    const base = this.machine.s1Tables;
    if (base === null) {
      this.diags.error(s.keyword.range, 's1map needs `machine { s1_tables ADDR }` (where the tables are built)', 's1map');
      return;
    }
    const va = values.get('va');
    const size = values.get('size');
    if (va === undefined || size === undefined || size === 0n) return;
    // count the table pages this call adds: root (L0) first, then one L1 per 512G, L2 per 1G, L3 per 2M touched
    const first = va & ~0xfffn;
    const last = (va + size - 1n) & ~0xfffn;
    if (this.s1TablePages.size === 0) this.s1TablePages.add('root');
    for (const [lvl, shift] of [[1, 39n], [2, 30n], [3, 21n]] as const) {
      for (let i = first >> shift; i <= last >> shift; i++) {
        this.s1TablePages.add(`${lvl}:${i}`);
        if (this.s1TablePages.size > 1_000_000) break;
      }
    }
    const end = base + BigInt(this.s1TablePages.size) * 4096n;
    const slot = [...this.slots.values()].find((x) => x.gpa !== undefined && x.size !== undefined && base >= x.gpa && base < x.gpa + x.size);
    if (!slot) {
      if (!this.slotsUnknown()) this.diags.warning(s.keyword.range, `s1_tables ${hex(base)} is not inside a memslot: the tables cannot be written`, 'layout');
      return;
    }
    if (end > slot.gpa! + slot.size!) {
      this.diags.error(s.range, `s1map needs ${this.s1TablePages.size} table pages from s1_tables ${hex(base)} (up to ${hex(end)}), past the end of memslot ${slot.id} (${hex(slot.gpa! + slot.size!)})`, 's1map', [{ range: slot.range, message: `memslot ${slot.id}` }]);
    }
  }

  private checkExpect(s: HostStatement, form: FormSpec, values: Map<string, bigint | undefined>): void {
    switch (form.id) {
      case 'expect.memslot': {
        const f = flagsOf(s.args);
        const bad = (cond: boolean, msg: string) => { if (cond) this.diags.error(s.range, msg, 'syntax'); };
        bad(f.includes('present') && f.includes('absent'), 'present and absent cannot both hold');
        bad(f.includes('locked') && f.includes('unlocked'), 'locked and unlocked cannot both hold');
        bad((f.includes('read') || f.includes('write')) && !f.includes('locked'), '`read`/`write` describe a lock: write `locked read [write]`');
        bad(f.includes('locked') && !f.includes('read'), '`locked` needs `read` (locked read, locked read write)');
        if (f.includes('locked')) this.flavourLacks(s.range, 'memslot locking', (fl) => fl.lock !== null);
        this.fits(exprOf(s, 'slot')!.range, values.get('slot'), 16, 'a memslot id');
        return;
      }
      case 'expect.stage2.unmapped':
      case 'expect.stage2.mapped':
      case 'expect.stage2.annotated':
      case 'expect.stage2.prot_none': {
        const t = argOf(s, 'table');
        if (t?.kind === 'word') {
          if (t.word.text === 'host') this.requireProtected(t.range, 'expect stage2 host');
          else this.checkPgtableName(t.word, []);
        }
        if (form.id === 'expect.stage2.prot_none') this.flavourLacks(s.range, 'PROT_NONE entries', (f) => f.hasProtNone);
        if (form.id === 'expect.stage2.annotated' && hasFlag(s.args, 'mmio_guard')) this.flavourLacks(s.range, 'MMIO guard annotations', (f) => f.mmioGuard !== null);
        const owner = optionOf(s.args, 'owner');
        if (form.id === 'expect.stage2.annotated' && owner) this.flavourLacks(owner.key.range, 'owner ids in invalid PTEs', (f) => f.invalidPte !== 'prot-none');
        const lvl = values.get('level');
        if (lvl !== undefined && lvl > 3n) this.diags.error(optionOf(s.args, 'level')!.value.range, 'level is 0..3', 'range');
        return;
      }
      case 'expect.pte': {
        const t = argOf(s, 'table');
        if (t?.kind === 'word') this.checkPgtableName(t.word, ['vm', 'host']);
        if (t?.kind === 'word' && t.word.text === 'host') this.requireProtected(t.range, 'expect pte host');
        return;
      }
      case 'expect.reg': {
        const v = this.vcpuIndex(s);
        this.requireVcpuOutsideRun(s, v);
        const r = argOf(s, 'reg');
        if (r?.kind === 'word') this.checkRegister(r.word);
        return;
      }
      case 'expect.mem': {
        const w = wordOf(s, 'width')!;
        this.fits(exprOf(s, 'value')!.range, values.get('value'), Number(w.slice(1)), `a ${w} value`);
        return;
      }
      case 'expect.pending_ops': {
        const ops = argOf(s, 'ops');
        if (ops?.kind === 'wordlist' && ops.items.length > 1 && ops.items.some((w) => w.text === 'none')) this.diags.error(ops.range, '`none` stands alone', 'syntax');
        // mmu_pending_ops exists only with the lock RFC (spec E.4)
        if (ops?.kind === 'wordlist' && ops.items.some((w) => w.text !== 'none')) this.flavourLacks(ops.range, 'deferred pending ops (mmu_pending_ops)', (fl) => fl.lock !== null);
        return;
      }
      case 'expect.event':
      case 'expect.no_event':
      case 'expect.total':
        this.checkEventExpect(s);
        return;
    }
  }

  private checkEventExpect(s: HostStatement): void {
    const k = argOf(s, 'kind');
    if (k?.kind !== 'word') return;
    const kind = k.word.text;
    if (!(EVENT_KINDS as readonly string[]).includes(kind)) {
      this.diags.error(k.range, `unknown event kind '${kind}' (${EVENT_KINDS.join(', ')})`, 'undefined-name');
      return;
    }
    const fields = EVENT_FIELDS[kind as EventKind];
    for (const a of s.args) {
      if (a.kind !== 'option') continue;
      const type: FieldType | undefined = fields[a.key.text] ?? COMMON_EVENT_FIELDS[a.key.text];
      if (!type) {
        this.diags.error(a.key.range, `a ${kind} event has no field '${a.key.text}' (fields: ${Object.keys(fields).join(', ')})`, 'undefined-name');
        continue;
      }
      const v = a.value;
      const ok =
        type === 'any' ? true :
        type === 'number' ? v.kind === 'expr' :
        type === 'bool' ? v.kind === 'word' && (v.word.text === 'true' || v.word.text === 'false') :
        type === 'name' ? v.kind === 'word' || v.kind === 'string' :
        type === 'string' ? v.kind === 'string' || v.kind === 'word' :
        type === 'numbers' ? v.kind === 'list' :
        v.kind === 'wordlist' || v.kind === 'word';
      if (!ok) this.diags.error(v.range, `${kind} field '${a.key.text}' takes ${type === 'bool' ? 'true or false' : type === 'numbers' ? 'a list [n, …]' : type === 'names' ? 'a list of names' : `a ${type}`}`, 'range');
    }
  }

  // ------------------------------------------------------------ state after a statement

  private apply(s: HostStatement, form: FormSpec, values: Map<string, bigint | undefined>, pred: Prediction | undefined): void {
    // `run` and `join` change the model even when KVM_RUN ends in an errno (EINTR, EFAULT: the vcpu ran)
    if (form.id === 'run') {
      const v = this.vcpus[Number(values.get('vcpu') ?? -1n)];
      if (!v || v.background) return;
      // past the -ENOEXEC check, KVM_RUN sets has_run_once even when a first-run check then fails
      if (v.initialised) {
        v.hasRunOnce = true;
        this.anyRun = true;
      }
      if (s.background && !pred) v.background = true;
      return;
    }
    if (form.id === 'join') {
      const v = this.vcpus[Number(values.get('vcpu') ?? -1n)];
      if (v) v.background = false;
      return;
    }
    // Whatever the outcome: DELETE/MOVE unmap the old range before the arch hook can refuse them (A.2#8 note),
    // munmap and a vcpu reset after a run unmap stage 2 (conservatively: forget what locks mapped).
    if (form.id === 'memslot' || form.id === 'memslot.delete' || form.id === 'memslot.move' || form.id === 'set_memory_region') {
      const old = this.slots.get(values.get('slot') ?? -1n);
      if (old) old.lockMapped = false;
    } else if (form.id === 'unmap_host') {
      for (const o of this.slots.values()) o.lockMapped = false;
    } else if (form.id === 'vcpu_init' && this.vcpus[Number(values.get('vcpu') ?? -1n)]?.hasRunOnce) {
      for (const o of this.slots.values()) if (!o.lock) o.lockMapped = false;
    }
    // A statement without `=>` must succeed (else the scenario stops there); after `=> EXXX`, or a predicted
    // failure, the state is as it was.
    if (!this.succeeds(s) || pred) return;
    switch (form.id) {
      case 'memslot': {
        const slot = values.get('slot');
        if (slot === undefined) return;
        const old = this.slots.get(slot);
        const gpa = values.get('gpa');
        const size = values.get('size');
        const backing = optionOf(s.args, 'backing');
        const st: SlotState = {
          id: slot, gpa, size, hva: optionOf(s.args, 'hva') ? values.get('hva') : old?.hva,
          readonly: hasFlag(s.args, 'readonly'), dirtyLog: hasFlag(s.args, 'dirty_log'),
          backing: backing?.value.kind === 'word' ? backing.value.word.text : old?.backing ?? 'anon',
          lock: old?.lock ?? null, range: old ? old.range : s.range,
          // every field present from the start: one object shape for the overlap scan
          end: undefined, gpaN: 0, endN: -1, lockMapped: undefined,
        };
        this.slots.set(slot, st);
        this.noteSlotExtent(gpa, size);
        if (!old) this.memslotDecls.push({ slot, gpa, size, statement: s, range: s.range });
        return;
      }
      case 'set_memory_region': {
        const slot = values.get('slot');
        const flags = values.get('flags');
        const size = values.get('size');
        if (slot === undefined) return;
        if (size === 0n) { this.slots.delete(slot); return; }
        const old = this.slots.get(slot);
        const gpa = values.get('gpa');
        this.slots.set(slot, {
          id: slot, gpa, size, hva: values.get('hva'), readonly: flags !== undefined && (flags & 2n) !== 0n,
          dirtyLog: flags !== undefined && (flags & 1n) !== 0n, backing: 'anon', lock: old?.lock ?? null, range: old?.range ?? s.range,
          end: undefined, gpaN: 0, endN: -1, lockMapped: undefined,
        });
        this.noteSlotExtent(gpa, size);
        if (!old) this.memslotDecls.push({ slot, gpa, size, statement: s, range: s.range });
        return;
      }
      case 'memslot.delete': {
        const slot = values.get('slot');
        if (slot !== undefined) this.slots.delete(slot);
        return;
      }
      case 'memslot.move': {
        const old = this.slots.get(values.get('slot') ?? -1n);
        if (old) {
          old.gpa = values.get('gpa');
          old.end = undefined;
          this.noteSlotExtent(old.gpa, old.size);
        }
        return;
      }
      case 'memslot.flags': {
        const old = this.slots.get(values.get('slot') ?? -1n);
        if (old) old.dirtyLog = hasFlag(s.args, 'dirty_log');
        return;
      }
      case 'lock':
        this.lockSlot(values.get('slot'), hasFlag(s.args, 'read'), hasFlag(s.args, 'write'));
        return;
      case 'unlock':
        this.unlockSlot(values.get('slot'));
        return;
      case 'unlock.all':
        this.unlockAll();
        return;
      case 'enable_cap': {
        // the raw lock/unlock ioctl changes the lock state like `lock` / `unlock`
        const cap = values.get('cap');
        if (!this.flavour.lock || cap !== BigInt(this.flavour.lock.cap)) return;
        const flags = optionOf(s.args, 'flags') ? values.get('flags') : 0n;
        const args = this.resolved[this.resolved.length - 1].lists.get('args') ?? [];
        const slot = args[0] ?? 0n;
        const bits = args[1] ?? 0n;
        if (slot === undefined || bits === undefined) return;
        if (flags === 1n) this.lockSlot(slot, (bits & 1n) !== 0n, (bits & 2n) !== 0n);
        else if (flags === 2n && (bits & 1n) !== 0n) this.unlockAll();
        else if (flags === 2n) this.unlockSlot(slot);
        return;
      }
      case 'vcpu_init': {
        const v = this.vcpus[Number(values.get('vcpu') ?? -1n)];
        if (!v) return;
        v.initialised = true;
        v.features ??= this.initFeatures;
        return;
      }
      case 'spe_attr': {
        const v = this.vcpus[Number(values.get('vcpu') ?? -1n)];
        if (!v) return;
        if (optionOf(s.args, 'irq') || hasFlag(s.args, 'irq')) {
          v.speIrq = true;
          v.speIrqValue = this.pendingSpeIrq;
        }
        if (hasFlag(s.args, 'init')) v.speInit = true;
        return;
      }
      default:
        return;
    }
  }

  private lockSlot(slot: bigint | undefined, read: boolean, write: boolean): void {
    const old = slot === undefined ? undefined : this.slots.get(slot);
    if (old && !old.lock) {
      old.lock = { read, write };
      old.lockMapped = true;
      if (old.size !== undefined) this.lockedPages += old.size / BigInt(this.machine.pageSize);
    }
  }

  private unlockSlot(slot: bigint | undefined): void {
    const old = slot === undefined ? undefined : this.slots.get(slot);
    // v4 as posted un-accounts the pages of a slot that is not locked too (memslot-lock.ts, E.3 unlock table)
    if (old && (old.lock || !this.flavour.lock?.unlockRequiresLocked)) {
      old.lock = null;
      if (this.flavour.lock?.unmapOnUnlockWithPendingOps) old.lockMapped = false;
      if (old.size !== undefined) this.lockedPages -= old.size / BigInt(this.machine.pageSize);
    }
  }

  private unlockAll(): void {
    for (const o of this.slots.values()) {
      if (o.lock && this.flavour.lock?.unmapOnUnlockWithPendingOps) o.lockMapped = false;
      o.lock = null;
    }
    this.lockedPages = 0n;
  }
}

function describeKind(k: Result['kind']): string {
  switch (k) {
    case 'ok': return 'ok';
    case 'errno': return 'an errno';
    case 'exit': return 'exit …';
    case 'pages': return 'pages […]';
    case 'value': return 'a value';
    case 'hyp_panic': return 'hyp_panic';
  }
}

export function describeResult(r: Result): string {
  switch (r.kind) {
    case 'ok': return 'ok';
    case 'errno': return r.name;
    case 'exit': return `exit ${r.reason.text}`;
    case 'pages': return 'pages […]';
    case 'value': return 'a value';
    case 'hyp_panic': return 'hyp_panic';
  }
}

