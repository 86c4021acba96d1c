import { sha256Hex } from '@pswm/schemas/canonical-json';
import type { CompiledScript, Platform } from '@pswm/schemas';
import type { ScriptMemory, ScriptsState } from './state.ts';

export type ScriptDecision =
  | { script: CompiledScript; action: 'run' }
  | { script: CompiledScript; action: 'check-first' }
  | { script: CompiledScript; action: 'skip'; reason: string }
  /** Content does not match its digest: never run it. */
  | { script: CompiledScript; action: 'fail'; reason: string };

export interface ScriptPlanInput {
  scripts: readonly CompiledScript[];
  platform: Platform;
  state: ScriptsState;
  now: Date;
  /** The first time strictly after `after` at which the cron `schedule` fires (local time);
   * undefined when the expression cannot be used. */
  nextScheduleTime: (schedule: string, after: Date) => Date | undefined;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Decides, without running anything, what each script needs this iteration, in run order. */
export function planScripts(input: ScriptPlanInput): ScriptDecision[] {
  return [...input.scripts].sort(byRunOrder).map((script) => decide(script, input));
}

function decide(script: CompiledScript, input: ScriptPlanInput): ScriptDecision {
  if (!script.platforms.includes(input.platform)) return { script, action: 'skip', reason: `for ${script.platforms.join(', ')}; this is ${input.platform}` };
  const digestError = verifyDigests(script);
  if (digestError) return { script, action: 'fail', reason: digestError };
  const notDue = whyNotDue(script, input.state.scripts[script.name] ?? {}, input);
  if (notDue) return { script, action: 'skip', reason: notDue };
  return { script, action: script.check ? 'check-first' : 'run' };
}

function whyNotDue(script: CompiledScript, memory: ScriptMemory, input: ScriptPlanInput): string | undefined {
  switch (script.run) {
    case 'every_iteration':
      return undefined;
    case 'single_run':
      return memory.singleRunSha256 === script.sha256 ? 'already ran this content (single_run)' : undefined;
    case 'interval': {
      if (!memory.lastRunAt) return undefined;
      const dueAt = Date.parse(memory.lastRunAt) + (script.interval_hours ?? 0) * HOUR_MS;
      return input.now.getTime() < dueAt ? `interval not elapsed (next run after ${new Date(dueAt).toISOString()})` : undefined;
    }
    case 'schedule':
      return whyScheduleNotDue(script, memory, input);

  }
}

/** Due at the first cron time after the last run (or first sight). A time that passed while the
 * agent was not running is made up once, however late, unless `catch_up_minutes` bounds how late:
 * then only a cron time within that many minutes before now counts, and an older miss is skipped. */
function whyScheduleNotDue(script: CompiledScript, memory: ScriptMemory, input: ScriptPlanInput): string | undefined {
  const schedule = script.schedule ?? '';
  const since = memory.lastScheduledRunAt ?? memory.firstSeenAt;
  const from = since ? new Date(since) : input.now;
  const dueAt = input.nextScheduleTime(schedule, from);
  if (!dueAt) return `unusable schedule "${script.schedule}"`;
  if (input.now < dueAt) return `not scheduled yet (next run at ${dueAt.toISOString()})`;
  if (script.catch_up_minutes === undefined) return undefined;
  const windowStart = new Date(input.now.getTime() - script.catch_up_minutes * MINUTE_MS);
  if (dueAt >= windowStart) return undefined;
  // the first cron time at or after the window's start (cron times fall on whole minutes)
  const recent = input.nextScheduleTime(schedule, new Date(windowStart.getTime() - 1));
  if (recent && recent <= input.now) return undefined;
  const next = recent ?? input.nextScheduleTime(schedule, input.now);
  return `missed the run at ${dueAt.toISOString()} by more than catch_up_minutes (${script.catch_up_minutes}); next run at ${next?.toISOString()}`;
}

/** The server computed each digest from the content; checking it here catches a document damaged
 * or altered between the repository and this machine. */
function verifyDigests(script: CompiledScript): string | undefined {
  if (sha256Hex(script.content) !== script.sha256) return 'content does not match its sha256; not run';
  if (script.check && sha256Hex(script.check.content) !== script.check.sha256) return 'check content does not match its sha256; not run';
  return undefined;
}

function byRunOrder(a: CompiledScript, b: CompiledScript): number {
  return a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

