// `kvms test` reporters: spec (people), tap (TAP 13, kernel CI's ktap readers), junit (CI dashboards).
export interface TestCaseResult {
  file: string;
  title?: string;
  exitCode: number;
  durationMs: number;
  line?: number;
  message?: string;
  expected?: string;
  actual?: string;
}
export type ReporterName = 'spec' | 'tap' | 'junit';

const verdict = (r: TestCaseResult) => (r.exitCode === 0 ? 'pass' : r.exitCode === 1 ? 'fail' : 'error');

function summary(rs: TestCaseResult[]): string {
  const passed = rs.filter((r) => r.exitCode === 0).length;
  return `${passed} passed, ${rs.length - passed} failed`;
}

function spec(rs: TestCaseResult[]): string[] {
  const out: string[] = [];
  for (const r of rs) {
    const mark = r.exitCode === 0 ? '✔' : '✖';
    out.push(`${mark} ${r.file}${r.title ? ` — ${r.title}` : ''} (${r.durationMs.toFixed(1)} ms)`);
    if (r.exitCode !== 0) {
      if (r.message) for (const l of r.message.split('\n')) out.push(`    ${r.line ? `line ${r.line}: ` : ''}${l}`);
      if (r.expected !== undefined) out.push(`    expected: ${r.expected}`);
      if (r.actual !== undefined) out.push(`    actual:   ${r.actual}`);
    }
  }
  out.push('', summary(rs));
  return out;
}

function tap(rs: TestCaseResult[]): string[] {
  const out = ['TAP version 13', `1..${rs.length}`];
  rs.forEach((r, i) => {
    out.push(`${r.exitCode === 0 ? 'ok' : 'not ok'} ${i + 1} - ${r.file}${r.title ? ` # ${r.title.replace(/#/g, '')}` : ''}`);
    if (r.exitCode !== 0) {
      out.push('  ---', `  verdict: ${verdict(r)}`);
      if (r.line) out.push(`  line: ${r.line}`);
      if (r.message) out.push(`  message: ${JSON.stringify(r.message)}`);
      if (r.expected !== undefined) out.push(`  expected: ${JSON.stringify(r.expected)}`);
      if (r.actual !== undefined) out.push(`  actual: ${JSON.stringify(r.actual)}`);
      out.push('  ...');
    }
  });
  out.push(`# ${summary(rs)}`);
  return out;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function junit(rs: TestCaseResult[]): string[] {
  const failures = rs.filter((r) => r.exitCode === 1).length;
  const errors = rs.filter((r) => r.exitCode > 1).length;
  const time = (rs.reduce((s, r) => s + r.durationMs, 0) / 1000).toFixed(3);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${rs.length}" failures="${failures}" errors="${errors}" time="${time}">`,
    `  <testsuite name="kvms" tests="${rs.length}" failures="${failures}" errors="${errors}" time="${time}">`];
  for (const r of rs) {
    const name = xml(r.title ?? r.file);
    out.push(`    <testcase classname="${xml(r.file)}" name="${name}" time="${(r.durationMs / 1000).toFixed(3)}">`);
    if (r.exitCode !== 0) {
      const tag = r.exitCode === 1 ? 'failure' : 'error';
      const msg = `${r.line ? `line ${r.line}: ` : ''}${r.message ?? ''}`;
      const body = [r.message, r.expected !== undefined ? `expected: ${r.expected}` : '', r.actual !== undefined ? `actual: ${r.actual}` : '']
        .filter(Boolean).join('\n');
      out.push(`      <${tag} message="${xml(msg)}">${xml(body)}</${tag}>`);
    }
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return out;
}

export const reporters: Record<ReporterName, (rs: TestCaseResult[]) => string[]> = { spec, tap, junit };
