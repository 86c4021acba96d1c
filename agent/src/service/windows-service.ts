import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DATA_SUBFOLDERS } from '../paths.ts';
import { runProcess } from '../platform/run-process.ts';
import { runPlanned, type ActionRecorder } from './report.ts';
import { isManagedFile, launcherScript, type ServiceCommandLine } from './unit-files.ts';
import { winswXml, WRAPPER_FILES } from './winsw-config.ts';
import { QUERY_SERVICE, QUERY_SYSTEM_PATH, readSystemPath, windowsInstallPlan, windowsUninstallPlan, type PlannedCommand, type WindowsState } from './windows-plan.ts';

export interface WindowsServiceOptions extends ServiceCommandLine {
  /** True only on a real Windows install: run the plan. Otherwise it is reported as 'would run'. */
  execute: boolean;
  /** WinSW as shipped beside pswm.exe (pswm-service.exe and its .exe.config); undefined when the
   * agent runs from its sources, which have no wrapper. */
  wrapperSource?: string;
  recorder: ActionRecorder;
}

/** Runs windowsInstallPlan: the data folder's ACL first, then the wrapper, its XML and the pswm.cmd
 * launcher are written into it, then the service is created or reconfigured and started. */
export async function installWindowsService(opts: WindowsServiceOptions): Promise<void> {
  const state = await queryWindowsState(opts.execute);
  if (opts.execute && state.systemPath.ok) await mkdir(opts.dataDir, { recursive: true });
  await runPlan(windowsInstallPlan(opts, state), opts);
}

export async function uninstallWindowsService(opts: WindowsServiceOptions): Promise<void> {
  const plan = windowsUninstallPlan(opts, await queryWindowsState(opts.execute));
  if (!(await runPlan(plan, opts))) return;
  if (opts.execute) {
    for (const name of [launcherScript(opts, 'windows').name, WRAPPER_FILES.xml, WRAPPER_FILES.exe, WRAPPER_FILES.exeConfig]) {
      const file = path.win32.join(opts.dataDir, name);
      const current = await readFile(file, name.endsWith('.exe') ? 'latin1' : 'utf8').catch(() => undefined);
      // the wrapper binaries carry no marker: they are ours when the XML beside them was
      const ours = current !== undefined && (name.endsWith('.exe') || name.endsWith('.config') || isManagedFile(current));
      if (ours) await rm(file, { force: true });
      opts.recorder.record({ step: 'file in the data folder', target: file, status: current === undefined ? 'absent' : ours ? 'removed' : 'kept' });
    }
  }
  opts.recorder.record({ step: 'data folder', target: opts.dataDir, status: 'kept', detail: 'holds the identity, logs and unsent results; delete it by hand to forget this agent' });
}

/** Stops at the first failed step: a service that could not be created cannot be configured.
 * Returns whether every step succeeded. */
async function runPlan(plan: PlannedCommand[], opts: WindowsServiceOptions): Promise<boolean> {
  for (const cmd of plan) {
    const ok = cmd.internal === 'data-files' && opts.execute ? await writeDataFiles(opts) : await runPlanned(cmd, opts.execute, opts.recorder);
    if (!ok) return false;
  }
  return true;
}

/** Subfolders, the wrapper (a copy of the one beside pswm.exe), its XML and pswm.cmd, each written
 * only when it differs. */
async function writeDataFiles(opts: WindowsServiceOptions): Promise<boolean> {
  for (const name of DATA_SUBFOLDERS) await mkdir(path.win32.join(opts.dataDir, name), { recursive: true });
  if (!opts.wrapperSource) {
    opts.recorder.record({ step: 'service wrapper', target: WRAPPER_FILES.exe, status: 'failed', detail: 'install_svc on Windows runs from pswm.exe (npm run build:windows), which ships the service wrapper pswm-service.exe beside it' });
    return false;
  }
  const source = path.win32.dirname(opts.wrapperSource);
  const files: { name: string; content: Buffer }[] = [
    { name: WRAPPER_FILES.exe, content: await readFile(opts.wrapperSource) },
    { name: WRAPPER_FILES.exeConfig, content: await readFile(path.win32.join(source, WRAPPER_FILES.exeConfig)) },
    { name: WRAPPER_FILES.xml, content: Buffer.from(winswXml(opts)) },
    { name: launcherScript(opts, 'windows').name, content: Buffer.from(launcherScript(opts, 'windows').content) },
  ];
  for (const file of files) {
    const target = path.win32.join(opts.dataDir, file.name);
    const current = await readFile(target).catch(() => undefined);
    if (current?.equals(file.content)) {
      opts.recorder.record({ step: 'file in the data folder', target, status: 'unchanged' });
      continue;
    }
    // the wrapper may be running (reinstall over a started service): it is replaced on the next start
    const written = await writeFile(target, file.content).then(() => true, () => false);
    opts.recorder.record({ step: 'file in the data folder', target, status: written ? (current ? 'updated' : 'created') : 'failed', ...(written ? {} : { detail: 'in use; stop the service and run install_svc again' }) });
    if (!written) return false;
  }
  return true;
}

/** Off Windows (a plan printed for review) the machine is taken as fresh: no service, an empty PATH. */
async function queryWindowsState(execute: boolean): Promise<WindowsState> {
  if (!execute) return { serviceExists: false, systemPath: { ok: true, value: '' } };
  const run = (cmd: PlannedCommand) => runProcess({ command: cmd.command, args: cmd.args, cwd: process.cwd(), timeoutSeconds: 60, maxOutputBytes: 64 * 1024 });
  const [service, systemPath] = await Promise.all([run(QUERY_SERVICE), run(QUERY_SYSTEM_PATH)]);
  return { serviceExists: service.exitCode === 0, systemPath: readSystemPath(systemPath) };
}
