// "IPA map": a picture of the guest physical address space — each memslot as a strip of pages coloured
// mapped / unmapped at stage 2, its lock state, and MMIO guard / annotated pages outside the memslots — redrawn
// on every stop. The data come from `kvm/memslots` and a walk of the stage 2 tables (`kvm/stage2`).
// The webview runs one nonce'd script, no remote content (CSP default-src 'none'), and draws with the theme's
// colours (--vscode-* variables), so it follows light, dark and high-contrast themes.

import * as vscode from 'vscode';
import type { KvmSession } from './kvmSession';
import type { MemslotsBody, Stage2Body } from './kvmProtocol';
import { buildIpaMap, type IpaMapModel, type MappedRange } from './ipaMapModel';

export type { IpaMapModel } from './ipaMapModel';

const MAX_TABLES = 256;

/** every non-unmapped leaf / invalid annotation of the VM's stage 2, by walking `kvm/stage2` from the root */
export async function stage2Ranges(session: KvmSession): Promise<MappedRange[]> {
  const out: MappedRange[] = [];
  let tables = 0;
  const visit = async (path: number[]): Promise<void> => {
    if (++tables > MAX_TABLES) return;
    let start = 0;
    for (;;) {
      const page = await session.request<Stage2Body>('kvm/stage2', { table: 'vm', path, start, count: 512 });
      if (!page || page.entries.length === 0) return;
      const gran = page.entries.length > 1 ? page.entries[1].ipa - page.entries[0].ipa : 4096 * 512 ** (3 - page.level);
      for (const e of page.entries) {
        if (e.kind === 'unmapped') continue;
        if (e.kind === 'table') await visit([...path, e.index]);
        else out.push({ ipa: e.ipa, size: gran, kind: e.kind, decoded: e.decoded });
      }
      start += page.entries.length;
      if (start >= page.total) return;
    }
  };
  await visit([]);
  return out;
}


function nonce(): string {
  let s = '';
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < 32; i++) s += chars.charAt(Math.floor(Math.random() * chars.length));
  return s;
}

