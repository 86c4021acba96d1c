// Schedule scripts run at their cron time, not at the next interval iteration: the loop is woken
// for the earliest next cron time of the current document. The wall clock is looked at least once
// a minute rather than trusting one long timer, which a suspended machine or a clock change would
// leave late.
import type { CompiledScript, Platform } from '@pswm/schemas';
import type { Timers } from '../../loop/scheduler.ts';

/** The earliest cron time strictly after `after` among the schedule scripts meant for `platform`.
 * Pure. */
export function nextScheduledRun(scripts: readonly CompiledScript[], platform: Platform, after: Date, nextScheduleTime: (schedule: string, after: Date) => Date | undefined): Date | undefined {
  let earliest: Date | undefined;
  for (const script of scripts) {
    if (script.run !== 'schedule' || !script.schedule || !script.platforms.includes(platform)) continue;
    const next = nextScheduleTime(script.schedule, after);
    if (next && (!earliest || next < earliest)) earliest = next;
  }
  return earliest;
}

export interface ScheduleWake {
  /** Wake at `at` (undefined: no schedule script, nothing to wake for). Replaces the previous time. */
  set(at: Date | undefined): void;
  close(): void;
}

export const SCHEDULE_CHECK_MS = 60_000;

export function createScheduleWake(opts: { timers: Timers; now: () => Date; wake: (reason: string) => void; checkEveryMs?: number }): ScheduleWake {
  const checkEveryMs = opts.checkEveryMs ?? SCHEDULE_CHECK_MS;
  let timer: unknown;
  let target: Date | undefined;
  const clear = () => {
    if (timer !== undefined) opts.timers.clearTimeout(timer);
    timer = undefined;
  };
  const arm = () => {
    clear();
    if (!target) return;
    const remaining = target.getTime() - opts.now().getTime();
    if (remaining <= 0) {
      const due = target;
      target = undefined;
      opts.wake(`schedule ${due.toISOString()}`);
      return;
    }
    timer = opts.timers.setTimeout(arm, Math.min(remaining, checkEveryMs));
  };
  return {
    set(at) {
      target = at;
      arm();
    },
    close() {
      target = undefined;
      clear();
    },
  };
}
