// Critical events in the Windows Event Log (Application log, source "pswm"), where Windows
// administrators and their monitoring look first. eventcreate.exe ships with every Windows since XP
// and needs no module or PowerShell; it accepts event ids 1-1000 and registers the source on first
// use. Elsewhere, or if it fails, the agent's own critical.log still has the line.
import { runProcess } from '../platform/run-process.ts';

export const EVENT_SOURCE = 'pswm';
const EVENT_ID = '100';

export function eventCreateArgs(message: string, type: 'ERROR' | 'WARNING' | 'INFORMATION'): string[] {
  // eventcreate limits the description; keep the start, which names the event
  return ['/L', 'APPLICATION', '/T', type, '/SO', EVENT_SOURCE, '/ID', EVENT_ID, '/D', message.slice(0, 1000)];
}

export async function writeEventLog(message: string, type: 'ERROR' | 'WARNING' | 'INFORMATION'): Promise<boolean> {
  if (process.platform !== 'win32') return false;
  const result = await runProcess({ command: 'eventcreate.exe', args: eventCreateArgs(message, type), cwd: process.cwd(), timeoutSeconds: 30, maxOutputBytes: 4096 }).catch(() => undefined);
  return result?.exitCode === 0;
}
