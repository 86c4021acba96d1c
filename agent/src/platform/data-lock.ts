// One agent at a time per data folder: an iteration (scripts that must run once, the outbox, the
// state files) holds `agent.lock` from start to end. The file is created exclusively and names its
// holder (pid, boot, command, start time); a lock whose holder is gone (no such process, or one
// from before the last reboot, whose pid may since belong to anyone) is stale and taken over.
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export const LOCK_FILE = 'agent.lock';

export interface LockHolder {
  pid: number;
  command: string;
  started_at: string;
  /** Linux: /proc/sys/kernel/random/boot_id, so a pid from before a reboot is not mistaken for a live one. */
  boot_id?: string;
}

export class DataFolderBusyError extends Error {
  readonly holder: LockHolder;
  constructor(dir: string, holder: LockHolder) {
    super(`another pswm process is using ${dir}: pid ${holder.pid} (${holder.command}), since ${holder.started_at}; try again when it has finished`);
    this.holder = holder;
  }
}

export interface DataLock {
  release(): Promise<void>;
}

async function currentBootId(): Promise<string | undefined> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined))?.trim();
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

/** Whether a lock's holder is gone. An unreadable lock file (a crash while writing it) is stale. */
export function isStaleLock(holder: LockHolder | undefined, now: { bootId?: string; exists: (pid: number) => boolean }): boolean {
  if (!holder || !Number.isInteger(holder.pid) || holder.pid <= 0) return true;
  if (holder.boot_id && now.bootId && holder.boot_id !== now.bootId) return true;
  return !now.exists(holder.pid);
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/** Takes the lock once, or says who holds it. */
async function tryLock(dir: string, command: string): Promise<{ lock: DataLock } | { holder: LockHolder }> {
  const file = path.join(dir, LOCK_FILE);
  const bootId = await currentBootId();
  const me: LockHolder = { pid: process.pid, command, started_at: new Date().toISOString(), ...(bootId ? { boot_id: bootId } : {}) };
  for (let tries = 0; tries < 3; tries++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(me) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      return {
        lock: {
          async release() {
            // only our own: a lock taken over as stale belongs to someone else now
            if ((await readHolder(file))?.pid === process.pid) await rm(file, { force: true });
          },
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(file);
    if (holder && !isStaleLock(holder, { bootId, exists: processExists })) return { holder };
    // A just-created lock may not have its content yet: give its writer a moment before calling it stale.
    if (!holder && tries === 0) {
      await delay(50);
      continue;
    }
    await rm(file, { force: true });
  }
  throw new Error(`could not take ${file}`);
}

/** The lock, or DataFolderBusyError at once when a live process holds it. */
export async function lockDataFolder(dir: string, command: string): Promise<DataLock> {
  const attempt = await tryLock(dir, command);
  if ('lock' in attempt) return attempt.lock;
  throw new DataFolderBusyError(dir, attempt.holder);
}

/** The lock, waiting (polling every `pollMs`) while another process holds it; `onWait` is told once. */
export async function waitForDataFolder(dir: string, command: string, opts: { pollMs?: number; signal?: AbortSignal; onWait?: (holder: LockHolder) => void } = {}): Promise<DataLock> {
  let told = false;
  for (;;) {
    const attempt = await tryLock(dir, command);
    if ('lock' in attempt) return attempt.lock;
    if (!told) opts.onWait?.(attempt.holder);
    told = true;
    await delay(opts.pollMs ?? 1000, undefined, { signal: opts.signal });
  }
}
