// The Stage 2 view: the VM's stage 2 tables (and the host's in protected mode) from the root down, read with the
// adapter's `kvm/stage2` request. Lazily loaded (a table's entries are fetched when it is expanded) and paged
// (PAGE entries at a time; runs of unmapped entries fold into one item). Each valid leaf expands into its decoded
// fields; invalid entries show their annotation (PROT_NONE / owner / MMIO guard / LOCKED). "Translate Address…"
// walks an IPA with `kvm/translate` and reveals each level.

import * as vscode from 'vscode';
import type { KvmSession } from './kvmSession';
import { hex, type Stage2Body, type Stage2Entry, type TranslateBody } from './kvmProtocol';
import { decodeStage2Leaf, invalidAnnotation } from './stage2Descriptor';

export const PAGE = 512;

export type Stage2Node =
  | { kind: 'table'; table: string; path: number[]; label: string }
  | { kind: 'entry'; table: string; path: number[]; level: number; entry: Stage2Entry }
  | { kind: 'unmappedRun'; table: string; path: number[]; first: Stage2Entry; last: Stage2Entry; count: number }
  | { kind: 'more'; table: string; path: number[]; start: number; total: number }
  | { kind: 'field'; parentId: string; name: string; value: string };

const levelName = (level: number): string => `L${level}`;

function nodeId(n: Stage2Node): string {
  switch (n.kind) {
    case 'table': return `s2:${n.table}`;
    case 'entry': return `s2:${n.table}:${[...n.path, n.entry.index].join('.')}`;
    case 'unmappedRun': return `s2:${n.table}:${n.path.join('.')}:u${n.first.index}`;
    case 'more': return `s2:${n.table}:${n.path.join('.')}:more${n.start}`;
    case 'field': return `${n.parentId}:${n.name}`;
  }
}

export class Stage2Tree implements vscode.TreeDataProvider<Stage2Node> {
  private readonly changed = new vscode.EventEmitter<Stage2Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** pages loaded so far per table (key "table:path"), and how many entries are shown */
  private readonly pages = new Map<string, { level: number; total: number; entries: Stage2Entry[] }>();
  private readonly parents = new Map<string, Stage2Node | undefined>();
  private readonly byId = new Map<string, Stage2Node>();
  private tables: Promise<string[]> | undefined;
  private generation = 0;
  private retries = 0;

  constructor(private readonly session: KvmSession) {}

  refresh(): void {
    this.generation++;
    this.retries = 0;
    this.pages.clear();
    this.parents.clear();
    this.byId.clear();
    this.tables = undefined;
    this.changed.fire(undefined);
  }

  private remember(n: Stage2Node, parent: Stage2Node | undefined): Stage2Node {
    const id = nodeId(n);
    const known = this.byId.get(id);
    if (known) return known;
    this.byId.set(id, n);
    this.parents.set(id, parent);
    return n;
  }

  private async fetch(table: string, path: number[], start: number): Promise<Stage2Body | undefined> {
    return this.session.request<Stage2Body>('kvm/stage2', { table, path, start, count: PAGE });
  }

  /** a table's entries loaded so far (first page on first use) */
  async tablePage(table: string, path: number[]): Promise<{ level: number; total: number; entries: Stage2Entry[] } | undefined> {
    const key = `${table}:${path.join('.')}`;
    let p = this.pages.get(key);
    if (!p) {
      const generation = this.generation;
      const body = await this.fetch(table, path, 0);
      if (!body) return undefined;
      p = { level: body.level, total: body.total, entries: body.entries };
      // a reply from before the last refresh is shown to its caller but not cached
      if (generation === this.generation) this.pages.set(key, p);
    }
    return p;
  }

  async loadMore(node: Stage2Node): Promise<void> {
    if (node.kind !== 'more') return;
    const key = `${node.table}:${node.path.join('.')}`;
    const p = this.pages.get(key);
    const body = await this.fetch(node.table, node.path, node.start);
    if (!p || !body) return;
    p.entries.push(...body.entries);
    this.changed.fire(this.parents.get(nodeId(node)));
  }

