import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EVENT_KINDS } from '../../../emulator/events';
import { ERRNO_NAMES } from '../../../emulator/kvm/errno';
import { EVENT_FIELDS, ERRNOS, HOST_STATEMENT_KEYWORDS, MACHINE_KEYS, HOST_FORMS } from '../../../emulator/scenario/vocabulary';

const LANGUAGE = readFileSync('/work/shared/design/LANGUAGE.md', 'utf8');

test('vocabulary: every LANGUAGE.md machine key is a MACHINE_KEYS entry (and no others)', () => {
  const section = LANGUAGE.split('### `machine` keys')[1].split('## `guest` blocks')[0];
  const keys = [...section.matchAll(/^\| `([a-z_0-9]+)[ `]/gm)].map((m) => m[1]);
  keys.push('spe_irq');
  assert.deepEqual(new Set(MACHINE_KEYS.map((k) => k.key)), new Set(keys));
});

test('vocabulary: every LANGUAGE.md host statement keyword has forms', () => {
  const section = LANGUAGE.split('## `host` statements')[1].split('## Expectations')[0];
  const words = new Set<string>();
  for (const m of section.matchAll(/`([a-z_0-9]+) [^`]*`/g)) words.add(m[1]);
  for (const w of ['memslot', 'set_memory_region', 'get_dirty_log', 'lock', 'unlock', 'enable_cap', 'check_extension', 'vcpu_init', 'set_reg', 'get_reg', 'spe_attr', 'run', 'join', 'mmio_reply', 'inject_ext_dabt', 'write', 'load', 's1map', 'unmap_host', 'pgtable', 'pgtable_map', 'pgtable_unmap', 'pgtable_set_owner', 'pgtable_annotate', 'pkvm_mark_hyp', 'host_access', 'expect']) {
    assert.ok(HOST_STATEMENT_KEYWORDS.includes(w), w);
  }
});

test('vocabulary: event fields cover every event kind of events.ts; errnos are errno.ts names', () => {
  assert.deepEqual(Object.keys(EVENT_FIELDS).sort(), [...EVENT_KINDS].sort());
  for (const e of ERRNOS) assert.ok((ERRNO_NAMES as string[]).includes(e), e);
  assert.equal(new Set(HOST_FORMS.map((f) => f.id)).size, HOST_FORMS.length);
});
