import type { CompiledScript } from '@pswm/schemas';
import type { ScriptsState } from './state.ts';

/** Schedule scripts seen for the first time start their clock now (see ScriptMemory.firstSeenAt). */
export function rememberFirstSeen(state: ScriptsState, scripts: readonly CompiledScript[], now: Date): ScriptsState {
  const next = { ...state.scripts };
  for (const script of scripts) {
    if (script.run === 'schedule' && !next[script.name]?.firstSeenAt) next[script.name] = { ...next[script.name], firstSeenAt: now.toISOString() };
  }
  return { ...state, scripts: next };
}

/** What a finished attempt changes in the agent's memory of the script. */
export function rememberOutcome(state: ScriptsState, script: CompiledScript, succeeded: boolean, now: Date): ScriptsState {
  const memory = { ...state.scripts[script.name] };
  if (script.run === 'single_run' && succeeded) memory.singleRunSha256 = script.sha256;
  if (script.run === 'interval') memory.lastRunAt = now.toISOString();
  if (script.run === 'schedule') memory.lastScheduledRunAt = now.toISOString();
  return { ...state, scripts: { ...state.scripts, [script.name]: memory } };
}
