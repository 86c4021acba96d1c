// A wake the server asked to spread (`spread_ms` on its `reconcile` message, sent when it woke more
// agents than it serves at once) starts after a random share of that time, so a fleet-wide signal
// brings the fleet's polls and reports in over the window instead of in one second. A wake without a
// spread goes at once and takes the place of one still waiting; a spread wake while one is waiting
// adds nothing: the waiting one fetches whatever changed by then.
import type { Timers } from './scheduler.ts';

export interface SpreadWake {
  wake(reason: string, spreadMs: number): void;
  /** The waiting wake, if any, never starts. */
  cancel(): void;
}

export function spreadWake(wakeNow: (reason: string) => void, timers: Timers, random: () => number): SpreadWake {
  let waiting: unknown;
  const cancel = () => {
    if (waiting !== undefined) timers.clearTimeout(waiting);
    waiting = undefined;
  };
  return {
    wake(reason, spreadMs) {
      if (spreadMs <= 0) {
        cancel();
        return wakeNow(reason);
      }
      if (waiting !== undefined) return;
      waiting = timers.setTimeout(() => {
        waiting = undefined;
        wakeNow(reason);
      }, Math.floor(random() * spreadMs));
    },
    cancel,
  };
}
