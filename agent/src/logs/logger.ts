import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DesiredState } from '@pswm/schemas';
import { appendLineDurably, CRITICAL_LOG, CURRENT_LOG, openAppendFile, pruneRotatedLogs, rotateCurrentLog, trimCriticalLog, type AppendFile } from './log-files.ts';
import { redact } from './redact.ts';

export type LoggingSettings = DesiredState['settings']['logging'];
export type LogLevel = LoggingSettings['level'];

/** `critical` ranks above error: enrollment, revocation and other events an operator must be able
 * to find after the fact. Error and critical lines are also kept in critical.log. */
const RANK = { critical: 0, error: 1, warn: 2, info: 3, debug: 4 } as const;
type EntryLevel = keyof typeof RANK;

export type LogFields = Record<string, unknown>;

export interface Logger {
  critical(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** Applies a new document's logging settings (level, size, retention) from the next line on. */
  reconfigure(settings: LoggingSettings): void;
  close(): void;
}

export interface OpenLoggerOptions {
  /** The data folder's logs/. */
  dir: string;
  settings: LoggingSettings;
  /** Where critical.log stops growing; the oldest events go first. */
  criticalMaxBytes?: number;
  /** Also write each line here (the foreground `pswm agent` shows its log on the terminal). */
  echo?: NodeJS.WritableStream;
  now?: () => Date;
}

const DEFAULT_CRITICAL_MAX_BYTES = 1024 * 1024;

/** JSON lines in `<dir>/agent.log`, rotated by size to `agent-<UTC time>.log`, rotated files
 * deleted after `retention_days`. Every field is passed through redact() first. */
export function openLogger(opts: OpenLoggerOptions): Logger {
  const now = opts.now ?? (() => new Date());
  const criticalMaxBytes = opts.criticalMaxBytes ?? DEFAULT_CRITICAL_MAX_BYTES;
  const criticalFile = path.join(opts.dir, CRITICAL_LOG);
  mkdirSync(opts.dir, { recursive: true, mode: 0o750 });
  let settings = opts.settings;
  let current: AppendFile | undefined = openAppendFile(path.join(opts.dir, CURRENT_LOG));
  pruneRotatedLogs(opts.dir, settings.retention_days, now());

  const write = (level: EntryLevel, msg: string, fields?: LogFields) => {
    if (!current || RANK[level] > RANK[settings.level]) return;
    const time = now();
    const line = JSON.stringify({ time: time.toISOString(), level, msg: redact(msg), ...(redact(fields ?? {}) as LogFields) }) + '\n';
    const maxBytes = settings.max_file_mb * 1024 * 1024;
    if (current.size > 0 && current.size + Buffer.byteLength(line) > maxBytes) {
      current.close();
      rotateCurrentLog(opts.dir, time);
      pruneRotatedLogs(opts.dir, settings.retention_days, time);
      current = openAppendFile(path.join(opts.dir, CURRENT_LOG));
    }
    current.append(line);
    if (RANK[level] <= RANK.error) {
      if (appendLineDurably(criticalFile, line) > criticalMaxBytes) trimCriticalLog(criticalFile, criticalMaxBytes);
    }
    opts.echo?.write(line);
  };

  return {
    critical: (msg, fields) => write('critical', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    debug: (msg, fields) => write('debug', msg, fields),
    reconfigure(next) {
      settings = next;
      pruneRotatedLogs(opts.dir, settings.retention_days, now());
    },
    close() {
      current?.close();
      current = undefined;
    },
  };
}

/** The critical events kept on disk, oldest first (for `pswm status` and for sending once the
 * server is reachable again). */
export function readCriticalEvents(dir: string): Array<LogFields & { time: string; level: string; msg: string }> {
  let text: string;
  try {
    text = readFileSync(path.join(dir, CRITICAL_LOG), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return []; // a line torn by a power cut
      }
    });
}
