import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleHypercall, kvmFeaturesBitmap, ptpWallClockNs } from '../../../emulator/kvm/hypercalls';
import { fields, makeWorld, type World } from './abort-fixture.test';

const M1 = 0xffff_ffff_ffff_ffffn;
const M2 = 0xffff_ffff_ffff_fffen;
const JUNK = [0x1111n, 0x2222n, 0x3333n] as const;

/** HVC with x0 = fn and x1..x3 = args (default junk, to see what the call writes back) */
function call(w: World, fn: bigint, args: readonly bigint[] = JUNK, conduit: 'hvc' | 'smc' = 'hvc') {
  w.cpu.x[0] = fn;
  for (let i = 0; i < 3; i++) w.cpu.x[i + 1] = args[i] ?? 0n;
  const out = handleHypercall(w.vm, w.cpu, conduit, 0);
  return { out, ret: [w.cpu.x[0], w.cpu.x[1], w.cpu.x[2], w.cpu.x[3]] };
}

interface Row { name: string; fn: bigint; args?: bigint[]; ret: bigint[]; evName: string; flavour?: 'mmio-guard-v2' }
const rows: Row[] = [
  { name: 'D.3 SMCCC_VERSION -> 1.1 (0x10001), x1..x3 = 0', fn: 0x8000_0000n, ret: [0x10001n, 0n, 0n, 0n], evName: 'SMCCC_VERSION' },
  { name: 'D.3 SMCCC_ARCH_FEATURES(WORKAROUND_1) -> 0 (host mitigated)', fn: 0x8000_0001n, args: [0x8000_8000n],
    ret: [0n, 0n, 0n, 0n], evName: 'SMCCC_ARCH_FEATURES' },
  { name: 'D.3 SMCCC_ARCH_FEATURES(WORKAROUND_2) -> NOT_REQUIRED (-2)', fn: 0x8000_0001n, args: [0x8000_7fffn],
    ret: [M2, 0n, 0n, 0n], evName: 'SMCCC_ARCH_FEATURES' },
  { name: 'D.3 SMCCC_ARCH_FEATURES(WORKAROUND_3) -> -1 (after 5.15.0)', fn: 0x8000_0001n, args: [0x8000_3fffn],
    ret: [M1, 0n, 0n, 0n], evName: 'SMCCC_ARCH_FEATURES' },
  { name: 'D.3 SMCCC_ARCH_FEATURES(PV_TIME_FEATURES) -> 0', fn: 0x8000_0001n, args: [0xc500_0020n],
    ret: [0n, 0n, 0n, 0n], evName: 'SMCCC_ARCH_FEATURES' },
  { name: 'D.3 SMCCC_ARCH_FEATURES(unknown) -> -1', fn: 0x8000_0001n, args: [0x8400_0000n],
    ret: [M1, 0n, 0n, 0n], evName: 'SMCCC_ARCH_FEATURES' },
  { name: 'D.3 PV_TIME_FEATURES(PV_TIME_ST) without a stolen-time IPA -> -1', fn: 0xc500_0020n, args: [0xc500_0021n],
    ret: [M1, 0n, 0n, 0n], evName: 'PV_TIME_FEATURES' },
  { name: 'D.3 PV_TIME_ST without a stolen-time region -> -1', fn: 0xc500_0021n, ret: [M1, 0n, 0n, 0n], evName: 'PV_TIME_ST' },
  { name: 'D.3 VENDOR_HYP_CALL_UID -> the KVM UUID in x0..x3', fn: 0x8600_ff01n,
    ret: [0xb66f_b428n, 0xe911_c52en, 0x564b_caa9n, 0x743a_004dn], evName: 'KVM_HYP_UID' },
  { name: 'D.3 KVM_FEATURES (5.15) -> BIT(0) | BIT(1)', fn: 0x8600_0000n, ret: [3n, 0n, 0n, 0n], evName: 'KVM_HYP_FEATURES' },
  { name: 'D.5 KVM_FEATURES with the MMIO guard -> bits 0..5', fn: 0x8600_0000n, ret: [0x3fn, 0n, 0n, 0n],
    evName: 'KVM_HYP_FEATURES', flavour: 'mmio-guard-v2' },
  { name: 'D.3 KVM_PTP with x1 = 2 (neither counter) -> -1, x1..x3 = 0', fn: 0x8600_0001n, args: [2n],
    ret: [M1, 0n, 0n, 0n], evName: 'KVM_HYP_PTP' },
  { name: 'D.2 unknown function id -> x0 = -1 and (5.15, PSCI fallback) x1..x3 = 0', fn: 0xc700_1234n,
    ret: [M1, 0n, 0n, 0n], evName: 'unknown' },
  { name: 'D.2 SMCCC_ARCH_SOC_ID is not answered by 5.15 -> -1', fn: 0x8000_0002n, ret: [M1, 0n, 0n, 0n], evName: 'SMCCC_ARCH_SOC_ID' },
];

