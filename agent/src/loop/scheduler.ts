// When iterations run: one at a time; the next timed one is due interval + jitter after the previous
// one was due (nextDueAt), however long that one ran. A wake (WebSocket `reconcile`) starts one at
// once and leaves the timer where it was: a fleet-wide signal that restarted every agent's timer made
// the whole fleet's next iterations fall within one jitter window (30,000 reports in 2 minutes every
// 30 minutes) instead of spread over the interval. A wake that arrives during an iteration schedules
// exactly one more right after it (however many wakes arrived); a timer that falls due during an
// iteration is taken by it. Timers and the clock are injected so the behaviour is tested without
// waiting.
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Milliseconds on a clock that never jumps (a changed wall clock must not move the schedule). */
export const monotonicNow = (): number => performance.now();

export interface IntervalSettings {
  interval_seconds: number;
  jitter_seconds: number;
}

/** Until the first desired state says otherwise (the schema's defaults). */
export const DEFAULT_INTERVAL_SETTINGS: IntervalSettings = { interval_seconds: 1800, jitter_seconds: 120 };

/** The spacing of two timed iterations: the interval plus a uniform share of the jitter, so a fleet
 * restarted together drifts apart. */
export function iterationDelayMs(settings: IntervalSettings, random: () => number): number {
  return Math.round((settings.interval_seconds + random() * settings.jitter_seconds) * 1000);
}

/**
 * When the next of a series of timed calls is due: `nextDelayMs()` after the previous one was due,
 * not after its work ended. Drawn from the end, the calls that a busy server answered late all fall
 * due together again: after both instances restarted under 30,000 agents, polls answered together
 * stayed together and the poll p99 came back in waves every interval (docs/BENCHMARKS.md, run Q).
 * From the due time, each agent keeps its own phase whatever the server did. Due times that passed
 * while the work ran on (or the machine slept) are skipped, not made up in a burst.
 */
export function nextDueAt(previousDueAt: number, now: number, nextDelayMs: () => number): number {
  const step = () => {
    const ms = nextDelayMs();
    if (!(ms > 0)) throw new RangeError(`a timed call's spacing must be positive, not ${ms} ms`);
    return ms;
  };
  let due = previousDueAt + step();
  while (due <= now) due += step();
  return due;
}

/** One series of timed calls: each `delayToNext` moves to the next due time (nextDueAt) and says how
 * long until it. The series starts at `firstDueAt` (now by default; `restart` sets it to now). */
export function dueSeries(now: () => number, firstDueAt = now()) {
  let dueAt = firstDueAt;
  return {
    restart: () => void (dueAt = now()),
    /** Milliseconds until the next due time; the first call after a restart is one spacing away. */
    delayToNext(spacingMs: () => number): number {
      const at = now();
      dueAt = nextDueAt(dueAt, at, spacingMs);
      return dueAt - at;
    },
    /** Milliseconds until the current due time (for a series whose first call is not at its start). */
    delayToCurrent: () => dueAt - now(),
  };
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
  now?: () => number;
}): Scheduler {
  const due = dueSeries(opts.now ?? monotonicNow);
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
    }, due.delayToNext(opts.nextDelayMs));
  };

  return {
    start() {
      due.restart();
      run('start', 'start');
    },
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
