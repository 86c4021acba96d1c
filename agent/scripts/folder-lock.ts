// One holder at a time across processes, for work on a shared cache folder (the test builds): the
// lock is a folder, since mkdir either creates it or fails with EEXIST, atomically.
import { mkdir, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** A lock held by a process that died is taken over after this long (a build under load takes under a minute). */
export const STALE_LOCK_MS = 180_000;
const RETRY_MS = 250;

/** Runs `work` while this caller holds `lock`; waits while another holds it. */
export async function oneAtATime<T>(lock: string, work: () => Promise<T>, staleAfterMs = STALE_LOCK_MS): Promise<T> {
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const heldSince = await stat(lock).then((s) => s.mtimeMs, () => Date.now());
      if (Date.now() - heldSince > staleAfterMs) await rm(lock, { recursive: true, force: true });
      else await sleep(RETRY_MS);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