for (const r of rows) {
  test(r.name, () => {
    const w = makeWorld({ flavour: r.flavour });
    const pc = w.cpu.pc;
    const { out, ret } = call(w, r.fn, r.args ?? JUNK);
    assert.deepEqual(out, { kind: 'resume' });
    assert.deepEqual(ret, r.ret);
    assert.equal(w.cpu.pc, pc, 'HVC: PC is already past the instruction');
    const evs = w.take('hypercall');
    assert.equal(evs.length, 1);
    const args = r.args ?? JUNK;
    assert.deepEqual(fields(evs[0]), {
      conduit: 'hvc', fn: r.fn, name: r.evName, args: [args[0] ?? 0n, args[1] ?? 0n, args[2] ?? 0n], ret: r.ret,
    });
    assert.equal(evs[0].vcpu, 0);
  });
}

test('D.2 SMC (≤6.2): x0 = -1, PC += 4, x1..x3 untouched, not dispatched (even PSCI SYSTEM_OFF)', () => {
  const w = makeWorld();
  const pc = w.cpu.pc;
  const { out, ret } = call(w, 0x8400_0008n, JUNK, 'smc');
  assert.deepEqual(out, { kind: 'resume' });
  assert.deepEqual(ret, [M1, ...JUNK]);
  assert.equal(w.cpu.pc, pc + 4n);
  assert.equal(w.vm.vcpuState[0].powerOff, false);
  assert.deepEqual(fields(w.log.last('hypercall')), {
    conduit: 'smc', fn: 0x8400_0008n, name: 'PSCI_SYSTEM_OFF', args: [...JUNK], ret: [M1, ...JUNK],
  });
});

test('D.2 HVC dispatches on W0 only: upper 32 bits of x0 are ignored', () => {
  const w = makeWorld();
  const { ret } = call(w, 0xdead_beef_8000_0000n);
  assert.equal(ret[0], 0x10001n);
  assert.equal(fields(w.log.last('hypercall')).fn, 0x8000_0000n);
});

test('D.3 KVM_PTP: wall clock and counter from the virtual counter (100 MHz, deterministic)', () => {
  const w = makeWorld();
  w.cpu.ticks = 0x1_2345_6789;
  const cycles = 0x1_2345_6789n;
  const ns = ptpWallClockNs(cycles);
  assert.equal(ns, cycles * 10n);
  for (const which of [0n, 1n]) {
    const { ret } = call(w, 0x8600_0001n, [which]);
    assert.deepEqual(ret, [ns >> 32n, ns & 0xffff_ffffn, cycles >> 32n, cycles & 0xffff_ffffn]);
  }
});

