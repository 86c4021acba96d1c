// Where the CLI gets a policy from: a directory on disk, or a revision of a git repository.
// Reading problems (missing directory, unknown revision) are reported as InputError, exit 1.
import path from 'node:path';
import type { LoadResult } from '../model.ts';
import { loadPolicy } from '../validate/load-policy.ts';
import { readPolicyDir } from '../source/dir.ts';
import { readPolicyRevision } from '../source/git.ts';

export class InputError extends Error {}

export interface LoadedInput {
  /** How the user named it: the directory, or "ref (abbreviated commit id)". */
  label: string;
  result: LoadResult;
  /** Full commit id when read from git. */
  revision?: string;
}

export async function loadDir(dir: string): Promise<LoadedInput> {
  let files;
  try {
    files = await readPolicyDir(dir);
  } catch (error) {
    throw new InputError(`cannot read policy directory ${dir}: ${(error as Error).message}`, { cause: error });
  }
  return { label: path.normalize(dir), result: loadPolicy(files) };
}

export async function loadRevision(repoDir: string, ref: string, cache: object): Promise<LoadedInput> {
  let revision;
  try {
    revision = await readPolicyRevision(repoDir, ref, cache);
  } catch (error) {
    throw new InputError((error as Error).message, { cause: error });
  }
  return { label: `${ref} (${revision.revision.slice(0, 12)})`, result: loadPolicy(revision.files), revision: revision.revision };
}
