// Keeps track of every process one run starts, so a timeout or the end of the run can end them
// all, and applies the run's memory limit. Linux: a cgroup v2 group when the agent may create one,
// else the process table (parent links plus an environment marker); memory through memory.max in
// the group, else RLIMIT_AS. Windows: a Job Object with kill-on-close and the job memory limit, made
// by pswm-native.exe (`jobrun`), which starts the program suspended inside it; ending that helper
// ends every process of the run. Without the helper (a development checkout run by node):
// taskkill /T from the shell's PID, no memory limit. Other POSIX: the process group.
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { NATIVE_HELPER, nativeHelperPath } from '../native-helper.ts';
import { buildTreeKillCommand } from '../tree-kill.ts';
import { cgroupParent, createScriptGroup, signalQuietly, type ScriptGroup } from './cgroup.ts';
import { containedPids, processStartTicks, readProcessTable } from './process-table.ts';

export type ContainmentMethod = 'cgroup' | 'process-table' | 'process-group' | 'windows-job' | 'windows-tree';

/** The environment variable whose value names the run; inherited by everything the run starts. */
export const RUN_MARKER_VARIABLE = 'PSWM_RUN_ID';

export interface ContainmentOptions {
  /** RLIMIT_AS / memory.max in MiB; undefined or 0 = no limit. */
  maxMemoryMb?: number;
  /** Force a method (tests); default: the best this machine offers. */
  method?: ContainmentMethod;
}

export interface Containment {
  method: ContainmentMethod;
  /** The command line to spawn instead of the program's: it joins the group and sets the limit. */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** Extra environment for the run (the marker). */
  env: Record<string, string>;
  /** Whether POSIX spawn should make the child a process-group leader. */
  detached: boolean;
  /** Called once the root process is spawned. */
  started(pid: number | undefined): void;
  /** SIGTERM to every member, up to `graceMs` for them to leave, then SIGKILL until none is left. */
  terminate(graceMs: number): Promise<void>;
  /** The kernel killed a member for exceeding the memory limit (only known with a cgroup). */
  memoryExceeded(): boolean;
  /** Removes the group (call after terminate). */
  dispose(): void;
  /** The memory limit could not be applied on this machine; undefined when it was (or none). */
  memoryNotEnforced?: string;
}

const POLL_MS = 25;
const MAX_KILL_ROUNDS = 200;

/** `sh -c` prelude that moves the shell into the group and lowers RLIMIT_AS before exec'ing the
 * program, so nothing the program starts is ever outside the group or above the limit. Pure. */
export function containedCommand(command: string, args: string[], group: string | undefined, addressSpaceKiB: number | undefined): { command: string; args: string[] } {
  const prelude = [
    'if [ -n "$1" ]; then echo $$ > "$1/cgroup.procs" || exit 125; fi',
    'if [ "$2" != 0 ]; then ulimit -v "$2" || exit 125; fi',
    'shift 2',
    'exec "$@"',
  ].join('; ');
  return { command: 'sh', args: ['-c', prelude, 'pswm-run', group ?? '', String(addressSpaceKiB ?? 0), command, ...args] };
}

export function createContainment(opts: ContainmentOptions = {}): Containment {
  const method = opts.method ?? defaultMethod();
  if (method === 'windows-job') {
    const helper = nativeHelperPath();
    if (helper) return windowsJob(helper, opts);
  }
  if (method === 'windows-job' || method === 'windows-tree') return windowsTree(opts);
  if (method === 'process-group') return processGroup(opts);
  if (method === 'cgroup') {
    const parent = cgroupParent();
    if (parent) return cgroupContainment(parent, opts);
  }
  return processTable(opts);
}

function defaultMethod(): ContainmentMethod {
  if (process.platform === 'win32') return 'windows-job';
  if (process.platform !== 'linux') return 'process-group';
  return cgroupParent() ? 'cgroup' : 'process-table';
}

const memoryBytes = (mb: number | undefined) => (mb ? mb * 1024 * 1024 : undefined);

function cgroupContainment(parent: string, opts: ContainmentOptions): Containment {
  const group: ScriptGroup = createScriptGroup(parent, `pswm-run-${randomUUID()}`, memoryBytes(opts.maxMemoryMb));
  const rlimitKiB = opts.maxMemoryMb && !group.memoryLimited ? opts.maxMemoryMb * 1024 : undefined;
  return {
    method: 'cgroup',
    wrap: (command, args) => containedCommand(command, args, group.dir, rlimitKiB),
    env: {},
    detached: true,
    started() {},
    async terminate(graceMs) {
      await terminateMembers(group.pids, graceMs, () => group.killAll());
    },
    memoryExceeded: () => group.memoryExceeded(),
    dispose: () => group.remove(),
  };
}

