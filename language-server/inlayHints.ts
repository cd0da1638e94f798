// Inlay hints (issue 6 item 6): the value of each predefined symbol in this flavour (`MMIO_GUARD_MAP` ->
// `= 0xc6000004` in mmio-guard-v2; the ids move between flavours, spec D.5/D.6) and the IPA range of each memslot
// where it is created (`[0x4000_0000, 0x4020_0000)`).

import { InlayHintKind, type InlayHint, type Range as LspRange } from 'vscode-languageserver';
import type { Analysis } from './documents';
import { nameIndex } from './names';
import { hex, hexGrouped } from './positions';

function inside(line: number, r: LspRange): boolean {
  return line >= r.start.line && line <= r.end.line;
}

export function inlayHints(a: Analysis, range: LspRange): InlayHint[] {
  const out: InlayHint[] = [];
  const idx = nameIndex(a);
  for (const n of idx.names) {
    if (n.kind !== 'predefined' || !inside(n.range.start.line, range)) continue;
    const v = idx.predefined.get(n.name);
    if (v === undefined) continue;
    out.push({
      position: { line: n.range.end.line, character: n.range.end.col },
      label: `= ${hex(v)}`,
      kind: InlayHintKind.Parameter,
      paddingLeft: true,
      tooltip: `${n.name} in ${a.info.flavour.name}`,
    });
  }
  for (const m of a.info.memslots) {
    if (m.gpa === undefined || m.size === undefined) continue;
    const s = m.statement;
    if (!inside(s.range.start.line, range)) continue;
    // after the statement's arguments, before `=> …`
    const lastArg = s.args[s.args.length - 1];
    const end = lastArg ? lastArg.range.end : s.keyword.range.end;
    out.push({
      position: { line: end.line, character: end.col },
      label: `[${hexGrouped(m.gpa)}, ${hexGrouped(m.gpa + m.size)})`,
      kind: InlayHintKind.Type,
      paddingLeft: true,
      tooltip: `memslot ${m.slot}: IPA range`,
    });
  }
  out.sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);
  return out;
}
