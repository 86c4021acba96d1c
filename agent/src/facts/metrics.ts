import os from 'node:os';
import { sampleCpu } from './cpu.ts';
import { listDisks } from './disks.ts';
import { queryGpus, type GpuSample } from './gpus.ts';

/** `metrics` of the heartbeat body (schemas/json/heartbeat.schema.json). */
export interface HeartbeatMetrics {
  cpu: { usage_percent: number; cores: number; model?: string };
  memory: { total_bytes: number; used_bytes: number };
  disks: Array<{ mount: string; total_bytes: number; used_bytes: number }>;
  gpus?: GpuSample[];
}

/** Live metrics for one heartbeat. CPU use is sampled over `cpuSampleMs`, so a call takes at least
 * that long. */
export async function collectMetrics(opts: { cpuSampleMs?: number } = {}): Promise<HeartbeatMetrics> {
  const [cpu, disks, gpus] = await Promise.all([sampleCpu(opts.cpuSampleMs ?? 250), listDisks(), queryGpus()]);
  const total = os.totalmem();
  return {
    cpu: { usage_percent: cpu.usage_percent, cores: cpu.cores, model: cpu.model.slice(0, 200) },
    memory: { total_bytes: total, used_bytes: Math.max(0, total - os.freemem()) },
    disks: disks.slice(0, 256).map(({ mount, total_bytes, used_bytes }) => ({ mount, total_bytes, used_bytes })),
    ...(gpus?.length ? { gpus: gpus.slice(0, 64) } : {}),
  };
}
