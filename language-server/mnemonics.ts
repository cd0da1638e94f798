// The A64 mnemonics and directives the guest assembler (emulator/cpu/assembler.ts) accepts, with a one-line
// operation for completion and hover. The assembler is the authority: test/lsp/mnemonics.test.ts assembles
// every entry and fails if the assembler calls one unknown.

export type MnemonicGroup = 'data' | 'memory' | 'branch' | 'system';

export interface MnemonicDoc {
  readonly name: string;
  readonly group: MnemonicGroup;
  readonly operation: string;
  /** a line the assembler accepts (for the test and the completion snippet) */
  readonly example: string;
}

const M = (name: string, group: MnemonicGroup, operation: string, example: string): MnemonicDoc => ({ name, group, operation, example });

export const MNEMONICS: readonly MnemonicDoc[] = [
  // data processing
  M('add', 'data', 'Rd = Rn + operand2 (immediate, shifted or extended register)', 'add x0, x1, #1'),
  M('adds', 'data', 'Rd = Rn + operand2, setting NZCV', 'adds x0, x1, #1'),
  M('sub', 'data', 'Rd = Rn - operand2', 'sub x0, x1, #1'),
  M('subs', 'data', 'Rd = Rn - operand2, setting NZCV', 'subs x0, x1, #1'),
  M('cmp', 'data', 'set NZCV from Rn - operand2 (SUBS XZR)', 'cmp x0, #1'),
  M('cmn', 'data', 'set NZCV from Rn + operand2 (ADDS XZR)', 'cmn x0, #1'),
  M('neg', 'data', 'Rd = -operand2 (SUB from XZR)', 'neg x0, x1'),
  M('negs', 'data', 'Rd = -operand2, setting NZCV', 'negs x0, x1'),
  M('mov', 'data', 'Rd = immediate (MOVZ/MOVN/ORR) or register (ORR/ADD to/from SP)', 'mov x0, #1'),
  M('movz', 'data', 'Rd = imm16 << shift, other bits zero', 'movz x0, #1, lsl #16'),
  M('movn', 'data', 'Rd = ~(imm16 << shift)', 'movn x0, #1'),
  M('movk', 'data', 'insert imm16 at shift, keeping the other bits', 'movk x0, #1, lsl #16'),
  M('and', 'data', 'Rd = Rn AND operand2 (bitmask immediate or shifted register)', 'and x0, x1, #0xff'),
  M('ands', 'data', 'Rd = Rn AND operand2, setting NZ', 'ands x0, x1, #0xff'),
  M('orr', 'data', 'Rd = Rn OR operand2', 'orr x0, x1, #0xff'),
  M('eor', 'data', 'Rd = Rn XOR operand2', 'eor x0, x1, #0xff'),
  M('bic', 'data', 'Rd = Rn AND NOT Rm', 'bic x0, x1, x2'),
  M('bics', 'data', 'Rd = Rn AND NOT Rm, setting NZ', 'bics x0, x1, x2'),
  M('orn', 'data', 'Rd = Rn OR NOT Rm', 'orn x0, x1, x2'),
  M('eon', 'data', 'Rd = Rn XOR NOT Rm', 'eon x0, x1, x2'),
  M('tst', 'data', 'set NZ from Rn AND operand2 (ANDS XZR)', 'tst x0, #1'),
  M('mvn', 'data', 'Rd = NOT Rm', 'mvn x0, x1'),
  M('lsl', 'data', 'Rd = Rn << shift (UBFM or LSLV)', 'lsl x0, x1, #4'),
  M('lsr', 'data', 'Rd = Rn >> shift, logical', 'lsr x0, x1, #4'),
  M('asr', 'data', 'Rd = Rn >> shift, arithmetic', 'asr x0, x1, #4'),
  M('ror', 'data', 'Rd = Rn rotated right', 'ror x0, x1, #4'),
  M('lslv', 'data', 'Rd = Rn << (Rm mod width)', 'lslv x0, x1, x2'),
  M('lsrv', 'data', 'Rd = Rn >> (Rm mod width), logical', 'lsrv x0, x1, x2'),
  M('asrv', 'data', 'Rd = Rn >> (Rm mod width), arithmetic', 'asrv x0, x1, x2'),
  M('rorv', 'data', 'Rd = Rn rotated right by (Rm mod width)', 'rorv x0, x1, x2'),
  M('udiv', 'data', 'Rd = Rn / Rm, unsigned (0 when Rm = 0)', 'udiv x0, x1, x2'),
  M('sdiv', 'data', 'Rd = Rn / Rm, signed (0 when Rm = 0)', 'sdiv x0, x1, x2'),
  M('ubfx', 'data', 'extract an unsigned bitfield', 'ubfx x0, x1, #4, #8'),
  M('sbfx', 'data', 'extract a signed bitfield', 'sbfx x0, x1, #4, #8'),
  M('ubfiz', 'data', 'insert a bitfield at lsb into zeros', 'ubfiz x0, x1, #4, #8'),
  M('sbfiz', 'data', 'insert a sign-extended bitfield at lsb', 'sbfiz x0, x1, #4, #8'),
  M('bfi', 'data', 'insert a bitfield, keeping the other bits of Rd', 'bfi x0, x1, #4, #8'),
  M('bfxil', 'data', 'extract a bitfield into the low bits of Rd, keeping the others', 'bfxil x0, x1, #4, #8'),
  M('bfc', 'data', 'clear a bitfield of Rd', 'bfc x0, #4, #8'),
  M('ubfm', 'data', 'unsigned bitfield move', 'ubfm x0, x1, #4, #8'),
  M('sbfm', 'data', 'signed bitfield move', 'sbfm x0, x1, #4, #8'),
  M('bfm', 'data', 'bitfield move', 'bfm x0, x1, #4, #8'),
  M('sxtb', 'data', 'sign-extend byte', 'sxtb x0, w1'),
  M('sxth', 'data', 'sign-extend halfword', 'sxth x0, w1'),
  M('sxtw', 'data', 'sign-extend word', 'sxtw x0, w1'),
  M('uxtb', 'data', 'zero-extend byte', 'uxtb w0, w1'),
  M('uxth', 'data', 'zero-extend halfword', 'uxth w0, w1'),
  M('extr', 'data', 'extract a register from a pair (Rn:Rm) >> lsb', 'extr x0, x1, x2, #8'),
  M('madd', 'data', 'Rd = Ra + Rn * Rm', 'madd x0, x1, x2, x3'),
  M('msub', 'data', 'Rd = Ra - Rn * Rm', 'msub x0, x1, x2, x3'),
  M('mul', 'data', 'Rd = Rn * Rm', 'mul x0, x1, x2'),
  M('mneg', 'data', 'Rd = -(Rn * Rm)', 'mneg x0, x1, x2'),
  M('adr', 'data', 'Rd = PC + offset (±1 MiB)', 'adr x0, .'),
  M('adrp', 'data', 'Rd = (PC & ~0xfff) + page offset (±4 GiB)', 'adrp x0, .'),
  M('csel', 'data', 'Rd = cond ? Rn : Rm', 'csel x0, x1, x2, eq'),
  M('csinc', 'data', 'Rd = cond ? Rn : Rm + 1', 'csinc x0, x1, x2, eq'),
  M('csinv', 'data', 'Rd = cond ? Rn : NOT Rm', 'csinv x0, x1, x2, eq'),
  M('csneg', 'data', 'Rd = cond ? Rn : -Rm', 'csneg x0, x1, x2, eq'),
  M('cset', 'data', 'Rd = cond ? 1 : 0', 'cset x0, eq'),
  M('csetm', 'data', 'Rd = cond ? -1 : 0', 'csetm x0, eq'),
  M('cinc', 'data', 'Rd = cond ? Rn + 1 : Rn', 'cinc x0, x1, eq'),
  M('cinv', 'data', 'Rd = cond ? NOT Rn : Rn', 'cinv x0, x1, eq'),
  M('cneg', 'data', 'Rd = cond ? -Rn : Rn', 'cneg x0, x1, eq'),
  // branches
  M('b', 'branch', 'branch to a label (±128 MiB)', 'b .'),
  M('bl', 'branch', 'branch with link: x30 = return address', 'bl .'),
  M('b.eq', 'branch', 'conditional branch (b.eq b.ne b.cs/hs b.cc/lo b.mi b.pl b.vs b.vc b.hi b.ls b.ge b.lt b.gt b.le b.al)', 'b.eq .'),
  M('cbz', 'branch', 'branch if Rt == 0', 'cbz x0, .'),
  M('cbnz', 'branch', 'branch if Rt != 0', 'cbnz x0, .'),
  M('tbz', 'branch', 'branch if bit #n of Rt is 0', 'tbz x0, #3, .'),
  M('tbnz', 'branch', 'branch if bit #n of Rt is 1', 'tbnz x0, #3, .'),
  M('br', 'branch', 'branch to the address in Rn', 'br x0'),
  M('blr', 'branch', 'branch with link to the address in Rn', 'blr x0'),
  M('ret', 'branch', 'return: branch to x30 (or Rn)', 'ret'),
  // loads and stores
  M('ldr', 'memory', 'load a register (offset, pre/post-index, register offset, literal, `=expr` literal pool)', 'ldr x0, [x1, #8]'),
  M('str', 'memory', 'store a register', 'str x0, [x1, #8]'),
  M('ldrb', 'memory', 'load a byte, zero-extended', 'ldrb w0, [x1]'),
  M('strb', 'memory', 'store a byte', 'strb w0, [x1]'),
  M('ldrh', 'memory', 'load a halfword, zero-extended', 'ldrh w0, [x1]'),
  M('strh', 'memory', 'store a halfword', 'strh w0, [x1]'),
  M('ldrsb', 'memory', 'load a byte, sign-extended', 'ldrsb x0, [x1]'),
  M('ldrsh', 'memory', 'load a halfword, sign-extended', 'ldrsh x0, [x1]'),
  M('ldrsw', 'memory', 'load a word, sign-extended to 64 bits', 'ldrsw x0, [x1]'),
  M('ldur', 'memory', 'load a register, unscaled signed 9-bit offset', 'ldur x0, [x1, #-8]'),
  M('stur', 'memory', 'store a register, unscaled signed 9-bit offset', 'stur x0, [x1, #-8]'),
  M('ldurb', 'memory', 'load a byte, unscaled offset', 'ldurb w0, [x1, #-1]'),
  M('sturb', 'memory', 'store a byte, unscaled offset', 'sturb w0, [x1, #-1]'),
  M('ldurh', 'memory', 'load a halfword, unscaled offset', 'ldurh w0, [x1, #-2]'),
  M('sturh', 'memory', 'store a halfword, unscaled offset', 'sturh w0, [x1, #-2]'),
  M('ldursb', 'memory', 'load a byte, sign-extended, unscaled offset', 'ldursb x0, [x1, #-1]'),
  M('ldursh', 'memory', 'load a halfword, sign-extended, unscaled offset', 'ldursh x0, [x1, #-2]'),
  M('ldursw', 'memory', 'load a word, sign-extended, unscaled offset', 'ldursw x0, [x1, #-4]'),
  M('ldp', 'memory', 'load a pair of registers (no ISV: such an abort outside memslots cannot be emulated, spec C.5)', 'ldp x0, x1, [x2]'),
  M('stp', 'memory', 'store a pair of registers (ISV = 0 on a stage 2 abort, spec C.5)', 'stp x0, x1, [x2]'),
  M('ldpsw', 'memory', 'load a pair of words, sign-extended', 'ldpsw x0, x1, [x2]'),
  M('ldxr', 'memory', 'load exclusive', 'ldxr x0, [x1]'),
  M('ldaxr', 'memory', 'load-acquire exclusive', 'ldaxr x0, [x1]'),
  M('stxr', 'memory', 'store exclusive; Ws = 0 on success', 'stxr w2, x0, [x1]'),
  M('stlxr', 'memory', 'store-release exclusive', 'stlxr w2, x0, [x1]'),
  M('ldar', 'memory', 'load-acquire', 'ldar x0, [x1]'),
  M('stlr', 'memory', 'store-release', 'stlr x0, [x1]'),
  M('cas', 'memory', 'compare and swap (LSE): if [Xn] == Rs then [Xn] = Rt; Rs = old value', 'cas x0, x1, [x2]'),
  M('casal', 'memory', 'compare and swap, acquire + release', 'casal x0, x1, [x2]'),
  M('ldadd', 'memory', 'atomic add (LSE): [Xn] += Rs, Rt = old value', 'ldadd x0, x1, [x2]'),
  M('ldaddal', 'memory', 'atomic add, acquire + release', 'ldaddal x0, x1, [x2]'),
  M('stadd', 'memory', 'atomic add without result (LSE)', 'stadd x0, [x2]'),
  M('swp', 'memory', 'atomic swap (LSE)', 'swp x0, x1, [x2]'),
  M('swpal', 'memory', 'atomic swap, acquire + release', 'swpal x0, x1, [x2]'),
  // system
  M('svc', 'system', 'supervisor call (exception to EL1)', 'svc #0'),
  M('hvc', 'system', 'hypervisor call: traps to KVM (SMCCC conduit, spec D.2)', 'hvc #0'),
  M('smc', 'system', 'secure monitor call: trapped by KVM (HCR_EL2.TSC), handled like HVC (spec D.2)', 'smc #0'),
  M('brk', 'system', 'breakpoint exception', 'brk #0'),
  M('udf', 'system', 'permanently undefined: undefined-instruction exception', 'udf #0'),
  M('hint', 'system', 'hint instruction by number', 'hint #0'),
  M('nop', 'system', 'no operation', 'nop'),
  M('wfi', 'system', 'wait for interrupt (traps to KVM)', 'wfi'),
  M('wfe', 'system', 'wait for event', 'wfe'),
  M('yield', 'system', 'yield hint', 'yield'),
  M('sev', 'system', 'send event', 'sev'),
  M('sevl', 'system', 'send event local', 'sevl'),
  M('eret', 'system', 'exception return: PC = ELR_EL1, PSTATE = SPSR_EL1', 'eret'),
  M('psb', 'system', 'profiling synchronization barrier (SPE): `psb csync`', 'psb csync'),
  M('isb', 'system', 'instruction synchronization barrier', 'isb'),
  M('dsb', 'system', 'data synchronization barrier (sy, ish, ishst, nsh, …)', 'dsb sy'),
  M('dmb', 'system', 'data memory barrier', 'dmb ish'),
  M('clrex', 'system', 'clear the exclusive monitor', 'clrex'),
  M('ssbb', 'system', 'speculative store bypass barrier', 'ssbb'),
  M('pssbb', 'system', 'physical speculative store bypass barrier', 'pssbb'),
  M('msr', 'system', 'write a system register (or PSTATE field: daifset, daifclr, spsel)', 'msr tpidr_el1, x0'),
  M('mrs', 'system', 'read a system register', 'mrs x0, tpidr_el1'),
  M('dc', 'system', 'data cache maintenance by VA or set/way (zva, civac, cvac, ivac, …)', 'dc civac, x0'),
  M('ic', 'system', 'instruction cache maintenance (iallu, ialluis, ivau)', 'ic iallu'),
  M('at', 'system', 'address translation (s1e1r, s1e1w, s1e0r, s1e0w): result in PAR_EL1', 'at s1e1r, x0'),
  M('tlbi', 'system', 'TLB invalidate (vmalle1, vae1is, …)', 'tlbi vmalle1'),
  M('sys', 'system', 'generic system instruction #op1, Cn, Cm, #op2 [, Xt]', 'sys #0, c7, c5, #0'),
];

