// Stage 1 MMU: walk through stage 2, permissions at EL1/EL0, access flag, TLB invalidation, AT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE, rig, Stage1Builder, type Rig } from './harness';

const VBAR = 0x8000;

function mmuRig(src: string, build?: (s1: Stage1Builder, r: Rig) => void): { r: Rig; s1: Stage1Builder } {
  const r = rig(src);
  const s1 = new Stage1Builder(r);
  s1.map(0, 0, 0x20000); // code, data, vectors: VA == IPA, EL1 rw, executable
  build?.(s1, r);
  s1.enable();
  r.cpu.setSysreg('VBAR_EL1', BigInt(VBAR));
  return { r, s1 };
}

test('stage 1 maps VA to IPA through 4 levels; loads and stores go to the translated page', () => {
  const { r } = mmuRig('ldr x0, [x1]\nstr x0, [x1, #8]\nhvc #0', (s1, r) => {
    s1.map(0x4000_0000, 0x30000, 4096);
    r.mem.write64(0x30000, 0xabcdefn);
  });
  r.cpu.setX(1, 0x4000_0000n);
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.cpu.getX(0), 0xabcdefn);
  assert.equal(r.mem.read64(0x30008), 0xabcdefn);
});

test('Normal memory allows unaligned accesses (and page-crossing ones); exclusives still need alignment', () => {
  const { r } = mmuRig('ldur x0, [x1, #0xfd]\nhvc #0', (s1, r) => {
    s1.map(0x4000_0000, 0x30000, 4096);
    s1.map(0x4000_1000, 0x50000, 4096);
    r.mem.write64(0x30ff8, 0x1122334455667788n);
    r.mem.write64(0x50000, 0x99aabbccddeeff00n);
  });
  r.cpu.setX(1, 0x4000_0f00n);
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.cpu.getX(0), 0xccddeeff00112233n);
  const { r: r2 } = mmuRig('ldxr w0, [x1]\nhvc #0', (s1) => s1.map(0x4000_0000, 0x30000, 4096));
  r2.cpu.setX(1, 0x4000_0002n);
  r2.run(1);
  assert.equal(r2.cpu.getSysreg('ESR_EL1') & 0x3fn, 0x21n);
  assert.equal(r2.cpu.getPc(), BigInt(VBAR + 0x200));
});

test('stage 1 translation fault at level 3 goes to EL1 as a data abort from the current EL', () => {
  const { r } = mmuRig('ldr x0, [x1]\nhvc #0');
  r.cpu.setX(1, 0x4000_0000n);
  r.run(1);
  const esr = r.cpu.getSysreg('ESR_EL1');
  assert.equal(esr >> 26n, 0x25n);
  // the L1 entry for 0x4000_0000 is missing: translation fault at level 1
  assert.equal(esr & 0x3fn, 0x05n);
  assert.equal(r.cpu.getSysreg('FAR_EL1'), 0x4000_0000n);
  assert.equal(r.cpu.getSysreg('ELR_EL1'), BigInt(CODE));
  assert.equal(r.cpu.getPc(), BigInt(VBAR + 0x200));
});

test('access flag 0 gives an Access flag fault (no hardware AF update)', () => {
  const { r } = mmuRig('str x0, [x1]\nhvc #0', (s1) => s1.map(0x4000_0000, 0x30000, 4096, { af: false }));
  r.cpu.setX(1, 0x4000_0010n);
  r.run(1);
  const esr = r.cpu.getSysreg('ESR_EL1');
  assert.equal(esr & 0x3fn, 0x0bn);
  assert.equal((esr >> 6n) & 1n, 1n); // WnR
});

test('AP read-only: a store is a permission fault at level 3; EL0 cannot touch EL1-only pages', () => {
  const { r } = mmuRig('str x0, [x1]\nhvc #0', (s1) => s1.map(0x4000_0000, 0x30000, 4096, { ap: 2 }));
  r.cpu.setX(1, 0x4000_0000n);
  r.run(1);
  assert.equal(r.cpu.getSysreg('ESR_EL1') & 0x3fn, 0x0fn);
  // EL0: code page EL0-executable (AP=3 read-only at EL0, UXN=0), data page EL1-only
  const { r: u } = mmuRig('nop', (s1) => {
    s1.map(0x5000_0000, 0x40000, 4096, { ap: 3, pxn: true });
    s1.map(0x4000_0000, 0x30000, 4096, { ap: 0 });
  });
  u.load(0x40000, [0xf9400020 /* ldr x0, [x1] */]);
  u.cpu.setX(1, 0x4000_0000n);
  u.cpu.setSysreg('SPSR_EL1', 0n); // EL0t
  u.cpu.setSysreg('ELR_EL1', 0x5000_0000n);
  u.load(CODE, [0xd69f03e0 /* eret */]);
  u.run(2);
  const esr = u.cpu.getSysreg('ESR_EL1');
  assert.equal(esr >> 26n, 0x24n, 'data abort from a lower EL');
  assert.equal(esr & 0x3fn, 0x0fn);
  assert.equal(u.cpu.getPc(), BigInt(VBAR + 0x400));
  assert.equal(u.cpu.getSysreg('SPSR_EL1') & 0xfn, 0n);
});

