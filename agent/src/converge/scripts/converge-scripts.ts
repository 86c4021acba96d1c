import type { CompiledScript, Shell } from '@pswm/schemas';
import type { DriftItem } from '../drift.ts';
import { rememberFirstSeen, rememberOutcome } from './memory.ts';
import type { ScriptDecision } from './plan.ts';
import type { ScriptRunResult } from './run-script.ts';
import type { ScriptsState } from './state.ts';

/** One process the agent started for a script, as reported in `script_runs`. */
export interface ScriptRunRecord extends Omit<ScriptRunResult, 'skippedReason'> {
  script: string;
  phase: 'check' | 'script';
  shell: Shell;
  sha256: string;
}

export type ScriptExecutor = (job: { shell: Shell; content: string; timeoutSeconds: number; maxOutputBytes: number; maxMemoryMb?: number }) => Promise<ScriptRunResult>;

export interface ConvergeScriptsInput {
  decisions: readonly ScriptDecision[];
  state: ScriptsState;
  dryRun: boolean;
  now: Date;
  execute: ScriptExecutor;
}

export interface ConvergeScriptsResult {
  items: DriftItem[];
  runs: ScriptRunRecord[];
  state: ScriptsState;
}

/** Acts on the plan one script at a time. A failing script never stops the others; a dry run
 * starts only check scripts, which by contract change nothing. */
export async function convergeScripts(input: ConvergeScriptsInput): Promise<ConvergeScriptsResult> {
  const items: DriftItem[] = [];
  const runs: ScriptRunRecord[] = [];
  let state = input.dryRun ? input.state : rememberFirstSeen(input.state, input.decisions.map((d) => d.script), input.now);
  const item = (script: CompiledScript, fields: Omit<DriftItem, 'kind' | 'name'>) => items.push({ kind: 'script', name: script.name, ...fields });
  const start = async (script: CompiledScript, phase: ScriptRunRecord['phase']) => {
    const source = phase === 'check' && script.check ? script.check : script;
    const result = await input.execute({ shell: source.shell, content: source.content, timeoutSeconds: script.timeout_seconds, maxOutputBytes: script.max_output_bytes, maxMemoryMb: script.max_memory_mb });
    if (result.skippedReason === undefined) {
      const { skippedReason: _, ...record } = result;
      runs.push({ script: script.name, phase, shell: source.shell, sha256: source.sha256, ...record });
    }
    return result;
  };

  for (const decision of input.decisions) {
    const { script } = decision;
    if (decision.action === 'skip') {
      item(script, { status: 'skipped', reason: decision.reason });
      continue;
    }
    if (decision.action === 'fail') {
      item(script, { status: 'failed', reason: decision.reason });
      continue;
    }
    if (decision.action === 'check-first') {
      const check = await start(script, 'check');
      if (check.skippedReason !== undefined) {
        item(script, { status: 'skipped', reason: `check: ${check.skippedReason}` });
        continue;
      }
      // a check that cannot finish tells us nothing; running the script blind could do harm
      if (check.timedOut || check.spawnError) {
        item(script, { status: 'failed', reason: `check ${describeFailure(check, script)}` });
        continue;
      }
      if (check.exitCode === 0) {
        item(script, { status: 'in_sync' });
        if (!input.dryRun) state = rememberOutcome(state, script, true, input.now);
        continue;
      }
      if (input.dryRun) {
        item(script, { status: 'drifted', reason: `check exited ${check.exitCode}`, wouldChange: true });
        continue;
      }
    } else if (input.dryRun) {
      item(script, { status: 'skipped', reason: 'dry run: would run (no check script)', wouldChange: true });
      continue;
    }
    const result = await start(script, 'script');
    if (result.skippedReason !== undefined) {
      item(script, { status: 'skipped', reason: result.skippedReason });
      continue;
    }
    const succeeded = result.exitCode === 0 && !result.timedOut;
    item(script, succeeded ? { status: 'changed' } : { status: 'failed', reason: describeFailure(result, script) });
    state = rememberOutcome(state, script, succeeded, input.now);
  }
  return { items, runs, state };
}

function describeFailure(result: ScriptRunResult, script: CompiledScript): string {
  if (result.spawnError) return `could not start: ${result.spawnError}`;
  if (result.timedOut) return `timed out after ${script.timeout_seconds} s`;
  if (result.memoryExceeded) return `killed: used more than max_memory_mb (${script.max_memory_mb} MiB)`;
  if (result.exitCode === null) return `killed by ${result.signal ?? 'a signal'}`;
  return `exited ${result.exitCode}`;
}
