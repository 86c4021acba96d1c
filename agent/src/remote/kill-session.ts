// Ends every process of a console's PTY: on Linux the members of its session and the shell's
// descendants (session-processes.ts) get SIGKILL; on Windows taskkill /T walks the tree.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { buildTreeKillCommand } from '../platform/tree-kill.ts';
import { parseProcStat, sessionMembers, type ProcessEntry } from './session-processes.ts';

export async function killSession(leader: number): Promise<void> {
  if (process.platform === 'win32') {
    const { command, args } = buildTreeKillCommand(leader);
    await new Promise<void>((resolve) => spawn(command, args, { stdio: 'ignore', windowsHide: true }).once('close', () => resolve()).once('error', () => resolve()));
    return;
  }
  const table = await readProcessTable();
  const members = table.length ? sessionMembers(table, leader) : [leader];
  for (const pid of members) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function readProcessTable(): Promise<ProcessEntry[]> {
  let names: string[];
  try {
    names = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return []; // no /proc (macOS): the process group is all we can reach
  }
  const entries = await Promise.all(names.map((name) => readFile(`/proc/${name}/stat`, 'utf8').then(parseProcStat, () => undefined)));
  return entries.filter((entry): entry is ProcessEntry => entry !== undefined);
}
