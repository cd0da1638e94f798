// The suite's handle on the real workbench page (the launcher's control endpoint, E2E_CONTROL_URL): screenshots,
// key presses, clicks and the text the user sees. Without the endpoint (a desktop VS Code run) these report
// "unavailable" and the UI-only checks are skipped by the caller.

const base = process.env.E2E_CONTROL_URL;

export const hasWorkbenchControl = base !== undefined && base !== '';

/**
 * Tests that drive the UI (keys, clicks, screenshots) need the code-server launcher's control endpoint. Without it
 * (a desktop VS Code run) they fail with this reason instead of passing silently.
 */
export function requireWorkbenchControl(): void {
  if (!hasWorkbenchControl) {
    throw new Error('this test drives the workbench UI and needs the code-server launcher (E2E_CONTROL_URL); it cannot run against a desktop VS Code');
  }
}

async function call(path: string, params: Record<string, string>): Promise<{ ok: boolean; error?: string; text?: string; count?: number; path?: string }> {
  if (!base) return { ok: false, error: 'no E2E_CONTROL_URL (not running under the code-server launcher)' };
  const r = await fetch(`${base}${path}?${new URLSearchParams(params).toString()}`);
  return (await r.json()) as { ok: boolean; error?: string };
}

export async function screenshot(path: string): Promise<string> {
  const r = await call('/screenshot', { path });
  if (!r.ok) throw new Error(`screenshot failed: ${r.error}`);
  return r.path ?? path;
}

export async function press(key: string): Promise<void> {
  const r = await call('/press', { key });
  if (!r.ok) throw new Error(`press ${key} failed: ${r.error}`);
}

export async function type(textToType: string): Promise<void> {
  const r = await call('/type', { text: textToType });
  if (!r.ok) throw new Error(`type failed: ${r.error}`);
}

export async function click(selector: string): Promise<void> {
  const r = await call('/click', { selector });
  if (!r.ok) throw new Error(`click ${selector} failed: ${r.error}`);
}

export async function count(selector: string): Promise<number> {
  const r = await call('/count', { selector });
  if (!r.ok) throw new Error(`count ${selector} failed: ${r.error}`);
  return r.count ?? 0;
}

/** the text of every frame (webviews are nested iframes) */
export async function framesText(): Promise<string> {
  const r = await call('/frames-text', {});
  if (!r.ok) throw new Error(`frames-text failed: ${r.error}`);
  return r.text ?? '';
}

export async function text(selector: string): Promise<string> {
  const r = await call('/text', { selector });
  if (!r.ok) throw new Error(`text of ${selector} failed: ${r.error}`);
  return r.text ?? '';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** poll `probe` until it returns a value that is not undefined/false, or fail with `what` */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}
