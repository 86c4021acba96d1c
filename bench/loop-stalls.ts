// Preloaded into the benchmarked servers by `npm run bench:fleet` (`--import`), never shipped: it
// records each event-loop stall of 20 ms or more with how much of it the server's main thread was on
// a CPU. The fleet bench runs servers, simulators and PostgreSQL on one small machine, and a stall
// is either the server's own work (on CPU) or the server waiting for a core the others hold; only
// the first is the server's to fix. prom-client's lag metric cannot tell them apart.
//
// One JSON line per stall in $PSWM_BENCH_STALLS_DIR/<pid>.jsonl: { at (epoch ms, the stall's end),
// wallMs, cpuMs } (fleet-stats.ts reads them).
import { appendFileSync } from 'node:fs';
import path from 'node:path';

const TICK_MS = 10;
const RECORD_FROM_MS = 20;
const dir = process.env.PSWM_BENCH_STALLS_DIR;

if (dir) {
  const file = path.join(dir, `${process.pid}.jsonl`);
  let last = performance.now();
  let lastCpu = process.threadCpuUsage();
  setInterval(() => {
    const now = performance.now();
    const cpu = process.threadCpuUsage();
    const wallMs = now - last - TICK_MS;
    if (wallMs >= RECORD_FROM_MS) {
      const cpuMs = (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000;
      appendFileSync(file, `${JSON.stringify({ at: Date.now(), wallMs: Math.round(wallMs), cpuMs: Math.round(cpuMs) })}\n`);
    }
    last = now;
    lastCpu = cpu;
  }, TICK_MS).unref();
}
