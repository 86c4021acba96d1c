import { addPathEntry, pathHasEntry, removePathEntry } from './path-entry.ts';
import { SERVICE_NAME, serviceArgv, type ServiceCommandLine } from './unit-files.ts';

export interface PlannedCommand {
  /** What the step does, for the log and the report. */
  step: string;
  command: string;
  args: string[];
  /** Exit codes that count as done (besides 0); e.g. "service not started" when stopping. */
  okExitCodes?: number[];
}

export const ENVIRONMENT_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment';
// Well-known SIDs, not names: "Administrators" is "Administratoren" on a German Windows.
const SYSTEM_SID = '*S-1-5-18';
const ADMINISTRATORS_SID = '*S-1-5-32-544';
const SC_SERVICE_NOT_ACTIVE = 1062;

/** What the machine looks like before the plan is made (queried by the executor). */
export interface WindowsState {
  serviceExists: boolean;
  /** The system PATH as stored in the registry (unexpanded); undefined when there is none. */
  systemPath: string | undefined;
}

/** sc.exe takes binPath as one string holding the whole command line. */
function binPath(opts: ServiceCommandLine): string {
  return serviceArgv(opts).map((a) => (/[\s"]/.test(a) ? `"${a}"` : a)).join(' ');
}

function setSystemPath(value: string): PlannedCommand['args'] {
  // REG_EXPAND_SZ keeps entries such as %SystemRoot%\system32 working
  return ['add', ENVIRONMENT_KEY, '/v', 'Path', '/t', 'REG_EXPAND_SZ', '/d', value, '/f'];
}

/** Every command install_svc runs on Windows, in order. Creating a service that exists fails, so
 * an existing one is reconfigured instead: running the plan twice ends in the same state. */
export function windowsInstallPlan(opts: ServiceCommandLine, state: WindowsState): PlannedCommand[] {
  const plan: PlannedCommand[] = [
    {
      step: 'restrict the data folder to SYSTEM and Administrators',
      command: 'icacls.exe',
      args: [opts.dataDir, '/inheritance:r', '/grant:r', `${SYSTEM_SID}:(OI)(CI)F`, `${ADMINISTRATORS_SID}:(OI)(CI)F`],
    },
    {
      step: 'make what is already inside inherit the folder permissions',
      command: 'icacls.exe',
      args: [`${opts.dataDir}\\*`, '/reset', '/T', '/C', '/Q'],
    },
    state.serviceExists
      ? { step: 'update the service', command: 'sc.exe', args: ['config', SERVICE_NAME, 'binPath=', binPath(opts), 'start=', 'auto'] }
      : { step: 'create the service', command: 'sc.exe', args: ['create', SERVICE_NAME, 'binPath=', binPath(opts), 'start=', 'auto', 'DisplayName=', 'pswm agent'] },
    { step: 'describe the service', command: 'sc.exe', args: ['description', SERVICE_NAME, 'pswm agent: converges this machine to its policy and reports back'] },
    {
      step: 'restart the service when it fails',
      command: 'sc.exe',
      args: ['failure', SERVICE_NAME, 'reset=', '86400', 'actions=', 'restart/60000/restart/60000/restart/60000'],
    },
    // without the flag, failure actions fire only on a crash, not on a non-zero exit
    { step: 'count a non-zero exit as a failure', command: 'sc.exe', args: ['failureflag', SERVICE_NAME, '1'] },
  ];
  if (!pathHasEntry(state.systemPath ?? '', opts.dataDir, 'windows')) {
    plan.push({ step: 'add the data folder to the system PATH', command: 'reg.exe', args: setSystemPath(addPathEntry(state.systemPath ?? '', opts.dataDir, 'windows')) });
  }
  plan.push({ step: 'start the service', command: 'sc.exe', args: ['start', SERVICE_NAME], okExitCodes: [1056 /* already running */] });
  return plan;
}

/** Every command uninstall_svc runs on Windows. The data folder (identity, logs, outbox) stays. */
export function windowsUninstallPlan(opts: Pick<ServiceCommandLine, 'dataDir'>, state: WindowsState): PlannedCommand[] {
  const plan: PlannedCommand[] = [];
  if (state.serviceExists) {
    plan.push({ step: 'stop the service', command: 'sc.exe', args: ['stop', SERVICE_NAME], okExitCodes: [SC_SERVICE_NOT_ACTIVE] });
    plan.push({ step: 'delete the service', command: 'sc.exe', args: ['delete', SERVICE_NAME] });
  }
  if (state.systemPath !== undefined && pathHasEntry(state.systemPath, opts.dataDir, 'windows')) {
    plan.push({ step: 'remove the data folder from the system PATH', command: 'reg.exe', args: setSystemPath(removePathEntry(state.systemPath, opts.dataDir, 'windows')) });
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
