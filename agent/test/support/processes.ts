import { readFileSync } from 'node:fs';

/** True while `pid` is a running process. A zombie counts as gone: in a container whose PID 1
 * does not reap orphans, a killed grandchild lingers as a zombie that kill(pid, 0) still finds. */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(pid, 0) is all we have
  }
}

/** Waits (up to `limitMs`) for `pid` to be gone: a SIGKILL is delivered asynchronously, so a
 * process signalled a moment ago may still be on its way out. Returns whether it is gone. */
export async function waitForProcessGone(pid: number, limitMs = 5000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (processIsAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
