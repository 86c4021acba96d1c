import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DATA_SUBFOLDERS } from '../paths.ts';
import { runProcess } from '../platform/run-process.ts';
import { runPlanned, type ActionRecorder } from './report.ts';
import { isManagedFile, launcherScript, type ServiceCommandLine } from './unit-files.ts';
import { parseRegQueryValue, QUERY_SERVICE, QUERY_SYSTEM_PATH, windowsInstallPlan, windowsUninstallPlan, type PlannedCommand, type WindowsState } from './windows-plan.ts';

export interface WindowsServiceOptions extends ServiceCommandLine {
  /** True only on a real Windows install: run the plan. Otherwise it is reported as 'would run'. */
  execute: boolean;
  recorder: ActionRecorder;
}

/** Creates the data folder and the pswm.cmd launcher, then runs windowsInstallPlan. */
export async function installWindowsService(opts: WindowsServiceOptions): Promise<void> {
  const state = await queryWindowsState(opts.execute);
  if (opts.execute) {
    for (const dir of [opts.dataDir, ...DATA_SUBFOLDERS.map((name) => path.win32.join(opts.dataDir, name))]) await mkdir(dir, { recursive: true });
    const launcher = launcherScript(opts, 'windows');
    const file = path.win32.join(opts.dataDir, launcher.name);
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current !== launcher.content) await writeFile(file, launcher.content);
    opts.recorder.record({ step: 'pswm command in the data folder', target: file, status: current === undefined ? 'created' : current === launcher.content ? 'unchanged' : 'updated' });
  }
  await runPlan(windowsInstallPlan(opts, state), opts);
}

export async function uninstallWindowsService(opts: WindowsServiceOptions): Promise<void> {
  await runPlan(windowsUninstallPlan(opts, await queryWindowsState(opts.execute)), opts);
  if (opts.execute) {
    const file = path.win32.join(opts.dataDir, launcherScript(opts, 'windows').name);
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current !== undefined && isManagedFile(current)) await rm(file, { force: true });
    opts.recorder.record({ step: 'pswm command in the data folder', target: file, status: current === undefined ? 'absent' : isManagedFile(current) ? 'removed' : 'kept' });
  }
  opts.recorder.record({ step: 'data folder', target: opts.dataDir, status: 'kept', detail: 'holds the identity, logs and unsent results; delete it by hand to forget this agent' });
}

/** Stops at the first failed command: a service that could not be created cannot be configured. */
async function runPlan(plan: PlannedCommand[], opts: WindowsServiceOptions): Promise<void> {
  for (const cmd of plan) {
    if (!(await runPlanned(cmd, opts.execute, opts.recorder))) return;
  }
}

/** Off Windows (a plan printed for review) the machine is taken as fresh: no service, empty PATH. */
async function queryWindowsState(execute: boolean): Promise<WindowsState> {
  if (!execute) return { serviceExists: false, systemPath: undefined };
  const run = (cmd: PlannedCommand) => runProcess({ command: cmd.command, args: cmd.args, cwd: process.cwd(), timeoutSeconds: 60, maxOutputBytes: 64 * 1024 });
  const [service, systemPath] = await Promise.all([run(QUERY_SERVICE), run(QUERY_SYSTEM_PATH)]);
  return { serviceExists: service.exitCode === 0, systemPath: systemPath.exitCode === 0 ? parseRegQueryValue(systemPath.stdout) : undefined };
}
