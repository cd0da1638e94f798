// Branches, control flow and the debugger/profiler hooks: breakpoints, data breakpoints, step-back snapshots,
// shadow call stack, the SPE sampler hook and the memory port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE, exec, rig } from './harness';
import type { RetiredOp } from '../../../emulator/cpu/devices';

test('b.cond for every condition after a compare', () => {
  // x0 accumulates one bit per taken branch
  const conds = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al'];
  const body = conds.map((c, i) => `cmp x1, x2\nb.${c} 1f\nb 2f\n1: orr x0, x0, #${1 << i}\n2:`).join('\n');
  const taken = (a: bigint, b: bigint): string[] => {
    const v = exec(`mov x0, #0\n${body}\nhvc #0`, { 1: a, 2: b }).cpu.getX(0);
    return conds.filter((_c, i) => (v >> BigInt(i)) & 1n);
  };
  assert.deepEqual(taken(1n, 1n), ['eq', 'cs', 'pl', 'vc', 'ls', 'ge', 'le', 'al']);
  assert.deepEqual(taken(1n, 2n), ['ne', 'cc', 'mi', 'vc', 'ls', 'lt', 'le', 'al']);
  assert.deepEqual(taken(0x8000000000000000n, 1n), ['ne', 'cs', 'pl', 'vs', 'hi', 'lt', 'le', 'al']);
});

test('cbz/cbnz (W ignores the upper half), tbz/tbnz on bits 0 and 63', () => {
  const r = exec(`mov x0, #0
    cbz w1, 1f
    orr x0, x0, #1
1:  cbnz x1, 2f
    orr x0, x0, #2
2:  tbnz x1, #63, 3f
    orr x0, x0, #4
3:  tbz x1, #0, 4f
    orr x0, x0, #8
4:  hvc #0`, { 1: 0x8000_0000_0000_0000n });
  assert.equal(r.cpu.getX(0), 0n);
});

test('bl/ret/blr link through x30 and track the shadow call stack', () => {
  const r = rig(`bl f
  adr x2, g
  blr x2
  hvc #0
f: mov x0, #1
  ret
g: mov x1, #2
  ret`);
  const seen: string[] = [];
  r.cpu.onBranchLink = (i) => seen.push(`${i.kind}:${i.depth}`);
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.cpu.getX(0), 1n);
  assert.equal(r.cpu.getX(1), 2n);
  assert.equal(r.cpu.getX(30), BigInt(CODE + 12));
  assert.deepEqual(seen, ['call:1', 'return:0', 'call:1', 'return:0']);
  assert.deepEqual(r.cpu.callStack(), []);
});

test('shadow stack holds {callPc, returnAddr} while inside a call', () => {
  const r = rig('bl f\nhvc #0\nf: bl g\nret\ng: hvc #1\nret');
  assert.equal(r.run().kind, 'hvc');
  assert.deepEqual(r.cpu.callStack(), [
    { callPc: BigInt(CODE), returnAddr: BigInt(CODE + 4) },
    { callPc: BigInt(CODE + 8), returnAddr: BigInt(CODE + 12) },
  ]);
});

test('instruction breakpoints stop before the instruction, except as the first instruction of execute', () => {
  const r = rig('mov x0, #1\nmov x0, #2\nmov x0, #3\nhvc #0');
  r.cpu.setBreakpoints({ pcs: new Set([BigInt(CODE + 4)]) });
  assert.deepEqual(r.run(), { kind: 'stop', reason: 'instruction breakpoint' });
  assert.equal(r.cpu.getPc(), BigInt(CODE + 4));
  assert.equal(r.cpu.getX(0), 1n);
  assert.equal(r.run().kind, 'hvc', 'continuing from the breakpoint executes it');
  assert.equal(r.cpu.getX(0), 3n);
});

