import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';

export const CURRENT_LOG = 'agent.log';
export const CRITICAL_LOG = 'critical.log';
const ROTATED_LOG = /^agent-\d{8}T\d{9}Z-\d+\.log$/;

/** An append-only file that knows its size, so rotation needs no stat per line. Writes are
 * synchronous: a line logged just before a crash is on disk, and lines never interleave. */
export interface AppendFile {
  size: number;
  append(text: string, sync?: boolean): void;
  close(): void;
}

export function openAppendFile(file: string): AppendFile {
  const fd = openSync(file, 'a', 0o640);
  const handle: AppendFile = {
    size: fstatSync(fd).size,
    append(text, sync = false) {
      const bytes = Buffer.from(text, 'utf8');
      writeSync(fd, bytes);
      if (sync) fsyncSync(fd);
      handle.size += bytes.length;
    },
    close: () => closeSync(fd),
  };
  return handle;
}

/** Moves agent.log aside as `agent-<UTC time>-<n>.log`: names sort in write order, also when
 * several rotations fall in one millisecond. */
export function rotateCurrentLog(dir: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
  let name = '';
  for (let n = 0; !name || existsSync(path.join(dir, name)); n++) name = `agent-${stamp}-${String(n).padStart(3, '0')}.log`;
  renameSync(path.join(dir, CURRENT_LOG), path.join(dir, name));
  return name;
}

/** Deletes rotated logs last written before the retention window. The current log and
 * critical.log are never deleted here: critical events outlive retention while offline. */
export function pruneRotatedLogs(dir: string, retentionDays: number, now: Date): string[] {
  const cutoff = now.getTime() - retentionDays * 86_400_000;
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!ROTATED_LOG.test(name)) continue;
    const file = path.join(dir, name);
    if (statSync(file).mtimeMs < cutoff) {
      rmSync(file, { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/** Keeps critical.log under `maxBytes` by dropping its oldest lines, down to half the cap so the
 * trim does not run again on the next event. */
export function trimCriticalLog(file: string, maxBytes: number): void {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const kept: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    bytes += Buffer.byteLength(lines[i]) + 1;
    if (bytes > maxBytes / 2) break;
    kept.unshift(lines[i]);
  }
  // synchronous on purpose: appends are synchronous too, so none can slip in between read and rename
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, kept.map((line) => line + '\n').join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Appends one line to a file opened just for it (critical.log is trimmed by rename, so a
 * long-lived descriptor would keep writing to the replaced file), flushed to disk. */
export function appendLineDurably(file: string, line: string): number {
  const handle = openAppendFile(file);
  try {
    handle.append(line, true);
    return handle.size;
  } finally {
    handle.close();
  }
}
