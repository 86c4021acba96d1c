// The update's second trial, after the restart: the pre-restart trial (self-update.ts) ran the new
// build as `agent --once --dry-run`, but the build the service manager starts may still crash at
// start or never report. Before the swap's exit the old build writes `pending` into
// state/update.json; every start of the service counts itself against it, and the new build must
// deliver a report within the deadline (PSWM_UPDATE_CONFIRM_SECONDS, default 600) and at most
// MAX_TRIAL_STARTS starts. Otherwise the build that is running puts the previous one back
// (`<exe>.previous`), remembers the version as refused, and exits 75 for the service manager to
// start the previous build. A crash before the service reads update.json (a build that cannot load
// at all) is not caught here: the pre-restart trial ran that far already.
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadJsonFile, saveJsonFile } from '../platform/json-file.ts';
import type { UpdateState } from './self-update.ts';

export const UPDATE_STATE_FILE = 'update.json';
/** Starts the new build gets: systemd restarts after 10 s, the SCM after 10, 60 and 300 s. */
export const MAX_TRIAL_STARTS = 3;
export const DEFAULT_CONFIRM_SECONDS = 600;

/** The update under trial after the restart. */
export interface PendingUpdate {
  version: string;
  from_version?: string;
  sha256: string;
  /** ISO time by which the new build must have delivered a report. */
  deadline: string;
  /** Service starts of the new build so far. */
  starts: number;
}

export type RestartJudgement =
  | { action: 'none' }
  /** update.json names a build that is not the one running (rolled back by hand, say): forget it. */
  | { action: 'forget' }
  | { action: 'trial'; deadline: Date; starts: number }
  | { action: 'rollback'; reason: string };

/** Pure: what this start of the service does about a pending update. */
export function judgeRestart(pending: PendingUpdate | undefined, opts: { runningVersion: string | undefined; now: Date }): RestartJudgement {
  if (!pending) return { action: 'none' };
  if (pending.version !== opts.runningVersion) return { action: 'forget' };
  const starts = pending.starts + 1;
  const deadline = new Date(pending.deadline);
  if (starts > MAX_TRIAL_STARTS) return { action: 'rollback', reason: `the new build started ${MAX_TRIAL_STARTS} times after the restart without delivering a report (crashing at start?)` };
  if (opts.now.getTime() >= deadline.getTime()) return { action: 'rollback', reason: overdueReason(pending) };
  return { action: 'trial', deadline, starts };
}

export function overdueReason(pending: PendingUpdate): string {
  return `the new build did not deliver a report by ${pending.deadline}, the deadline after the restart`;
}

export function confirmSeconds(): number {
  return Number(process.env.PSWM_UPDATE_CONFIRM_SECONDS) || DEFAULT_CONFIRM_SECONDS;
}

const stateFile = (dataDir: string) => path.join(dataDir, 'state', UPDATE_STATE_FILE);

export async function loadUpdateState(dataDir: string): Promise<UpdateState> {
  return loadJsonFile<UpdateState>(stateFile(dataDir), () => ({ refused: {} }), (v): v is UpdateState => typeof (v as UpdateState)?.refused === 'object');
}

async function changeState(dataDir: string, change: (state: UpdateState) => void): Promise<void> {
  const state = await loadUpdateState(dataDir);
  change(state);
  await saveJsonFile(stateFile(dataDir), state);
}

export const rememberRefused = (dataDir: string, version: string, sha256: string) => changeState(dataDir, (state) => (state.refused[version] = sha256));
export const setPending = (dataDir: string, pending: PendingUpdate | undefined) => changeState(dataDir, (state) => {
  if (pending) state.pending = pending;
  else delete state.pending;
});

/** Counts this start against the pending update (saved before anything else can crash) and judges it. */
export async function beginRestart(dataDir: string, runningVersion: string | undefined, now = new Date()): Promise<{ judgement: RestartJudgement; pending?: PendingUpdate }> {
  const { pending } = await loadUpdateState(dataDir);
  const judgement = judgeRestart(pending, { runningVersion, now });
  if (judgement.action === 'trial') await setPending(dataDir, { ...pending!, starts: judgement.starts });
  if (judgement.action === 'forget') await setPending(dataDir, undefined);
  return { judgement, pending };
}

/** Puts `<exe>.previous` back in place of the running build, which is kept as `<exe>.failed` (a
 * running executable can be renamed, on Windows too, but not deleted there). */
export async function restorePrevious(dataDir: string, executable: string, pending: PendingUpdate): Promise<void> {
  const failed = `${executable}.failed`;
  await rm(failed, { force: true });
  await rename(executable, failed);
  await rename(`${executable}.previous`, executable);
  await changeState(dataDir, (state) => {
    state.refused[pending.version] = pending.sha256;
    delete state.pending;
  });
}
