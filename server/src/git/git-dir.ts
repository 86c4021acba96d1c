// Where a local repository keeps its git data: `<path>/.git` for a working tree, `<path>` itself
// for a bare repository (isomorphic-git needs `gitdir` spelled out for those).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { GitSourceError } from './errors.ts';

export interface GitLocation {
  /** The directory given (working tree or bare repository). */
  dir: string;
  gitdir: string;
}

export async function findGitDir(repoPath: string): Promise<GitLocation> {
  const dir = path.resolve(repoPath);
  const dotGit = path.join(dir, '.git');
  const dotGitStat = await stat(dotGit).catch(() => undefined);
  if (dotGitStat?.isDirectory()) return { dir, gitdir: dotGit };
  if (dotGitStat?.isFile()) {
    // A linked worktree or submodule: ".git" is a file "gitdir: <path>".
    const pointer = /^gitdir:\s*(.+)$/m.exec(await readFile(dotGit, 'utf8'));
    if (pointer) return { dir, gitdir: path.resolve(dir, pointer[1].trim()) };
  }
  const [head, objects] = await Promise.all([stat(path.join(dir, 'HEAD')).catch(() => undefined), stat(path.join(dir, 'objects')).catch(() => undefined)]);
  if (head?.isFile() && objects?.isDirectory()) return { dir, gitdir: dir };
  throw new GitSourceError('GIT_NOT_A_REPOSITORY', dir);
}
