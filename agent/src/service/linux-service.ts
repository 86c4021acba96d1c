import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DATA_SUBFOLDERS } from '../paths.ts';
import { pathHasEntry } from './path-entry.ts';
import { runPlanned, type ActionRecorder } from './report.ts';
import { isManagedFile, launcherScript, PROFILE_SCRIPT_PATH, profileScript, SERVICE_NAME, systemdUnit, SYSTEMD_UNIT_PATH, type ServiceCommandLine } from './unit-files.ts';
import type { PlannedCommand } from './windows-plan.ts';

export interface LinuxServiceOptions extends ServiceCommandLine {
  /** Prefix for every path written ("/" on a real install; a temporary folder in tests). */
  root: string;
  dryRun: boolean;
  recorder: ActionRecorder;
}

const systemctl = (step: string, ...args: string[]): PlannedCommand => ({ step, command: 'systemctl', args });

// Commands act on the real system, so they run only for the real root and never in a dry run.
const executes = (opts: LinuxServiceOptions) => opts.root === '/' && !opts.dryRun;
const under = (opts: LinuxServiceOptions, file: string) => path.join(opts.root, file);

/** systemd's own test (sd_booted): the folder exists only when systemd is the running init. */
export const SYSTEMD_RUNTIME_DIR = '/run/systemd/system';

export async function installLinuxService(opts: LinuxServiceOptions): Promise<void> {
  if (executes(opts) && process.getuid?.() !== 0) {
    opts.recorder.record({ step: 'check privileges', target: 'uid ' + process.getuid?.(), status: 'failed', detail: 'install_svc must run as root (sudo pswm install_svc)' });
    return;
  }
  // before anything is written: without systemd the unit would be a file nobody runs, and a second
  // install_svc would find everything "unchanged"
  if (!(await exists(under(opts, SYSTEMD_RUNTIME_DIR)))) {
    opts.recorder.record({ step: 'check the service manager', target: under(opts, SYSTEMD_RUNTIME_DIR), status: 'failed', detail: 'systemd is not running on this machine (no /run/systemd/system); install_svc supports only systemd. Nothing was changed: run "pswm service" under your init system instead' });
    return;
  }
  const dataDir = under(opts, opts.dataDir);
  await ensureDirectory(opts, 'data folder, owner and group only', dataDir, 0o750);
  for (const name of DATA_SUBFOLDERS) await ensureDirectory(opts, `data subfolder ${name}, owner only`, path.join(dataDir, name), 0o700);
  const launcher = launcherScript(opts, 'linux');
  await ensureFile(opts, 'pswm command in the data folder', path.join(dataDir, launcher.name), launcher.content, 0o750);
  const unitFile = under(opts, SYSTEMD_UNIT_PATH);
  const unitExisted = await exists(unitFile);
  await ensureFile(opts, 'systemd unit', unitFile, systemdUnit(opts), 0o644);
  await ensurePathEntry(opts);
  // daemon-reload every time, not only when the unit changed: after a run that failed at enable, the
  // next one must still load the unit rather than trust a file that is merely present
  const started = (await runPlanned(systemctl('reload systemd units', 'daemon-reload'), executes(opts), opts.recorder))
    && (await runPlanned(systemctl('enable and start the service', 'enable', '--now', `${SERVICE_NAME}.service`), executes(opts), opts.recorder));
  if (!started && !unitExisted && !opts.dryRun) {
    // a unit this run created for a service that does not run is taken back: no half-installed state
    await rm(unitFile, { force: true });
    opts.recorder.record({ step: 'systemd unit', target: unitFile, status: 'removed', detail: 'rolled back: the service could not be enabled and started' });
  }
}

