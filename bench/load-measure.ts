// One load scenario run in a fresh load-generator process (bench/api-load.ts), with the CPU time the
// serving process spent over it: shared by bench:api and bench:console.
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, Scenario } from './api-load.ts';
import { cpuMsOf } from './fleet-stats.ts';

const LOAD = fileURLToPath(new URL('./api-load.ts', import.meta.url));

export interface Measured extends LoadResult {
  /** CPU the serving process spent over the whole run (warm-up included; scaled to the measured part). */
  serverCpuMs: number;
}

/** Runs a scenario and the serving process's CPU time over it, scaled to the measured seconds. */
export async function measureLoad(pid: number, load: Scenario): Promise<Measured> {
  const before = await cpuMsOf(pid);
  const started = performance.now();
  const result = await runLoad(load);
  const wallMs = performance.now() - started;
  const spent = (await cpuMsOf(pid)) - before;
  // The run also spent its warm-up and process start; count the share of the measured seconds only.
  return { ...result, serverCpuMs: spent * Math.min(1, (result.seconds * 1000) / wallMs) };
}

/** Runs one scenario in a fresh load-generator process. */
async function runLoad(scenario: Scenario): Promise<LoadResult> {
  const file = path.join(os.tmpdir(), `pswm-bench-load-${process.pid}-${Date.now()}.json`);
  await writeFile(file, JSON.stringify(scenario));
  try {
    const child = spawn(process.execPath, [LOAD, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (code !== 0) throw new Error(`load generator exited with ${code}`);
    return JSON.parse(output) as LoadResult;
  } finally {
    await rm(file, { force: true });
  }
}
