// `npm run bench:agent-backoff`: what an agent costs a server that is down.
// 1. Simulated clock, 10 minutes of outage: attempts per agent for a fleet (the real ServerBackoff
//    and the running agent's callers, bench/agent-backoff-sim.ts), and how the fleet's first calls
//    spread once the server is back, beside the same fleet without jitter.
// 2. Real time: a real `pswm agent` process, first with its server up, then with the server killed
//    (connections refused): its attempts (the "backing off" log lines) and CPU time over each window.
// Prints a markdown section for docs/BENCHMARKS.md ("Agent backoff").
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { freshDatabase } from '../server/test/support/database.ts';
import { runServerCommand, startServerProcess } from '../server/test/support/server-process.ts';
import { AGENT_SOURCES_MAIN } from './agent-idle.ts';
import { seeded, simulateOutage, type SimulationResult } from './agent-backoff-sim.ts';

const { values } = parseArgs({ options: { agents: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '60' } } });
const agents = Number(values.agents);
const windowSeconds = Number(values.seconds);

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  process.stderr.write(line + '\n');
};
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const at = (xs: number[], q: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Most first calls landing in one second, after the server came back. */
const peakPerSecond = (returnMs: number[]) => {
  const buckets = new Map<number, number>();
  for (const ms of returnMs) buckets.set(Math.floor(ms / 1000), (buckets.get(Math.floor(ms / 1000)) ?? 0) + 1);
  return Math.max(...buckets.values());
};

out('## Agent backoff');
out();
out(`Command: \`npm run bench:agent-backoff\` (\`node bench/agent-backoff.ts --agents ${agents} --seconds ${windowSeconds}\`).`);
out(`Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, Node ${process.version}, ${os.type()} ${os.release()}.`);
out();
out(`### 10 minutes of outage, simulated clock (${agents} agents, target ≤ 20 attempts each)`);
out();
out('Each agent: a report waiting in the outbox, heartbeats every 60 s, an iteration every 1800 s (first one at a random point), its WebSocket lost when the outage began; every call fails until minute 10. Attempts are calls that reach the server.');
out();
out('| backoff (`reporting.retry_base_seconds` / `retry_max_seconds`) | attempts: mean | p99 | max | target | after the outage: first calls, p50 / p99 | most in one second |');
out('|---|---|---|---|---|---|---|');
const simulate = (baseMs: number, maxMs: number, random: (agent: number) => () => number): Promise<SimulationResult> =>
  simulateOutage({ agents, outageMs: 600_000, policy: { baseMs, maxMs }, heartbeatMs: 60_000, intervalMs: 1_800_000, randomFor: random });
const row = (label: string, r: SimulationResult, target: boolean) =>
  out(`| ${label} | ${mean(r.attempts).toFixed(1)} | ${at(r.attempts, 0.99)} | ${Math.max(...r.attempts)} | ${target ? `≤ 20: ${Math.max(...r.attempts) <= 20 ? 'met' : 'missed'}` : ''} | ${(at(r.returnMs, 0.5) / 1000).toFixed(0)} s / ${(at(r.returnMs, 0.99) / 1000).toFixed(0)} s | ${peakPerSecond(r.returnMs)} of ${agents} |`);
const simStart = performance.now();
row('5 s / 900 s (the defaults)', await simulate(5000, 900_000, (i) => seeded(i + 1)), true);
row('5 s / 300 s (the demo\'s Fabrikam)', await simulate(5000, 300_000, (i) => seeded(i + 1)), true);
row('1 s / 60 s (an aggressive policy)', await simulate(1000, 60_000, (i) => seeded(i + 1)), false);
row('baseline: 5 s / 900 s without jitter (every delay at its maximum)', await simulate(5000, 900_000, () => () => 0.999999), false);
out();
out(`Simulated in ${((performance.now() - simStart) / 1000).toFixed(1)} s of real time.`);
out();

// 2. A real agent process.
const work = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-backoff-'));
const db = await freshDatabase(undefined, { migrate: false });
const serverDir = path.join(work, 'server');
const agentDir = path.join(work, 'agent');
const server = await startServerProcess({ dataDir: serverDir, env: { DATABASE_URL: db.url } });
const cpuSeconds = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
};
try {
  const adminToken = (await readFile(path.join(serverDir, 'initial-admin-token'), 'utf8')).trim();
  const created = await runServerCommand(['agent', 'create', 'bench-backoff', '--org', 'fabrikam', '--location', 'lab-linux', '--server', server.url], { PSWM_ADMIN_TOKEN: adminToken });
  const token = created.stdout.split('\n')[0].trim();
  const enroll = spawn(process.execPath, [AGENT_SOURCES_MAIN, 'enroll', '--server', server.url, '--token', token, '--data-dir', agentDir], { stdio: 'ignore' });
  if ((await new Promise((resolve) => enroll.once('close', resolve))) !== 0) throw new Error('enroll failed');
  const agent = spawn(process.execPath, [AGENT_SOURCES_MAIN, 'agent', '--data-dir', agentDir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PSWM_STATE_DIR: path.join(work, 'demo-state') } });
  let log = '';
  agent.stderr.on('data', (chunk: Buffer) => (log += chunk));
  try {
    const deadline = Date.now() + 60_000;
    while (!/"msg":"reports delivered"/.test(log)) {
      if (Date.now() > deadline) throw new Error(`the agent delivered no report:\n${log}`);
      await delay(200);
    }
    await delay(3000);
    const upCpu0 = await cpuSeconds(agent.pid!);
    await delay(windowSeconds * 1000);
    const upCpu = (await cpuSeconds(agent.pid!)) - upCpu0;

    await server.stop('SIGKILL');
    const offset = log.length;
    const downCpu0 = await cpuSeconds(agent.pid!);
    await delay(windowSeconds * 1000);
    const downCpu = (await cpuSeconds(agent.pid!)) - downCpu0;
    const attempts = (log.slice(offset).match(/"msg":"the server is not answering; backing off"/g) ?? []).length;

    out(`### A real \`pswm agent\` process, ${windowSeconds} s windows (TypeScript sources, defaults 5 s / 900 s)`);
    out();
    out('| window | failed attempts | agent CPU time | CPU share |');
    out('|---|---|---|---|');
    out(`| baseline: server up, agent idle | 0 | ${upCpu.toFixed(2)} s | ${((upCpu / windowSeconds) * 100).toFixed(2)} % |`);
    out(`| server killed (connections refused) | ${attempts} | ${downCpu.toFixed(2)} s | ${((downCpu / windowSeconds) * 100).toFixed(2)} % |`);
    out();
    out('Attempts are the agent\'s "the server is not answering; backing off" log lines: one per failed call (report, desired state, heartbeat, WebSocket).');
  } finally {
    agent.kill('SIGTERM');
  }
} finally {
  await server.stop('SIGKILL');
  await db.drop();
  await rm(work, { recursive: true, force: true });
}
process.stdout.write(lines.join('\n') + '\n');
