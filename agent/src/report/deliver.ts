// Sends what the outbox holds, oldest first, and forgets each record only once the server has
// stored it. A record the server refuses for good (4xx: it would be refused forever) is moved to
// outbox-rejected/ for a human and no longer blocks the ones behind it.
import path from 'node:path';
import { isTransient } from '../api/http.ts';
import { saveJsonFile } from '../platform/json-file.ts';
import { sendWithRetry, type Outbox, type OutboxRecord, type RetryOptions } from './outbox.ts';

export interface DeliveryLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface DeliverOptions {
  outbox: Outbox;
  send: (record: OutboxRecord) => Promise<unknown>;
  /** How hard to try each record before giving up on this pass (the record stays in the outbox). */
  retry: Omit<RetryOptions, 'isRetryable'>;
  rejectedDir: string;
  log: DeliveryLog;
  /** Checked between records, so a stopping agent does not start another send. */
  shouldStop?: () => boolean;
}

export interface DeliveryResult {
  sent: number;
  rejected: number;
  /** Records still in the outbox after this pass. */
  remaining: number;
  /** Why the pass ended early (the server could not be reached), if it did. */
  error?: unknown;
}

/** Whether a refusal is about this record (keep the others going) or about the agent itself. */
export type RefusalKind = 'transient' | 'record' | 'agent';

export function classifyRefusal(error: unknown, isAgentProblem: (error: unknown) => boolean): RefusalKind {
  if (isTransient(error)) return 'transient';
  return isAgentProblem(error) ? 'agent' : 'record';
}

export async function deliverOutbox(opts: DeliverOptions & { isAgentProblem: (error: unknown) => boolean }): Promise<DeliveryResult> {
  let sent = 0;
  let rejected = 0;
  for (const record of await opts.outbox.pending()) {
    if (opts.shouldStop?.()) break;
    try {
      await sendWithRetry(() => opts.send(record), { ...opts.retry, isRetryable: isTransient });
    } catch (error) {
      if (classifyRefusal(error, opts.isAgentProblem) !== 'record') {
        return { sent, rejected, remaining: await opts.outbox.size(), error };
      }
      await saveJsonFile(path.join(opts.rejectedDir, `${record.id}.json`), { record, error: String((error as Error).message ?? error) });
      opts.log.error('the server refused a report for good; kept in outbox-rejected/', { id: record.id, error: (error as Error).message });
      await opts.outbox.ack(record.id);
      rejected++;
      continue;
    }
    await opts.outbox.ack(record.id);
    sent++;
  }
  return { sent, rejected, remaining: await opts.outbox.size() };
}
