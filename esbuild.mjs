// Bundles each entry point that exists. The extension bundle never contains the emulator: the inline debug
// adapter factory requires dist/debug-adapter.js lazily (ARCHITECTURE.md dependency rule).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const entries = [
  { in: 'extension/extension.ts', out: 'dist/extension.js', external: ['vscode', './debug-adapter.js'] },
  { in: 'debug-adapter/main.ts', out: 'dist/debug-adapter.js', external: ['vscode'] },
  { in: 'language-server/main.ts', out: 'dist/language-server.js', external: [] },
  { in: 'cli/main.ts', out: 'dist/kvms.js', external: [], banner: '#!/usr/bin/env node' },
];

const production = process.argv.includes('--production');
for (const e of entries) {
  if (!existsSync(e.in)) continue;
  await build({
    entryPoints: [e.in],
    outfile: e.out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    sourcemap: !production,
    minify: production,
    external: e.external,
    banner: e.banner ? { js: e.banner } : undefined,
    logLevel: 'warning',
  });
}
