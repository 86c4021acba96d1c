import { loadJsonFile, saveJsonFile } from '../../platform/json-file.ts';

/** What the agent remembers about each script between iterations and restarts. */
export interface ScriptMemory {
  /** sha256 of the content whose single_run completed (exit 0, or its check found it in sync). */
  singleRunSha256?: string;
  /** Last attempt of an interval script (ISO time), successful or not: a failing script is retried
   * on the interval, not hammered every iteration. */
  lastRunAt?: string;
  /** Last run of a schedule script; the next cron time after it is when it is due again. */
  lastScheduledRunAt?: string;
  /** When a schedule script was first seen: it is due at the first cron time after that, so a new
   * script does not fire at once for a time that passed before it existed. */
  firstSeenAt?: string;
}

export interface ScriptsState {
  version: 1;
  scripts: Record<string, ScriptMemory>;
}

export function emptyScriptsState(): ScriptsState {
  return { version: 1, scripts: {} };
}

function isScriptsState(value: unknown): value is ScriptsState {
  const state = value as ScriptsState | null;
  return state?.version === 1 && typeof state.scripts === 'object' && state.scripts !== null;
}

export function loadScriptsState(file: string): Promise<ScriptsState> {
  return loadJsonFile(file, emptyScriptsState, isScriptsState);
}

export function saveScriptsState(file: string, state: ScriptsState): Promise<void> {
  return saveJsonFile(file, state);
}
