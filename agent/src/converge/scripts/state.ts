import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../platform/atomic-file.ts';

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

/** A missing file is a fresh agent. A file we cannot parse is an error, not a silent reset: a reset
 * would re-run every single_run script on the machine. */
export async function loadScriptsState(file: string): Promise<ScriptsState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyScriptsState();
    throw error;
  }
  const parsed = JSON.parse(text) as ScriptsState;
  if (parsed?.version !== 1 || typeof parsed.scripts !== 'object' || parsed.scripts === null) throw new Error(`unrecognised scripts state in ${file}`);
  return parsed;
}

export async function saveScriptsState(file: string, state: ScriptsState): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n');
}
