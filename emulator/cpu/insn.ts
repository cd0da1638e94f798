// The decoded A64 instruction: the contract between decode.ts (word -> Insn), encode.ts (Insn -> word),
// the assembler, the disassembler and the interpreter (which compiles an Insn into a closure once per PC).
//
// Design: ONE flat record shape for every instruction (every field always present, unused fields hold their
// neutral value), discriminated by the string-literal `op`. The shape is monomorphic so V8 keeps property
// access fast, and an interpreter can `switch (insn.op)` and read only the fields that op documents below.
//
// Register numbers are 0..31. Whether 31 means SP or XZR/WZR depends on the op and is stated per op
// ("Rd|SP" = 31 is the stack pointer, otherwise 31 is the zero register).
//
// Immediates are already decoded: sign-extended, scaled to bytes, bitmask immediates expanded. All of them are
// JS numbers except the logical-immediate value `bimm`, which is a bigint (a 64-bit pattern; for 32-bit ops only
// the low 32 bits are set). Nothing else in an Insn is a bigint.
//
// Instruction set: LANGUAGE.md "guest blocks" (moves/arithmetic/logic, loads/stores incl. exclusives and LSE,
// branches, system). Anything else, and every unallocated encoding, decodes to op 'UNDEFINED'
// (the interpreter raises UNDEFINED: ESR EC 0x00).

