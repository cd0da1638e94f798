#!/usr/bin/env node
// The "VS Code executable" that @vscode/test-electron's runTests starts (vscodeExecutablePath). No desktop VS Code can
// be downloaded here, so this launcher runs the extension-host suite in code-server (Node 24, .tools/) opened by
// headless Debian Chromium through playwright-core (ARCHITECTURE.md "Tests and tools", "Real editor"):
//   code-server --vscode-option enable-smoke-test-driver, page URL ?folder=…&payload=[[extensionDevelopmentPath, …],
//   [extensionTestsPath, …]] as vscode-remote://HOST:PORT/abs/path URIs; the workbench calls
//   window.codeAutomationExit(code) when the suite ends, and this process exits with that code.
// It also serves a tiny control endpoint (E2E_CONTROL_URL) the suite uses to take screenshots of the real workbench
// and press keys. code-server and Chromium are always killed on the way out (exit, timeout, signal).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { installCodeServer } from '../../scripts/install-code-server.mjs';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 6 * 60_000);
const resultsDir = join(root, 'test-results');
mkdirSync(resultsDir, { recursive: true });
const log = (m) => process.stdout.write(`[launcher] ${m}\n`);

// ---- arguments as runTests passes them ----
const argv = process.argv.slice(2);
const opt = (name) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : undefined;
};
const extensionTestsPath = opt('extensionTestsPath');
const extensionDevelopmentPath = opt('extensionDevelopmentPath');
const workspace = argv.find((a) => !a.startsWith('--')) ?? join(root, 'examples');
if (!extensionTestsPath || !extensionDevelopmentPath) {
  log('usage: launcher.mjs --extensionDevelopmentPath=DIR --extensionTestsPath=FILE [WORKSPACE]');
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), 'kvms-e2e-'));
let codeServer;
let browserContext;
let finished = false;

