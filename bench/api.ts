// `npm run bench:api`: the agent API of a real `pswm-server` (real PostgreSQL, a fresh database, the
// policy template) under load from a separate undici process, beside a bare fastify route served by
// a third process as the baseline: authenticated 304 polls, full desired-state GETs and report
// ingestion (script_runs rows into PostgreSQL). Prints a markdown section for docs/BENCHMARKS.md ("API").
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createToken } from '../server/src/auth/tokens.ts';
import { enrolAgent } from '../server/test/desired-fixtures.ts';
import { freshDatabase } from '../server/test/support/database.ts';
import { startServerProcess } from '../server/test/support/server-process.ts';
import { appliedRevision, templateRepo, until } from '../server/test/reconcile-fixtures.ts';
import type { LoadRequest, Scenario } from './api-load.ts';
import { measureLoad, type Measured } from './load-measure.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    pipelining: { type: 'string', default: '2' },
    'report-runs': { type: 'string', default: '100' },
  },
});
const AGENTS = Number(values.agents);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const PIPELINING = Number(values.pipelining);
const REPORT_RUNS = Number(values['report-runs']);
const ROUNDS = 3;
const BASELINE = fileURLToPath(new URL('./api-baseline.ts', import.meta.url));

const progress = (line: string) => process.stderr.write(`${line}\n`);
const cleanups: Array<() => unknown> = [];
const hooks = { after: (fn: () => unknown) => void cleanups.push(fn) };

interface Agent { accessToken: string; etag: string; documentBytes: number }

