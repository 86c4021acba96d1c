// Sends what the outbox holds, oldest first, and forgets each record only once the server has
// stored it. Nothing blocks the records behind it for good:
// - a record the server refuses (4xx: it would be refused forever) is moved to outbox-rejected/;
// - a record the server fails on (500 and the like) while it stores the records after it is
//   skipped for this pass, and moved aside once that happened MAX_RECORD_FAILURES times;
// - when the server is down (no answer, 502/503/504, 429) the pass waits for its turn (the shared
//   backoff) or ends, keeping everything in order.
import path from 'node:path';
import { isTransient, ServerError } from '../api/http.ts';
import { isBackingOff } from '../api/server-backoff.ts';
import { saveJsonFile } from '../platform/json-file.ts';
import type { Outbox, OutboxRecord } from './outbox.ts';

/** Times the server may fail on one record while taking the ones after it, before the record is
 * moved aside. */
export const MAX_RECORD_FAILURES = 3;

export interface DeliveryLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface DeliverOptions {
  outbox: Outbox;
  send: (record: OutboxRecord) => Promise<unknown>;
  /** Attempts per record in this pass when the server cannot take it; 0: until it does (or stop). */
  attempts: number;
  /** Waits until the agent may contact the server again (the shared backoff); rejects to end the
   * pass (the agent is stopping). Without it, a backed-off call counts as a failed attempt. */
  waitTurn?: () => Promise<void>;
  rejectedDir: string;
  log: DeliveryLog;
  /** Checked between records, so a stopping agent does not start another send. */
  shouldStop?: () => boolean;
  isAgentProblem: (error: unknown) => boolean;
}

export interface DeliveryResult {
  sent: number;
  rejected: number;
  /** Records still in the outbox after this pass. */
  remaining: number;
  /** Why the pass ended with records left (the server could not take them), if it did. */
  error?: unknown;
}

/** What a failed send says about the record. */
export type RefusalKind = 'unavailable' | 'server-failed' | 'record' | 'agent';

/** unavailable: the server is down or busy, the record is not the problem; server-failed: the
 * server answered 5xx to this record (it may be the record's fault); record: refused for good;
 * agent: the agent's credentials, not the record. */
export function classifyRefusal(error: unknown, isAgentProblem: (error: unknown) => boolean): RefusalKind {
  if (!(error instanceof ServerError)) return 'unavailable';
  if (isTransient(error)) return [502, 503, 504, 429, 408].includes(error.status) ? 'unavailable' : 'server-failed';
  return isAgentProblem(error) ? 'agent' : 'record';
}

export interface RejectedRecord {
  record: OutboxRecord;
  error: string;
  rejected_at: string;
}

async function setAside(opts: DeliverOptions, record: OutboxRecord, reason: string): Promise<void> {
  const entry: RejectedRecord = { record, error: reason, rejected_at: new Date().toISOString() };
  await saveJsonFile(path.join(opts.rejectedDir, `${record.id}.json`), entry);
  opts.log.error('a report was set aside in outbox-rejected/', { id: record.id, error: reason });
  await opts.outbox.ack(record.id);
}

type Attempt = { outcome: 'sent' } | { outcome: 'failed'; error: unknown; kind: RefusalKind };

async function attemptRecord(opts: DeliverOptions, record: OutboxRecord): Promise<Attempt> {
  for (let attempt = 0; ; ) {
    await opts.waitTurn?.();
    try {
      await opts.send(record);
      return { outcome: 'sent' };
    } catch (error) {
      if (opts.waitTurn && isBackingOff(error)) continue; // someone else took the probe: wait again
      const kind = classifyRefusal(error, opts.isAgentProblem);
      attempt++;
      if (kind !== 'unavailable' || (opts.attempts && attempt >= opts.attempts) || opts.shouldStop?.()) return { outcome: 'failed', error, kind };
    }
  }
}

export async function deliverOutbox(opts: DeliverOptions): Promise<DeliveryResult> {
  let sent = 0;
  let rejected = 0;
  // records the server failed on in this pass, waiting to see whether it takes the ones after them
  const failedOn: Array<{ record: OutboxRecord; error: unknown }> = [];
  let endedBy: unknown;
  for (const record of await opts.outbox.pending()) {
    if (opts.shouldStop?.()) break;
    const attempt = await attemptRecord(opts, record);
    if (attempt.outcome === 'sent') {
      await opts.outbox.ack(record.id);
      sent++;
      rejected += await settleFailures(opts, failedOn.splice(0));
      continue;
    }
    if (attempt.kind === 'record') {
      await setAside(opts, record, message(attempt.error));
      rejected++;
    } else if (attempt.kind === 'server-failed') {
      failedOn.push({ record, error: attempt.error });
    } else {
      endedBy = attempt.error;
      break;
    }
  }
  const remaining = await opts.outbox.size();
  const error = endedBy ?? failedOn[0]?.error;
  return { sent, rejected, remaining, ...(error !== undefined && remaining > 0 ? { error } : {}) };
}

/** The server stored a later record, so these failures were the records' own: count them, and set
 * aside those that have failed too often. */
async function settleFailures(opts: DeliverOptions, failures: Array<{ record: OutboxRecord; error: unknown }>): Promise<number> {
  let rejected = 0;
  for (const { record, error } of failures) {
    const count = await opts.outbox.noteFailure(record.id);
    if (count < MAX_RECORD_FAILURES) continue;
    await setAside(opts, record, `the server failed on this report ${count} times while it stored others; last: ${message(error)}`);
    rejected++;
  }
  return rejected;
}

function message(error: unknown): string {
  return String((error as Error)?.message ?? error);
}
