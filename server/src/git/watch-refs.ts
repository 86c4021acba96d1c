// Notices commits to a local repository's branch. git never edits a ref in place: it writes
// `<ref>.lock` and renames it over the ref (and `git pack-refs`/`gc` rewrite packed-refs the same
// way), so we watch the directories holding the ref files rather than the files themselves.
import { once } from 'node:events';
import path from 'node:path';
import { watch } from 'chokidar';
import type { Logger } from '../logger.ts';

/** Calls `onChange` whenever HEAD, packed-refs or refs/heads/<branch> of `gitdir` is written.
 * Resolves once the watcher is ready, to a function that stops it. */
export async function watchBranchRefs(gitdir: string, branch: string, onChange: () => void, log: Logger): Promise<() => Promise<void>> {
  const branchRef = `refs/heads/${branch}`;
  const interesting = new Set(['HEAD', 'packed-refs', branchRef]);
  const relative = (file: string) => path.relative(gitdir, file).split(path.sep).join('/');
  // Descend only into refs/heads (a branch "a/b" lives in refs/heads/a/b); objects/ and logs/ churn.
  const onTheWay = (rel: string) => rel === '' || rel === 'refs' || rel === 'refs/heads' || branchRef.startsWith(`${rel}/`);

  const watcher = watch(gitdir, {
    ignoreInitial: true,
    ignored: (file) => {
      const rel = relative(file);
      return !(onTheWay(rel) || interesting.has(rel));
    },
  });
  watcher.on('all', (event, file) => {
    if (event === 'addDir' || event === 'unlinkDir') return;
    log.debug({ event, file }, 'policy repository ref changed');
    onChange();
  });
  watcher.on('error', (error) => log.warn({ err: error }, 'watching the policy repository failed'));
  await once(watcher, 'ready');
  return () => watcher.close();
}
