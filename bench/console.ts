// `npm run bench:console`: the web console of a real `pswm-server` (real PostgreSQL, fresh database,
// the policy template applied).
//   1. Server-side render time of the overview with 10,000 agents seeded (reports over 14 days, drift,
//      heartbeats), beside the login page (an Astro render with no data) and the API calls the
//      overview makes, measured in the same run.
//   2. Agent 304 polls with no console open and with 200 open consoles (live event streams) while
//      agents send heartbeats, alternating, from a separate load-generator process.
// Prints a markdown section for docs/BENCHMARKS.md ("Console").
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { createToken } from '../server/src/auth/tokens.ts';
import { freshDatabase } from '../server/test/support/database.ts';
import { enrolAgent } from '../server/test/support/agent-identity.ts';
import { startServerProcess } from '../server/test/support/server-process.ts';
import { appliedRevision, templateRepo, until } from '../server/test/reconcile-fixtures.ts';
import { percentile } from './fleet-stats.ts';
import { measureLoad, type Measured } from './load-measure.ts';
import { seedFleet } from './console-seed.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '10000' },
    renders: { type: 'string', default: '30' },
    consoles: { type: 'string', default: '200' },
    pollers: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
  },
});
const AGENTS = Number(values.agents);
const RENDERS = Number(values.renders);
const CONSOLES = Number(values.consoles);
const POLLERS = Number(values.pollers);
const SECONDS = Number(values.seconds);
const ROUNDS = 3;
const HEARTBEATS_PER_SECOND = 20;

const progress = (line: string) => process.stderr.write(`${line}\n`);
const cleanups: Array<() => unknown> = [];
const hooks = { after: (fn: () => unknown) => void cleanups.push(fn) };

