// The Events view: the recent trace (`kvm/events`, trace form: seq, event, line, vcpu, fields), newest first,
// filterable by kind; selecting an event reveals the statement that caused it (`line`, 1-based; 0 = none).
// The window size is the `kvm-arm64-lab.eventsWindow` setting (the full stream is the trace file).

import * as vscode from 'vscode';
import type { KvmSession } from './kvmSession';
import type { EventsBody, TraceEventJson } from './kvmProtocol';

export const REVEAL_EVENT_SOURCE = 'kvm-arm64-lab.revealEventSource';

export function eventSummary(e: TraceEventJson): string {
  return Object.entries(e)
    .filter(([k]) => k !== 'seq' && k !== 'event' && k !== 'line' && k !== 'vcpu')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export class EventsTree implements vscode.TreeDataProvider<TraceEventJson> {
  private readonly changed = new vscode.EventEmitter<TraceEventJson | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private events: TraceEventJson[] | undefined;
  /** kinds shown; undefined = all */
  kinds: string[] | undefined;
  /** every kind seen in this session, for the filter picker */
  readonly seenKinds = new Set<string>();

  constructor(private readonly session: KvmSession) {}

  refresh(): void {
    this.events = undefined;
    this.changed.fire(undefined);
  }

  async load(): Promise<TraceEventJson[]> {
    if (this.events) return this.events;
    const window = vscode.workspace.getConfiguration('kvm-arm64-lab').get<number>('eventsWindow', 500);
    const body = await this.session.request<EventsBody>('kvm/events', this.kinds ? { kinds: this.kinds } : {});
    const all = body?.events ?? [];
    for (const e of all) this.seenKinds.add(e.event);
    this.events = all.slice(-window).reverse();
    return this.events;
  }

  async getChildren(node?: TraceEventJson): Promise<TraceEventJson[]> {
    return node ? [] : this.load();
  }

  getTreeItem(e: TraceEventJson): vscode.TreeItem {
    const item = new vscode.TreeItem(`${e.event}`, vscode.TreeItemCollapsibleState.None);
    item.id = `event-${e.seq}`;
    item.description = `#${e.seq}${e.vcpu !== undefined ? ` vcpu${e.vcpu}` : ''} ${eventSummary(e)}`;
    item.tooltip = JSON.stringify(e, null, 2);
    item.iconPath = new vscode.ThemeIcon(
      e.event === 'stage2-fault' ? 'warning' : e.event === 'ioctl' ? 'symbol-method' : e.event === 'hypercall' ? 'call-outgoing'
        : e.event === 'kvm-exit' ? 'debug-step-out' : e.event === 'warning' ? 'alert' : 'circle-small-filled');
    item.contextValue = 'value';
    if (e.line > 0) item.command = { command: REVEAL_EVENT_SOURCE, title: 'Reveal source', arguments: [e] };
    return item;
  }
}

export function registerEventCommands(context: vscode.ExtensionContext, tree: EventsTree, session: KvmSession): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('kvm-arm64-lab.filterEvents', async () => {
      const picks = [...tree.seenKinds].sort().map((k) => ({ label: k, picked: !tree.kinds || tree.kinds.includes(k) }));
      const chosen = await vscode.window.showQuickPick(picks, { canPickMany: true, title: 'Show these event kinds' });
      if (!chosen) return;
      tree.kinds = chosen.length === 0 || chosen.length === picks.length ? undefined : chosen.map((c) => c.label);
      tree.refresh();
    }),
    vscode.commands.registerCommand(REVEAL_EVENT_SOURCE, async (e: TraceEventJson) => {
      const program = session.session?.configuration.program;
      if (typeof program !== 'string' || !e || e.line <= 0) return;
      const pos = new vscode.Position(e.line - 1, 0);
      await vscode.window.showTextDocument(vscode.Uri.file(program), { selection: new vscode.Range(pos, pos), preserveFocus: true, preview: true });
    }),
  );
}
