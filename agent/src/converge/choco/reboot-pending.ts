// A reboot a choco command asked for (exit 1641 or 3010) stays pending until the machine has
// actually restarted, not only for the report of the run that asked: the agent remembers it in
// state/reboot-pending.json with the boot time it was recorded under, and reports it as the fact
// `reboot_pending` until the boot time changes.
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadJsonFile, saveJsonFile } from '../../platform/json-file.ts';
import type { ChocoRunRecord } from './converge-choco.ts';

export interface RebootPendingRecord {
  since: string;
  reason: string;
  /** When the machine had booted when the reboot became pending. */
  boot_time: string;
}

export type RebootPendingFact = { pending: false } | ({ pending: true } & Omit<RebootPendingRecord, 'boot_time'>);

/** Boot times computed from the uptime wobble by a few seconds; a real reboot moves them by more. */
const BOOT_TIME_TOLERANCE_MS = 120_000;

export function currentBootTime(now = Date.now(), uptimeSeconds = os.uptime()): Date {
  return new Date(now - uptimeSeconds * 1000);
}

/** Has the machine restarted since the record was made? Pure. */
export function rebootedSince(record: RebootPendingRecord, bootTime: Date): boolean {
  return bootTime.getTime() > Date.parse(record.boot_time) + BOOT_TIME_TOLERANCE_MS;
}

/** The record for the choco runs of one iteration that left a reboot pending, if any. Pure. */
export function rebootPendingRecord(runs: readonly ChocoRunRecord[], now: Date, bootTime: Date): RebootPendingRecord | undefined {
  const asking = runs.filter((run) => run.rebootRequired);
  if (asking.length === 0) return undefined;
  return { since: now.toISOString(), reason: asking.map((run) => `choco ${run.operation} ${run.package} exited ${run.exitCode}`).join('; '), boot_time: bootTime.toISOString() };
}

const fileIn = (stateDir: string) => path.join(stateDir, 'reboot-pending.json');

function isRecord(value: unknown): value is RebootPendingRecord | null {
  const record = value as RebootPendingRecord | null;
  return record === null || (typeof record?.since === 'string' && typeof record.reason === 'string' && typeof record.boot_time === 'string');
}

export async function saveRebootPending(stateDir: string, record: RebootPendingRecord): Promise<void> {
  await saveJsonFile(fileIn(stateDir), record);
}

/** The fact for this boot; a record from before the last restart is removed. */
export async function rebootPendingFact(stateDir: string, bootTime = currentBootTime()): Promise<RebootPendingFact> {
  const record = await loadJsonFile(fileIn(stateDir), () => null, isRecord);
  if (!record) return { pending: false };
  if (rebootedSince(record, bootTime)) {
    await rm(fileIn(stateDir), { force: true });
    return { pending: false };
  }
  return { pending: true, since: record.since, reason: record.reason };
}
