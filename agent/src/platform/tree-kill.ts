/** Windows has no process groups to signal: taskkill /T walks the tree from the shell's PID. */
export function buildTreeKillCommand(pid: number): { command: string; args: string[] } {
  return { command: 'taskkill', args: ['/T', '/F', '/PID', String(pid)] };
}
