// agents.last_seen_at written in batches: every agent request marks its agent in memory, and one
// UPDATE per interval writes them all. Thousands of agents polling would otherwise be thousands of
// row updates (and dead tuples) per minute for a value nobody needs to the second.
import type postgres from 'postgres';
import type { Logger } from '../logger.ts';

export interface LastSeenBatcher {
  /** Remembers that the agent was seen now; written at the next flush. */
  markSeen(agentId: string): void;
  /** Writes what was marked since the last flush, in one UPDATE. */
  flush(): Promise<void>;
  /** Stops the timer and flushes what is left. */
  close(): Promise<void>;
}

const DEFAULT_LAST_SEEN_INTERVAL_MS = 5000;

export function createLastSeenBatcher(sql: postgres.Sql, log: Pick<Logger, 'warn'>, options: { intervalMs?: number } = {}): LastSeenBatcher {
  let seen = new Map<string, Date>();
  let flushing: Promise<void> = Promise.resolve();

  const write = async () => {
    if (!seen.size) return;
    const batch = seen;
    seen = new Map();
    const ids = [...batch.keys()];
    const times = ids.map((id) => batch.get(id)!.toISOString());
    try {
      // greatest(): a batch from another instance may already have written a later time.
      await sql`
        update agents set last_seen_at = greatest(agents.last_seen_at, seen.at)
        from unnest(${ids}::uuid[], ${times}::timestamptz[]) as seen (id, at)
        where agents.id = seen.id`;
    } catch (error) {
      log.warn({ err: error, agents: ids.length }, 'could not write last_seen_at; retrying with the next batch');
      for (const [id, at] of batch) if (!seen.has(id)) seen.set(id, at);
    }
  };
  // Flushes run one after another, never two UPDATEs for overlapping batches at once.
  const flush = () => (flushing = flushing.then(write));
  const timer = setInterval(() => void flush(), options.intervalMs ?? DEFAULT_LAST_SEEN_INTERVAL_MS).unref();

  return {
    markSeen(agentId) {
      seen.set(agentId, new Date());
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
