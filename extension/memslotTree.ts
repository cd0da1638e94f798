// The Memslots view: one item per memslot (IPA range, size, flags, lock state, pinned and dirty pages) from the
// adapter's `kvm/memslots` request, refreshed on every stop. Icons: a lock for locked slots (spec E: memslot
// locking), an eye for read-only slots, a pulse for dirty logging. contextValue drives the context menu:
// `value` (copy), `address` (reveal in memory), `memslot` (break on faults in it).

import * as vscode from 'vscode';
import type { KvmSession } from './kvmSession';
import { formatSize, hex, type MemslotsBody, type MemslotView } from './kvmProtocol';

export type MemslotNode =
  | { kind: 'slot'; slot: MemslotView }
  | { kind: 'field'; label: string; value: string; address?: number; icon?: string }
  | { kind: 'summary'; label: string; value: string };

function slotIcon(s: MemslotView): vscode.ThemeIcon {
  if (s.lock) return new vscode.ThemeIcon('lock', new vscode.ThemeColor(s.lock.write ? 'charts.red' : 'charts.orange'));
  if (s.readonly) return new vscode.ThemeIcon('eye');
  if (s.dirtyLog) return new vscode.ThemeIcon('pulse');
  return new vscode.ThemeIcon('symbol-array');
}

export function slotFlags(s: MemslotView): string {
  const f = [s.readonly ? 'readonly' : '', s.dirtyLog ? 'dirty_log' : ''].filter(Boolean);
  return f.length ? f.join(' ') : '—';
}

export function lockText(s: MemslotView): string {
  if (!s.lock) return 'unlocked';
  return `locked ${[s.lock.read ? 'read' : '', s.lock.write ? 'write' : ''].filter(Boolean).join('+') || '(no access)'}`;
}

export class MemslotTree implements vscode.TreeDataProvider<MemslotNode> {
  private readonly changed = new vscode.EventEmitter<MemslotNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private loading: Promise<MemslotsBody | undefined> | undefined;

  constructor(private readonly session: KvmSession) {}

  refresh(): void {
    this.loading = undefined;
    this.changed.fire(undefined);
  }

  /** the memslots shown (loaded on demand); used by the IPA map and the tests */
  memslots(): Promise<MemslotsBody | undefined> {
    // one request per stop, shared; a refresh starts a new one (a reply to the old one never lands in the cache)
    this.loading ??= this.session.request<MemslotsBody>('kvm/memslots');
    return this.loading;
  }

  async getChildren(node?: MemslotNode): Promise<MemslotNode[]> {
    if (!node) {
      const body = await this.memslots();
      if (!body) return [];
      const nodes: MemslotNode[] = body.memslots.map((slot) => ({ kind: 'slot', slot }));
      nodes.push({ kind: 'summary', label: 'locked_vm', value: `${body.lockedVm} pages` });
      const ops = body.pendingOps;
      const opsText = Array.isArray(ops) ? (ops.length ? ops.join(', ') : 'none') : ops ? JSON.stringify(ops) : 'none';
      nodes.push({ kind: 'summary', label: 'pending ops', value: opsText });
      return nodes;
    }
    if (node.kind !== 'slot') return [];
    const s = node.slot;
    return [
      { kind: 'field', label: 'IPA range', value: `${hex(s.gpa)}–${hex(s.gpa + s.size - 1)}`, address: s.gpa, icon: 'symbol-number' },
      { kind: 'field', label: 'size', value: `${formatSize(s.size)} (${s.size / 4096} pages)`, icon: 'symbol-ruler' },
      { kind: 'field', label: 'HVA', value: hex(s.hva), icon: 'symbol-number' },
      { kind: 'field', label: 'flags', value: slotFlags(s), icon: 'symbol-enum' },
      { kind: 'field', label: 'lock', value: lockText(s), icon: s.lock ? 'lock' : 'unlock' },
      { kind: 'field', label: 'pinned pages', value: String(s.pinnedPages), icon: 'pinned' },
      { kind: 'field', label: 'dirty pages', value: String(s.dirtyPages), icon: 'diff-modified' },
    ];
  }

  getTreeItem(node: MemslotNode): vscode.TreeItem {
    if (node.kind === 'slot') {
      const s = node.slot;
      const item = new vscode.TreeItem(`memslot ${s.id}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `memslot-${s.id}`;
      // unlocked, read-write, not logging is the common case: say only what differs (the icon says it too)
      item.description = `${hex(s.gpa)} · ${formatSize(s.size)}${s.lock ? ` · ${lockText(s)}` : ''}${s.readonly ? ' · ro' : ''}${s.dirtyLog ? ' · dirty_log' : ''}`;
      item.iconPath = slotIcon(s);
      item.contextValue = 'memslot value address';
      item.tooltip = new vscode.MarkdownString(
        `**memslot ${s.id}**\n\n| | |\n|---|---|\n| IPA | \`${hex(s.gpa)}\`–\`${hex(s.gpa + s.size - 1)}\` |\n| size | ${formatSize(s.size)} |\n| HVA | \`${hex(s.hva)}\` |\n| flags | ${slotFlags(s)} |\n| lock | ${lockText(s)} |\n| pinned | ${s.pinnedPages} |\n| dirty | ${s.dirtyPages} |`);
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.description = node.value;
    item.contextValue = node.kind === 'field' && node.address !== undefined ? 'value address' : 'value';
    if (node.kind === 'field' && node.icon) item.iconPath = new vscode.ThemeIcon(node.icon);
    if (node.kind === 'summary') item.iconPath = new vscode.ThemeIcon('info');
    return item;
  }
}

/** the value the "Copy Value" action copies and the address "Reveal in Memory View" opens */
export function memslotNodeValue(node: MemslotNode): { value: string; address?: number; size?: number } {
  if (node.kind === 'slot') return { value: `memslot ${node.slot.id} ${hex(node.slot.gpa)} ${formatSize(node.slot.size)}`, address: node.slot.gpa, size: node.slot.size };
  if (node.kind === 'field') return { value: node.value, address: node.address };
  return { value: node.value };
}
