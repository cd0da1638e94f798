// The `disassemble` request: real bytes from guest memory (through the memslots, like the VMM sees them), GNU text
// from the emulator's disassembler, literal pools as `.word` (ARCHITECTURE.md "Packaging": GNU as pool layout),
// and the `.kvms` line of each assembled instruction.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { disassemble, disassembleDataWord } from '../emulator/cpu/disasm';
import type { ScenarioTarget } from './target';
import { hex } from './stage2-walk';

export const MAX_INSTRUCTIONS = 4096;

export function disassembleAt(t: ScenarioTarget, args: DebugProtocol.DisassembleArguments): DebugProtocol.DisassembledInstruction[] {
  const base = parseAddress(args.memoryReference);
  if (base === undefined) throw new Error(`bad memory reference '${args.memoryReference}'`);
  const count = Math.min(Math.max(0, args.instructionCount | 0), MAX_INSTRUCTIONS);
  const start = base + BigInt(args.offset ?? 0) + BigInt((args.instructionOffset ?? 0) * 4);
  const sym = (a: bigint) => t.sourceMap.labels.get(a);
  const source = { path: t.file, name: t.file.split(/[\\/]/).pop() };
  const out: DebugProtocol.DisassembledInstruction[] = [];
  let lastLine: number | undefined;
  for (let i = 0; i < count; i++) {
    const addr = start + BigInt(i * 4);
    if (addr < 0n || addr >= 1n << 52n) { out.push({ address: hex(BigInt.asUintN(64, addr)), instruction: '??', presentationHint: 'invalid' }); continue; }
    const b = t.board.readGuest(Number(addr), 4);
    if (!b) { out.push({ address: hex(addr), instruction: '??', presentationHint: 'invalid' }); continue; }
    const word = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    const text = t.sourceMap.inPool(addr) ? disassembleDataWord(word) : disassemble(word, addr, sym);
    const insn: DebugProtocol.DisassembledInstruction = {
      address: hex(addr),
      instructionBytes: word.toString(16).padStart(8, '0'),
      instruction: text,
    };
    const label = t.sourceMap.labels.get(addr);
    if (label && args.resolveSymbols !== false) insn.symbol = label;
    const line = t.sourceMap.lineOf(addr);
    if (line !== undefined) {
      if (line !== lastLine) insn.location = source;
      insn.line = line;
      lastLine = line;
    }
    out.push(insn);
  }
  return out;
}

/** a memoryReference / instructionReference: an IPA as "0x…" (or decimal) */
export function parseAddress(ref: string | undefined): bigint | undefined {
  if (typeof ref !== 'string') return undefined;
  const s = ref.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(s)) return undefined;
  return BigInt(s);
}
