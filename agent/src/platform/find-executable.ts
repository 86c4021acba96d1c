import { access, constants } from 'node:fs/promises';
import path from 'node:path';

/** Looks a program up on PATH the way the OS would, so a missing shell or choco is reported as
 * `skipped` up front instead of surfacing as a spawn ENOENT halfway through an iteration. */
export async function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
  const isWindows = platform === 'win32';
  const candidates = isWindows && !path.extname(name)
    ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean).map((ext) => name + ext.toLowerCase())
    : [name];
  if (path.isAbsolute(name)) return (await firstAccessible(candidates, isWindows)) ?? undefined;
  const dirs = (env.PATH ?? env.Path ?? '').split(isWindows ? ';' : ':').filter(Boolean);
  for (const dir of dirs) {
    const found = await firstAccessible(candidates.map((c) => path.join(dir, c)), isWindows);
    if (found) return found;
  }
  return undefined;
}

async function firstAccessible(paths: string[], isWindows: boolean): Promise<string | undefined> {
  for (const p of paths) {
    try {
      await access(p, isWindows ? constants.F_OK : constants.X_OK);
      return p;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
