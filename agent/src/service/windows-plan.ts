import { protectedFolderAclArgs } from '../identity/key-protection.ts';
import { addPathEntry, pathHasEntry, removePathEntry } from './path-entry.ts';
import { SERVICE_NAME, type ServiceCommandLine } from './unit-files.ts';
import { FAILURE_RESET_SECONDS, scFailureActions, WRAPPER_FILES } from './winsw-config.ts';

export interface PlannedCommand {
  /** What the step does, for the log and the report. */
  step: string;
  command: string;
  args: string[];
  /** Exit codes that count as done (besides 0); e.g. "service not started" when stopping. */
  okExitCodes?: number[];
  /** Set when the step must not run: recorded as failed with this reason. */
  refused?: string;
  /** Done by the installer itself, not a command (files it writes). */
  internal?: 'data-files';
}

export const ENVIRONMENT_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment';
const SC_SERVICE_NOT_ACTIVE = 1062;

/** The system PATH as read from the registry (unexpanded), or why it could not be: then it is
 * never written, because writing a value computed from nothing would replace the machine's PATH. */
export type SystemPathReading = { ok: true; value: string } | { ok: false; reason: string };

/** What the machine looks like before the plan is made (queried by the executor). */
export interface WindowsState {
  serviceExists: boolean;
  systemPath: SystemPathReading;
}

/** The SCM starts the wrapper in the data folder; the wrapper starts the agent (winsw-config.ts). */
function binPath(opts: Pick<ServiceCommandLine, 'dataDir'>): string {
  return `"${wrapperPath(opts)}"`;
}

export function wrapperPath(opts: Pick<ServiceCommandLine, 'dataDir'>): string {
  return `${opts.dataDir.replace(/\\+$/, '')}\\${WRAPPER_FILES.exe}`;
}

/** A failed step that runs nothing, so the plan stops before any change. */
function unreadablePath(reason: string): PlannedCommand {
  return { step: 'read the system PATH', command: 'reg.exe', args: QUERY_SYSTEM_PATH.args, refused: `refusing to change the system PATH, and so anything else: ${reason}` };
}

function setSystemPath(value: string): PlannedCommand['args'] {
  // REG_EXPAND_SZ keeps entries such as %SystemRoot%\system32 working
  return ['add', ENVIRONMENT_KEY, '/v', 'Path', '/t', 'REG_EXPAND_SZ', '/d', value, '/f'];
}

/** Every command install_svc runs on Windows, in order. Creating a service that exists fails, so
 * an existing one is reconfigured instead: running the plan twice ends in the same state. */
export function windowsInstallPlan(opts: ServiceCommandLine, state: WindowsState): PlannedCommand[] {
  // checked before anything changes: an install that cannot finish is not started
  if (!state.systemPath.ok) return [unreadablePath(state.systemPath.reason)];
  const plan: PlannedCommand[] = [
    {
      step: 'restrict the data folder to SYSTEM and Administrators',
      command: 'icacls.exe',
      args: protectedFolderAclArgs(opts.dataDir),
    },
    {
      step: 'make what is already inside inherit the folder permissions',
      command: 'icacls.exe',
      args: [`${opts.dataDir}\\*`, '/reset', '/T', '/C', '/Q'],
    },
    // after the ACL, so every file written there inherits it from its first byte
    { step: 'service wrapper and pswm command in the data folder', command: 'pswm', args: ['write', WRAPPER_FILES.exe, WRAPPER_FILES.xml, 'pswm.cmd'], internal: 'data-files' },
    ...(pathHasEntry(state.systemPath.value, opts.dataDir, 'windows')
      ? []
      : [{ step: 'add the data folder to the system PATH', command: 'reg.exe', args: setSystemPath(addPathEntry(state.systemPath.value, opts.dataDir, 'windows')) }]),
    state.serviceExists
      ? { step: 'update the service', command: 'sc.exe', args: ['config', SERVICE_NAME, 'binPath=', binPath(opts), 'start=', 'auto'] }
      : { step: 'create the service', command: 'sc.exe', args: ['create', SERVICE_NAME, 'binPath=', binPath(opts), 'start=', 'auto', 'DisplayName=', 'pswm agent'] },
    { step: 'describe the service', command: 'sc.exe', args: ['description', SERVICE_NAME, 'pswm agent: converges this machine to its policy and reports back'] },
    {
      step: 'restart the service when it fails',
      command: 'sc.exe',
      args: ['failure', SERVICE_NAME, 'reset=', String(FAILURE_RESET_SECONDS), 'actions=', scFailureActions()],
    },
    // without the flag, failure actions fire only on a crash, not on a non-zero exit
    { step: 'count a non-zero exit as a failure', command: 'sc.exe', args: ['failureflag', SERVICE_NAME, '1'] },
  ];
  plan.push({ step: 'start the service', command: 'sc.exe', args: ['start', SERVICE_NAME], okExitCodes: [1056 /* already running */] });
  return plan;
}

