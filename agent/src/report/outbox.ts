import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory, writeFileAtomic } from '../platform/atomic-file.ts';
import { loadJsonFile, saveJsonFile } from '../platform/json-file.ts';

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
  /** Counts one failure of the server on this record (kept across restarts, forgotten on ack);
   * returns how many there were so far. */
  noteFailure(id: string): Promise<number>;
}

/** Failure counts live beside the records; the name matches neither a record nor a temporary file. */
const FAILURES_FILE = 'failures.json';

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
  const failuresFile = path.join(dir, FAILURES_FILE);
  const failures: Record<string, number> = await loadJsonFile<Record<string, number>>(failuresFile, () => ({}), (v): v is Record<string, number> => typeof v === 'object' && v !== null && !Array.isArray(v))
    .catch(() => ({}) as Record<string, number>); // a damaged count only costs a few more tries; it must not stop reporting

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
      if (id in failures) {
        delete failures[id];
        await saveJsonFile(failuresFile, failures);
      }
    },
    async size() {
      return files.size;
    },
    async noteFailure(id) {
      failures[id] = (failures[id] ?? 0) + 1;
      await saveJsonFile(failuresFile, failures);
      return failures[id];
    },
  };
}
