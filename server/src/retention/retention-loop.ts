// The background pruning of one server instance: a round soon after start, then every interval.
// Failures are logged and retried next round; close() stops between batches.
import type postgres from 'postgres';
import type { Logger } from '../logger.ts';
import { pruneOnce } from './prune.ts';
import { retentionRules, type RetentionConfig } from './retention-rules.ts';

const FIRST_ROUND_MS = 60_000;
const ROUND_INTERVAL_MS = 60 * 60_000;
/** A round's batches as the server runs them (bench/retention.ts prunes with the same). */
export const PRUNE_BATCH_SIZE = 500;
export const PRUNE_PAUSE_MS = 50;
/** Idle 9 × each batch's time: pruning takes at most a tenth of the database's time (bench:retention B). */
export const PRUNE_IDLE_FACTOR = 9;

export interface RetentionLoop { close(): Promise<void> }

export function startRetention(sql: postgres.Sql, config: RetentionConfig, log: Logger, options: { batchSize?: number; pauseMs?: number } = {}): RetentionLoop {
  const rules = retentionRules(config);
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  const round = () => {
    running ??= pruneOnce(sql, rules, { batchSize: options.batchSize ?? PRUNE_BATCH_SIZE, pauseMs: options.pauseMs ?? PRUNE_PAUSE_MS, idleFactor: PRUNE_IDLE_FACTOR, now: new Date(), signal: stop.signal })
      .then((deleted) => {
        if (deleted && Object.values(deleted).some((n) => n > 0)) log.info({ deleted }, 'pruned history past its retention');
      }, (error: unknown) => log.warn({ err: error }, 'pruning history failed; retried next round'))
      .finally(() => (running = undefined));
  };
  const first = setTimeout(round, FIRST_ROUND_MS).unref();
  const timer = setInterval(round, ROUND_INTERVAL_MS).unref();
  return {
    async close() {
      stop.abort();
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