export const DIRECTIVES: readonly { readonly name: string; readonly operation: string; readonly example: string }[] = [
  { name: '.quad', operation: '64-bit values', example: '.quad 1' },
  { name: '.word', operation: '32-bit values', example: '.word 1' },
  { name: '.hword', operation: '16-bit values', example: '.hword 1' },
  { name: '.byte', operation: '8-bit values', example: '.byte 1' },
  { name: '.asciz', operation: 'a NUL-terminated string', example: '.asciz "x"' },
  { name: '.align', operation: 'align to 2^N bytes (NOP fill in code)', example: '.align 3' },
  { name: '.space', operation: 'N zero bytes', example: '.space 8' },
];

const BY_NAME = new Map<string, { name: string; operation: string; group?: MnemonicGroup }>([
  ...MNEMONICS.map((m) => [m.name, m] as const),
  ...DIRECTIVES.map((d) => [d.name, d] as const),
]);

/** the doc of a mnemonic as written (case-insensitive; `b.ne` etc. share `b.eq`'s doc; `ldaddal` variants …) */
export function mnemonicDoc(name: string): { name: string; operation: string; group?: MnemonicGroup } | undefined {
  const n = name.toLowerCase();
  const hit = BY_NAME.get(n);
  if (hit) return hit;
  if (/^b\.[a-z]+$/.test(n)) return BY_NAME.get('b.eq');
  const at = /^(cas|ldadd|swp|stadd|ldxr|ldaxr|stxr|stlxr|ldar|stlr)(a?l?)(b|h)?$/.exec(n);
  if (at) return BY_NAME.get(at[1]);
  return undefined;
}
