// Document symbols (issue 6 item 4): the outline. `machine` with its keys, constants, each guest block with its
// labels, and the host statements grouped by what they act on: a memslot, a vcpu or a pgtable (the other
// statements stay directly under `host`).

import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import type { HostStatement, Range } from '../emulator/scenario';
import type { Analysis } from './documents';
import { hex, hexGrouped, toLspRange } from './positions';

function span(a: Range, b: Range): Range {
  return { start: a.start, end: b.end };
}

/** the statement's source text on one line, whitespace collapsed, comments dropped */
function statementText(a: Analysis, s: HostStatement): string {
  const line = a.lines[s.range.start.line] ?? '';
  const endCol = s.range.start.line === s.range.end.line ? s.range.end.col : line.length;
  const text = line.slice(s.range.start.col, endCol).replace(/\s+/g, ' ').trim();
  return text.length > 80 ? text.slice(0, 77) + '…' : text || s.keyword.text;
}

function statementSymbol(a: Analysis, s: HostStatement): DocumentSymbol {
  return {
    name: statementText(a, s),
    kind: s.keyword.text === 'expect' ? SymbolKind.Event : SymbolKind.Method,
    range: toLspRange(s.range),
    selectionRange: toLspRange(s.keyword.range),
  };
}

export function documentSymbols(a: Analysis): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  const info = a.info;
  for (const item of a.ast.items) {
    switch (item.kind) {
      case 'scenario':
        out.push({ name: item.title || 'scenario', detail: 'scenario', kind: SymbolKind.File, range: toLspRange(item.range), selectionRange: toLspRange(item.titleRange) });
        break;
      case 'const': {
        const v = info.constants.get(item.name.text);
        out.push({ name: item.name.text, detail: v === undefined ? undefined : hex(v), kind: SymbolKind.Constant, range: toLspRange(item.range), selectionRange: toLspRange(item.name.range) });
        break;
      }
      case 'machine':
        out.push({
          name: 'machine', detail: info.flavour.name, kind: SymbolKind.Namespace, range: toLspRange(item.range), selectionRange: toLspRange(item.keyword.range),
          children: item.entries.map((e) => ({
            name: e.key.text,
            detail: a.text.slice(e.value.range.start.offset, e.value.range.end.offset),
            kind: SymbolKind.Property, range: toLspRange(e.range), selectionRange: toLspRange(e.key.range),
          })),
        });
        break;
      case 'guest': {
        const k = a.ast.guests.indexOf(item);
        const base = info.guestBases[k];
        out.push({
          name: `guest at ${base === undefined ? a.text.slice(item.at.range.start.offset, item.at.range.end.offset) : hexGrouped(base)}`,
          kind: SymbolKind.Module, range: toLspRange(item.range), selectionRange: toLspRange(item.keyword.range),
          children: item.lines.filter((l) => l.label).map((l) => {
            const addr = info.labels.get(l.label!.text);
            return { name: l.label!.text, detail: addr === undefined ? undefined : hex(addr), kind: SymbolKind.Function, range: toLspRange(l.range), selectionRange: toLspRange(l.label!.range) };
          }),
        });
        break;
      }
      case 'host':
        out.push({ name: 'host', kind: SymbolKind.Namespace, range: toLspRange(item.range), selectionRange: toLspRange(item.keyword.range), children: hostChildren(a) });
        break;
    }
  }
  return out;
}

/** statements grouped by memslot, vcpu or pgtable, in order of first appearance */
function hostChildren(a: Analysis): DocumentSymbol[] {
  const groups = new Map<string, { name: string; kind: SymbolKind; statements: HostStatement[] }>();
  const order: (string | HostStatement)[] = [];
  for (const r of a.info.statements) {
    const s = r.statement;
    const slot = r.values.get('slot');
    const vcpu = r.values.get('vcpu');
    const table = s.args.find((x) => x.kind === 'word' && (x.role === 'name' || x.role === 'table'));
    let key: string | undefined;
    let kind: SymbolKind = SymbolKind.Struct;
    if (slot !== undefined) key = `memslot ${slot}`;
    else if (vcpu !== undefined) { key = `vcpu ${vcpu}`; kind = SymbolKind.Object; }
    else if (table && table.kind === 'word' && table.word.text !== 'host' && table.word.text !== 'vm') { key = `pgtable ${table.word.text}`; kind = SymbolKind.Class; }
    if (!key) { order.push(s); continue; }
    let g = groups.get(key);
    if (!g) {
      g = { name: key, kind, statements: [] };
      groups.set(key, g);
      order.push(key);
    }
    g.statements.push(s);
  }
  return order.map((o) => {
    if (typeof o !== 'string') return statementSymbol(a, o);
    const g = groups.get(o)!;
    const first = g.statements[0];
    const last = g.statements[g.statements.length - 1];
    const decl = a.info.memslots.find((m) => `memslot ${m.slot}` === o);
    const detail = decl && decl.gpa !== undefined && decl.size !== undefined ? `[${hexGrouped(decl.gpa)}, ${hexGrouped(decl.gpa + decl.size)})` : undefined;
    return {
      name: g.name, detail, kind: g.kind, range: toLspRange(span(first.range, last.range)), selectionRange: toLspRange(first.keyword.range),
      children: g.statements.map((s) => statementSymbol(a, s)),
    };
  });
}