  async getChildren(node?: Stage2Node): Promise<Stage2Node[]> {
    if (!node) {
      if (!this.session.stopped) return [];
      // protected mode: the host's stage 2 exists too (the request fails otherwise); one probe per stop, shared by
      // concurrent callers (the view and the commands)
      this.tables ??= this.fetch('host', [], 0).then((host) => (host ? ['vm', 'host'] : ['vm']));
      return (await this.tables).map((t) => this.remember({ kind: 'table', table: t, path: [], label: t === 'vm' ? 'VM stage 2' : 'host stage 2 (pKVM)' }, undefined));
    }
    if (node.kind === 'table' || (node.kind === 'entry' && node.entry.kind === 'table')) {
      const path = node.kind === 'table' ? [] : [...node.path, node.entry.index];
      const page = await this.tablePage(node.table, path);
      if (!page) {
        // the adapter did not answer (not stopped yet, or busy): ask the view to come back rather than show an
        // empty table until the next stop
        if (this.session.stopped && this.retries++ < 5) setTimeout(() => this.changed.fire(node.kind === 'table' ? undefined : node), 300);
        return [];
      }
      const out: Stage2Node[] = [];
      let run: Stage2Entry[] = [];
      const flush = (): void => {
        if (run.length === 0) return;
        out.push(run.length === 1
          ? this.remember({ kind: 'entry', table: node.table, path, level: page.level, entry: run[0] }, node)
          : this.remember({ kind: 'unmappedRun', table: node.table, path, first: run[0], last: run[run.length - 1], count: run.length }, node));
        run = [];
      };
      for (const e of page.entries) {
        if (e.kind === 'unmapped') { run.push(e); continue; }
        flush();
        out.push(this.remember({ kind: 'entry', table: node.table, path, level: page.level, entry: e }, node));
      }
      flush();
      if (page.entries.length < page.total) {
        out.push(this.remember({ kind: 'more', table: node.table, path, start: page.entries.length, total: page.total }, node));
      }
      return out;
    }
    if (node.kind === 'entry' && (node.entry.kind === 'block' || node.entry.kind === 'page')) {
      const parentId = nodeId(node);
      return [
        { kind: 'field', parentId, name: 'type', value: `${node.entry.kind} (${levelName(node.level)})` },
        ...decodeStage2Leaf(BigInt(node.entry.raw)).map((f) => ({ kind: 'field' as const, parentId, ...f })),
        { kind: 'field', parentId, name: 'raw', value: node.entry.raw },
      ];
    }
    return [];
  }

  getParent(node: Stage2Node): Stage2Node | undefined {
    return node.kind === 'field' ? this.byId.get(node.parentId) : this.parents.get(nodeId(node));
  }

