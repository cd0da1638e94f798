// Context-menu actions of the KVM views: copy a value, reveal an address in the memory view, and break on stage 2
// faults inside a memslot (the `stage2-fault` exception filter with an IPA-range condition; filter conditions
// are ARCHITECTURE.md "Debug adapter shapes").

import * as vscode from 'vscode';
import type { KvmSession } from './kvmSession';
import { hex } from './kvmProtocol';
import { memslotNodeValue, type MemslotNode } from './memslotTree';
import { nodeValue, type Stage2Node } from './stage2Tree';
import { eventSummary } from './eventsTree';

type AnyNode = MemslotNode | Stage2Node | { seq: number; event: string; line: number };

function valueOf(node: AnyNode): { value: string; address?: number; size?: number } {
  if ('seq' in node) return { value: `${node.event} ${eventSummary(node as never)}` };
  if (node.kind === 'slot' || node.kind === 'summary' || (node.kind === 'field' && 'label' in node)) return memslotNodeValue(node as MemslotNode);
  return nodeValue(node as Stage2Node);
}

const HEX_EDITOR = 'ms-vscode.hexeditor';

/** a hex dump of `bytes` starting at `address` (16 bytes a line), the memory view's fallback without the Hex Editor */
export function hexDump(address: number, bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hexes = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(address + off).toString(16).padStart(12, '0')}  ${hexes.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n') + '\n';
}

export async function revealInMemory(session: KvmSession, address: number, size = 256): Promise<vscode.TextDocument | undefined> {
  const s = session.session;
  if (!s || !session.stopped) {
    void vscode.window.showInformationMessage('The memory view needs a stopped KVM debug session.');
    return undefined;
  }
  const memoryReference = hex(address);
  if (vscode.extensions.getExtension(HEX_EDITOR)) {
    // VS Code's debug memory file system, shown by the Hex Editor (the memory view UI)
    const uri = vscode.Uri.from({ scheme: 'vscode-debug-memory', authority: s.id, path: `/${encodeURIComponent(memoryReference)}/memory.bin`, query: `?range=0:${size}` });
    await vscode.commands.executeCommand('vscode.openWith', uri, 'hexEditor.hexedit');
    return undefined;
  }
  const count = Math.min(size, 4096);
  const r = (await s.customRequest('readMemory', { memoryReference, offset: 0, count })) as { address: string; data?: string; unreadableBytes?: number };
  const bytes = r.data ? Uint8Array.from(Buffer.from(r.data, 'base64')) : new Uint8Array();
  const header = `// IPA ${memoryReference}, ${bytes.length} bytes read${r.unreadableBytes ? `, ${r.unreadableBytes} unreadable` : ''} (install the Hex Editor for the editable memory view)\n`;
  const doc = await vscode.workspace.openTextDocument({ content: header + hexDump(address, bytes) });
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  return doc;
}

/** the condition the `stage2-fault` filter gets for one memslot */
export function memslotFaultCondition(gpa: number, size: number): string {
  return `ipa >= ${hex(gpa)} && ipa < ${hex(gpa + size)}`;
}

export function registerTreeActions(context: vscode.ExtensionContext, session: KvmSession): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('kvm-arm64-lab.copyValue', async (node: AnyNode) => {
      const v = valueOf(node).value;
      await vscode.env.clipboard.writeText(v);
      void vscode.window.setStatusBarMessage(`Copied ${v}`, 3000);
    }),
    vscode.commands.registerCommand('kvm-arm64-lab.revealInMemory', async (node: AnyNode) => {
      const v = valueOf(node);
      if (v.address === undefined) return;
      return revealInMemory(session, v.address, Math.min(v.size ?? 256, 256));
    }),
    vscode.commands.registerCommand('kvm-arm64-lab.breakOnMemslotFaults', async (node: MemslotNode) => {
      const s = session.session;
      if (!s || node?.kind !== 'slot') return;
      const condition = memslotFaultCondition(node.slot.gpa, node.slot.size);
      // keep what the Breakpoints view already asked for; replace only the stage2-fault entry
      const prev = session.exceptionBreakpoints.get(s.id) ?? { filters: [], filterOptions: [] };
      const filters = prev.filters.filter((f) => f !== 'stage2-fault');
      const filterOptions = (prev.filterOptions ?? []).filter((o) => o.filterId !== 'stage2-fault');
      filterOptions.push({ filterId: 'stage2-fault', condition });
      const args = { filters, filterOptions };
      await s.customRequest('setExceptionBreakpoints', args);
      session.exceptionBreakpoints.set(s.id, args);
      void vscode.window.showInformationMessage(`Breaking on stage 2 faults in memslot ${node.slot.id} (${condition}) for this session; the Breakpoints view's stage2-fault checkbox replaces it when changed.`);
      return args;
    }),
  );
}
