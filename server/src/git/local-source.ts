// A local repository (working tree or bare) read in place: sync() only resolves the branch ref.
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import type { Logger } from '../logger.ts';
import { GitSourceError, refReadError } from './errors.ts';
import { findGitdir } from '@pswm/schemas';
import { createRevisionReader } from './snapshot.ts';
import type { PolicySource } from './source.ts';
import { watchBranchRefs } from './watch-refs.ts';

export async function openLocalSource(repoPath: string, branch: string, log: Logger): Promise<PolicySource> {
  const dir = path.resolve(repoPath);
  const gitdir = await findGitdir(dir);
  if (!gitdir) throw new GitSourceError('GIT_NOT_A_REPOSITORY', dir);
  const reader = createRevisionReader(dir);
  const watchers = new Set<() => Promise<void>>();
  return {
    description: `${dir} (branch ${branch})`,
    local: true,
    async sync() {
      const revision = await git.resolveRef({ fs, gitdir, ref: `refs/heads/${branch}` }).catch((error: unknown) => {
        throw refReadError(error, `${branch} in ${dir}`);
      });
      reader.noteHead(revision);
      return revision;
    },
    read: (revision) => reader.read(revision),
    async watch(onChange) {
      const stopWatching = await watchBranchRefs(gitdir, branch, onChange, log);
      const stop = async () => {
        watchers.delete(stop);
        await stopWatching();
      };
      watchers.add(stop);
      return stop;
    },
    async close() {
      await Promise.all([...watchers].map((stop) => stop()));
    },
  };
}