/** Every command uninstall_svc runs on Windows. The data folder (identity, logs, outbox) stays. */
export function windowsUninstallPlan(opts: Pick<ServiceCommandLine, 'dataDir'>, state: WindowsState): PlannedCommand[] {
  if (!state.systemPath.ok) return [unreadablePath(state.systemPath.reason)];
  const plan: PlannedCommand[] = [];
  if (pathHasEntry(state.systemPath.value, opts.dataDir, 'windows')) {
    plan.push({ step: 'remove the data folder from the system PATH', command: 'reg.exe', args: setSystemPath(removePathEntry(state.systemPath.value, opts.dataDir, 'windows')) });
  }
  if (state.serviceExists) {
    plan.push({ step: 'stop the service', command: 'sc.exe', args: ['stop', SERVICE_NAME], okExitCodes: [SC_SERVICE_NOT_ACTIVE] });
    plan.push({ step: 'delete the service', command: 'sc.exe', args: ['delete', SERVICE_NAME] });
  }
  return plan;
}

/** The commands that tell the executor the WindowsState. */
export const QUERY_SERVICE: PlannedCommand = { step: 'query the service', command: 'sc.exe', args: ['query', SERVICE_NAME], okExitCodes: [1060 /* does not exist */] };
export const QUERY_SYSTEM_PATH: PlannedCommand = { step: 'read the system PATH', command: 'reg.exe', args: ['query', ENVIRONMENT_KEY, '/v', 'Path'] };

/** The value from `reg.exe query <key> /v Path`: a line "    Path    REG_EXPAND_SZ    <value>". */
export function parseRegQueryValue(output: string, name = 'Path'): string | undefined {
  for (const line of output.split(/\r?\n/)) {
    const match = /^\s+(\S+)\s{4}(REG_[A-Z_]+)\s{4}(.*)$/.exec(line);
    if (match && match[1].toLowerCase() === name.toLowerCase()) return match[3];
  }
  return undefined;
}

/** The system PATH from QUERY_SYSTEM_PATH's result. A failed query, output without the value, a
 * value of another type, or an empty one (Windows always has System32 on it) is a refusal. */
export function readSystemPath(result: { exitCode: number | null; stdout: string; stderr: string; spawnError?: string }): SystemPathReading {
  if (result.exitCode !== 0) {
    return { ok: false, reason: `reg.exe query of the system PATH failed (${result.spawnError ?? `exit code ${result.exitCode}`}): ${(result.stderr || result.stdout).trim().slice(0, 200)}` };
  }
  const line = result.stdout.split(/\r?\n/).find((l) => /^\s+Path\s{4}/i.test(l));
  const match = line ? /^\s+Path\s{4}(REG_EXPAND_SZ|REG_SZ)\s{4}(.*)$/i.exec(line) : null;
  if (!match) return { ok: false, reason: `cannot parse the system PATH from reg.exe output: ${JSON.stringify(result.stdout.trim().slice(0, 200))}` };
  if (match[2].trim() === '') return { ok: false, reason: 'the system PATH read back empty' };
  return { ok: true, value: match[2] };
}
