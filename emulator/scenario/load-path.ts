// The rule for `load A file "PATH"` (LANGUAGE.md host statements): PATH is relative to the scenario's folder and
// must stay inside it (or inside a root folder: `--root`, the workspace folder). Symbolic links are resolved
// before the check, so a link cannot lead outside. The emulator does no I/O: the caller passes its file system.

export interface FileHost {
  dirname(p: string): string;
  resolve(...p: string[]): string;
  relative(from: string, to: string): string;
  isAbsolute(p: string): boolean;
  exists(p: string): boolean;
  realpath(p: string): string;
  read(p: string): Uint8Array;
}

export type ScenarioFileReader = (path: string) => { data?: Uint8Array; error?: string };

export function scenarioFileReader(host: FileHost, scenarioPath: string, root?: string): ScenarioFileReader {
  const base = host.dirname(scenarioPath);
  const allowed = [base, ...(root && host.exists(root) ? [root] : [])].map((d) => host.realpath(d));
  return (path) => {
    if (host.isAbsolute(path)) return { error: `load: "${path}" must be relative to the scenario's folder` };
    const full = host.resolve(base, path);
    if (!host.exists(full)) return { error: `load: no such file "${path}"` };
    const real = host.realpath(full);
    const inside = allowed.some((d) => {
      const r = host.relative(d, real);
      return r !== '' && !r.startsWith('..') && !host.isAbsolute(r);
    });
    if (!inside) return { error: `load: "${path}" is outside the scenario's folder` };
    return { data: host.read(real) };
  };
}
