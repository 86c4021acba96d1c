import type { Timers } from '../../src/loop/scheduler.ts';

/** Timers and a clock driven by the test: nothing fires until fire() is called, and time moves only
 * by advance() (fire() moves it to the timer's due time). */
export function manualTimers() {
  const pending = new Map<number, { callback: () => void; ms: number; dueAt: number }>();
  let next = 0;
  let clock = 0;
  const timers: Timers = {
    setTimeout(callback, ms) {
      pending.set(++next, { callback, ms, dueAt: clock + ms });
      return next;
    },
    clearTimeout: (handle) => void pending.delete(handle as number),
  };
  return {
    timers,
    now: () => clock,
    advance: (ms: number) => void (clock += ms),
    delays: () => [...pending.values()].map((t) => t.ms),
    fire() {
      const [[id, entry]] = pending;
      pending.delete(id);
      clock = Math.max(clock, entry.dueAt);
      entry.callback();
    },
  };
}
