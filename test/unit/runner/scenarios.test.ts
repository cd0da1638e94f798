// End-to-end scenarios through parse -> check -> load -> run (the same path as `kvms run`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../emulator/scenario/runner';
import { toJson } from '../../../emulator/events';

function run(text: string, opts: Parameters<typeof runScenario>[1] = {}) {
  return runScenario(text, { keepEvents: true, ...opts });
}
function ok(text: string) {
  const o = run(text);
  assert.equal(o.exitCode, 0, `${o.failure ? `line ${o.failure.line + 1}: ${o.failure.message}` : ''}${o.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.range.start.line + 1}: ${d.message}`).join('\n')}`);
  return o;
}

test('read-only memslot: a guest write exits as MMIO write at the slot IPA (spec G.5, C.4#4d)', () => {
  const o = ok(`
machine { guest_exceptions stop }
guest at 0x4000_0000 {
    ldr x1, =0x8000_0010
    ldr x2, [x1]            // reads are served from memory
    mov x3, #0x55
    str w3, [x1]            // write to ROM -> KVM_EXIT_MMIO
    b .
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    memslot 1 gpa=0x8000_0000 size=64K readonly
    write 0x8000_0010 u64 0x1122_3344_5566_7788
    vcpu_init 0
    run 0 => exit mmio write addr=0x8000_0010 len=4 data=0x55
    expect reg 0 x2 == 0x1122_3344_5566_7788
    expect event stage2-fault isv=true write=true resolution=mmio
}`);
  assert.ok(o.events.some((e) => e.event === 'kvm-exit'));
});

test('ISV=0 access outside memslots: ENOSYS without NISV_TO_USER (spec C.5#1)', () => {
  ok(`
guest at 0x4000_0000 {
    ldr x1, =0x0900_0000
    stp x2, x3, [x1]
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    vcpu_init 0
    run 0 => ENOSYS
    expect event warning
}`);
});

test('ISV=0 access with nisv_to_user: KVM_EXIT_ARM_NISV with the fault IPA (spec G.3)', () => {
  ok(`
machine { nisv_to_user on }
guest at 0x4000_0000 {
    ldr x1, =0x0900_0008
    stp x2, x3, [x1]
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    vcpu_init 0
    run 0 => exit arm_nisv addr=0x0900_0008
    expect event kvm-exit reason=arm_nisv
}`);
});

test('MMIO read completes on the next KVM_RUN with mmio_reply data (spec C.5#3)', () => {
  ok(`
machine { guest_exceptions stop }
guest at 0x4000_0000 {
    ldr x1, =0x0900_0000
    ldrsh x5, [x1]          // sign-extending halfword load
    hvc #0
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    vcpu_init 0
    set_reg 0 x0=PSCI_SYSTEM_OFF
    run 0 => exit mmio read addr=0x0900_0000 len=2
    mmio_reply 0 data=0x8001
    run 0 => exit system_event shutdown
    expect reg 0 x5 == 0xffff_ffff_ffff_8001   // x1-x3 are PSCI return registers
}`);
});

test('dirty logging: writes are reported by GET_DIRTY_LOG and re-protected (spec A.5, G.1)', () => {
  ok(`
