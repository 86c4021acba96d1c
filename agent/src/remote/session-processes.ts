// Which processes belong to a console's PTY, so closing the console leaves none behind. The shell
// leads its own session (node-pty calls setsid), but an interactive shell puts each job in a process
// group of its own and a program may start a new session: so both the PTY's session and every
// descendant of the shell are taken. Pure over a process table; the caller reads /proc.

export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Session id. */
  sid: number;
}

export function sessionMembers(table: ProcessEntry[], leader: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of table) children.set(entry.ppid, [...(children.get(entry.ppid) ?? []), entry.pid]);
  const members = new Set<number>(table.filter((entry) => entry.sid === leader).map((entry) => entry.pid));
  const seen = new Set<number>();
  const stack = [leader];
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    members.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return [...members];
}

/** One line of /proc/<pid>/stat → pid, ppid, session (the command name may hold spaces and parens). */
export function parseProcStat(text: string): ProcessEntry | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number.parseInt(text, 10);
  const fields = text.slice(close + 2).split(' ');
  // after "(comm) ": state ppid pgrp session ...
  const ppid = Number(fields[1]);
  const sid = Number(fields[3]);
  return Number.isInteger(pid) && Number.isInteger(ppid) && Number.isInteger(sid) ? { pid, ppid, sid } : undefined;
}