export type Op =
  | 'UNDEFINED'
  // ---- data processing, immediate ----
  | 'ADD_IMM' // Rd|SP = Rn|SP + imm (imm already shifted by shiftAmount 0/12). setFlags: ADDS (then Rd 31 = ZR)
  | 'SUB_IMM' // Rd|SP = Rn|SP - imm. setFlags: SUBS (Rd 31 = ZR; `cmp` alias)
  | 'AND_IMM' // Rd|SP = Rn & bimm. setFlags: ANDS (Rd 31 = ZR; `tst` alias). immN/immr/imms hold the raw fields
  | 'ORR_IMM' // Rd|SP = Rn | bimm (Rn 31 = ZR: `mov` alias)
  | 'EOR_IMM' // Rd|SP = Rn ^ bimm
  | 'MOVZ' // Rd = imm << shiftAmount (imm = imm16, shiftAmount = hw*16)
  | 'MOVN' // Rd = ~(imm << shiftAmount)
  | 'MOVK' // Rd[shiftAmount+15:shiftAmount] = imm
  | 'SBFM' // signed bitfield move, immr/imms raw fields (asr/sxtb/sbfx/sbfiz aliases)
  | 'UBFM' // unsigned bitfield move, immr/imms raw (lsl/lsr/ubfx/ubfiz/uxtb aliases)
  | 'BFM' // bitfield move (bfi/bfxil aliases), immr/imms raw
  | 'EXTR' // Rd = (Rn:Rm) >> imm (imm = lsb); `ror Rd, Rs, #imm` when Rn == Rm
  | 'ADR' // Rd = PC + imm (imm = signed byte offset)
  | 'ADRP' // Rd = (PC & ~0xfff) + imm (imm = signed byte offset, a multiple of 4096)
  // ---- data processing, register ----
  | 'ADD_SREG' // Rd = Rn + shift(Rm, shift, shiftAmount); setFlags: ADDS. All regs 31 = ZR
  | 'SUB_SREG' // Rd = Rn - shift(Rm); setFlags: SUBS (cmp/neg/negs aliases)
  | 'ADD_EREG' // Rd|SP = Rn|SP + (extend(Rm, extend) << shiftAmount) (shiftAmount 0..4); setFlags: Rd 31 = ZR
  | 'SUB_EREG' // Rd|SP = Rn|SP - (extend(Rm) << shiftAmount)
  | 'AND_SREG' // Rd = Rn & shift(Rm); setFlags: ANDS. All regs 31 = ZR
  | 'BIC_SREG' // Rd = Rn & ~shift(Rm); setFlags: BICS
  | 'ORR_SREG' // Rd = Rn | shift(Rm) (`mov` alias when Rn = ZR and no shift)
  | 'ORN_SREG' // Rd = Rn | ~shift(Rm) (`mvn` alias)
  | 'EOR_SREG' // Rd = Rn ^ shift(Rm)
  | 'EON_SREG' // Rd = Rn ^ ~shift(Rm)
  | 'LSLV' // Rd = Rn << (Rm mod width)
  | 'LSRV'
  | 'ASRV'
  | 'RORV'
  | 'UDIV' // Rd = Rn / Rm unsigned; division by zero gives 0
  | 'SDIV' // signed; INT_MIN / -1 = INT_MIN
  | 'MADD' // Rd = Ra + Rn * Rm (`mul` when Ra = ZR)
  | 'MSUB' // Rd = Ra - Rn * Rm (`mneg` when Ra = ZR)
  | 'CSEL' // Rd = cond ? Rn : Rm
  | 'CSINC' // Rd = cond ? Rn : Rm + 1 (`cset`/`cinc` aliases)
  | 'CSINV' // Rd = cond ? Rn : ~Rm (`csetm`/`cinv`)
  | 'CSNEG' // Rd = cond ? Rn : -Rm (`cneg`)
  // ---- loads and stores ----
  | 'LDR' // Rt = mem[addr] (size bytes; signed: sign-extend to sf ? 64 : 32 bits). mode: offset/pre/post/reg/literal
  | 'STR' // mem[addr] = Rt (size bytes). mode: offset/pre/post/reg
  | 'LDP' // Rt, Rt2 = mem[addr], mem[addr+size] (size 4/8; signed: LDPSW). mode: offset/pre/post
  | 'STP' // mode: offset/pre/post
  | 'LDXR' // exclusive load, size 1/2/4/8; acquire: LDAXR*. Rn|SP, imm 0
  | 'STXR' // exclusive store, Rs = status (0 ok); release: STLXR*
  | 'LDAR' // load-acquire (acquire = true), size 1/2/4/8
  | 'STLR' // store-release (release = true)
  | 'CAS' // LSE compare and swap: Rs = compare value (and receives old), Rt = new value; acquire/release flags
  | 'LDADD' // LSE: Rt = old mem; mem = old + Rs; acquire/release (Rt 31 = ZR: `stadd` alias)
  | 'SWP' // LSE: Rt = old mem; mem = Rs; acquire/release
  // ---- branches ----
  | 'B' // PC += imm
  | 'BL' // X30 = PC + 4; PC += imm
  | 'B_COND' // if cond: PC += imm
  | 'CBZ' // if Rt == 0: PC += imm (sf selects W/X)
  | 'CBNZ'
  | 'TBZ' // if Rt<bit> == 0: PC += imm
  | 'TBNZ'
  | 'BR' // PC = Rn
  | 'BLR' // X30 = PC + 4; PC = Rn
  | 'RET' // PC = Rn (Rn = 30 by default)
  | 'ERET'
  // ---- exceptions ----
  | 'SVC' // imm = imm16
  | 'HVC'
  | 'SMC'
  | 'BRK'
  // ---- system ----
  | 'NOP' // also every allocated-but-unlisted HINT executes as NOP: see 'HINT'
  | 'YIELD'
  | 'WFE'
  | 'WFI'
  | 'SEV'
  | 'SEVL'
  | 'PSB_CSYNC' // SPE profiling synchronisation barrier (HINT #17)
  | 'HINT' // any other hint (imm = CRm:op2): executes as NOP
  | 'CLREX' // clear the exclusive monitor (imm = CRm)
  | 'DSB' // imm = CRm (option: 0xf sy, 0xb ish, …)
  | 'DMB' // imm = CRm
  | 'ISB' // imm = CRm
  | 'MSR_IMM' // PSTATE field write: pstate names the field ('DAIFSET'|'DAIFCLR'|'SPSEL'|'UAO'|'PAN'…), imm = CRm
  | 'MSR_REG' // system register `sys` = Rt
  | 'MRS' // Rt = system register `sys`
  | 'SYS'; // SYS #op1, Cn, Cm, #op2, Rt: dc/ic/at/tlbi; `sys.name` is e.g. 'DC ZVA', 'TLBI VMALLE1', 'AT S1E1R'

/** Shift applied to Rm in shifted-register forms. */
export type Shift = 'LSL' | 'LSR' | 'ASR' | 'ROR';

/** Extend applied to Rm in extended-register and register-offset forms. */
export type Extend = 'UXTB' | 'UXTH' | 'UXTW' | 'UXTX' | 'SXTB' | 'SXTH' | 'SXTW' | 'SXTX';

/**
 * Addressing mode of loads/stores.
 *  - 'offset': addr = Rn|SP + imm (imm already scaled; negative for unscaled LDUR/STUR forms; `unscaled` tells which
 *    encoding: true = LDUR/STUR 9-bit signed, false = 12-bit unsigned scaled, or LDP/STP signed 7-bit scaled)
 *  - 'pre': addr = Rn|SP + imm, then Rn = addr (writeback)
 *  - 'post': addr = Rn|SP, then Rn = Rn + imm
 *  - 'reg': addr = Rn|SP + (extend(Rm, extend) << shiftAmount); shiftAmount is 0 or log2(size)
 *  - 'literal': addr = PC + imm
 *  - 'none': not a load/store (or exclusives/LSE/acquire-release: addr = Rn|SP)
 */
