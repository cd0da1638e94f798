// Issue item 8 / spec B.8: pKVM host stage 2 — pkvm-v3 PROT_NONE entries vs mainline-5.15 owner ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FlavourName } from '../../../emulator/kvm/flavours';
import { makeVm, ioctlText } from './vm-fixture';

const P = 4096;
function mk(flavour: FlavourName) {
  const { vm, events } = makeVm(flavour, { protectedMode: true });
  return { vm: vm!, events };
}
const r = ioctlText;
const HYP = 0x8000_0000;

test('pkvm-v3: pkvm_mark_hyp leaves PROT_NONE entries; a host access there panics the hypervisor', () => {
  const { vm, events } = mk('pkvm-v3');
  assert.equal(r(vm.pkvmMarkHyp(HYP, 2 * P)), 'ok');
  const d = vm.hostStage2!.lookup(HYP + P).decoded;
  assert.equal(d.kind, 'prot-none');
  assert.equal(d.kind === 'prot-none' && d.oa, HYP + P, 'identity: the entry keeps the OA');
  assert.equal(vm.hostAccess('read', HYP + 0x10), 'hyp_panic');
  const w = events.last('warning')!;
  assert.match(String(w.fields.message), /BUG_ON\(ret && ret != -EAGAIN\).*PROT_NONE/);
  const f = events.last('stage2-fault')!;
  assert.equal(f.fields.stage, 'host');
  assert.equal(f.fields.resolution, 'error');
});

test('mainline-5.15: pkvm_mark_hyp sets owner id 1 (pkvm_hyp_id) in bits 9:2; host access panics', () => {
  const { vm, events } = mk('mainline-5.15');
  assert.equal(r(vm.pkvmMarkHyp(HYP, P)), 'ok');
  const l = vm.hostStage2!.lookup(HYP);
  assert.deepEqual(l.decoded, { kind: 'owner', owner: 1 });
  assert.equal(l.raw, 1n << 2n);
  assert.equal(vm.hostAccess('write', HYP), 'hyp_panic');
  assert.match(String(events.last('warning')!.fields.message), /owned by id 1/);
});

test('host accesses elsewhere fault in an identity mapping (stage2-fault host, resolution map)', () => {
  for (const fl of ['pkvm-v3', 'mainline-5.15'] as const) {
    const { vm, events } = mk(fl);
    vm.pkvmMarkHyp(HYP, P);
    assert.equal(vm.hostAccess('exec', HYP + P), 'ok');
    const t = vm.hostStage2!.translate(HYP + P + 8);
    assert.ok(t.valid && t.pa === HYP + P + 8 && t.execEl1 && t.write);
    assert.equal(events.last('stage2-fault')!.fields.resolution, 'map');
    const n = events.count('stage2-fault');
    assert.equal(vm.hostAccess('read', HYP + P), 'ok');
    assert.equal(events.count('stage2-fault'), n, 'no second fault');
    assert.deepEqual(vm.hostStage2!.checkInvariants(), []);
  }
});

test('pkvm_mark_hyp on a page the host already mapped replaces the mapping; device memory -> EINVAL', () => {
  const { vm } = mk('mainline-5.15');
  assert.equal(vm.hostAccess('read', HYP), 'ok');
  assert.equal(r(vm.pkvmMarkHyp(HYP, P)), 'ok');
  assert.equal(vm.hostAccess('read', HYP), 'hyp_panic');
  vm.createMemslot({ id: 0, gpa: 0x1000_0000, size: 16 * P, backing: 'pfnmap' });
  const devPa = vm.hostMemory.backingAt(vm.memslots.get(0)!.hva)!.pa;
  assert.equal(r(vm.pkvmMarkHyp(devPa, P)), 'EINVAL B.8#mark-hyp');
});