try {
  const db = await freshDatabase();
  cleanups.push(() => db.drop());
  const repo = await templateRepo(hooks);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-api-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const server = await startServerProcess({ dataDir, args: ['--policy-repo', repo.dir, '--poll-interval', '3600'], env: { DATABASE_URL: db.url } });
  cleanups.push(() => server.stop());
  await until('the template to be applied', () => appliedRevision(db.sql).then((revision) => revision ?? undefined), 120_000);
  progress(`server ${server.url}: template applied; enrolling ${AGENTS} agents`);

  const { token: admin } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'bench-api', actor: 'bench' }));
  const agents: Agent[] = [];
  for (let first = 0; first < AGENTS; first += 10) {
    const batch = Array.from({ length: Math.min(10, AGENTS - first) }, (_, i) => enrolPollingAgent(server.url, admin, `bench-${first + i}`));
    agents.push(...await Promise.all(batch));
  }
  const baseline = await startBaseline();
  cleanups.push(() => baseline.stop());

  const scenario = (origin: string, requests: LoadRequest[], maxRequests = 5_000_000): Scenario => ({
    origin, connections: CONNECTIONS, pipelining: PIPELINING, warmupMs: 1000, durationMs: SECONDS * 1000, maxRequests, requests,
  });
  const poll = (agent: Agent, etag?: string): LoadRequest => ({
    method: 'GET', path: '/api/v1/agent/desired-state', headers: { authorization: `Bearer ${agent.accessToken}`, ...(etag ? { 'if-none-match': etag } : {}) },
  });

  // The bare route and the 304 poll alternate, ROUNDS times each, and the median of each is kept: the
  // machine is shared, and a neighbour's burst should not land on one side only.
  const bareRuns: Measured[] = [];
  const notModifiedRuns: Measured[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`round ${round}/${ROUNDS}: bare fastify route, then 304 polls`);
    bareRuns.push(await measureLoad(baseline.pid, scenario(baseline.url, [{ method: 'GET', path: '/bare', headers: {} }])));
    notModifiedRuns.push(await measureLoad(server.pid, scenario(server.url, agents.map((agent) => poll(agent, agent.etag)))));
  }
  const bare = medianRun(bareRuns);
  const notModified = medianRun(notModifiedRuns);
  progress('full desired-state GETs');
  const full = await measureLoad(server.pid, scenario(server.url, agents.map((agent) => poll(agent))));
  progress('reports');
  const [{ n: rowsBefore }] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from script_runs`;
  const reports = await measureLoad(server.pid, scenario(server.url, agents.map((agent) => ({
    method: 'POST', path: '/api/v1/agent/reports', headers: { authorization: `Bearer ${agent.accessToken}`, 'content-type': 'application/json' }, reportRuns: REPORT_RUNS,
  }))));
  const [{ n: rowsAfter }] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from script_runs`;
  // Warm-up reports are stored too: rows per second come from the measured reports only.
  const measuredRows = (reports.statuses['201'] ?? 0) * REPORT_RUNS;

  const ratio = notModified.perSecond / bare.perSecond;
  const rowsPerSecond = measuredRows / reports.seconds;
  const lines = [
    '## API',
    '',
    `Command: \`npm run bench:api\` (\`node bench/api.ts --agents ${AGENTS} --seconds ${SECONDS} --connections ${CONNECTIONS} --pipelining ${PIPELINING} --report-runs ${REPORT_RUNS}\`).`,
    `Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}; PostgreSQL on 127.0.0.1.`,
    '',
    `One \`pswm-server\` process (default log level info, fresh database, policy template applied, ${AGENTS} agents enrolled through the API),`,
    'a bare fastify route (constant JSON, no logging) in a second process, and the undici load generator in a third,',
    `all on this machine: ${CONNECTIONS} keep-alive connections × ${PIPELINING} pipelined requests, 1 s warm-up, then ${SECONDS} s measured per row.`,
    '',
    `The bare route and the 304 poll alternate ${ROUNDS} times; their rows show the run with the median requests/s`,
    `(all runs: bare ${bareRuns.map((r) => Math.round(r.perSecond)).join(', ')}; 304 ${notModifiedRuns.map((r) => Math.round(r.perSecond)).join(', ')}).`,
    'Server CPU per request is the serving process\'s user + system time over the measured seconds divided by the requests:',
    'unlike requests/s it does not depend on how the two cores were shared with the load generator.',
    '',
    '| scenario | requests/s | p50 | p99 | server CPU per request | answers | target |',
    '|---|---|---|---|---|---|---|',
    row('bare fastify route (`GET /bare`)', bare, ''),
    row('authenticated 304 poll (`GET /api/v1/agent/desired-state`, If-None-Match)', notModified, `≥ 50% of bare: ${(ratio * 100).toFixed(0)}% (${ratio >= 0.5 ? 'met' : 'missed'})`),
    row(`full desired-state GET (200, ${(agents[0].documentBytes / 1024).toFixed(1)} KB of JSON)`, full, ''),
    row(`report with ${REPORT_RUNS} script runs (\`POST /api/v1/agent/reports\`)`, reports, `≥ 5,000 rows/s: ${Math.round(rowsPerSecond).toLocaleString('en-US')} rows/s (${rowsPerSecond >= 5000 ? 'met' : 'missed'})`),
    '',
    `script_runs rows stored during the report row (warm-up included): ${(rowsAfter - rowsBefore).toLocaleString('en-US')}.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}

function row(label: string, result: Measured, target: string): string {
  const answers = Object.entries(result.statuses).map(([status, n]) => `${n.toLocaleString('en-US')} × ${status === '0' ? 'error' : status}`).join(', ');
  const cpu = `${Math.round((result.serverCpuMs * 1000) / result.requests)} µs`;
  return `| ${label} | ${Math.round(result.perSecond).toLocaleString('en-US')} | ${result.p50Ms.toFixed(2)} ms | ${result.p99Ms.toFixed(2)} ms | ${cpu} | ${answers} | ${target} |`;
}

function medianRun(runs: Measured[]): Measured {
  return [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)];
}

/** Enrols an agent in contoso/paris and fetches its desired state once, as an agent does. */
async function enrolPollingAgent(url: string, admin: string, name: string): Promise<Agent> {
  const { accessToken } = await enrolAgent(url, admin, name, { organization: 'contoso', location: 'paris' });
  const first = await fetch(`${url}/api/v1/agent/desired-state`, { headers: { authorization: `Bearer ${accessToken}` } });
  if (first.status !== 200) throw new Error(`desired state: ${first.status} ${await first.text()}`);
  const documentBytes = (await first.arrayBuffer()).byteLength;
  return { accessToken, etag: first.headers.get('etag')!, documentBytes };
}

async function startBaseline(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [BASELINE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the baseline server exited with ${code}`)));
  });
  return { url, pid: child.pid!, stop: async () => void (child.kill('SIGTERM'), await exited) };
}