async function cleanup() {
  try { await browserContext?.close(); } catch { /* already gone */ }
  if (codeServer && codeServer.exitCode === null) {
    // code-server runs detached in its own process group: kill the group (server, extension host, language server).
    try { process.kill(-codeServer.pid, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((r) => setTimeout(r, 500));
    try { process.kill(-codeServer.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  try { rmSync(scratch, { recursive: true, force: true }); } catch { /* best effort */ }
}

async function finish(code, why) {
  if (finished) return;
  finished = true;
  if (why) log(why);
  await cleanup();
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => void finish(130, `received ${sig}, cleaning up`));

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
    s.on('error', rej);
  });
}

async function waitForHttp(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (codeServer.exitCode !== null) throw new Error(`code-server exited early (code ${codeServer.exitCode}); see ${join(resultsDir, 'code-server.log')}`);
    try { const r = await fetch(url); if (r.ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer ${url} within ${ms} ms`);
}

async function main() {
  let page;
  const timer = setTimeout(() => void (async () => {
    try { await page?.screenshot({ path: join(resultsDir, 'timeout.png') }); } catch { /* ignore */ }
    await finish(1, `TIMEOUT: the suite did not finish within ${TIMEOUT_MS / 1000} s (screenshot: test-results/timeout.png)`);
  })(), TIMEOUT_MS);
  timer.unref();

  const t0 = Date.now();
  const cs = installCodeServer({ quiet: true });
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const port = await freePort();
  const authority = `127.0.0.1:${port}`;
  const csLog = createWriteStream(join(resultsDir, 'code-server.log'));

  // Control endpoint: the suite (in the extension host) asks for screenshots / key presses of the real page.
  const control = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    try {
      if (!page) throw new Error('no page yet');
      if (u.pathname === '/screenshot') {
        const path = resolve(root, u.searchParams.get('path') ?? 'test-results/shot.png');
        mkdirSync(dirname(path), { recursive: true });
        // park the mouse where it opens no hover (clicks earlier may have left it over a tree item)
        await page.mouse.move(Number(u.searchParams.get('mx') ?? 1330), Number(u.searchParams.get('my') ?? 700));
        await page.waitForTimeout(300);
        await page.screenshot({ path });
        res.end(JSON.stringify({ ok: true, path }));
      } else if (u.pathname === '/press') {
        await page.keyboard.press(u.searchParams.get('key') ?? 'Escape');
        res.end(JSON.stringify({ ok: true }));
      } else if (u.pathname === '/type') {
        await page.keyboard.type(u.searchParams.get('text') ?? '', { delay: 10 });
        res.end(JSON.stringify({ ok: true }));
      } else if (u.pathname === '/click') {
        await page.locator(u.searchParams.get('selector') ?? 'body').first().click({ timeout: 10_000 });
        res.end(JSON.stringify({ ok: true }));
      } else if (u.pathname === '/count') {
        const n = await page.locator(u.searchParams.get('selector') ?? 'body').count();
        res.end(JSON.stringify({ ok: true, count: n }));
      } else if (u.pathname === '/frames-text') {
        // webviews live in nested iframes: the text of every frame's body
        const texts = [];
        for (const f of page.frames()) {
          try { texts.push(await f.locator('body').innerText({ timeout: 1000 })); } catch { /* detached or empty */ }
        }
        res.end(JSON.stringify({ ok: true, text: texts.join('\n----\n') }));
      } else if (u.pathname === '/html') {
        const html = await page.locator(u.searchParams.get('selector') ?? 'body').first().evaluate((e) => e.outerHTML, undefined, { timeout: 5000 });
        res.end(JSON.stringify({ ok: true, text: html }));
      } else if (u.pathname === '/text') {
        // innerText of the first element matching a CSS selector (what the user sees), for UI assertions
        const sel = u.searchParams.get('selector') ?? 'body';
        const text = await page.locator(sel).first().innerText({ timeout: 5000 });
        res.end(JSON.stringify({ ok: true, text }));
      } else { res.statusCode = 404; res.end(JSON.stringify({ ok: false, error: 'unknown' })); }
    } catch (e) {
      res.statusCode = 500;
      res.end(JSON.stringify({ ok: false, error: String(e instanceof Error ? e.message : e) }));
    }
  });
  await new Promise((r) => control.listen(0, '127.0.0.1', r));
  control.unref();
  const controlUrl = `http://127.0.0.1:${control.address().port}`;

  // a calm, reproducible workbench: no welcome page, no chat side bar, dark theme for the README screenshot
  mkdirSync(join(scratch, 'user-data', 'User'), { recursive: true });
  writeFileSync(join(scratch, 'user-data', 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.colorTheme': 'Default Dark Modern',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'chat.commandCenter.enabled': false,
    'workbench.tips.enabled': false,
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    'git.enabled': false,
    'debug.openDebug': 'neverOpen',
    'update.mode': 'none',
  }, null, 2));
  codeServer = spawn(cs.node, [cs.entry,
    '--auth', 'none', '--bind-addr', authority,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--ignore-last-opened',
    '--user-data-dir', join(scratch, 'user-data'), '--extensions-dir', join(scratch, 'extensions'),
    '--vscode-option', 'enable-smoke-test-driver',
    workspace,
  ], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, E2E_CONTROL_URL: controlUrl, VSCODE_PROXY_URI: '' },
  });
  codeServer.stdout.pipe(csLog);
  codeServer.stderr.pipe(csLog);
  codeServer.on('exit', (code) => { if (!finished) log(`code-server exited (${code})`); });
  await waitForHttp(`http://${authority}/healthz`, 60_000);
  log(`code-server ${cs.vscodeVersion ? `(VS Code ${cs.vscodeVersion}) ` : ''}up at http://${authority} in ${Date.now() - t0} ms`);

  const { chromium } = await import('playwright-core');
  browserContext = await chromium.launchPersistentContext(join(scratch, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 860 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = browserContext.pages()[0] ?? await browserContext.newPage();
  const pageLog = createWriteStream(join(resultsDir, 'workbench-console.log'));
  page.on('console', (m) => {
    const text = m.text();
    pageLog.write(`[${m.type()}] ${text}\n`);
    // the suite's own lines come through the extension host's console forwarding
    if (text.includes('[e2e]')) process.stdout.write(`${text.replace(/^.*?\[e2e\]\s?/, '  ')}\n`);
  });
  page.on('pageerror', (e) => pageLog.write(`[pageerror] ${e.message}\n`));

  const exited = new Promise((res) => {
    void page.exposeFunction('codeAutomationExit', (code) => { res(typeof code === 'number' ? code : 1); });
  });
  const remote = (p) => `vscode-remote://${authority}${resolve(p)}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(extensionDevelopmentPath)],
    ['extensionTestsPath', remote(extensionTestsPath)],
  ]);
  const url = `http://${authority}/?folder=${encodeURIComponent(resolve(workspace))}&payload=${encodeURIComponent(payload)}`;
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  log(`workbench loading (${Date.now() - t0} ms); running the suite`);
  const code = await exited;
  try { await page.screenshot({ path: join(resultsDir, 'final.png') }); } catch { /* ignore */ }
  await finish(code, `suite finished with exit code ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => finish(1, `FAILED: ${e instanceof Error ? e.stack ?? e.message : e}`));
