import path from 'node:path';
import type { DesiredState, Platform } from '@pswm/schemas';
import { currentPlatform } from '../platform/platform.ts';
import { findChoco } from './choco/choco-runner.ts';
import { convergeChoco, type ChocoRunRecord } from './choco/converge-choco.ts';
import type { AgentChocoPackage } from './choco/inventory.ts';
import { currentBootTime, rebootPendingRecord, saveRebootPending } from './choco/reboot-pending.ts';
import { loadChocoState, saveChocoState } from './choco/state.ts';
import type { DriftItem } from './drift.ts';
import { convergeScripts, type ScriptRunRecord } from './scripts/converge-scripts.ts';
import { planScripts } from './scripts/plan.ts';
import { runScript } from './scripts/run-script.ts';
import { nextScheduleTime } from './scripts/schedule.ts';
import { nextScheduledRun } from './scripts/schedule-wake.ts';
import { loadScriptsState, saveScriptsState } from './scripts/state.ts';

export interface ConvergeOptions {
  desired: DesiredState;
  /** The agent's data folder: state/, scripts_cache/. */
  dataDir: string;
  dryRun: boolean;
  now: Date;
  platform?: Platform;
  /** Extra environment for scripts and choco (tests point PATH at the choco stand-in). */
  env?: Record<string, string>;
}

export interface ConvergeResult {
  items: DriftItem[];
  scriptRuns: ScriptRunRecord[];
  chocoRuns: ChocoRunRecord[];
  /** `agent_choco_packages`; undefined without a readable choco. */
  chocoPackages?: AgentChocoPackage[];
  rebootRequired: boolean;
  /** The earliest cron time after this iteration's start among the schedule scripts: the loop wakes
   * then. */
  nextScheduledRun?: Date;
}

/** Scripts, then packages, for one desired state. State files are written only after a real run,
 * so a dry run leaves the machine and the agent's memory as they were. */
export async function converge(opts: ConvergeOptions): Promise<ConvergeResult> {
  const stateDir = path.join(opts.dataDir, 'state');
  const scriptsFile = path.join(stateDir, 'scripts.json');
  const chocoFile = path.join(stateDir, 'choco.json');

  const platform = opts.platform ?? currentPlatform();
  const scriptsState = await loadScriptsState(scriptsFile);
  const scripts = await convergeScripts({
    decisions: planScripts({ scripts: opts.desired.scripts, platform, state: scriptsState, now: opts.now, nextScheduleTime }),
    state: scriptsState,
    dryRun: opts.dryRun,
    now: opts.now,
    execute: (job) => runScript({ ...job, cwd: opts.dataDir, scriptsDir: path.join(opts.dataDir, 'scripts_cache'), env: opts.env, platform: opts.platform }),
  });
  if (!opts.dryRun) await saveScriptsState(scriptsFile, scripts.state);

  const choco = await convergeChoco({
    packages: opts.desired.packages,
    settings: opts.desired.settings.choco,
    state: await loadChocoState(chocoFile),
    now: opts.now,
    dryRun: opts.dryRun,
    // looked up even with no packages declared: the inventory is reported either way
    choco: await findChoco({ cwd: opts.dataDir, env: opts.env, maxOutputBytes: opts.desired.settings.scripts.max_output_bytes }),
  });
  if (!opts.dryRun && choco.runs.length) await saveChocoState(chocoFile, choco.state);
  const reboot = rebootPendingRecord(choco.runs, opts.now, currentBootTime());
  if (!opts.dryRun && reboot) await saveRebootPending(stateDir, reboot);

  return {
    items: [...scripts.items, ...choco.items],
    scriptRuns: scripts.runs,
    chocoRuns: choco.runs,
    ...(choco.inventory ? { chocoPackages: choco.inventory } : {}),
    rebootRequired: choco.rebootRequired,
    nextScheduledRun: nextScheduledRun(opts.desired.scripts, platform, opts.now, nextScheduleTime),
  };
}