test('data breakpoints stop after the access completes, by IPA range and access kind', () => {
  const r = rig('ldr x0, [x1]\nstr x0, [x1, #8]\nldr x2, [x1, #8]\nhvc #0');
  r.cpu.setX(1, 0x10000n);
  r.mem.write64(0x10000, 5n);
  r.cpu.setBreakpoints({ dataRanges: [{ ipaStart: 0x10008, ipaEnd: 0x10010, access: 'write' }] });
  assert.deepEqual(r.run(), { kind: 'stop', reason: 'data breakpoint' });
  assert.equal(r.cpu.getPc(), BigInt(CODE + 8), 'after the store');
  assert.equal(r.mem.read64(0x10008), 5n);
  assert.deepEqual(r.cpu.lastDataAccess, { va: 0x10008n, ipa: 0x10008, pa: 0x10008, size: 8, write: true });
  assert.equal(r.run().kind, 'hvc', 'a read of the range does not trigger a write watch');
});

test('snapshot/restore returns to the exact CPU state (step-back)', () => {
  const r = rig('add x0, x0, #1\nadds x1, x0, #-1\nbl f\nhvc #0\nf: msr tpidr_el1, x0\nret');
  r.run(1);
  const s = r.cpu.snapshot();
  const before = r.cpu.regs();
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.cpu.getSysreg('TPIDR_EL1'), 1n);
  r.cpu.restore(s);
  assert.deepEqual(r.cpu.regs(), before);
  assert.equal(r.cpu.getSysreg('TPIDR_EL1'), 0n);
  assert.equal(r.cpu.ticks, 1);
  assert.deepEqual(JSON.parse(JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).pcLo, CODE + 4);
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.cpu.getX(1), 0n);
});

test('host writes to code are picked up on the next fetch (decoded cache validated per word)', () => {
  const r = rig('movz x0, #1\nhvc #0');
  r.run();
  assert.equal(r.cpu.getX(0), 1n);
  r.mem.write32(CODE, 0xd2800040); // movz x0, #2
  r.cpu.setPc(BigInt(CODE));
  r.run();
  assert.equal(r.cpu.getX(0), 2n);
});

test('the sampler hook sees every retired instruction with kind and data VA; psb csync drains it', () => {
  const r = rig('ldr x0, [x1]\nstr x0, [x1]\nb 1f\n1: psb csync\nhvc #0');
  r.cpu.setX(1, 0x10000n);
  const ops: RetiredOp[] = [];
  let drained = 0;
  r.cpu.setSampler({ active: () => true, onRetire: (op: RetiredOp) => ops.push(op), drain: () => { drained++; } } as never);
  assert.equal(r.run().kind, 'hvc');
  assert.deepEqual(ops.map((o) => o.kind), ['load', 'store', 'branch', 'other', 'other']);
  assert.equal(ops[0].dataVa, 0x10000n);
  assert.equal(ops[0].pc, BigInt(CODE));
  assert.equal(drained, 1);
});

test('the memory port translates writes through stage 1 + stage 2 and reports faults without an exception', () => {
  const r = rig('nop');
  const port = r.cpu.memoryPort();
  assert.deepEqual(port.translateWrite(0x10000n), { pa: 0x10000 });
  assert.deepEqual(port.translateWrite(0x0900_0000n), { fault: 's2', fsc: 0x07, ipa: 0x0900_0000 });
  port.writePhys(0x10000, new Uint8Array([1, 2]));
  assert.equal(r.mem.read16(0x10000), 0x201);
  assert.equal(r.cpu.getPc(), BigInt(CODE));
  assert.equal(port.counter(), 0n);
});

test('wfe is a NOP; nop/isb/dsb/dmb do nothing; ic/tlbi at EL1 are harmless', () => {
  const r = exec('wfe\nisb\ndsb sy\ndmb ish\nic iallu\nic ialluis\ntlbi vmalle1\ntlbi vae1, x1\nmov x0, #9\nhvc #0');
  assert.equal(r.cpu.getX(0), 9n);
});