export type AddrMode = 'none' | 'offset' | 'pre' | 'post' | 'reg' | 'literal';

/** A system register or SYS operation encoding. `name` is the canonical upper-case name from arch/sysregs.ts
 *  (e.g. 'SCTLR_EL1', 'DC ZVA'), or the generic 'S3_0_C15_C2_0' form when the table does not know it. */
export interface SysregRef {
  op0: number;
  op1: number;
  crn: number;
  crm: number;
  op2: number;
  name: string;
}

export interface Insn {
  /** The 32-bit instruction word (unsigned). */
  raw: number;
  op: Op;
  /** 64-bit operation / X registers (sf = 1). For loads: the destination width (LDRSB w vs x; LDR x/LDRSW). For
   *  stores/exclusives/LSE: true when size is 8. */
  sf: boolean;
  /** ADDS/SUBS/ANDS/BICS: update NZCV. */
  setFlags: boolean;
  rd: number;
  rn: number;
  rm: number;
  ra: number;
  /** Transfer register of loads/stores, CBZ/TBZ test register, MRS/MSR/SYS register. */
  rt: number;
  rt2: number;
  /** Status register of STXR, compare/source register of CAS/LDADD/SWP. */
  rs: number;
  /** Main immediate (number). Meaning by op: ADD/SUB_IMM value (shifted); MOV* imm16; ADR/ADRP/branches/literal
   *  byte offset (signed); load/store byte offset (signed, scaled); EXTR lsb; SVC/HVC/SMC/BRK imm16;
   *  barriers/CLREX/MSR_IMM CRm; HINT CRm:op2. */
  imm: number;
  /** Logical immediate value (AND/ORR/EOR_IMM), bigint, 0n otherwise. */
  bimm: bigint;
  /** Raw N:immr:imms of logical immediates; immr/imms of bitfield ops. For register-offset loads/stores immN holds
   *  the S bit (needed for byte accesses, where S=1 means an explicit `lsl #0`/`uxtw #0` with shiftAmount 0). */
  immN: number;
  immr: number;
  imms: number;
  shift: Shift;
  /** Shift amount: shifted-register ops; ADD/SUB_IMM (0/12); MOV* (hw*16); extended register (0..4); register-offset
   *  loads/stores (0 or log2(size)). */
  shiftAmount: number;
  extend: Extend;
  /** Condition code 0..15 (EQ NE CS CC MI PL VS VC HI LS GE LT GT LE AL NV) of B_COND/CSEL family. */
  cond: number;
  /** Bit number tested by TBZ/TBNZ (0..63). */
  bit: number;
  mode: AddrMode;
  /** Memory access size in bytes (1/2/4/8), 0 for non-memory ops. */
  size: number;
  /** Sign-extending load (LDRSB/LDRSH/LDRSW/LDPSW). */
  signed: boolean;
  /** Unscaled 9-bit offset encoding (LDUR/STUR family). */
  unscaled: boolean;
  acquire: boolean;
  release: boolean;
  /** System register / SYS op (MRS, MSR_REG, SYS), undefined otherwise. */
  sys: SysregRef | undefined;
  /** MSR_IMM PSTATE field name ('DAIFSET', 'DAIFCLR', 'SPSEL', …), '' otherwise. */
  pstate: string;
}

/** A blank Insn for `op` (every field at its neutral value). */
export function makeInsn(op: Op, raw = 0): Insn {
  return {
    raw: raw >>> 0,
    op,
    sf: false,
    setFlags: false,
    rd: 0,
    rn: 0,
    rm: 0,
    ra: 0,
    rt: 0,
    rt2: 0,
    rs: 0,
    imm: 0,
    bimm: 0n,
    immN: 0,
    immr: 0,
    imms: 0,
    shift: 'LSL',
    shiftAmount: 0,
    extend: 'UXTX',
    cond: 0,
    bit: 0,
    mode: 'none',
    size: 0,
    signed: false,
    unscaled: false,
    acquire: false,
    release: false,
    sys: undefined,
    pstate: '',
  };
}

export const CONDITION_NAMES = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'] as const;
export const SHIFT_NAMES: readonly Shift[] = ['LSL', 'LSR', 'ASR', 'ROR'];
export const EXTEND_NAMES: readonly Extend[] = ['UXTB', 'UXTH', 'UXTW', 'UXTX', 'SXTB', 'SXTH', 'SXTW', 'SXTX'];