try {
  const db = await freshDatabase();
  cleanups.push(() => db.drop());
  const repo = await templateRepo(hooks);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-console-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const server = await startServerProcess({ dataDir, args: ['--policy-repo', repo.dir, '--poll-interval', '3600'], env: { DATABASE_URL: db.url } });
  cleanups.push(() => server.stop());
  await until('the template to be applied', () => appliedRevision(db.sql).then((revision) => revision ?? undefined), 120_000);
  const { token: admin } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'bench-console', actor: 'bench' }));
  const { token: viewer } = await db.sql.begin((tx) => createToken(tx, { role: 'viewer', name: 'bench-console-viewer', actor: 'bench' }));
  const cookie = await login(server.url, viewer);

  progress(`seeding ${AGENTS} agents`);
  const seeded = await seedFleet(db.sql, AGENTS);
  await db.sql`analyze`;

  progress(`rendering: ${RENDERS} times each`);
  const pages = [
    ['login page (Astro render, no data)', '/login'],
    ['`GET /api/v1/fleet/overview` (state counts, attention cards)', '/api/v1/fleet/overview'],
    ['**overview page `/`** (the above, revision, last reconcile; rendered)', '/'],
    ['rollout chart `/charts/rollout.svg` (an image of the overview)', '/charts/rollout.svg'],
    ['compliance chart `/charts/compliance.svg` (an image of the overview, 14 days)', '/charts/compliance.svg'],
    ['agents page `/agents` (first 50 of the list)', '/agents'],
  ] as const;
  const renderRows: string[] = [];
  let overviewP50 = Number.NaN;
  for (const [label, url] of pages) {
    const times = await timeGets(server.url, url, cookie, RENDERS);
    const p50 = percentile(times, 0.5);
    if (url === '/') overviewP50 = p50;
    renderRows.push(`| ${label} | ${p50.toFixed(0)} ms | ${percentile(times, 0.95).toFixed(0)} ms | ${Math.max(...times).toFixed(0)} ms |`);
  }

  progress(`enrolling ${POLLERS} polling agents`);
  const pollers = await Promise.all(Array.from({ length: POLLERS }, (_, i) => pollingAgent(server.url, admin, `poller-${i}`)));
  const heartbeats = startHeartbeats(server.url, pollers.map((p) => p.accessToken));
  cleanups.push(() => heartbeats.stop());
  const scenario = {
    origin: server.url, connections: 16, pipelining: 1, warmupMs: 1000, durationMs: SECONDS * 1000, maxRequests: 5_000_000,
    requests: pollers.map((p) => ({ method: 'GET' as const, path: '/api/v1/agent/desired-state', headers: { authorization: `Bearer ${p.accessToken}`, 'if-none-match': p.etag } })),
  };
  const without: Measured[] = [];
  const withConsoles: Measured[] = [];
  let eventsReceived = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`round ${round}/${ROUNDS}: polls with no console, then with ${CONSOLES} consoles open`);
    without.push(await measureLoad(server.pid, scenario));
    const streams = await openConsoles(server.url, cookie, CONSOLES);
    try {
      withConsoles.push(await measureLoad(server.pid, scenario));
    } finally {
      eventsReceived += streams.close();
    }
  }
  heartbeats.stop();

  const median = (runs: Measured[]) => [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)];
  const pollRow = (label: string, runs: Measured[]) => {
    const m = median(runs);
    return `| ${label} | ${Math.round(m.perSecond).toLocaleString('en-US')} (${runs.map((r) => Math.round(r.perSecond)).join(', ')}) | ${m.p50Ms.toFixed(2)} ms | ${m.p99Ms.toFixed(2)} ms | ${Math.round((m.serverCpuMs * 1000) / m.requests)} µs |`;
  };
  const spread = (runs: Measured[]) => (Math.max(...runs.map((r) => r.perSecond)) - Math.min(...runs.map((r) => r.perSecond))) / median(runs).perSecond;
  const change = median(withConsoles).perSecond / median(without).perSecond - 1;
  const lines = [
    '## Console',
    '',
    `Command: \`npm run bench:console\` (\`node bench/console.ts --agents ${AGENTS} --renders ${RENDERS} --consoles ${CONSOLES} --pollers ${POLLERS} --seconds ${SECONDS}\`).`,
    `Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}; PostgreSQL on 127.0.0.1.`,
    '',
    `### Overview of ${AGENTS.toLocaleString('en-US')} agents, rendered on the server`,
    '',
    `One \`pswm-server\` process, fresh database, policy template applied, ${seeded.agents.toLocaleString('en-US')} agents seeded in SQL`,
    `(${seeded.reports.toLocaleString('en-US')} reports over 14 days, ${seeded.driftRows.toLocaleString('en-US')} drift rows, a heartbeat each).`,
    `Each row: ${RENDERS} sequential GETs with a viewer session cookie after one warm-up, time to the last byte on loopback.`,
    'The login page is the baseline: an Astro render with no data. The overview\'s two charts are SVG images the browser',
    'fetches after the page (they work without JavaScript), so they are timed on their own rows.',
    '',
    '| request | p50 | p95 | max |',
    '|---|---|---|---|',
    ...renderRows,
    '',
    `Target ≤ 300 ms for the overview page: p50 ${overviewP50.toFixed(0)} ms (${overviewP50 <= 300 ? 'met' : 'missed'}).`,
    '',
    `### Agent polls with ${CONSOLES} consoles open`,
    '',
    `${POLLERS} enrolled agents poll \`GET /api/v1/agent/desired-state\` with If-None-Match (304) from a separate undici process (16 connections,`,
    `1 s warm-up, ${SECONDS} s measured) while ${HEARTBEATS_PER_SECOND} heartbeats/s arrive, first with no console open, then with ${CONSOLES} open`,
    `event streams (\`GET /api/v1/fleet/events\`, each a console's live view) reading every event; ${ROUNDS} rounds alternating, median shown,`,
    `all runs in parentheses. The streams received ${eventsReceived.toLocaleString('en-US')} events in all.`,
    '',
    '| scenario | 304 polls/s | p50 | p99 | server CPU per poll |',
    '|---|---|---|---|---|',
    pollRow('no console open (baseline)', without),
    pollRow(`${CONSOLES} consoles open`, withConsoles),
    '',
    `With the consoles open, polls/s changed by ${(change * 100).toFixed(1)} %; the rounds of the baseline alone spread over ${(spread(without) * 100).toFixed(1)} %.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}

async function login(url: string, token: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  if (!response.ok) throw new Error(`login: ${response.status} ${await response.text()}`);
  return /pswm_session=[^;]+/.exec(response.headers.get('set-cookie') ?? '')![0];
}

async function timeGets(url: string, target: string, cookie: string, times: number): Promise<number[]> {
  const get = async () => {
    const started = performance.now();
    const response = await request(`${url}${target}`, { headers: { cookie } });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`GET ${target}: ${response.statusCode}`);
    return performance.now() - started;
  };
  await get();
  const samples: number[] = [];
  for (let i = 0; i < times; i++) samples.push(await get());
  return samples;
}

async function pollingAgent(url: string, admin: string, name: string): Promise<{ accessToken: string; etag: string }> {
  const { accessToken } = await enrolAgent(url, admin, name, { organization: 'contoso', location: 'paris' });
  const first = await fetch(`${url}/api/v1/agent/desired-state`, { headers: { authorization: `Bearer ${accessToken}` } });
  if (first.status !== 200) throw new Error(`desired state: ${first.status}`);
  await first.arrayBuffer();
  return { accessToken, etag: first.headers.get('etag')! };
}

/** Heartbeats from the polling agents, round robin, at a steady rate: the activity consoles show. */
function startHeartbeats(url: string, tokens: string[]): { stop(): void } {
  let next = 0;
  const timer = setInterval(() => {
    const token = tokens[next++ % tokens.length];
    const body = { at: new Date().toISOString(), metrics: { cpu: { usage_percent: 12.5, cores: 4 }, memory: { total_bytes: 8e9, used_bytes: 3e9 }, disks: [{ mount: '/', total_bytes: 1e11, used_bytes: 5e10 }] } };
    void fetch(`${url}/api/v1/agent/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then((r) => r.arrayBuffer()).catch(() => {});
  }, 1000 / HEARTBEATS_PER_SECOND);
  return { stop: () => clearInterval(timer) };
}

/** `count` open event streams reading everything they are sent; close() returns how many events arrived. */
async function openConsoles(url: string, cookie: string, count: number): Promise<{ close(): number }> {
  const controller = new AbortController();
  let events = 0;
  await Promise.all(Array.from({ length: count }, async () => {
    const response = await request(`${url}/api/v1/fleet/events`, { headers: { cookie }, signal: controller.signal });
    if (response.statusCode !== 200) throw new Error(`events: ${response.statusCode}`);
    response.body.on('data', (chunk: Buffer) => { events += chunk.toString().split('\nevent: ').length - 1 + (chunk.toString().startsWith('event: ') ? 1 : 0); });
    response.body.on('error', () => {});
  }));
  return { close: () => (controller.abort(), events) };
}
