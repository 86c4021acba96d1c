// Deletes history older than its retention in small batches, each its own short transaction, so a
// large backlog never holds locks or a connection for long and the API keeps answering between
// batches. A transaction-level advisory lock makes one instance prune at a time: an instance that
// finds it taken leaves the round to the other.
import type postgres from 'postgres';
import { cutoff, type RetentionRule } from './retention-rules.ts';

export const PRUNE_LOCK_KEY = 0x7072756e; // "prun"

export interface PruneOptions {
  batchSize: number;
  /** Least pause between batches, so pruning yields the pool and the CPU to requests. */
  pauseMs: number;
  /**
   * Pause as a multiple of the time the last batch took, so pruning keeps to a share of the
   * database's time (1 / (1 + factor)) whatever the machine: a slow disk slows pruning, not polls.
   */
  idleFactor?: number;
  now: Date;
  /** Stops between batches (shutdown). */
  signal?: AbortSignal;
}

/** Rows deleted per table; undefined for a round another instance was running. */
export async function pruneOnce(sql: postgres.Sql, rules: RetentionRule[], options: PruneOptions): Promise<Record<string, number> | undefined> {
  const deleted: Record<string, number> = {};
  for (const rule of rules) {
    const before = cutoff(options.now, rule.days);
    deleted[rule.table] = 0;
    for (;;) {
      if (options.signal?.aborted) return deleted;
      const started = performance.now();
      const count = await sql.begin(async (tx) => {
        const [{ locked }] = await tx<{ locked: boolean }[]>`select pg_try_advisory_xact_lock(${PRUNE_LOCK_KEY}) as locked`;
        if (!locked) return undefined;
        const result = await tx.unsafe(rule.deleteBatch, [before, options.batchSize]);
        return result.count;
      });
      if (count === undefined) return undefined;
      deleted[rule.table] += count;
      if (count < options.batchSize) break;
      const busyMs = performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, Math.max(options.pauseMs, busyMs * (options.idleFactor ?? 0))));
    }
  }
  return deleted;
}
