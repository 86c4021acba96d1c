// critical.log (errors and critical events: enrollment, revocation, failures) travels to the server
// with the next report, as the drift item agent/critical-log: the entries written since the last
// report, newest kept when they do not all fit. `state/critical-log-sent.json` remembers up to where
// they went, so each entry is sent once (in the report that sits in the outbox until delivered).
import path from 'node:path';
import { readCriticalEvents } from '../logs/logger.ts';
import { loadJsonFile, saveJsonFile } from '../platform/json-file.ts';
import type { WireDriftItem } from './wire.ts';

export const CRITICAL_LOG_ITEM = 'critical-log';
const REASON_LIMIT = 4096;

export type CriticalEvent = ReturnType<typeof readCriticalEvents>[number];

const markFile = (stateDir: string) => path.join(stateDir, 'critical-log-sent.json');

/** Entries newer than the last one sent. */
export async function unsentCriticalEvents(logsDir: string, stateDir: string): Promise<CriticalEvent[]> {
  const mark = await loadJsonFile<{ through?: string }>(markFile(stateDir), () => ({}), (v): v is { through?: string } => typeof v === 'object' && v !== null).catch(() => ({}) as { through?: string });
  return readCriticalEvents(logsDir).filter((event) => !mark.through || event.time > mark.through);
}

export async function markCriticalEventsSent(stateDir: string, events: readonly CriticalEvent[]): Promise<void> {
  if (events.length) await saveJsonFile(markFile(stateDir), { through: events.at(-1)!.time });
}

export function formatCriticalEvent(event: CriticalEvent): string {
  const { time, level, msg, ...fields } = event;
  const extra = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
  return `${time} ${level}: ${msg}${extra}`;
}

/** changed: new entries (in the reason, one per line); in_sync: none since the last report. */
export function criticalLogItem(events: readonly CriticalEvent[]): WireDriftItem {
  if (events.length === 0) return { kind: 'agent', name: CRITICAL_LOG_ITEM, status: 'in_sync' };
  const lines: string[] = [];
  let length = 0;
  for (const event of [...events].reverse()) {
    const line = formatCriticalEvent(event).toWellFormed().replaceAll('\0', '\uFFFD');
    if (length + line.length + 1 > REASON_LIMIT - 40) break;
    lines.unshift(line);
    length += line.length + 1;
  }
  const skipped = events.length - lines.length;
  return { kind: 'agent', name: CRITICAL_LOG_ITEM, status: 'changed', reason: `${skipped ? `(${skipped} older entries in critical.log)\n` : ''}${lines.join('\n')}` };
}
