// The generated scenario the front-end benchmarks parse: a guest block, then memslot / dirty log / lock / run /
// expect statements repeated to the wanted length (no diagnostics).
export function bigScenario(lines: number, guestLines = 200): string {
  const out: string[] = [`scenario "bench: ${lines.toLocaleString('en')} lines"`, 'machine { flavour spe-rfc-v5 vcpus 4 memlock 64G }', 'const BASE = 0x4000_0000'];
  out.push('guest at BASE {');
  for (let i = 0; i < guestLines; i++) out.push(i % 10 === 0 ? `l${i}: add x${i % 30}, x${(i + 1) % 30}, #${i}` : `    ldr x${i % 30}, =BASE + ${i * 8}`);
  out.push('}', 'host {');
  out.push('    memslot 0 gpa=BASE size=16M');
  for (let k = 0; k < 4; k++) out.push(`    vcpu_init ${k}`);
  let slot = 1;
  while (out.length < lines - 1) {
    const gpa = `0x1_0000_0000 + ${slot} * 0x20_0000`;
    out.push(`    memslot ${slot} gpa=${gpa} size=2M dirty_log   // slot ${slot}`);
    out.push(`    get_dirty_log ${slot} => pages []`);
    out.push(`    memslot ${slot} flags`);
    out.push(`    lock ${slot} read write`);
    out.push(`    expect memslot ${slot} locked read write`);
    out.push(`    expect stage2 ${gpa} mapped level=3 perm=rw`);
    out.push(`    write ${gpa} u64 (${slot} << 12) | 0xff & ~1`);
    out.push(`    expect mem ${gpa} u64 == (${slot} << 12) | 0xfe`);
    out.push(`    unlock ${slot}`);
    out.push(`    run ${slot % 4} steps=1000 => EINTR`);
    out.push(`    expect event stage2-fault kind=permission write=true ipa=${gpa}`);
    slot++;
  }
  out.push('}');
  return out.join('\n') + '\n';
}
