import { findExecutable } from '../platform/find-executable.ts';
import { runProcess } from '../platform/run-process.ts';

export interface GpuSample {
  name: string;
  utilization_percent?: number;
  memory_total_bytes?: number;
  memory_used_bytes?: number;
  temperature_c?: number;
}

/** The nvidia-smi query whose CSV parseNvidiaSmi reads; keep the field order in step with it. */
export const NVIDIA_SMI_ARGS = ['--query-gpu=name,utilization.gpu,memory.total,memory.used,temperature.gpu', '--format=csv,noheader,nounits'];

const MIB = 1024 * 1024;

/** Parses `nvidia-smi --query-gpu=name,utilization.gpu,memory.total,memory.used,temperature.gpu
 * --format=csv,noheader,nounits`. The four numbers are taken from the right so a name containing a
 * comma survives; "[N/A]" / "[Not Supported]" leave that field out. Memory comes in MiB. */
export function parseNvidiaSmi(output: string): GpuSample[] {
  const gpus: GpuSample[] = [];
  for (const line of output.split(/\r?\n/)) {
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 5 || !line.trim()) continue;
    const [utilization, memoryTotal, memoryUsed, temperature] = fields.slice(-4).map(numberOrUndefined);
    const name = fields.slice(0, -4).join(', ');
    if (!name) continue;
    gpus.push({
      name,
      ...(utilization !== undefined ? { utilization_percent: Math.min(100, Math.max(0, utilization)) } : {}),
      ...(memoryTotal !== undefined ? { memory_total_bytes: Math.round(memoryTotal * MIB) } : {}),
      ...(memoryUsed !== undefined ? { memory_used_bytes: Math.round(memoryUsed * MIB) } : {}),
      ...(temperature !== undefined ? { temperature_c: temperature } : {}),
    });
  }
  return gpus;
}

function numberOrUndefined(field: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(field)) return undefined;
  return Number(field);
}

/** GPUs through nvidia-smi; undefined when it is not installed or fails (no NVIDIA driver). */
export async function queryGpus(env: NodeJS.ProcessEnv = process.env): Promise<GpuSample[] | undefined> {
  const command = await findExecutable('nvidia-smi', env);
  if (!command) return undefined;
  const result = await runProcess({ command, args: NVIDIA_SMI_ARGS, cwd: process.cwd(), timeoutSeconds: 10, maxOutputBytes: 64 * 1024 });
  if (result.exitCode !== 0) return undefined;
  return parseNvidiaSmi(result.stdout);
}
