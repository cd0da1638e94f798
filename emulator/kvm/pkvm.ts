// pKVM `mode protected` (issue "Emulator core" item 8; spec B.8): the host kernel runs behind its own stage 2,
// identity-mapped (IPA = PA) and populated lazily on host faults (handle_host_mem_abort -> host_stage2_idmap).
// When the hypervisor takes pages from the host (__pkvm_mark_hyp) the host stage 2 keeps an invalid entry that
// marks them:
//   pkvm-v3 (Mar 2021, 26/32): a PROT_NONE entry (invalid leaf with BIT(55), "permanent" mapping);
//   mainline 5.13+ (807923e04a0f): an owner id in the invalid entry (kvm_pgtable_stage2_set_owner, pkvm_hyp_id = 1).
// A later host access to such a page faults to EL2, host_stage2_idmap refuses the permanent/owned entry (-EPERM),
// and handle_host_mem_abort has `BUG_ON(ret && ret != -EAGAIN)`: the hypervisor panics.
//
// Simplification: host_stage2_idmap maps the faulting page only (the kernel widens the range to the largest block
// that lies inside one memory region, host_stage2_adjust_range; the machine has no host memblock map).

import { fail, OK, type IoctlResult } from './errno';
import { KVM_PGTABLE_PROT_DEVICE, KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_RWX, KVM_PGTABLE_PROT_W } from '../arch/stage2';
import type { Vm } from './vm';

/** pkvm_hyp_id (mem_protect.c, 5.13+) */
export const PKVM_HYP_ID = 1;

const ESR_EC_DABT_LOW = 0x24n;
const ESR_EC_IABT_LOW = 0x20n;
const ESR_IL = 1n << 25n;
const ESR_WNR = 1n << 6n;

/** `pkvm_mark_hyp PA size=S`: __pkvm_mark_hyp(start, end) from the host. Rule B.8#mark-hyp: not host memory. */
export function pkvmMarkHyp(vm: Vm, pa: number, size: number): IoctlResult {
  const host = vm.hostStage2;
  if (host === undefined) throw new Error('pkvm_mark_hyp needs mode protected');
  let res: IoctlResult = OK;
  // range_is_memory: MMIO ranges cannot change owner (host_stage2_unmap_dev_all relies on it)
  const end = pa + size;
  let device = false;
  for (let a = pa - (pa % vm.pageSize); a < end; a += vm.pageSize) if (vm.hostMemory.isDevicePa(a)) { device = true; break; }
  if (size <= 0 || device) {
    res = fail('EINVAL', 'B.8#mark-hyp', `[0x${pa.toString(16)}, +0x${size.toString(16)}) is not host memory (range_is_memory)`);
  } else {
    const r = vm.flavour.protectedMode === 'prot-none'
      ? host.setProtNone(pa, size, pa)
      : host.setOwner(pa, size, PKVM_HYP_ID);
    // `return ret != -EAGAIN ? ret : 0`
    if (r !== 'ok' && r !== 'EAGAIN') {
      res = fail(r === 'ENOMEM' ? 'ENOMEM' : 'EINVAL', 'B.8#mark-hyp', `host stage 2 update failed: -${r}`);
    }
  }
  return vm.ioctl('pkvm_mark_hyp', [BigInt(pa), BigInt(size)], res);
}

/** `host_access read|write|exec PA`: the host kernel touches PA through its stage 2. */
export function hostAccess(vm: Vm, kind: 'read' | 'write' | 'exec', pa: number): 'ok' | 'hyp_panic' {
  const host = vm.hostStage2;
  if (host === undefined) throw new Error('host_access needs mode protected');
  const t = host.translate(pa);
  if (t.valid) return 'ok';
  const leaf = host.lookup(pa);
  const level = leaf.level;
  const fsc = BigInt(0x04 + level); // translation fault at the level the walk stopped
  const esr = ((kind === 'exec' ? ESR_EC_IABT_LOW : ESR_EC_DABT_LOW) << 26n) | ESR_IL | (kind === 'write' ? ESR_WNR : 0n) | fsc;
  const page = pa - (pa % vm.pageSize);
  const base = {
    stage: 'host', ipa: BigInt(pa), esr, far: BigInt(pa), hpfar: BigInt(Math.floor(pa / 4096)) << 4n, fsc,
    kind: 'translation', level, write: kind === 'write', exec: kind === 'exec', s1ptw: false, isv: false,
  };
  const d = leaf.decoded;
  if (d.kind === 'prot-none' || (d.kind === 'owner' && d.owner !== 0) || (d.kind !== 'unmapped' && d.kind !== 'owner')) {
    vm.events.emit('stage2-fault', { ...base, resolution: 'error' });
    const why = d.kind === 'prot-none'
      ? 'host_stage2_idmap: the entry is a PROT_NONE (permanent) mapping'
      : d.kind === 'owner' ? `host_stage2_idmap: the page is owned by id ${d.owner} (hypervisor), -EPERM` : 'host_stage2_idmap failed';
    vm.warn(`kernel BUG at arch/arm64/kvm/hyp/nvhe/mem_protect.c: BUG_ON(ret && ret != -EAGAIN) in handle_host_mem_abort — ${why} for PA 0x${pa.toString(16)} (${vm.flavour.name})`);
    return 'hyp_panic';
  }
  // host_stage2_idmap: memory RWX, MMIO R|W|DEVICE
  const prot = vm.hostMemory.isDevicePa(page) ? KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W | KVM_PGTABLE_PROT_DEVICE : KVM_PGTABLE_PROT_RWX;
  const r = host.map(page, vm.pageSize, page, prot);
  vm.events.emit('stage2-fault', { ...base, resolution: r === 'ok' || r === 'EAGAIN' ? 'map' : 'error' });
  if (r !== 'ok' && r !== 'EAGAIN') {
    vm.warn(`kernel BUG at arch/arm64/kvm/hyp/nvhe/mem_protect.c: BUG_ON(ret && ret != -EAGAIN) in handle_host_mem_abort — host_stage2_idmap returned -${r}`);
    return 'hyp_panic';
  }
  return 'ok';
}