  getTreeItem(node: Stage2Node): vscode.TreeItem {
    const None = vscode.TreeItemCollapsibleState.None;
    const Collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    switch (node.kind) {
      case 'table': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon('list-tree');
        item.id = nodeId(node);
        return item;
      }
      case 'entry': {
        const e = node.entry;
        const leaf = e.kind === 'block' || e.kind === 'page';
        const item = new vscode.TreeItem(`${levelName(node.level)}[${e.index}] ${hex(e.ipa)}`, e.kind === 'table' || leaf ? Collapsed : None);
        item.id = nodeId(node);
        item.description = invalidAnnotation(e.kind, e.decoded) ?? e.decoded;
        item.tooltip = `${e.raw}\n${e.decoded}`;
        item.iconPath = new vscode.ThemeIcon(
          e.kind === 'table' ? 'symbol-namespace' : leaf ? 'symbol-field' : e.kind === 'locked' ? 'lock' : e.kind === 'unmapped' ? 'circle-outline' : 'warning',
          leaf ? undefined : e.kind === 'table' ? undefined : new vscode.ThemeColor('charts.orange'));
        item.contextValue = 'value address';
        return item;
      }
      case 'unmappedRun': {
        const item = new vscode.TreeItem(`[${node.first.index}–${node.last.index}] ${hex(node.first.ipa)}…`, None);
        item.description = `${node.count} unmapped entries`;
        item.iconPath = new vscode.ThemeIcon('circle-outline');
        item.id = nodeId(node);
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Load entries ${node.start}–${Math.min(node.total, node.start + PAGE) - 1} of ${node.total}…`, None);
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'kvm-arm64-lab.stage2LoadMore', title: 'Load more', arguments: [node] };
        item.id = nodeId(node);
        return item;
      }
      case 'field': {
        const item = new vscode.TreeItem(node.name, None);
        item.description = node.value;
        item.contextValue = 'value';
        return item;
      }
    }
  }

  /** the node of the entry at `indices` (root index first) in `table`, loading each level on the way */
  async entryAt(table: string, indices: number[]): Promise<Stage2Node | undefined> {
    let parent: Stage2Node | undefined = (await this.getChildren()).find((n) => n.kind === 'table' && n.table === table);
    let found: Stage2Node | undefined;
    for (let depth = 0; depth < indices.length && parent; depth++) {
      const path = indices.slice(0, depth);
      const page = await this.tablePage(table, path);
      if (!page) return undefined;
      while (page.entries.length < page.total && page.entries[page.entries.length - 1].index < indices[depth]) {
        const body = await this.fetch(table, path, page.entries.length);
        if (!body || body.entries.length === 0) break;
        page.entries.push(...body.entries);
      }
      const children = await this.getChildren(parent);
      found = children.find((c) => (c.kind === 'entry' && c.entry.index === indices[depth])
        || (c.kind === 'unmappedRun' && c.first.index <= indices[depth] && indices[depth] <= c.last.index));
      parent = found;
    }
    return found;
  }
}

export function nodeValue(node: Stage2Node): { value: string; address?: number } {
  switch (node.kind) {
    case 'entry': return { value: node.entry.raw, address: node.entry.ipa };
    case 'field': return { value: node.value };
    case 'unmappedRun': return { value: hex(node.first.ipa), address: node.first.ipa };
    default: return { value: '' };
  }
}

export function registerStage2Commands(context: vscode.ExtensionContext, tree: Stage2Tree, view: vscode.TreeView<Stage2Node>, session: KvmSession, output: vscode.OutputChannel): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('kvm-arm64-lab.stage2LoadMore', (node: Stage2Node) => tree.loadMore(node)),
    vscode.commands.registerCommand('kvm-arm64-lab.translateAddress', async (address?: string | number): Promise<TranslateBody | undefined> => {
      if (!session.stopped) {
        void vscode.window.showInformationMessage('Translate Address needs a stopped KVM debug session.');
        return undefined;
      }
      const text = address === undefined ? await vscode.window.showInputBox({
        title: 'Translate an IPA through stage 2',
        prompt: 'Guest physical address (IPA), e.g. 0x8000_0000',
        validateInput: (v) => /^(0x[0-9a-f_]+|\d+)$/i.test(v.trim()) ? undefined : 'a number, e.g. 0x8000_0000',
      }) : String(address);
      if (text === undefined) return undefined;
      const ipa = Number(text.trim().replace(/_/g, ''));
      const r = await session.request<TranslateBody>('kvm/translate', { address: '0x' + ipa.toString(16), stage: 's2' });
      if (!r) {
        void vscode.window.showErrorMessage(`kvm/translate failed for ${text}`);
        return undefined;
      }
      output.appendLine(`translate ${hex(ipa)}:`);
      const indices: number[] = [];
      for (const step of r.steps) {
        indices.push(step.index);
        output.appendLine(`  ${step.stage} L${step.level} table ${hex(step.tablePa)} [${step.index}] = ${step.raw}`);
        // reveal each level as the walk goes down it
        const node = await tree.entryAt('vm', [...indices]);
        if (node) await view.reveal(node, { select: true, focus: false, expand: true });
      }
      const result = r.fault ? `${r.fault.kind} fault at level ${r.fault.level}` : r.pa !== undefined ? `PA ${hex(r.pa)}` : 'no translation';
      output.appendLine(`  -> ${result}`);
      void vscode.window.setStatusBarMessage(`${hex(ipa)} → ${result} (${r.steps.length} levels)`, 8000);
      return r;
    }),
  );
}
