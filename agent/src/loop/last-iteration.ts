// What `pswm status` shows about the latest iteration, written at the end of each one.
import path from 'node:path';
import { loadJsonFile, saveJsonFile } from '../platform/json-file.ts';

export interface LastIteration {
  started_at: string;
  finished_at: string;
  /** ok: converged a desired state; no_desired_state: nothing to converge yet; failed: see error. */
  result: 'ok' | 'no_desired_state' | 'failed';
  dry_run: boolean;
  /** Where the converged state came from: the server, or the on-disk copy while offline. */
  source?: 'server' | 'cache';
  revision?: string;
  document?: string;
  /** The revision of the latest iteration that applied (not dry-run) a desired state. */
  applied_revision?: string;
  counts?: Record<string, number>;
  /** The items that failed, with why (for `pswm status`). */
  failed_items?: Array<{ kind: string; name: string; reason?: string }>;
  report_id?: string;
  error?: string;
}

export const lastIterationFile = (stateDir: string) => path.join(stateDir, 'last-iteration.json');

export async function loadLastIteration(stateDir: string): Promise<LastIteration | undefined> {
  return loadJsonFile<LastIteration | undefined>(lastIterationFile(stateDir), () => undefined, (v): v is LastIteration => typeof v === 'object' && v !== null && 'result' in v);
}

export async function saveLastIteration(stateDir: string, value: LastIteration): Promise<void> {
  await saveJsonFile(lastIterationFile(stateDir), value);
}
