// The CLI's I/O edge: a policy directory on disk → RepoFile[] for loadPolicy. Symbolic links are
// recorded with their target, never followed here: the loader decides whether they stay inside.
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepoFile } from '../model.ts';

const SKIPPED_FOLDERS = new Set(['.git', 'node_modules']);

/** Files above this are listed by size only; the loader refuses them by its own, lower limits. */
export const MAX_READ_BYTES = 16 * 1024 * 1024;

export async function readPolicyDir(dir: string, maxReadBytes = MAX_READ_BYTES): Promise<RepoFile[]> {
  const files: RepoFile[] = [];
  await walk(dir, '', files, maxReadBytes);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function walk(root: string, relative: string, files: RepoFile[], maxReadBytes: number): Promise<void> {
  const entries = await readdir(join(root, relative), { withFileTypes: true });
  for (const entry of entries) {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    const absolute = join(root, path);
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) await walk(root, path, files, maxReadBytes);
    } else if (entry.isSymbolicLink()) {
      const symlinkTarget = await readlink(absolute);
      files.push({ path, symlinkTarget, size: Buffer.byteLength(symlinkTarget) });
    } else if (entry.isFile()) {
      const { size } = await lstat(absolute);
      files.push(size > maxReadBytes ? { path, size } : { path, text: await readFile(absolute, 'utf8'), size });
    }
  }
}
