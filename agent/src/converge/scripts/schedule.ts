import { nextCronTime, parseCron } from '@pswm/schemas/cron';

/** The cron adapter planScripts takes: agent local time, as the policy documents it. */
export function nextScheduleTime(schedule: string, after: Date): Date | undefined {
  const parsed = parseCron(schedule);
  if (!parsed.ok) return undefined;
  try {
    return nextCronTime(parsed.cron, after);
  } catch {
    return undefined; // a schedule that never fires (e.g. 30 February)
  }
}
