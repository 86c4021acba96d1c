// Turns reconcile requests from every trigger (poll, webhook, watcher, API) into runs, one at a
// time. A burst never queues a run per request: while one runs, all new requests share a single
// follow-up run, which is enough because each run reads the branch head as it is when it starts.
import type { Logger } from '../logger.ts';

export interface ReconcileScheduler {
  /** Resolves when a run that started after this request has finished (whether it failed or not). */
  request(reason: string): Promise<void>;
  /** Requests a run every `seconds` (replacing an earlier interval); the timer never keeps the process alive. */
  startPolling(seconds: number): void;
  /** Stops polling, drops the pending run and waits for the running one. */
  stop(): Promise<void>;
}

interface PendingRun {
  reasons: Set<string>;
  promise: Promise<void>;
  resolve: () => void;
}

export function createReconcileScheduler(run: (reason: string) => Promise<void>, log: Logger): ReconcileScheduler {
  let running: Promise<void> | undefined;
  let pending: PendingRun | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function drain(): Promise<void> {
    while (pending) {
      const batch = pending;
      pending = undefined;
      if (stopped) {
        batch.resolve();
        break;
      }
      const reason = [...batch.reasons].join(', ');
      try {
        await run(reason);
      } catch (error) {
        log.error({ err: error, reason }, 'reconcile run failed');
      }
      batch.resolve();
    }
    running = undefined;
  }

  function request(reason: string): Promise<void> {
    if (stopped) return Promise.resolve();
    if (!pending) {
      const { promise, resolve } = Promise.withResolvers<void>();
      pending = { reasons: new Set(), promise, resolve };
    }
    pending.reasons.add(reason);
    const settled = pending.promise;
    running ??= drain();
    return settled;
  }

  return {
    request,
    startPolling(seconds) {
      clearInterval(pollTimer);
      if (stopped || !(seconds > 0)) return;
      pollTimer = setInterval(() => void request('poll'), seconds * 1000);
      pollTimer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(pollTimer);
      pending?.resolve();
      pending = undefined;
      await running;
    },
  };
}