export async function uninstallLinuxService(opts: LinuxServiceOptions): Promise<void> {
  const unitFile = under(opts, SYSTEMD_UNIT_PATH);
  if (await exists(unitFile)) await runPlanned(systemctl('stop and disable the service', 'disable', '--now', `${SERVICE_NAME}.service`), executes(opts), opts.recorder);
  if ((await removeManagedFile(opts, 'systemd unit', unitFile)) === 'removed') {
    await runPlanned(systemctl('reload systemd units', 'daemon-reload'), executes(opts), opts.recorder);
  }
  await removeManagedFile(opts, 'data folder on PATH', under(opts, PROFILE_SCRIPT_PATH));
  await removeManagedFile(opts, 'pswm command in the data folder', path.join(under(opts, opts.dataDir), launcherScript(opts, 'linux').name));
  opts.recorder.record({ step: 'data folder', target: under(opts, opts.dataDir), status: 'kept', detail: 'holds the identity, logs and unsent results; delete it by hand to forget this agent' });
}

/** The data folder goes on PATH through /etc/profile.d, unless the system PATH in
 * /etc/environment has it already. */
async function ensurePathEntry(opts: LinuxServiceOptions): Promise<void> {
  const environment = await readFile(under(opts, '/etc/environment'), 'utf8').catch(() => '');
  const systemPath = /^\s*(?:export\s+)?PATH=["']?([^"'\n]*)/m.exec(environment)?.[1];
  if (systemPath !== undefined && pathHasEntry(systemPath, opts.dataDir, 'linux')) {
    opts.recorder.record({ step: 'data folder on PATH', target: under(opts, '/etc/environment'), status: 'unchanged', detail: 'already on the system PATH' });
    return;
  }
  await ensureFile(opts, 'data folder on PATH', under(opts, PROFILE_SCRIPT_PATH), profileScript(opts.dataDir), 0o644);
}

async function ensureDirectory(opts: LinuxServiceOptions, step: string, dir: string, mode: number): Promise<void> {
  const before = await stat(dir).catch(() => undefined);
  const ownedByRoot = !before || (before.uid === 0 && before.gid === 0);
  const fixOwner = executes(opts) && !ownedByRoot;
  if (before && (before.mode & 0o777) === mode && !fixOwner) {
    opts.recorder.record({ step, target: dir, status: 'unchanged' });
    return;
  }
  if (opts.dryRun) {
    opts.recorder.record({ step, target: dir, status: before ? 'would update' : 'would create', detail: modeText(mode) });
    return;
  }
  await mkdir(dir, { recursive: true, mode });
  await chmod(dir, mode); // mkdir's mode is filtered by the umask
  if (executes(opts)) await chown(dir, 0, 0);
  opts.recorder.record({ step, target: dir, status: before ? 'updated' : 'created', detail: modeText(mode) });
}

/** Writes `content` unless the file already holds it with `mode`. Returns whether it changed. */
async function ensureFile(opts: LinuxServiceOptions, step: string, file: string, content: string, mode: number): Promise<boolean> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  const currentMode = current === undefined ? undefined : (await stat(file)).mode & 0o777;
  if (current === content && currentMode === mode) {
    opts.recorder.record({ step, target: file, status: 'unchanged' });
    return false;
  }
  if (opts.dryRun) {
    opts.recorder.record({ step, target: file, status: current === undefined ? 'would create' : 'would update' });
    return true;
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode });
  await chmod(file, mode);
  opts.recorder.record({ step, target: file, status: current === undefined ? 'created' : 'updated', detail: modeText(mode) });
  return true;
}

/** Deletes a file install_svc wrote; a file without the marker is someone else's and stays. */
async function removeManagedFile(opts: LinuxServiceOptions, step: string, file: string): Promise<'removed' | 'absent' | 'kept'> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === undefined) {
    opts.recorder.record({ step, target: file, status: 'absent' });
    return 'absent';
  }
  if (!isManagedFile(current)) {
    opts.recorder.record({ step, target: file, status: 'kept', detail: 'not written by pswm install_svc' });
    return 'kept';
  }
  if (opts.dryRun) {
    opts.recorder.record({ step, target: file, status: 'would remove' });
    return 'removed';
  }
  await rm(file, { force: true });
  opts.recorder.record({ step, target: file, status: 'removed' });
  return 'removed';
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}

function modeText(mode: number): string {
  return `mode ${mode.toString(8).padStart(4, '0')}`;
}
