import path from 'node:path';
import { findExecutable } from '../../platform/find-executable.ts';
import { runProcess, type ProcessResult } from '../../platform/run-process.ts';

/** Runs `choco <args>`; the seam between the converge logic and the real program. */
export type ChocoRunner = (args: string[], timeoutSeconds: number) => Promise<ProcessResult>;

export interface ChocoRunnerOptions {
  cwd: string;
  env?: Record<string, string>;
  maxOutputBytes: number;
}

/** Finds choco (PATH, then the installer's %ChocolateyInstall%\bin, which a service started
 * before the installer changed PATH does not see) or says why there is none. */
export async function findChoco(opts: ChocoRunnerOptions): Promise<{ ok: true; run: ChocoRunner } | { ok: false; reason: string }> {
  const env = { ...process.env, ...opts.env };
  const installDir = env.ChocolateyInstall;
  const executable = (await findExecutable('choco', env)) ?? (installDir ? await findExecutable(path.join(installDir, 'bin', 'choco.exe'), env) : undefined);
  if (!executable) return { ok: false, reason: 'choco is not installed (not found on PATH)' };
  return {
    ok: true,
    run: (args, timeoutSeconds) => runProcess({ command: executable, args, cwd: opts.cwd, env: opts.env, timeoutSeconds, maxOutputBytes: opts.maxOutputBytes }),
  };
}