test('PXN: fetching from a PXN page at EL1 is an instruction abort (EC 0x21, permission)', () => {
  const { r } = mmuRig('br x1', (s1) => s1.map(0x6000_0000, 0x30000, 4096, { pxn: true }));
  r.cpu.setX(1, 0x6000_0000n);
  r.run(2);
  const esr = r.cpu.getSysreg('ESR_EL1');
  assert.equal(esr >> 26n, 0x21n);
  assert.equal(esr & 0x3fn, 0x0fn);
  assert.equal(r.cpu.getSysreg('FAR_EL1'), 0x6000_0000n);
  assert.equal(r.cpu.getSysreg('ELR_EL1'), 0x6000_0000n);
});

test('TLB: a descriptor change is invisible until TLBI, visible after it', () => {
  const { r, s1 } = mmuRig('ldr x0, [x1]\nhvc #0\nldr x0, [x1]\nhvc #0\ntlbi vmalle1\nldr x0, [x1]\nhvc #0', (s1, r) => {
    s1.map(0x4000_0000, 0x30000, 4096);
    r.mem.write64(0x30000, 1n);
    r.mem.write64(0x31000, 2n);
  });
  r.cpu.setX(1, 0x4000_0000n);
  r.run();
  assert.equal(r.cpu.getX(0), 1n);
  r.mem.write64(s1.entryIpa(0x4000_0000, 3), 0x31000n | 3n | (3n << 8n) | (1n << 10n));
  r.run();
  assert.equal(r.cpu.getX(0), 1n, 'stale TLB entry until TLBI');
  r.run();
  assert.equal(r.cpu.getX(0), 2n);
});

test('tlbFlush() from KVM and stage 2 changes: a stage 2 unmap takes effect after tlbFlush', () => {
  const { r } = mmuRig('ldr x0, [x1]\nhvc #0\nldr x0, [x1]\nhvc #0', (s1) => s1.map(0x4000_0000, 0x30000, 4096));
  r.cpu.setX(1, 0x4000_0000n);
  assert.equal(r.run().kind, 'hvc');
  r.s2.unmap(0x30000, 4096);
  r.cpu.tlbFlush();
  const e = r.run();
  assert.equal(e.kind, 'dabt');
});

test('AT S1E1R/W write PAR_EL1: the IPA on success, F=1 with FST on a stage 1 fault', () => {
  const { r } = mmuRig('at s1e1r, x1\nmrs x2, par_el1\nat s1e1w, x3\nmrs x4, par_el1\nat s1e1r, x5\nmrs x6, par_el1\nhvc #0', (s1) => {
    s1.map(0x4000_0000, 0x30000, 4096);
    s1.map(0x4000_1000, 0x31000, 4096, { ap: 2 });
  });
  r.cpu.setX(1, 0x4000_0123n);
  r.cpu.setX(3, 0x4000_1000n);
  r.cpu.setX(5, 0x7000_0000n);
  assert.equal(r.run().kind, 'hvc');
  const par = r.cpu.getX(2);
  assert.equal(par & 1n, 0n);
  assert.equal(par & 0x0000_ffff_ffff_f000n, 0x30000n);
  assert.equal(par >> 56n, 0xffn); // MAIR attribute of the page
  assert.equal(r.cpu.getX(4), (0x0fn << 1n) | 1n); // permission fault, level 3
  assert.equal(r.cpu.getX(6), (0x06n << 1n) | 1n); // translation fault, level 2 (the L1 table is shared with 0x4000_0000)
});

test('TTBR1 half: VA with bit 55 set uses TTBR1; EPD1 makes it a level 0 translation fault', () => {
  const { r } = mmuRig('ldr x0, [x1]\nhvc #0');
  r.cpu.setX(1, 0xffff_0000_0000_0000n);
  r.run(1);
  assert.equal(r.cpu.getSysreg('ESR_EL1') & 0x3fn, 0x04n);
  assert.equal(r.cpu.getSysreg('FAR_EL1'), 0xffff_0000_0000_0000n);
});

test('debugger translate() reports each level and the stage 2 result; readVirt reads through translation', () => {
  const { r } = mmuRig('nop', (s1, r) => { s1.map(0x4000_0000, 0x30000, 4096); r.mem.write32(0x30010, 0xdeadbeef); });
  const t = r.cpu.translate(0x4000_0010n);
  assert.equal(t.steps.length, 4);
  assert.deepEqual(t.steps.map((s) => s.level), [0, 1, 2, 3]);
  assert.equal(t.ipa, 0x30010);
  assert.equal(t.pa, 0x30010);
  assert.deepEqual([...r.cpu.readVirt(0x4000_0010n, 4)!], [0xef, 0xbe, 0xad, 0xde]);
  assert.equal(r.cpu.readVirt(0x7000_0000n, 4), undefined);
  const f = r.cpu.translate(0x7000_0000n);
  assert.equal(f.fault?.stage, 1);
  assert.equal(f.fault?.kind, 'translation');
});