export function ipaMapHtml(cspSource: string, n: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${n}'; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>IPA map</title>
<style nonce="${n}">
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 8px 16px; }
  h2 { font-weight: 600; font-size: 1.1em; margin: 0 0 8px; }
  .slot { margin: 10px 0 14px; }
  .head { display: flex; gap: 12px; align-items: baseline; }
  .head .name { font-weight: 600; }
  .head .meta { color: var(--vscode-descriptionForeground); font-family: var(--vscode-editor-font-family); }
  .strip { display: flex; flex-wrap: wrap; gap: 1px; margin-top: 4px; padding: 2px; border: 2px solid var(--vscode-panel-border); max-width: 900px; }
  .strip.locked { border-color: var(--vscode-charts-red); border-style: double; border-width: 3px; }
  .strip.readonly { border-style: dashed; }
  .cell { width: 10px; height: 14px; }
  .mapped { background: var(--vscode-charts-green); }
  .unmapped { background: var(--vscode-editorWidget-background); outline: 1px solid var(--vscode-panel-border); }
  .annotation, .owner, .prot-none { background: var(--vscode-charts-orange); }
  .locked-cell, .locked { background: var(--vscode-charts-red); }
  .gap { color: var(--vscode-descriptionForeground); margin: 2px 0; font-style: italic; }
  .legend { display: flex; gap: 14px; margin: 8px 0 12px; color: var(--vscode-descriptionForeground); }
  .legend span::before { content: ''; display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
  .legend .l-mapped::before { background: var(--vscode-charts-green); }
  .legend .l-unmapped::before { background: var(--vscode-editorWidget-background); outline: 1px solid var(--vscode-panel-border); }
  .legend .l-guard::before { background: var(--vscode-charts-orange); }
  .legend .l-locked::before { border: 3px double var(--vscode-charts-red); width: 6px; height: 6px; }
  .outside .item { font-family: var(--vscode-editor-font-family); }
  .empty { color: var(--vscode-descriptionForeground); }
</style></head>
<body>
<h2>IPA map</h2>
<div class="legend"><span class="l-mapped">mapped at stage 2</span><span class="l-unmapped">unmapped</span><span class="l-guard">MMIO guard / annotated / PROT_NONE</span><span class="l-locked">locked memslot</span></div>
<div id="map"><p class="empty">Waiting for a stopped KVM debug session…</p></div>
<script nonce="${n}">
  const vscode = acquireVsCodeApi();
  const map = document.getElementById('map');
  const hex = (n) => '0x' + n.toString(16);
  const size = (b) => { for (const [u, s] of [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']]) if (b >= u && b % u === 0) return (b / u) + s; return String(b); };
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (m && m.type === 'model') { vscode.setState(m.model); draw(m.model); }
  });
  function draw(model) {
    map.replaceChildren();
    map.append(el('div', 'gap', 'stopped: ' + model.stoppedAt));
    if (model.slots.length === 0) map.append(el('p', 'empty', 'No memslots yet.'));
    let prevEnd;
    for (const s of model.slots) {
      if (prevEnd !== undefined && s.gpa > prevEnd) map.append(el('div', 'gap', '⋮ ' + size(s.gpa - prevEnd) + ' without a memslot (MMIO)'));
      prevEnd = s.gpa + s.size;
      const box = el('div', 'slot');
      const head = el('div', 'head');
      head.append(el('span', 'name', 'memslot ' + s.id), el('span', 'meta', hex(s.gpa) + '–' + hex(s.gpa + s.size - 1) + ' · ' + size(s.size) + ' · ' + s.lock + (s.readonly ? ' · readonly' : '') + (s.dirtyLog ? ' · dirty_log' : '')));
      const mapped = s.cells.filter((c) => c === 'mapped').length;
      head.append(el('span', 'meta', mapped + '/' + s.cells.length + ' ' + (s.cellSize === 4096 ? 'pages' : size(s.cellSize) + ' cells') + ' mapped'));
      const strip = el('div', 'strip' + (s.lock !== 'unlocked' ? ' locked' : '') + (s.readonly ? ' readonly' : ''));
      s.cells.forEach((c, i) => { const cell = el('div', 'cell ' + (c === 'locked' ? 'locked-cell' : c)); cell.title = hex(s.gpa + i * s.cellSize) + ': ' + c; strip.append(cell); });
      box.append(head, strip);
      map.append(box);
    }
    if (model.outside.length) {
      const o = el('div', 'outside');
      o.append(el('h2', '', 'Outside memslots'));
      for (const r of model.outside) o.append(el('div', 'item', hex(r.ipa) + ' (' + size(r.size) + '): ' + r.decoded));
      map.append(o);
    }
  }
  const saved = vscode.getState();
  if (saved) draw(saved);
  // the extension sends the model once the page listens (a message posted before that would be lost)
  vscode.postMessage({ type: 'ready' });
</script>
</body></html>`;
}

export class IpaMapPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** the last model drawn (read by the e2e suite) */
  lastModel: IpaMapModel | undefined;

  constructor(private readonly session: KvmSession) {
    this.disposables.push(session.onDidChange((s) => { if (s.kind === 'stopped' && this.panel) void this.update(); }));
  }

  async show(): Promise<IpaMapModel | undefined> {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('kvm-arm64-lab.ipaMap', 'IPA map', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: false });
      this.panel.webview.html = ipaMapHtml(this.panel.webview.cspSource, nonce());
      this.panel.onDidDispose(() => { this.panel = undefined; }, undefined, this.disposables);
      this.panel.onDidChangeViewState((e) => { if (e.webviewPanel.visible) void this.update(); }, undefined, this.disposables);
      this.panel.webview.onDidReceiveMessage((m: { type?: string }) => {
        if (m?.type === 'ready' && this.lastModel) void this.panel?.webview.postMessage({ type: 'model', model: this.lastModel });
      }, undefined, this.disposables);
    } else {
      this.panel.reveal(undefined, true);
    }
    return this.update();
  }

  async update(): Promise<IpaMapModel | undefined> {
    if (!this.panel) return undefined;
    const state = this.session.state;
    if (state.kind !== 'stopped') return undefined;
    const memslots = await this.session.request<MemslotsBody>('kvm/memslots');
    if (!memslots) return undefined;
    const model = buildIpaMap(memslots, await stage2Ranges(this.session), `${state.reason} (event #${state.seq})`);
    this.lastModel = model;
    await this.panel.webview.postMessage({ type: 'model', model });
    return model;
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export function registerIpaMap(context: vscode.ExtensionContext, session: KvmSession): IpaMapPanel {
  const map = new IpaMapPanel(session);
  context.subscriptions.push(map, vscode.commands.registerCommand('kvm-arm64-lab.showIpaMap', () => map.show()));
  return map;
}
