// kvm->arch.mmu_pending_ops of the SPE lock RFC (spec E.4): deferred cache maintenance and tag scrubbing for locked
// memslots. Bits: FLUSH_DCACHE (bit 0, v4 04), INVAL_ICACHE (bit 1, v4 05), SANITISE_TAGS (bit 2, v4 06).
// Every change is a `pending-ops` event {set, cleared, now} (LANGUAGE.md "Trace events").

import type { EventSink } from '../events';

export type PendingOp = 'flush_dcache' | 'inval_icache' | 'sanitise_tags';

/** bit order of the kernel bitmap */
export const PENDING_OPS: readonly PendingOp[] = ['flush_dcache', 'inval_icache', 'sanitise_tags'];

export class PendingOps {
  private bits = 0;

  constructor(private readonly events: EventSink) {}

  /** kvm_mmu_has_pending_ops: the bitmap is not empty */
  get any(): boolean { return this.bits !== 0; }

  has(op: PendingOp): boolean { return (this.bits & (1 << PENDING_OPS.indexOf(op))) !== 0; }

  /** the set, in bit order */
  list(): PendingOp[] { return PENDING_OPS.filter(op => this.has(op)); }

  get bitmap(): number { return this.bits; }

  /**
   * set_bit for each op. The event is emitted whenever a producer sets bits (even if they were already set), so
   * "pending op set" breakpoints stop on every producer; `set` lists what the producer set.
   */
  set(ops: readonly PendingOp[], vcpu?: number): void {
    if (ops.length === 0) return;
    for (const op of ops) this.bits |= 1 << PENDING_OPS.indexOf(op);
    this.events.emit('pending-ops', { set: PENDING_OPS.filter(o => ops.includes(o)), cleared: [], now: this.list() }, vcpu);
  }

  /** clear_bit for each op that is set; emits only when something was cleared. */
  clear(ops: readonly PendingOp[], vcpu?: number): void {
    const cleared = PENDING_OPS.filter(o => ops.includes(o) && this.has(o));
    if (cleared.length === 0) return;
    for (const op of cleared) this.bits &= ~(1 << PENDING_OPS.indexOf(op));
    this.events.emit('pending-ops', { set: [], cleared, now: this.list() }, vcpu);
  }

  /** bitmap_zero */
  clearAll(vcpu?: number): void { this.clear(PENDING_OPS, vcpu); }

  snapshot(): number { return this.bits; }
  restore(bits: number): void { this.bits = bits; }
}
