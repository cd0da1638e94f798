// Shared fixtures of the e2e suite: the extension under test, its API, the scratch workspace and helpers that
// speak DAP to the live session.

import * as vscode from 'vscode';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { KvmLabApi } from '../../../extension/extension';
import { waitFor } from './workbench';

export const EXTENSION_ID = 'kvm-arm64-lab.kvm-arm64-lab';
export const workspaceDir = process.env.KVMS_E2E_WORKSPACE ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
export const repoRoot = process.env.KVMS_E2E_ROOT ?? join(__dirname, '..', '..');

export function exampleUri(name: string): vscode.Uri {
  return vscode.Uri.file(join(workspaceDir, name));
}

/** 1-based line of the first line of `file` matching `re` */
export function lineOf(uri: vscode.Uri, re: RegExp): number {
  const lines = readFileSync(uri.fsPath, 'utf8').split('\n');
  const i = lines.findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`no line matching ${re} in ${uri.fsPath}`);
  return i + 1;
}

export async function api(): Promise<KvmLabApi> {
  const ext = vscode.extensions.getExtension<KvmLabApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded (extensionDevelopmentPath wrong?)`);
  // normally activated by opening a .kvms file (onLanguage); a filtered run (E2E_GREP) may not have opened one
  if (!ext.isActive) await ext.activate();
  return waitFor('the extension to activate', () => ext.isActive && ext.exports, 30_000);
}

export async function openExample(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(exampleUri(name));
  return vscode.window.showTextDocument(doc, { preview: false });
}

export interface Frame { id: number; line: number; name: string; source?: { path?: string }; instructionPointerReference?: string }
export interface Variable { name: string; value: string; variablesReference: number; memoryReference?: string }

/** the top frame of the thread that stopped (the `stopped` event's threadId, else the first thread with frames) */
export async function topFrame(session: vscode.DebugSession, threadId?: number): Promise<{ threadId: number; frame: Frame }> {
  const threads = threadId !== undefined ? [{ id: threadId }] : ((await session.customRequest('threads')) as { threads: { id: number }[] }).threads;
  for (const t of threads) {
    const st = (await session.customRequest('stackTrace', { threadId: t.id, startFrame: 0, levels: 1 })) as { stackFrames: Frame[] };
    if (st.stackFrames.length > 0) return { threadId: t.id, frame: st.stackFrames[0] };
  }
  throw new Error('no thread has a stack frame');
}

export async function variables(session: vscode.DebugSession, ref: number): Promise<Variable[]> {
  return ((await session.customRequest('variables', { variablesReference: ref })) as { variables: Variable[] }).variables;
}

export async function scope(session: vscode.DebugSession, frameId: number, name: RegExp): Promise<Variable[]> {
  const scopes = ((await session.customRequest('scopes', { frameId })) as { scopes: { name: string; variablesReference: number }[] }).scopes;
  const s = scopes.find((x) => name.test(x.name));
  if (!s) throw new Error(`no scope ${name} among ${scopes.map((x) => x.name).join(', ')}`);
  return variables(session, s.variablesReference);
}
