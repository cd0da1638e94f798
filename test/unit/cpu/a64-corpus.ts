// Generated A64 corpus: every instruction form of LANGUAGE.md "guest blocks" in GNU as syntax, W and X forms, all
// addressing modes, edge immediates, every condition, LSE, system registers by name and generic form, CMOs/TLBI.
// Each entry is one source line that emits exactly one instruction (4 bytes), label-free so objdump symbolizes
// branch targets as `.text+0x…`. `form` groups lines by instruction form for the coverage report.
import { CONDITION_NAMES } from '../../../emulator/cpu/insn';
import { SYSREGS, SYS_OPS } from '../../../emulator/arch/sysregs';
import { encodeBitMask } from '../../../emulator/cpu/bitmask-imm';

export interface CorpusLine {
  form: string;
  src: string;
}

const GAS_UNSUPPORTED = new Set(['ID_AA64ZFR0_EL1', 'PMSNEVFR_EL1']);

export function corpus(): CorpusLine[] {
  const out: CorpusLine[] = [];
  const add = (form: string, src: string): void => {
    out.push({ form, src });
  };

  // ---- moves
  for (const x of [true, false]) {
    const r = x ? 'x' : 'w';
    const vals = x
      ? ['0', '1', '0xffff', '0x10000', '0xffff0000', '0x123400000000', '0xabcd000000000000', '-1', '-2', '-0x10000', '0xffffffff', '0x5555555555555555', '0xffff0000ffff0000', '-0x80000000', '0x0f0f0f0f0f0f0f0f', '0x8000000000000000', '0x7fffffffffffffff']
      : ['0', '1', '0xffff', '0x10000', '0xffff0000', '-1', '-2', '0x80000000', '0x7fffffff', '0x55555555', '0xfffffffe', '0x0000ff00'];
    for (const v of vals) add(`mov ${r} imm`, `mov ${r}5, #${v}`);
    for (const hw of x ? [0, 16, 32, 48] : [0, 16]) {
      add(`movz ${r}`, `movz ${r}1, #0x1234, lsl #${hw}`);
      add(`movz ${r}`, `movz ${r}1, #0, lsl #${hw}`);
      add(`movn ${r}`, `movn ${r}2, #0xffff, lsl #${hw}`);
      add(`movn ${r}`, `movn ${r}2, #0, lsl #${hw}`);
      add(`movk ${r}`, `movk ${r}3, #0xbeef, lsl #${hw}`);
      add(`movk ${r}`, `movk ${r}3, #0, lsl #${hw}`);
    }
    add(`mov ${r} reg`, `mov ${r}0, ${r}1`);
    add(`mov ${r} reg`, `mov ${r}0, ${r}zr`);
    add(`mov ${r} sp`, `mov ${x ? 'sp' : 'wsp'}, ${r}1`);
    add(`mov ${r} sp`, `mov ${r}1, ${x ? 'sp' : 'wsp'}`);
    add(`mov ${r} sp imm`, `mov ${x ? 'sp' : 'wsp'}, #0xff`);
  }

  // ---- add/sub
  for (const x of [true, false]) {
    const r = x ? 'x' : 'w';
    const sp = x ? 'sp' : 'wsp';
    for (const m of ['add', 'adds', 'sub', 'subs']) {
      for (const imm of ['0', '1', '4095', '0x1000', '0xfff000', '-1', '-4095', '0x123', '#0x7, lsl #12', '#1, lsl #0']) {
        const t = imm.startsWith('#') ? imm : `#${imm}`;
        add(`${m} ${r} imm`, `${m} ${r}0, ${r}1, ${t}`);
      }
      add(`${m} ${r} imm sp`, `${m} ${m.endsWith('s') ? r + '2' : sp}, ${sp}, #16`);
      for (const sh of ['', ', lsl #1', ', lsr #7', ', asr #3', `, lsl #${x ? 63 : 31}`, ', asr #0']) add(`${m} ${r} sreg`, `${m} ${r}0, ${r}1, ${r}2${sh}`);
      for (const ext of ['uxtb', 'uxth', 'uxtw', 'sxtb', 'sxth', 'sxtw']) {
        add(`${m} ${r} ereg`, `${m} ${r}0, ${r}1, w2, ${ext}`);
        add(`${m} ${r} ereg`, `${m} ${r}0, ${r}1, w2, ${ext} #4`);
      }
      if (x) {
        add(`${m} x ereg`, `${m} x0, x1, x2, uxtx`);
        add(`${m} x ereg`, `${m} x0, x1, x2, sxtx #2`);
      }
      add(`${m} ${r} ereg sp`, `${m} ${r}0, ${sp}, ${r}2`);
      add(`${m} ${r} ereg sp`, `${m} ${r}0, ${sp}, ${r}2, lsl #3`);
      if (!m.endsWith('s')) add(`${m} ${r} ereg sp`, `${m} ${sp}, ${r}1, ${r}2`);
    }
    for (const m of ['cmp', 'cmn']) {
      add(`${m} ${r} imm`, `${m} ${r}1, #4`);
      add(`${m} ${r} imm`, `${m} ${r}1, #0x3, lsl #12`);
      add(`${m} ${r} imm`, `${m} ${sp}, #1`);
      add(`${m} ${r} sreg`, `${m} ${r}1, ${r}2`);
      add(`${m} ${r} sreg`, `${m} ${r}1, ${r}2, asr #5`);
      add(`${m} ${r} ereg`, `${m} ${r}1, w2, uxth #2`);
      add(`${m} ${r} ereg`, `${m} ${sp}, ${r}2`);
    }
    add(`neg ${r}`, `neg ${r}0, ${r}1`);
    add(`neg ${r}`, `neg ${r}0, ${r}1, lsl #4`);
    add(`negs ${r}`, `negs ${r}0, ${r}1, asr #2`);
  }

  // ---- logical
  const bitmaskSamples = (width: 32 | 64): string[] => {
    const vals: string[] = [];
    for (let esize = 2; esize <= width; esize *= 2) {
      for (const ones of [1, esize >> 1, esize - 1]) {
        for (const rot of [0, 1, esize - 1]) {
          if (ones >= esize) continue;
          let elem = ((1n << BigInt(ones)) - 1n);
          const e = BigInt(esize);
          const emask = (1n << e) - 1n;
          const r = BigInt(rot % esize);
          elem = ((elem >> r) | (elem << (e - r))) & emask;
          let v = 0n;
          for (let i = 0; i < width; i += esize) v |= elem << BigInt(i);
          if (encodeBitMask(v, width)) vals.push('0x' + v.toString(16));
        }
      }
    }
    return [...new Set(vals)];
  };
  for (const x of [true, false]) {
    const r = x ? 'x' : 'w';
    for (const v of bitmaskSamples(x ? 64 : 32)) {
      add(`and ${r} imm`, `and ${r}0, ${r}1, #${v}`);
      add(`orr ${r} imm`, `orr ${r}2, ${r}3, #${v}`);
      add(`eor ${r} imm`, `eor ${r}4, ${r}5, #${v}`);
      add(`ands ${r} imm`, `ands ${r}6, ${r}7, #${v}`);
    }
    add(`tst ${r} imm`, `tst ${r}1, #0xff`);
    add(`and ${r} imm sp`, `and ${x ? 'sp' : 'wsp'}, ${r}1, #0xfffffff0`);
    add(`orr ${r} imm zr`, `orr ${r}0, ${r}zr, #0xffff`);
    add(`orr ${r} imm zr`, `orr ${r}0, ${r}zr, #${x ? '0xff00ff00ff00ff00' : '0xff00ff00'}`);
    add(`bic ${r} imm`, `bic ${r}0, ${r}1, #0xff`);
    for (const m of ['and', 'ands', 'orr', 'eor', 'bic', 'bics', 'orn', 'eon']) {
      for (const sh of ['', ', lsl #3', ', lsr #1', ', asr #9', ', ror #17', `, ror #${x ? 63 : 31}`, ', lsr #0']) add(`${m} ${r} sreg`, `${m} ${r}0, ${r}1, ${r}2${sh}`);
    }
    add(`tst ${r} sreg`, `tst ${r}1, ${r}2`);
    add(`tst ${r} sreg`, `tst ${r}1, ${r}2, ror #2`);
    add(`mvn ${r}`, `mvn ${r}0, ${r}1`);
    add(`mvn ${r}`, `mvn ${r}0, ${r}1, lsr #3`);
    add(`orr ${r} sreg zr`, `orr ${r}0, ${r}zr, ${r}1, lsl #2`);
  }

  // ---- shifts, bitfields, extract
  for (const x of [true, false]) {
    const r = x ? 'x' : 'w';
    const wd = x ? 64 : 32;
    for (const sh of [0, 1, 7, wd - 1]) {
      add(`lsl ${r} imm`, `lsl ${r}0, ${r}1, #${sh}`);
      add(`lsr ${r} imm`, `lsr ${r}0, ${r}1, #${sh}`);
      add(`asr ${r} imm`, `asr ${r}0, ${r}1, #${sh}`);
      add(`ror ${r} imm`, `ror ${r}0, ${r}1, #${sh}`);
    }
    for (const m of ['lsl', 'lsr', 'asr', 'ror', 'lslv', 'lsrv', 'asrv', 'rorv', 'udiv', 'sdiv']) add(`${m} ${r}`, `${m} ${r}0, ${r}1, ${r}2`);
    for (const [lsb, w] of [[0, 1], [4, 8], [0, wd - 1], [wd - 1, 1], [1, wd - 1], [0, 8], [0, 16]]) {
      for (const m of ['ubfx', 'sbfx', 'ubfiz', 'sbfiz', 'bfi', 'bfxil']) add(`${m} ${r}`, `${m} ${r}0, ${r}1, #${lsb}, #${w}`);
    }
    add(`bfc ${r}`, `bfc ${r}0, #3, #4`);
    for (const m of ['ubfm', 'sbfm', 'bfm']) add(`${m} ${r}`, `${m} ${r}0, ${r}1, #3, #2`);
    add(`extr ${r}`, `extr ${r}0, ${r}1, ${r}2, #3`);
    add(`extr ${r}`, `extr ${r}0, ${r}1, ${r}2, #${wd - 1}`);
    add(`sxtb ${r}`, `sxtb ${r}0, w1`);
    add(`sxth ${r}`, `sxth ${r}0, w1`);
    for (const m of ['madd', 'msub']) add(`${m} ${r}`, `${m} ${r}0, ${r}1, ${r}2, ${r}3`);
    add(`mul ${r}`, `mul ${r}0, ${r}1, ${r}2`);
    add(`mneg ${r}`, `mneg ${r}0, ${r}1, ${r}2`);
    for (const c of CONDITION_NAMES) {
      add(`csel ${r}`, `csel ${r}0, ${r}1, ${r}2, ${c}`);
      add(`csinc ${r}`, `csinc ${r}0, ${r}1, ${r}2, ${c}`);
      add(`csinv ${r}`, `csinv ${r}0, ${r}1, ${r}2, ${c}`);
      add(`csneg ${r}`, `csneg ${r}0, ${r}1, ${r}2, ${c}`);
      if (c !== 'al' && c !== 'nv') {
        add(`cset ${r}`, `cset ${r}0, ${c}`);
        add(`csetm ${r}`, `csetm ${r}0, ${c}`);
        add(`cinc ${r}`, `cinc ${r}0, ${r}1, ${c}`);
        add(`cneg ${r}`, `cneg ${r}0, ${r}1, ${c}`);
      }
    }
  }
  add('sxtw', 'sxtw x0, w1');
  add('uxtb', 'uxtb w0, w1');
  add('uxth', 'uxth w0, w1');
  add('cset hs/lo', 'cset x0, hs');
  add('cset hs/lo', 'cset x0, lo');

  // ---- adr/adrp (relative to the line's address)
  for (const off of ['0', '4', '-4', '0xffffc', '-0x100000']) add('adr', `adr x0, . + ${off}`);
  for (const off of ['0', '0x1000', '-0x1000', '0x7ffff000', '-0x80000000']) add('adrp', `adrp x1, . + ${off}`);

  // ---- loads and stores: single register
  const ls: [string, string, number][] = [
    ['ldr', 'x', 8], ['ldr', 'w', 4], ['str', 'x', 8], ['str', 'w', 4], ['ldrb', 'w', 1], ['strb', 'w', 1], ['ldrh', 'w', 2],
    ['strh', 'w', 2], ['ldrsb', 'w', 1], ['ldrsb', 'x', 1], ['ldrsh', 'w', 2], ['ldrsh', 'x', 2], ['ldrsw', 'x', 4],
  ];
  for (const [m, r, size] of ls) {
    const f = `${m} ${r}`;
    add(`${f} uoff`, `${m} ${r}0, [x1]`);
    add(`${f} uoff`, `${m} ${r}0, [sp, #${size}]`);
    add(`${f} uoff`, `${m} ${r}30, [x2, #${4095 * size}]`);
    add(`${f} uoff`, `${m} ${r}0, [x1, #${size * 3}]`);
    add(`${f} unscaled`, `${m} ${r}0, [x1, #-1]`);
    add(`${f} unscaled`, `${m} ${r}0, [x1, #-256]`);
    if (size > 1) add(`${f} unscaled`, `${m} ${r}0, [x1, #${size + 1}]`);
    add(`${f} pre`, `${m} ${r}0, [x1, #-256]!`);
    add(`${f} pre`, `${m} ${r}0, [x1, #255]!`);
    add(`${f} pre`, `${m} ${r}0, [sp, #0]!`);
    add(`${f} post`, `${m} ${r}0, [x1], #-256`);
    add(`${f} post`, `${m} ${r}0, [x1], #255`);
    add(`${f} post`, `${m} ${r}0, [x1], #0`);
    const log2 = Math.log2(size);
    add(`${f} reg`, `${m} ${r}0, [x1, x2]`);
    add(`${f} reg`, `${m} ${r}0, [x1, x2, lsl #${log2}]`);
    add(`${f} reg`, `${m} ${r}0, [sp, w2, uxtw]`);
    add(`${f} reg`, `${m} ${r}0, [x1, w2, uxtw #${log2}]`);
    add(`${f} reg`, `${m} ${r}0, [x1, w2, sxtw]`);
    add(`${f} reg`, `${m} ${r}0, [x1, w2, sxtw #${log2}]`);
    add(`${f} reg`, `${m} ${r}0, [x1, x2, sxtx]`);
    add(`${f} reg`, `${m} ${r}0, [x1, x2, sxtx #${log2}]`);
    const um = m.replace(/^(ld|st)r/, '$1ur');
    add(`${um} ${r}`, `${um} ${r}0, [x1, #-8]`);
    add(`${um} ${r}`, `${um} ${r}0, [x1, #8]`);
    add(`${um} ${r}`, `${um} ${r}0, [x1]`);
  }
  for (const off of ['0', '8', '-8', '0xffffc', '-0x100000']) {
    add('ldr x literal', `ldr x0, . + ${off}`);
    add('ldr w literal', `ldr w1, . + ${off}`);
    add('ldrsw literal', `ldrsw x2, . + ${off}`);
  }
  // pairs
  for (const [m, r, size] of [['ldp', 'x', 8], ['stp', 'x', 8], ['ldp', 'w', 4], ['stp', 'w', 4], ['ldpsw', 'x', 4]] as const) {
    const f = `${m} ${r}`;
    add(`${f} off`, `${m} ${r}0, ${r}1, [x2]`);
    add(`${f} off`, `${m} ${r}0, ${r}1, [sp, #${63 * size}]`);
    add(`${f} off`, `${m} ${r}0, ${r}1, [x2, #${-64 * size}]`);
    add(`${f} pre`, `${m} ${r}0, ${r}1, [sp, #-${2 * size}]!`);
    add(`${f} pre`, `${m} ${r}29, ${r}30, [sp, #${63 * size}]!`);
    add(`${f} post`, `${m} ${r}0, ${r}1, [sp], #${2 * size}`);
    add(`${f} post`, `${m} ${r}0, ${r}1, [x3], #${-64 * size}`);
  }
  // exclusives / ordered
  for (const [m, r] of [['ldxr', 'x'], ['ldxr', 'w'], ['ldaxr', 'x'], ['ldaxr', 'w'], ['ldar', 'x'], ['ldar', 'w'], ['stlr', 'x'], ['stlr', 'w'],
    ['ldxrb', 'w'], ['ldxrh', 'w'], ['ldaxrb', 'w'], ['ldaxrh', 'w'], ['ldarb', 'w'], ['ldarh', 'w'], ['stlrb', 'w'], ['stlrh', 'w']] as const) {
    add(m + ' ' + r, `${m} ${r}0, [x1]`);
    add(m + ' ' + r, `${m} ${r}30, [sp]`);
  }
  for (const [m, r] of [['stxr', 'x'], ['stxr', 'w'], ['stlxr', 'x'], ['stlxr', 'w'], ['stxrb', 'w'], ['stxrh', 'w'], ['stlxrb', 'w'], ['stlxrh', 'w']] as const) {
    add(m + ' ' + r, `${m} w2, ${r}0, [x1]`);
    add(m + ' ' + r, `${m} w30, ${r}29, [sp]`);
  }
  // LSE
  for (const base of ['cas', 'ldadd', 'swp']) {
    for (const ord of ['', 'a', 'l', 'al']) {
      for (const sz of ['', 'b', 'h']) {
        const m = base + ord + sz;
        add(`${base}${ord} ${sz || 'x/w'}`, `${m} w0, w1, [x2]`);
        if (!sz) add(`${base}${ord} x`, `${m} x3, x4, [sp]`);
      }
    }
  }
  for (const ord of ['', 'l']) for (const sz of ['', 'b', 'h']) add(`stadd${ord}${sz}`, `stadd${ord}${sz} w0, [x1]`);
  add('stadd x', 'stadd x0, [sp]');

  // ---- branches
  for (const off of ['0', '4', '-4', '0x7fffffc', '-0x8000000']) {
    add('b', `b . + ${off}`);
    add('bl', `bl . + ${off}`);
  }
  for (const c of [...CONDITION_NAMES, 'hs', 'lo']) add('b.cond', `b.${c} . + 8`);
  for (const off of ['0xffffc', '-0x100000']) add('b.cond', `b.ne . + ${off}`);
  for (const x of [true, false]) {
    const r = x ? 'x' : 'w';
    for (const off of ['0', '0xffffc', '-0x100000']) {
      add(`cbz ${r}`, `cbz ${r}5, . + ${off}`);
      add(`cbnz ${r}`, `cbnz ${r}5, . + ${off}`);
    }
  }
  for (const bit of [0, 5, 31, 32, 63]) {
    const r = bit >= 32 ? 'x' : 'w';
    add('tbz', `tbz ${r}3, #${bit}, . + 0x7ffc`);
    add('tbnz', `tbnz ${r}3, #${bit}, . - 0x8000`);
  }
  for (const r of ['x0', 'x30']) {
    add('br', `br ${r}`);
    add('blr', `blr ${r}`);
  }
  add('ret', 'ret');
  add('ret', 'ret x30');
  add('ret', 'ret x3');
  add('eret', 'eret');

  // ---- exceptions and hints
  for (const m of ['svc', 'hvc', 'smc', 'brk']) for (const v of ['0', '1', '0xffff']) add(m, `${m} #${v}`);
  for (const m of ['nop', 'wfi', 'wfe', 'yield', 'sev', 'sevl', 'isb', 'clrex']) add(m, m);
  add('psb csync', 'psb csync');
  add('isb', 'isb sy');
  add('hint', 'hint #0x6');
  add('hint', 'hint #0x7f');
  for (const opt of ['sy', 'st', 'ld', 'ish', 'ishst', 'ishld', 'nsh', 'nshst', 'nshld', 'osh', 'oshst', 'oshld', '#0xc']) {
    add('dsb', `dsb ${opt}`);
    add('dmb', `dmb ${opt}`);
  }
  // ---- system registers and operations
  for (const r of SYSREGS) {
    // GAS -march=armv8.2-a+lse+profile refuses names of features it was not given (SVE, SPEv1p2)
    if (r.op0 < 2 || GAS_UNSUPPORTED.has(r.name)) continue;
    const name = r.name.toLowerCase();
    if (r.access !== 'w') add(`mrs ${name}`, `mrs x0, ${name}`);
    if (r.access !== 'r') add(`msr ${name}`, `msr ${name}, x1`);
  }
  add('mrs generic', 'mrs x2, s3_0_c15_c2_0');
  add('msr generic', 'msr s3_7_c15_c1_7, x3');
  add('mrs generic', 'mrs x4, S3_0_C9_C9_0');
  add('mrs generic', 'mrs x4, s2_0_c0_c2_2');
  for (const f of ['daifset', 'daifclr']) for (const v of ['0', '2', '0xf']) add(`msr ${f}`, `msr ${f}, #${v}`);
  add('msr spsel', 'msr spsel, #1');
  add('msr pan', 'msr pan, #1');
  add('msr uao', 'msr uao, #0');
  for (const op of SYS_OPS) {
    const [g, n] = op.name.toLowerCase().split(' ');
    add(`${g} ${n}`, op.hasRt ? `${g} ${n}, x5` : `${g} ${n}`);
  }
  add('sys', 'sys #0, c7, c12, #0, x0');
  add('sys', 'sys #3, c7, c1, #7');
  add('udf', 'udf #0');
  add('udf', 'udf #0x12');
  add('udf', 'udf #65535');
  // upper case and GAS conveniences (immediates without '#', lr)
  add('upper case', 'MOV X0, #0x10');
  add('upper case', 'LDR W1, [SP, #4]');
  add('upper case', 'B.NE . + 8');
  add('upper case', 'MSR PMBLIMITR_EL1, X2');
  add('upper case', 'DC CIVAC, X3');
  add('no #', 'add x0, x1, 16');
  add('no #', 'ldr x0, [x1, 8]');
  add('no #', 'movk x0, 0x1234, lsl 16');
  add('lr', 'ret lr');
  add('lr', 'mov x0, lr');
  return out;
}
