// When iterations run: one at a time; the next timed one interval + jitter after the previous timed
// one ended. A wake (WebSocket `reconcile`) starts one at once and leaves the timer where it was: a
// fleet-wide signal that restarted every agent's timer made the whole fleet's next iterations fall
// within one jitter window (30,000 reports in 2 minutes every 30 minutes) instead of spread over the
// interval. A wake that arrives during an iteration schedules exactly one more right after it
// (however many wakes arrived); a timer that falls due during an iteration is taken by it, and the
// next one is drawn from its end. Timers are injected so the behaviour is tested without waiting.
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface IntervalSettings {
  interval_seconds: number;
  jitter_seconds: number;
}

/** Until the first desired state says otherwise (the schema's defaults). */
export const DEFAULT_INTERVAL_SETTINGS: IntervalSettings = { interval_seconds: 1800, jitter_seconds: 120 };

/** The pause before the next iteration: the interval plus a uniform share of the jitter, so a fleet
 * restarted together drifts apart. */
export function iterationDelayMs(settings: IntervalSettings, random: () => number): number {
  return Math.round((settings.interval_seconds + random() * settings.jitter_seconds) * 1000);
}

export type IterationTrigger = 'start' | 'timer' | 'wake';

export interface Scheduler {
  /** Runs the first iteration now. */
  start(): void;
  /** Starts an iteration now, or once more after the running one. */
  wake(reason: string): void;
  /** No new iterations; resolves when the running one (if any) has ended. */
  stop(): Promise<void>;
  isRunning(): boolean;
}

export function createScheduler(opts: {
  runIteration: (trigger: IterationTrigger, reason: string) => Promise<void>;
  nextDelayMs: () => number;
  timers: Timers;
}): Scheduler {
  let running: Promise<void> | undefined;
  let wakeReason: string | undefined;
  let timer: unknown;
  let stopped = false;

  const clearTimer = () => {
    if (timer !== undefined) opts.timers.clearTimeout(timer);
    timer = undefined;
  };
  const run = (trigger: IterationTrigger, reason: string) => {
    if (trigger !== 'wake') clearTimer();
    running = (async () => {
      try {
        await opts.runIteration(trigger, reason);
      } finally {
        running = undefined;
        afterIteration();
      }
    })();
    // runIteration reports its own failures; a rejection here must not become an unhandled one
    running.catch(() => {});
  };
  const afterIteration = () => {
    if (stopped) return;
    if (wakeReason !== undefined) {
      const reason = wakeReason;
      wakeReason = undefined;
      run('wake', reason);
      return;
    }
    if (timer !== undefined) return;
    timer = opts.timers.setTimeout(() => {
      timer = undefined;
      if (running) return; // taken by the running iteration; afterIteration draws the next
      run('timer', 'interval');
    }, opts.nextDelayMs());
  };

  return {
    start: () => run('start', 'start'),
    wake(reason) {
      if (stopped) return;
      if (running) wakeReason ??= reason;
      else run('wake', reason);
    },
    async stop() {
      stopped = true;
      clearTimer();
      await running?.catch(() => {});
    },
    isRunning: () => running !== undefined,
  };
}
