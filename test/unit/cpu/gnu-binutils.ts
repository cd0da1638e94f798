// Test helper: run GNU binutils (aarch64-linux-gnu-as / objcopy / objdump) on A64 source, the reference the codec is
// compared against. Tests only (node built-ins are fine here; emulator/ stays pure).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GAS_MARCH = '-march=armv8.2-a+lse+profile';

export function binutilsAvailable(): boolean {
  const r = spawnSync('aarch64-linux-gnu-as', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

export interface GasResult {
  ok: boolean;
  /** The .text section bytes. */
  bytes: Uint8Array;
  /** Assembler diagnostics (stderr). */
  stderr: string;
  /** objdump -d lines of .text: { offset, word, text } (text = mnemonic + tab + operands as objdump prints them). */
  disasm: { offset: number; word: number; text: string }[];
}

/** Assemble `source` with GNU as, extract .text, and disassemble it with objdump. */
export function gasAssemble(source: string, opts: { objdump?: boolean; link?: bigint } = {}): GasResult {
  const dir = mkdtempSync(join(tmpdir(), 'kvms-gas-'));
  try {
    const src = join(dir, 'in.s');
    const obj = join(dir, 'in.o');
    const bin = join(dir, 'in.bin');
    writeFileSync(src, source.endsWith('\n') ? source : source + '\n');
    const as = spawnSync('aarch64-linux-gnu-as', [GAS_MARCH, src, '-o', obj], { encoding: 'utf8' });
    if (as.status !== 0) return { ok: false, bytes: new Uint8Array(), stderr: as.stderr, disasm: [] };
    let image = obj;
    if (opts.link !== undefined) {
      // resolve ADRP relocations: link at the given address (symbols in objdump output are then the linker's)
      image = join(dir, 'in.elf');
      const base = '0x' + opts.link.toString(16);
      const ld = spawnSync('aarch64-linux-gnu-ld', [`-Ttext=${base}`, '-e', base, obj, '-o', image], { encoding: 'utf8' });
      if (ld.status !== 0) throw new Error(`ld failed: ${ld.stderr}`);
    }
    const oc = spawnSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', '-j', '.text', image, bin], { encoding: 'utf8' });
    if (oc.status !== 0) throw new Error(`objcopy failed: ${oc.stderr}`);
    const bytes = new Uint8Array(readFileSync(bin));
    const disasm: GasResult['disasm'] = [];
    if (opts.objdump !== false) {
      const od = spawnSync('aarch64-linux-gnu-objdump', ['-d', '-j', '.text', image], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      if (od.status !== 0) throw new Error(`objdump failed: ${od.stderr}`);
      for (const line of od.stdout.split('\n')) {
        const m = /^\s*([0-9a-f]+):\t([0-9a-f]{8}) \t(.*)$/.exec(line);
        if (m) disasm.push({ offset: Number(BigInt('0x' + m[1]!) - (opts.link ?? 0n)), word: parseInt(m[2]!, 16), text: m[3]! });
      }
    }
    return { ok: true, bytes, stderr: as.stderr, disasm };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** objdump's `<sym>` text for a label-free .text section: '.text' or '.text+0x…'. */
export function textSymbolizer(addr: bigint): string {
  return addr === 0n ? '.text' : `.text+0x${addr.toString(16)}`;
}

/** Little-endian 32-bit words of a byte array. */
export function words(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(dv.getUint32(i, true));
  return out;
}
