// The load generator of `npm run bench:api`, run as its own process so its CPU is not the server's:
// `node bench/api-load.ts <scenario.json>` drives one scenario with an undici Pool (keep-alive
// connections, HTTP/1.1 pipelining) and prints one JSON line with the outcome. Bounded by request
// count and by time; loopback only.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** POST bodies are built per request (fresh report ids) from this many script runs. */
  reportRuns?: number;
}

export interface Scenario {
  origin: string;
  connections: number;
  pipelining: number;
  warmupMs: number;
  durationMs: number;
  maxRequests: number;
  /** Used round robin (one per agent). */
  requests: LoadRequest[];
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  errors: number;
}

async function runScenario(scenario: Scenario): Promise<LoadResult> {
  const pool = new Pool(scenario.origin, { connections: scenario.connections, pipelining: scenario.pipelining });
  try {
    await drive(pool, scenario, scenario.warmupMs, scenario.maxRequests, () => {});
    const latencies = new Float64Array(scenario.maxRequests);
    const statuses: Record<string, number> = {};
    let count = 0;
    let errors = 0;
    const started = performance.now();
    await drive(pool, scenario, scenario.durationMs, scenario.maxRequests, (ms, status) => {
      if (status === 0) errors++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      latencies[count++] = ms;
    });
    const seconds = (performance.now() - started) / 1000;
    const sorted = latencies.subarray(0, count).sort();
    const at = (q: number) => sorted[Math.min(count - 1, Math.floor(q * count))] ?? 0;
    return { requests: count, seconds, perSecond: count / seconds, p50Ms: at(0.5), p99Ms: at(0.99), statuses, errors };
  } finally {
    await pool.close();
  }
}

/** Keeps connections × pipelining requests in flight until `durationMs` or `maxRequests`. */
async function drive(pool: Pool, scenario: Scenario, durationMs: number, maxRequests: number, record: (ms: number, status: number) => void): Promise<void> {
  const deadline = performance.now() + durationMs;
  let issued = 0;
  const worker = async () => {
    while (issued < maxRequests && performance.now() < deadline) {
      const template = scenario.requests[issued++ % scenario.requests.length];
      const body = template.reportRuns === undefined ? undefined : reportBody(template.reportRuns);
      const start = performance.now();
      try {
        const response = await pool.request({ method: template.method, path: template.path, headers: template.headers, body });
        await response.body.dump();
        record(performance.now() - start, response.statusCode);
      } catch {
        record(performance.now() - start, 0);
      }
    }
  };
  await Promise.all(Array.from({ length: scenario.connections * scenario.pipelining }, worker));
}

const SHA = 'a'.repeat(64);

/** A report of an iteration that ran `runs` scripts (check and apply), as an agent sends it. */
function reportBody(runs: number): string {
  const now = new Date().toISOString();
  const scriptRuns = [];
  for (let i = 0; i < runs; i++) {
    scriptRuns.push({
      id: randomUUID(), script: `script-${i % 50}`, sha256: SHA, phase: i % 2 ? 'apply' : 'check', exit_code: 0, timed_out: false,
      stdout: `ok ${i}\n`, stderr: '', stdout_truncated: false, stderr_truncated: false, duration_ms: 12, started_at: now,
    });
  }
  return JSON.stringify({ id: randomUUID(), started_at: now, finished_at: now, dry_run: false, script_runs: scriptRuns });
}

if (import.meta.main) {
  const scenario = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Scenario;
  process.stdout.write(`${JSON.stringify(await runScenario(scenario))}\n`);
}
