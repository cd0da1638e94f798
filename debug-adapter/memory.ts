// readMemory / writeMemory over the IPA space (ARCHITECTURE.md: memoryReference = a "0x…" IPA), through the
// memslots' mappings as the VMM sees guest memory (no stage 2): bytes no memslot backs are unreadable.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ScenarioTarget } from './target';
import { parseAddress } from './disassembly';
import { hex } from './stage2-walk';

export const MAX_READ = 1 << 20;
const IPA_LIMIT = 1n << 52n;

export function readGuestMemory(t: ScenarioTarget, args: DebugProtocol.ReadMemoryArguments): DebugProtocol.ReadMemoryResponse['body'] {
  const base = parseAddress(args.memoryReference);
  if (base === undefined) throw new Error(`bad memory reference '${args.memoryReference}'`);
  const start = base + BigInt(args.offset ?? 0);
  const count = Math.min(Math.max(0, args.count | 0), MAX_READ);
  if (start < 0n || start >= IPA_LIMIT) throw new Error(`IPA ${hex(BigInt.asUintN(64, start))} is outside the IPA space`);
  // readable prefix, page by page
  const bytes: number[] = [];
  let a = Number(start);
  while (bytes.length < count) {
    const n = Math.min(count - bytes.length, 0x1000 - (a & 0xfff));
    const chunk = t.board.readGuest(a, n);
    if (!chunk) break;
    for (const x of chunk) bytes.push(x);
    a += n;
  }
  return {
    address: hex(start),
    data: Buffer.from(bytes).toString('base64'),
    unreadableBytes: count - bytes.length,
  };
}

export function writeGuestMemory(t: ScenarioTarget, args: DebugProtocol.WriteMemoryArguments): { offset: number; bytesWritten: number; address: bigint } {
  const base = parseAddress(args.memoryReference);
  if (base === undefined) throw new Error(`bad memory reference '${args.memoryReference}'`);
  const start = base + BigInt(args.offset ?? 0);
  if (start < 0n || start >= IPA_LIMIT) throw new Error(`IPA ${hex(BigInt.asUintN(64, start))} is outside the IPA space`);
  const data = Buffer.from(args.data ?? '', 'base64');
  if (data.length === 0) return { offset: args.offset ?? 0, bytesWritten: 0, address: start };
  if (!t.board.readGuest(Number(start), data.length)) {
    throw new Error(`IPA ${hex(start)}..${hex(start + BigInt(data.length))} is not backed by a memslot`);
  }
  // a debugger poke, not a VMM statement: written through the memslot mapping, no events
  t.board.writeGuest(Number(start), new Uint8Array(data));
  return { offset: args.offset ?? 0, bytesWritten: data.length, address: start };
}