guest at 0x4000_0000 {
    ldr x1, =0x8000_0000
    str x0, [x1]
    str x0, [x1, #0x2000]
    ldr x0, =PSCI_SYSTEM_OFF
    hvc #0
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    memslot 1 gpa=0x8000_0000 size=64K dirty_log
    vcpu_init 0
    run 0 => exit system_event shutdown
    get_dirty_log 1 => pages [0, 2]
    get_dirty_log 1 => pages []
    expect stage2 0x8000_0000 mapped level=3 perm=r
}`);
});

test('PSCI CPU_ON starts vcpu 1 at the entry point with x0 = context id (spec D.3)', () => {
  ok(`
machine { vcpus 2 }
guest at 0x4000_0000 {
    ldr x0, =PSCI_CPU_ON
    mov x1, #1               // target MPIDR: Aff0 = 1
    ldr x2, =second
    ldr x3, =0xc0ffee
    hvc #0
    mov x9, x0               // PSCI return value
    ldr x0, =PSCI_AFFINITY_INFO
    mov x1, #1
    mov x2, #0
    hvc #0
    mov x8, x0               // vcpu 1 is ON
spin:
    b spin
second:
    mov x10, x0
    ldr x0, =PSCI_SYSTEM_OFF
    hvc #0
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    vcpu_init 0
    vcpu_init 1 features=power_off
    run 0 steps=200 => EINTR
    expect reg 0 x9 == 0
    expect reg 0 x8 == 0
    run 1 => exit system_event shutdown
    expect reg 1 x10 == 0xc0ffee
}`);
});

test('deferred CMOs: a reset after run skips the locked slot and sets pending ops, performed at the next KVM_RUN (spec E.4)', () => {
  ok(`
machine { flavour spe-rfc-v5 }
guest at 0x4000_0000 {
    ldr x0, =PSCI_SYSTEM_RESET
    hvc #0
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    memslot 1 gpa=0x8000_0000 size=64K
    lock 1 read write
    expect pending_ops flush_dcache sanitise_tags
    vcpu_init 0
    run 0 => exit system_event reset
    expect pending_ops sanitise_tags
    vcpu_init 0
    expect pending_ops flush_dcache inval_icache sanitise_tags
    expect stage2 0x8000_0000 mapped level=3 perm=rw
    expect stage2 0x4000_0000 unmapped
    run 0 => exit system_event reset
    expect pending_ops sanitise_tags
    expect total cmo op=icache_inval_all_pou >= 1
}`);
});

test('pKVM host stage 2: pkvm-v3 PROT_NONE entries, host access -> hyp_panic', () => {
  ok(`
machine { flavour pkvm-v3  mode protected }
host {
    host_access read 0x8000_0000 => ok
    pkvm_mark_hyp 0x8000_0000 size=8K
    expect stage2 host 0x8000_0000 prot_none
    host_access write 0x8000_1000 => hyp_panic
    host_access read 0x8000_2000 => ok
}`);
});

test('mainline-5.15 host stage 2 uses owner annotations instead', () => {
  ok(`
machine { flavour mainline-5.15  mode protected }
host {
    pkvm_mark_hyp 0x8000_0000 size=4K
    expect stage2 host 0x8000_0000 annotated owner=1
    host_access read 0x8000_0000 => hyp_panic
}`);
});

test('a failed expectation stops at its line with expected and actual (exit 1)', () => {
  const o = run(`
host {
    memslot 0 gpa=0x4000_0000 size=2M
    expect memslot 0 readonly
    memslot 1 gpa=0x8000_0000 size=2M
}`);
  assert.equal(o.exitCode, 1);
  assert.equal(o.failure?.line, 3);
  assert.match(o.failure!.message, /not readonly/);
  assert.ok(!o.events.some((e) => e.line === 5), 'nothing after the failed line ran');
});

test('an ioctl without => that fails names the errno and the rule (exit 1)', () => {
  const o = run(`
host {
    memslot 0 gpa=0x4000_0000 size=2M
    memslot 1 gpa=0x4010_0000 size=2M
}`);
  assert.equal(o.exitCode, 1);
  assert.match(o.failure!.message, /EEXIST \(spec A\.2#11\)/);
});

test('scenario errors (undefined label) are exit 2 with a diagnostic range', () => {
  const o = run(`
guest at 0x4000_0000 {
    b nowhere
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
}`);
  assert.equal(o.exitCode, 2);
  assert.ok(o.diagnostics.some((d) => d.severity === 'error' && d.range.start.line === 2));
});

test('a runaway guest ends with EINTR when the step budget runs out', () => {
  ok(`
guest at 0x4000_0000 {
loop:
    b loop
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    vcpu_init 0
    run 0 steps=5000 => EINTR
    expect event kvm-exit reason=intr
}`);
});

test('same scenario, same trace (deterministic)', () => {
  const text = `
machine { vcpus 2 }
guest at 0x4000_0000 {
    ldr x1, =0x4010_0000
    mov x2, #0
loop:
    add x2, x2, #1
    str x2, [x1]
    cmp x2, #3000
    b.ne loop
    ldr x0, =PSCI_SYSTEM_OFF
    hvc #0
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    vcpu_init 0
    vcpu_init 1
    run 1 &
    run 0 => exit system_event shutdown
}`;
  const a = run(text).events.map((e) => JSON.stringify(toJson(e)));
  const b = run(text).events.map((e) => JSON.stringify(toJson(e)));
  assert.ok(a.length > 10);
  assert.deepEqual(a, b);
});

test('S1PTW into a read-only memslot: 5.x treats the walk as a write and injects an abort (spec C.4 note, C.4#4a/b)', () => {
  ok(`
machine { guest_exceptions stop  s1_tables 0x8000_0000 }
guest at 0x4000_0000 {
    mov x0, #1
    b .
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    memslot 1 gpa=0x8000_0000 size=64K readonly
    vcpu_init 0
    s1map va=0x4000_0000 ipa=0x4000_0000 size=2M perm=rx
    run 0 => exit guest_exception
    expect event stage2-fault s1ptw=true write=true resolution=inject ipa=0x8000_0000
    expect event guest-exception cause=injected
}`);
});

test('S1PTW outside every memslot: the fetch walk faults and KVM injects a prefetch abort', () => {
  const o = ok(`
machine { guest_exceptions stop }
guest at 0x4000_0000 {
    mov x0, #1
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    vcpu_init 0
    set_reg 0 TTBR0_EL1=0x9000_0000 TCR_EL1=0x5_8080_3510 MAIR_EL1=0xff SCTLR_EL1=0x30d0_1805
    run 0 => exit guest_exception
    expect event stage2-fault s1ptw=true resolution=inject ipa=0x9000_0000
}`);
  const ge = o.events.find((e) => e.event === 'guest-exception')!;
  // ESR_EL1: EC 0x21 (instruction abort, current EL), IL, FSC 0x10 (spec C.6)
  assert.equal(ge.fields.esr, 0x8600_0010n);
});

test('MMU off: a misaligned load from the page the code runs from takes an alignment fault (Device memory)', () => {
  const o = ok(`
machine { guest_exceptions stop }
guest at 0x4000_0000 {
    adr x1, here
    add x1, x1, #4           // 8-byte load at a 4-byte boundary of this very page
here:
    ldr x0, [x1]
}
host {
    memslot 0 gpa=0x4000_0000 size=2M
    vcpu_init 0
    run 0 => exit guest_exception
}`);
  const ge = o.events.find((e) => e.event === 'guest-exception')!;
  // ESR_EL1: EC 0x25 (data abort, current EL), IL, DFSC 0x21 (alignment fault)
  assert.equal(ge.fields.esr, 0x9600_0021n);
  assert.equal(ge.fields.cause, 'architectural');
});
