// PGlite is a single-process database: two processes writing one pgdata directory corrupt it. A lock
// file holding the owner's pid makes the second opener fail with a clear message instead.
import { open, readFile, unlink } from 'node:fs/promises';

export async function lockDataDirectory(lockPath: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => unlink(lockPath).catch(() => {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new Error(`the embedded database is in use by process ${owner} (${lockPath}); stop it, or talk to it with --server URL`);
      }
      // The owner died without cleaning up (kill -9, power loss): the lock is stale.
      await unlink(lockPath).catch(() => {});
    }
  }
  throw new Error(`cannot take the lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
