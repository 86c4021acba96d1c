// cgroup v2 where the agent may create groups below its own: every process a script starts stays in
// the script's group whatever it does (setsid, double fork, a cleared environment), the group is
// killed as one (cgroup.kill), and memory.max caps the whole group when the memory controller is
// delegated to it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The cgroup2 mount point from /proc/self/mountinfo text (field 5 is the mount point; the
 * filesystem type follows the " - " separator). Pure. */
export function cgroup2MountPoint(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (after?.startsWith('cgroup2 ')) return unescapeMountPath(before.split(' ')[4]);
  }
  return undefined;
}

/** This process's cgroup v2 path ("0::/system.slice/pswm.service") from /proc/self/cgroup. Pure. */
export function ownCgroup2Path(procSelfCgroup: string): string | undefined {
  const line = procSelfCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line?.slice(3).trim() || undefined;
}

function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

let probed: string | null | undefined;

/** The folder below which script groups are created, or undefined when this machine offers no
 * usable cgroup v2 (none mounted, cgroup v1 only, or no right to create and join groups). Probed
 * once per agent process with a real group and a real process moved into it. */
export function cgroupParent(): string | undefined {
  if (probed === undefined) probed = probeCgroupParent() ?? null;
  return probed ?? undefined;
}

function probeCgroupParent(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const mount = cgroup2MountPoint(readFileSync('/proc/self/mountinfo', 'utf8'));
    const own = ownCgroup2Path(readFileSync('/proc/self/cgroup', 'utf8'));
    if (!mount || !own) return undefined;
    const parent = path.join(mount, own);
    const probe = path.join(parent, `pswm-probe-${process.pid}`);
    mkdirSync(probe);
    try {
      const moved = spawnSync('sh', ['-c', 'echo $$ > "$1/cgroup.procs"', 'pswm-probe', probe], { stdio: 'ignore', timeout: 5000 });
      return moved.status === 0 ? parent : undefined;
    } finally {
      removeGroup(probe);
    }
  } catch {
    return undefined;
  }
}

export interface ScriptGroup {
  dir: string;
  /** memory.max was set: the limit covers the whole group. */
  memoryLimited: boolean;
  pids(): number[];
  /** SIGKILL to every member at once. */
  killAll(): void;
  /** The kernel killed a member for exceeding memory.max. */
  memoryExceeded(): boolean;
  remove(): void;
}

/** A new empty group for one run; the run's first process moves itself in (see containment.ts). */
export function createScriptGroup(parent: string, name: string, memoryBytes: number | undefined): ScriptGroup {
  const dir = path.join(parent, name);
  mkdirSync(dir);
  let memoryLimited = false;
  if (memoryBytes !== undefined) {
    try {
      writeFileSync(path.join(dir, 'memory.max'), String(memoryBytes));
      memoryLimited = true;
      // swap would let the group grow past the limit, only slower
      writeFileSync(path.join(dir, 'memory.swap.max'), '0');
    } catch {
      // no memory controller delegated here: the caller falls back to RLIMIT_AS
    }
  }
  const pids = () => {
    try {
      return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  return {
    dir,
    memoryLimited,
    pids,
    killAll() {
      try {
        writeFileSync(path.join(dir, 'cgroup.kill'), '1');
        return;
      } catch {
        // kernels before 5.14 have no cgroup.kill: signal each member
      }
      for (const pid of pids()) signalQuietly(pid, 'SIGKILL');
    },
    memoryExceeded() {
      try {
        return /^oom_kill [1-9]/m.test(readFileSync(path.join(dir, 'memory.events'), 'utf8'));
      } catch {
        return false;
      }
    },
    remove: () => removeGroup(dir),
  };
}

function removeGroup(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // still populated by a process on its way out; the next removal attempt or a reboot clears it
  }
}

export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
