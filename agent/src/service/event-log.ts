// Critical events in the Windows Event Log (Application log, source "pswm"), where Windows
// administrators and their monitoring look first: enrollment, revocation, an identity in use on
// another machine, self-update steps.
// eventcreate.exe ships with every Windows since XP and needs no module or PowerShell; it accepts
// event ids 1-1000 and registers the source (with a message file that shows the text as is) on
// first use, which ReportEvent from pswm-native.exe would have to do by hand in the registry. Elsewhere,
// or if it fails, the agent's own critical.log still has the line.
import type { Logger, LogFields } from '../logs/logger.ts';
import { runProcess } from '../platform/run-process.ts';

export const EVENT_SOURCE = 'pswm';
const EVENT_ID = '100';
export type EventType = 'ERROR' | 'WARNING' | 'INFORMATION';

export function eventCreateArgs(message: string, type: EventType): string[] {
  // eventcreate limits the description; keep the start, which names the event
  return ['/L', 'APPLICATION', '/T', type, '/SO', EVENT_SOURCE, '/ID', EVENT_ID, '/D', message.slice(0, 1000)];
}

export async function writeEventLog(message: string, type: EventType, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  if (platform !== 'win32') return false;
  const result = await runProcess({ command: 'eventcreate.exe', args: eventCreateArgs(message, type), cwd: process.cwd(), timeoutSeconds: 30, maxOutputBytes: 4096 }).catch(() => undefined);
  return result?.exitCode === 0;
}

/** The one way a critical event is recorded: agent.log and critical.log through `log`, and the
 * Windows Event Log. `summary` is the Event Log's text (the fields are in the agent's own logs). */
export async function recordCriticalEvent(log: Pick<Logger, 'critical'>, msg: string, opts: { fields?: LogFields; summary?: string; type?: EventType; platform?: NodeJS.Platform } = {}): Promise<void> {
  log.critical(msg, opts.fields);
  await writeEventLog(opts.summary ?? msg, opts.type ?? 'ERROR', opts.platform);
}

/** Logged (and in the Event Log) when the server answers that this agent is revoked. */
export const REVOKED_MESSAGE = 'this agent has been revoked by the server; stopping';