test('D.5 KVM_FEATURES hides the MMIO guard bits from a 32-bit vcpu and when NISV_TO_USER is on', () => {
  const w = makeWorld({ flavour: 'mmio-guard-v2' });
  assert.equal(kvmFeaturesBitmap(w.vm, w.cpu), 0x3fn);
  w.vm.flags.nisvToUser = true;
  assert.equal(kvmFeaturesBitmap(w.vm, w.cpu), 3n);
  w.vm.flags.nisvToUser = false;
  w.vm.vcpuState[0].el1_32bit = true;
  assert.equal(kvmFeaturesBitmap(w.vm, w.cpu), 3n);
  w.vm.vcpuState[0].el1_32bit = false;
  w.vm.mmioGuardAvailable = false;
  assert.equal(kvmFeaturesBitmap(w.vm, w.cpu), 3n, 'machine mmio_guard off');
});

test('D.3 PSCI ids reach PSCI through the HVC handler (PSCI_VERSION)', () => {
  const w = makeWorld();
  const { ret } = call(w, 0x8400_0000n);
  assert.deepEqual(ret, [0x10000n, 0n, 0n, 0n]);
  assert.equal(fields(w.log.last('hypercall')).name, 'PSCI_VERSION');
});

// ---------------------------------------------------------------------------------------------------------------
// TRNG (arch/arm64/kvm/trng.c, ≥5.12)

test('D.3 TRNG_VERSION 1.0, TRNG_FEATURES for its five ids, TRNG_GET_UUID (0d21e000-4384-11eb-8070-5244554e5a4c)', () => {
  const w = makeWorld();
  assert.deepEqual(call(w, 0x8400_0050n).ret, [0x10000n, 0n, 0n, 0n]);
  for (const id of [0x8400_0050n, 0x8400_0051n, 0x8400_0052n, 0x8400_0053n, 0xc400_0053n]) {
    assert.equal(call(w, 0x8400_0051n, [id]).ret[0], 0n);
  }
  assert.equal(call(w, 0x8400_0051n, [0x8400_0054n]).ret[0], M1);
  assert.deepEqual(call(w, 0x8400_0052n).ret, [0x00e0_210dn, 0xeb11_8443n, 0x4452_7080n, 0x4c5a_4e55n]);
  assert.equal(fields(w.log.last('hypercall')).name, 'TRNG_GET_UUID');
});

test('D.3 TRNG_RND64: num_bits > 192 -> INVALID_PARAMETER (-2); bits above num_bits are clear; deterministic', () => {
  const w = makeWorld();
  assert.deepEqual(call(w, 0xc400_0053n, [193n]).ret, [M2, 0n, 0n, 0n]);
  w.cpu.ticks = 1000;
  const a = call(w, 0xc400_0053n, [70n]).ret;
  assert.equal(a[0], 0n);
  assert.equal(a[1], 0n, 'bits[2] empty');
  assert.ok(a[2] < 64n, 'bits[1] holds only 6 bits');
  assert.notEqual(a[3], 0n);
  const again = call(w, 0xc400_0053n, [70n]).ret;
  assert.deepEqual(again, a, 'same vcpu time -> same bits (replayable)');
  w.cpu.ticks = 1001;
  assert.notDeepEqual(call(w, 0xc400_0053n, [70n]).ret, a);
  assert.deepEqual(call(w, 0xc400_0053n, [0n]).ret, [0n, 0n, 0n, 0n], 'zero bits requested');
});

test('D.3 TRNG_RND32: at most 96 bits, returned as x1 = bits[1][31:0], x2 = bits[0][63:32], x3 = bits[0][31:0]', () => {
  const w = makeWorld();
  assert.equal(call(w, 0x8400_0053n, [97n]).ret[0], M2);
  const r = call(w, 0x8400_0053n, [96n]).ret;
  assert.equal(r[0], 0n);
  assert.ok(r.slice(1).every(v => v <= 0xffff_ffffn));
  const s = call(w, 0x8400_0053n, [16n]).ret;
  assert.deepEqual([s[1], s[2]], [0n, 0n]);
  assert.ok(s[3] <= 0xffffn);
});