function processTable(opts: ContainmentOptions): Containment {
  const marker = `${RUN_MARKER_VARIABLE}=${randomUUID()}`;
  let rootPid: number | undefined;
  let rootStartTicks = 0;
  const members = () => containedPids(readProcessTable(marker, rootStartTicks), rootPid).filter((pid) => pid !== process.pid);
  return {
    method: 'process-table',
    wrap: (command, args) => containedCommand(command, args, undefined, opts.maxMemoryMb ? opts.maxMemoryMb * 1024 : undefined),
    env: { [RUN_MARKER_VARIABLE]: marker.slice(RUN_MARKER_VARIABLE.length + 1) },
    detached: true,
    started(pid) {
      rootPid = pid;
      if (pid !== undefined) rootStartTicks = processStartTicks(pid);
    },
    async terminate(graceMs) {
      await terminateMembers(members, graceMs, () => {
        for (const pid of members()) signalQuietly(pid, 'SIGKILL');
      });
    },
    memoryExceeded: () => false,
    dispose() {},
  };
}

function processGroup(opts: ContainmentOptions): Containment {
  let rootPid: number | undefined;
  const signalGroup = (signal: NodeJS.Signals) => rootPid !== undefined && signalQuietly(-rootPid, signal);
  return {
    method: 'process-group',
    wrap: (command, args) => containedCommand(command, args, undefined, opts.maxMemoryMb ? opts.maxMemoryMb * 1024 : undefined),
    env: {},
    detached: true,
    started(pid) {
      rootPid = pid;
    },
    async terminate(graceMs) {
      signalGroup('SIGTERM');
      await delay(graceMs);
      signalGroup('SIGKILL');
    },
    memoryExceeded: () => false,
    dispose() {},
  };
}

/** The command line that runs `command args` inside a new Job Object (pswm-native.exe jobrun):
 * kill-on-close, and a job-wide memory limit when `maxMemoryMb` is set. Pure. */
export function jobRunCommand(helper: string, command: string, args: string[], maxMemoryMb: number | undefined): { command: string; args: string[] } {
  return { command: helper, args: ['jobrun', String(maxMemoryMb ?? 0), command, ...args] };
}

function windowsJob(helper: string, opts: ContainmentOptions): Containment {
  let rootPid: number | undefined;
  return {
    method: 'windows-job',
    wrap: (command, args) => jobRunCommand(helper, command, args, opts.maxMemoryMb),
    env: {},
    detached: false,
    started(pid) {
      rootPid = pid;
    },
    async terminate() {
      // the helper holds the only handle to the job: when it ends, Windows ends every process in
      // the job (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE), however deep or detached
      if (rootPid !== undefined) signalQuietly(rootPid, 'SIGKILL');
    },
    // the helper says so on the run's stderr; the allocation was refused rather than the process killed
    memoryExceeded: () => false,
    dispose() {},
  };
}

function windowsTree(opts: ContainmentOptions): Containment {
  let rootPid: number | undefined;
  return {
    method: 'windows-tree',
    wrap: (command, args) => ({ command, args }),
    env: {},
    // detached would open a console window on Windows
    detached: false,
    started(pid) {
      rootPid = pid;
    },
    async terminate() {
      if (rootPid === undefined) return;
      const kill = buildTreeKillCommand(rootPid);
      await new Promise<void>((resolve) => spawn(kill.command, kill.args, { stdio: 'ignore', windowsHide: true }).on('error', () => resolve()).on('close', () => resolve()));
    },
    memoryExceeded: () => false,
    dispose() {},
    ...(opts.maxMemoryMb ? { memoryNotEnforced: `max_memory_mb is not enforced: ${NATIVE_HELPER}, which makes the Job Object, is not beside the executable` } : {}),
  };
}

/** SIGTERM everyone, wait up to `graceMs` for the members to leave, then kill rounds until empty
 * (a process forking while it is being killed adds members; the rounds catch them). */
async function terminateMembers(members: () => number[], graceMs: number, killAll: () => void): Promise<void> {
  const first = members();
  if (first.length === 0) return;
  for (const pid of first) signalQuietly(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await delay(POLL_MS);
    if (members().length === 0) return;
  }
  for (let round = 0; round < MAX_KILL_ROUNDS && members().length > 0; round++) {
    killAll();
    await delay(POLL_MS);
  }
}
