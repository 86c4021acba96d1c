import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { syncDirectory, writeFileAtomic } from '../platform/atomic-file.ts';

/** One result waiting to reach the server. `id` is created once, with the result, and sent with
 * every attempt, so the server stores it once however often it is re-sent. */
export interface OutboxRecord {
  id: string;
  kind: string;
  body: unknown;
}

export interface Outbox {
  /** Returns once the record is on disk (file and folder entry fsync'd). */
  append(record: OutboxRecord): Promise<void>;
  /** Records not yet acknowledged, oldest first. */
  pending(): Promise<OutboxRecord[]>;
  /** Forgets a record the server has stored; unknown ids are ignored. */
  ack(id: string): Promise<void>;
  size(): Promise<number>;
}

export function newOutboxRecord(kind: string, body: unknown): OutboxRecord {
  return { id: randomUUID(), kind, body };
}

// File names: a zero-padded sequence number (append order, continued across restarts from the
// highest one on disk; a wall clock could step backwards) followed by the record id.
const RECORD_FILE = /^(\d{16})-([A-Za-z0-9-]{1,100})\.json$/;

/** A folder of one file per record. Each record is written completely (temporary file, fsync,
 * rename, fsync of the folder) before append() returns, so a `kill -9` or power cut at any moment
 * leaves every appended record readable and no half-written one. */
export async function openOutbox(dir: string): Promise<Outbox> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = new Map<string, string>(); // id → file name
  let lastSequence = 0;
  for (const name of await readdir(dir)) {
    const match = RECORD_FILE.exec(name);
    if (match) {
      files.set(match[2], name);
      lastSequence = Math.max(lastSequence, Number(match[1]));
    } else if (name.startsWith('.') && name.endsWith('.tmp')) {
      await rm(path.join(dir, name), { force: true }); // an append interrupted before its rename
    }
  }
  const sortedFileNames = () => [...files.values()].sort();

  return {
    async append(record) {
      if (!/^[A-Za-z0-9-]{1,100}$/.test(record.id)) throw new Error(`outbox record id must be 1-100 letters, digits or dashes: ${JSON.stringify(record.id)}`);
      if (files.has(record.id)) return; // already stored: appending is idempotent
      const name = `${String(++lastSequence).padStart(16, '0')}-${record.id}.json`;
      files.set(record.id, name);
      try {
        await writeFileAtomic(path.join(dir, name), JSON.stringify({ id: record.id, kind: record.kind, body: record.body }));
      } catch (error) {
        files.delete(record.id);
        throw error;
      }
    },
    async pending() {
      const records: OutboxRecord[] = [];
      for (const name of sortedFileNames()) {
        const file = path.join(dir, name);
        try {
          records.push(JSON.parse(await readFile(file, 'utf8')) as OutboxRecord);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // acked meanwhile
          // Unreadable (disk damage): set it aside for a human rather than block every later record.
          await rename(file, `${file}.corrupt`);
          files.delete(RECORD_FILE.exec(name)![2]);
        }
      }
      return records;
    },
    async ack(id) {
      const name = files.get(id);
      if (!name) return;
      await rm(path.join(dir, name), { force: true });
      files.delete(id);
      await syncDirectory(dir);
    },
    async size() {
      return files.size;
    },
  };
}

export interface RetryOptions {
  baseMs: number;
  maxMs: number;
  /** 0 or undefined: retry until it succeeds (results are never dropped). */
  maxAttempts?: number;
  /** Errors for which another attempt is pointless (say, a 4xx); default: retry everything. */
  isRetryable?: (error: unknown) => boolean;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform delay in
 * [0, min(max, base·2^attempt)), so agents that lost the server together do not return together. */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

export async function sendWithRetry<T>(send: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? ((ms: number) => delay(ms));
  for (let attempt = 0; ; attempt++) {
    try {
      return await send(attempt);
    } catch (error) {
      const exhausted = opts.maxAttempts ? attempt + 1 >= opts.maxAttempts : false;
      if (exhausted || !(opts.isRetryable?.(error) ?? true)) throw error;
      await sleep(backoffDelayMs(attempt, opts.baseMs, opts.maxMs, random));
    }
  }
}
