import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

type CpuTimes = os.CpuInfo['times'];

/** Busy share of all cores between two os.cpus() samples, 0–100 with one decimal. os.cpus() gives
 * cumulative times since boot, so only the difference says anything about "now". */
export function cpuUsagePercent(before: os.CpuInfo[], after: os.CpuInfo[]): number {
  let total = 0;
  let idle = 0;
  for (let i = 0; i < Math.min(before.length, after.length); i++) {
    total += sumTimes(after[i].times) - sumTimes(before[i].times);
    idle += after[i].times.idle - before[i].times.idle;
  }
  if (total <= 0) return 0;
  const percent = (1 - idle / total) * 100;
  return Math.round(Math.min(100, Math.max(0, percent)) * 10) / 10;
}

function sumTimes(times: CpuTimes): number {
  return times.user + times.nice + times.sys + times.idle + times.irq;
}

export interface CpuSample {
  model: string;
  cores: number;
  usage_percent: number;
}

export async function sampleCpu(intervalMs: number): Promise<CpuSample> {
  const before = os.cpus();
  await delay(intervalMs);
  const after = os.cpus();
  return { model: (after[0]?.model ?? 'unknown').trim(), cores: Math.max(1, after.length), usage_percent: cpuUsagePercent(before, after) };
}