test('self-modifying code: a store over an already executed instruction is seen on the next fetch', () => {
  // loop twice over `movz x0, #1`; the first pass overwrites it with `movz x0, #2`
  const { r } = mmuRig(`
    adr x3, patch
    ldr w4, newinsn
    mov x5, #0
again:
patch: movz x0, #1
    cbnz x5, done
    str w4, [x3]
    mov x5, #1
    b again
done: hvc #0
newinsn: movz x0, #2`);
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.cpu.getX(0), 2n);
});

test('dc zva on Normal memory zeroes the 64-byte block containing the address (DCZID_EL0.BS=4)', () => {
  const { r } = mmuRig('dc zva, x1\nhvc #0', (s1, r) => {
    s1.map(0x4000_0000, 0x30000, 4096);
    r.mem.fill(0x30000, 256, 0xaa);
  });
  r.cpu.setX(1, 0x4000_0047n);
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.mem.read8(0x3003f), 0xaa);
  for (let a = 0x30040; a < 0x30080; a++) assert.equal(r.mem.read8(a), 0, `byte ${a.toString(16)}`);
  assert.equal(r.mem.read8(0x30080), 0xaa);
});

test('dc zva on a Device stage 1 mapping takes an alignment fault', () => {
  const { r } = mmuRig('dc zva, x1\nhvc #0', (s1) => s1.map(0x4000_0000, 0x30000, 4096, { attr: 1 }));
  r.cpu.setX(1, 0x4000_0000n);
  r.run(1);
  assert.equal(r.cpu.getSysreg('ESR_EL1') & 0x3fn, 0x21n);
});

test('Device stage 1 memory: unaligned loads fault, aligned ones work', () => {
  const { r } = mmuRig('ldr w0, [x1]\nldr w0, [x1, #2]\nhvc #0', (s1) => s1.map(0x4000_0000, 0x30000, 4096, { attr: 1 }));
  r.cpu.setX(1, 0x4000_0000n);
  r.run(2);
  assert.equal(r.cpu.getSysreg('ESR_EL1') & 0x3fn, 0x21n);
  assert.equal(r.cpu.getSysreg('ELR_EL1'), BigInt(CODE + 4));
});

test('WXN and implicit PXN: EL1 cannot execute EL0-writable memory', () => {
  const { r } = mmuRig('br x1', (s1) => s1.map(0x6000_0000, 0x30000, 4096, { ap: 1 }));
  r.cpu.setX(1, 0x6000_0000n);
  r.run(2);
  assert.equal(r.cpu.getSysreg('ESR_EL1') >> 26n, 0x21n);
  assert.equal(r.cpu.getSysreg('ESR_EL1') & 0x3fn, 0x0fn);
});

test('stage 2 faults on the final IPA with the MMU on: translation fault reported with the stage 1 VA', () => {
  const { r } = mmuRig('ldr x0, [x1]\nhvc #0', (s1) => s1.map(0x4000_0000, 0x0900_0000, 4096));
  r.cpu.setX(1, 0x4000_0008n);
  const e = r.run();
  assert.equal(e.kind, 'dabt');
  if (e.kind === 'dabt') {
    assert.equal(e.far, 0x4000_0008n);
    assert.equal(e.hpfar, 0x9000n << 4n);
    assert.equal((e.esr >> 24n) & 1n, 1n, 'ISV');
  }
});

test('ldtr/sttr at EL1 are checked with EL0 permissions', () => {
  const { r } = mmuRig('ldtr x0, [x1]\nhvc #0\nldtr x0, [x2]\nhvc #0', (s1, r) => {
    s1.map(0x4000_0000, 0x30000, 4096, { ap: 1 }); // EL0 rw
    s1.map(0x4000_1000, 0x31000, 4096, { ap: 0 }); // EL1 only
    r.mem.write64(0x30000, 9n);
  });
  r.cpu.setX(1, 0x4000_0000n);
  r.cpu.setX(2, 0x4000_1000n);
  assert.equal(r.run().kind, 'hvc');
  assert.equal(r.cpu.getX(0), 9n);
  r.run(1);
  const esr = r.cpu.getSysreg('ESR_EL1');
  assert.equal(esr >> 26n, 0x25n);
  assert.equal(esr & 0x3fn, 0x0fn);
});

test('translate() carries the stage 2 result for the output IPA, also when stage 2 faults', () => {
  const { r } = mmuRig('nop', (s1) => s1.map(0x4000_0000, 0x0900_0000, 4096));
  const t = r.cpu.translate(0x4000_0000n, 'write');
  assert.equal(t.ipa, 0x0900_0000);
  assert.equal(t.fault?.stage, 2);
  assert.equal(t.s2?.valid, false);
  const ok = r.cpu.translate(0x1000n, 'exec');
  assert.equal(ok.s2?.valid, true);
});
