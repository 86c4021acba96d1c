// The Linux process table as far as containment needs it: who is whose parent, and who carries a
// run's marker in its environment. The marker finds descendants that left the tree (their parent
// exited and they were re-parented to init) or left the process group (setsid); the parent links
// find those that cleared their environment while their parent still lives.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Carries `marker` in its environment. */
  marked: boolean;
}

/** `rootPid` (while it lives), the processes whose parent chain leads to it, every marked process
 * and the processes below those. Pure. */
export function containedPids(table: readonly ProcessEntry[], rootPid: number | undefined): number[] {
  const children = new Map<number, number[]>();
  for (const entry of table) children.set(entry.ppid, [...(children.get(entry.ppid) ?? []), entry.pid]);
  const found = new Set<number>(table.filter((entry) => entry.marked).map((entry) => entry.pid));
  const queue = rootPid === undefined ? [] : [rootPid];
  // walk from the root and from every marked process: a cleared environment below either is found too
  queue.push(...found);
  while (queue.length) {
    const pid = queue.pop()!;
    for (const child of children.get(pid) ?? []) {
      if (found.has(child)) continue;
      found.add(child);
      queue.push(child);
    }
  }
  if (rootPid !== undefined && table.some((entry) => entry.pid === rootPid)) found.add(rootPid);
  return [...found].sort((a, b) => a - b);
}

/** The live (not zombie) processes of this machine from /proc; `marker` is `NAME=value`. Only
 * processes started at or after `sinceTicks` (clock ticks after boot, as in /proc/PID/stat) can
 * belong to the run, so only their environments are read (one read per process is slow on a busy
 * machine). */
export function readProcessTable(marker: string, sinceTicks = 0, procDir = '/proc'): ProcessEntry[] {
  const needle = Buffer.from(`${marker}\0`);
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync(procDir)) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readOrUndefined(`${procDir}/${name}/stat`)?.toString('utf8');
    if (!stat) continue;
    // comm may hold spaces and parentheses: the fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') continue;
    // field 22 of stat is starttime; fields[0] here is field 3
    const environ = Number(fields[19]) >= sinceTicks ? readOrUndefined(`${procDir}/${name}/environ`) : undefined;
    const marked = environ !== undefined && (environ.subarray(0, needle.length).equals(needle) || environ.includes(Buffer.concat([Buffer.from([0]), needle])));
    entries.push({ pid: Number(name), ppid: Number(fields[1]), marked });
  }
  return entries;
}

/** When `pid` started (clock ticks after boot), or 0 when unknown. */
export function processStartTicks(pid: number, procDir = '/proc'): number {
  const stat = readOrUndefined(`${procDir}/${pid}/stat`)?.toString('utf8');
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) || 0 : 0;
}

function readOrUndefined(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined; // the process ended meanwhile, or belongs to another user
  }
}
