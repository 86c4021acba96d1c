import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from './temp-dir.ts';

export const CHOCO_STANDIN_DIR = fileURLToPath(new URL('../choco/', import.meta.url));

export interface StandinState {
  catalog?: Record<string, string[]>;
  installed?: Record<string, string>;
  pins?: Record<string, string>;
  calls?: string[][];
}

/** A private stand-in choco: a state file seeded with `initial`, and the environment that puts the
 * stand-in first on PATH and points it at that file. */
export async function makeChocoStandin(t: TestContext, initial: StandinState = {}) {
  const dir = await makeTempDir(t, 'pswm-choco-');
  const stateFile = path.join(dir, 'choco-state.json');
  if (Object.keys(initial).length) await writeFile(stateFile, JSON.stringify(initial));
  return {
    dir,
    env: { PATH: `${CHOCO_STANDIN_DIR}${path.delimiter}${process.env.PATH ?? ''}`, CHOCO_STANDIN_STATE: stateFile },
    readState: async (): Promise<Required<StandinState>> => JSON.parse(await readFile(stateFile, 'utf8')),
  };
}
