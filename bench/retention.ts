// `npm run bench:retention [-- --agents 1000 --days 30 --rows 10000000 --seconds 60]`: bounded history.
//  A. 30 simulated days of a fleet's history (bench/retention-history.ts) written day by day into two
//     fresh databases; after each day one of them is pruned by the server's own code (pruneOnce with
//     the server's rules and batch size, the clock at the day's end) and vacuumed, as autovacuum would
//     over a day; the other keeps everything. Prints each table's rows and size in both.
//  B. One prunable table (reports) filled to --rows rows, most of them past retention, under a running
//     pswm-server with simulated agents (bench/fleet-agents.ts: enrolled by OTP, signed logins, one
//     socket each, If-None-Match polls). Desired-state poll p99 without pruning (the baseline, same
//     run) and while the server's pruning code deletes that backlog, in alternating windows.
// Databases are fresh on 127.0.0.1:5432 and dropped at the end. Prints a markdown section.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createToken } from '../server/src/auth/tokens.ts';
import { pruneOnce } from '../server/src/retention/prune.ts';
import { PRUNE_BATCH_SIZE, PRUNE_IDLE_FACTOR, PRUNE_PAUSE_MS } from '../server/src/retention/retention-loop.ts';
import { retentionRules, type RetentionConfig } from '../server/src/retention/retention-rules.ts';
import { freshDatabase, type TestDatabase } from '../server/test/support/database.ts';
import { startServerProcess } from '../server/test/support/server-process.ts';
import { appliedRevision, templateRepo, until } from '../server/test/reconcile-fixtures.ts';
import { percentile } from './fleet-stats.ts';
import { startSim, takeStats, type Sim } from './fleet-sim.ts';
import { HISTORY_TABLES, historySizes, insertHistoryAgents, insertHistoryDay, type HistoryRates, type TableSize } from './retention-history.ts';
import { createCleanups } from './cleanups.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    days: { type: 'string', default: '30' },
    'retention-days': { type: 'string', default: '7' },
    'reconciliation-retention-days': { type: 'string', default: '7' },
    'audit-retention-days': { type: 'string', default: '7' },
    'reports-per-day': { type: 'string', default: '48' },
    'script-runs': { type: 'string', default: '5' },
    'output-bytes': { type: 'string', default: '200' },
    drift: { type: 'string', default: '10' },
    rows: { type: 'string', default: '10000000' },
    'live-agents': { type: 'string', default: '1000' },
    'poll-seconds': { type: 'string', default: '10' },
    seconds: { type: 'string', default: '120' },
    rounds: { type: 'string', default: '4' },
    skip: { type: 'string' },
  },
});
const DAYS = Number(values.days);
const RATES: HistoryRates = {
  agents: Number(values.agents),
  reportsPerDay: Number(values['reports-per-day']),
  scriptRunsPerReport: Number(values['script-runs']),
  outputBytes: Number(values['output-bytes']),
  chocoEvery: 10,
  driftPerReport: Number(values.drift),
  reconciliationsPerDay: 40,
  auditPerDay: 500,
};
const RETENTION: RetentionConfig = {
  retentionDays: Number(values['retention-days']),
  reconciliationRetentionDays: Number(values['reconciliation-retention-days']),
  auditRetentionDays: Number(values['audit-retention-days']),
};
const ROWS = Number(values.rows);
const LIVE_AGENTS = Number(values['live-agents']);
const POLL_SECONDS = Number(values['poll-seconds']);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const FILL_BATCH = 500_000;
const FILL_SESSIONS = 2;
const DAY_MS = 86_400_000;

const progress = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups = createCleanups(progress);
const { hooks } = cleanups;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const count = (n: number) => Math.round(n).toLocaleString('en-US');

try {
  const loadBefore = os.loadavg();
  const lines = [
    '## Retention',
    '',
    `Command: \`npm run bench:retention -- ${process.argv.slice(2).join(' ')}\`.`,
    `Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, PostgreSQL on 127.0.0.1 (fresh databases, dropped after); load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before.`,
  ];
  const skip = new Set((values.skip ?? '').split(',').filter(Boolean));
  if (!skip.has('history')) lines.push('', ...await simulatedMonth());
  if (!skip.has('backlog')) lines.push('', ...await pruningUnderLoad());
  lines.push('', `Load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await cleanups.runAll();
}

/** Part A: the same simulated month into a pruned and an unpruned database. */
async function simulatedMonth(): Promise<string[]> {
  const pruned = await freshDatabase(hooks);
  const kept = await freshDatabase(hooks);
  const both = [pruned, kept];
  await Promise.all(both.map((db) => insertHistoryAgents(db.sql, RATES.agents)));
  const rules = retentionRules(RETENTION);
  const firstDay = Date.UTC(2026, 0, 1);
  const checkpoints: string[] = [];
  const started = performance.now();
  for (let day = 0; day < DAYS; day++) {
    const dayStart = new Date(firstDay + day * DAY_MS);
    // Both databases at once: two cores, two sessions.
    await Promise.all(both.map((db) => insertHistoryDay(db.sql, RATES, dayStart)));
    const dayEnd = new Date(dayStart.getTime() + DAY_MS);
    const deleted = await pruneOnce(pruned.sql, rules, { batchSize: PRUNE_BATCH_SIZE, pauseMs: 0, now: dayEnd });
    // Plain VACUUM (no FULL) is what autovacuum does over a day: freed space becomes reusable.
    await pruned.sql.unsafe(`vacuum ${HISTORY_TABLES.join(', ')}`);
    progress(`day ${day + 1}/${DAYS} written (${((performance.now() - started) / 1000).toFixed(0)} s); pruned ${JSON.stringify(deleted)}`);
    if ((day + 1) % 5 === 0 || day === DAYS - 1) {
      const [a, b] = await Promise.all(both.map((db) => historySizes(db.sql)));
      checkpoints.push(`| ${day + 1} | ${count(a[0].rows)} | ${mib(total(a))} | ${count(b[0].rows)} | ${mib(total(b))} |`);
    }
  }
  const [withPruning, without] = await Promise.all(both.map((db) => historySizes(db.sql)));
  const minutes = (performance.now() - started) / 60_000;
  return [
    `### A. ${DAYS} simulated days of ${count(RATES.agents)} agents`,
    '',
    `Per agent and day: ${RATES.reportsPerDay} reports (one per iteration), each with ${RATES.scriptRunsPerReport} script runs of ${RATES.outputBytes} bytes of stdout and ${RATES.driftPerReport} drift items, a Chocolatey run in 1 of ${RATES.chocoEvery}; per day ${RATES.reconciliationsPerDay} reconciliation rows (commits and their folded no-ops) and ${RATES.auditPerDay} audit entries. Written day by day with generate_series into the real tables (${minutes.toFixed(1)} min for both databases).`,
    `Retention: reports ${RETENTION.retentionDays} days, reconciliations ${RETENTION.reconciliationRetentionDays}, audit ${RETENTION.auditRetentionDays}; after each day one database is pruned by the server's pruneOnce and rules (batches of ${PRUNE_BATCH_SIZE}, clock at the day's end) and vacuumed (plain VACUUM, as autovacuum); the other is not pruned.`,
    '',
    '| table | rows, pruned | size, pruned | rows, not pruned | size, not pruned |',
    '|---|---|---|---|---|',
    ...withPruning.map((row, i) => `| ${row.table} | ${count(row.rows)} | ${mib(row.bytes)} | ${count(without[i].rows)} | ${mib(without[i].bytes)} |`),
    `| all | | ${mib(total(withPruning))} | | ${mib(total(without))} |`,
    '',
    'Over the days (sizes: all history tables, indexes and TOAST included):',
    '',
    '| day | reports, pruned | size, pruned | reports, not pruned | size, not pruned |',
    '|---|---|---|---|---|',
    ...checkpoints,
  ];
}

function total(sizes: TableSize[]): number {
  return sizes.reduce((sum, s) => sum + s.bytes, 0);
}

/** Part B: poll p99 of a running server without, then with, pruning of a large reports table. */
async function pruningUnderLoad(): Promise<string[]> {
  const db = await freshDatabase(hooks);
  const repo = await templateRepo(hooks);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-retention-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  // The server's own pruning finds nothing (retention far past the backlog): the bench runs the same
  // code when it chooses, so the baseline window is free of it.
  const server = await startServerProcess({
    dataDir,
    args: ['--policy-repo', repo.dir, '--poll-interval', '3600', '--retention-days', '36500', '--reconciliation-retention-days', '36500', '--audit-retention-days', '36500'],
    env: { DATABASE_URL: db.url, PSWM_RATE_LIMIT: '0' },
  });
  cleanups.push(() => server.stop());
  await until('the template to be applied', () => appliedRevision(db.sql).then((r) => r ?? undefined), 120_000);
  const { token: admin } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'bench-retention', actor: 'bench' }));
  const otp = await fetch(`${server.url}/api/v1/otp`, {
    method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ organization: 'contoso', location: 'paris', uses: LIVE_AGENTS, expires_in: '1d' }),
  });
  if (otp.status !== 201) throw new Error(`otp create: ${otp.status} ${await otp.text()}`);
  const { code } = (await otp.json()) as { code: string };

  const processes = Math.max(1, Math.ceil(LIVE_AGENTS / 4000));
  const sims: Sim[] = await Promise.all(Array.from({ length: processes }, () => startSim()));
  cleanups.push(() => Promise.all(sims.map((s) => s.stop())));
  progress(`enrolling ${LIVE_AGENTS} agents`);
  const settings = { pollSeconds: POLL_SECONDS, heartbeatSeconds: 60, reportEvery: 5 };
  await Promise.all(sims.map((sim, p) => sim.request({
    type: 'enrol', settings, concurrency: 8,
    agents: Array.from({ length: LIVE_AGENTS }, (_, i) => i).filter((i) => i % processes === p)
      .map((i) => ({ name: `live-${String(i).padStart(6, '0')}`, code, origin: server.url })),
  }, 'enrolled')));
  const connected = await Promise.all(sims.map((sim) => sim.request({ type: 'connect', concurrency: 100 }, 'connected')));
  const sockets = connected.reduce((n, e) => n + (e.type === 'connected' ? e.count : 0), 0);

  const retention = RETENTION.retentionDays;
  const fill = await fillReports(db, ROWS, retention);
  const rules = retentionRules(RETENTION).filter((rule) => rule.table === 'reports');

  await sleep(5000);
  await takeStats(sims);
  // The two conditions alternate in windows ordered A B B A (baseline, pruning, pruning, baseline, …):
  // a drift over the run (the load left by the fill and its vacuum settling, autovacuum, the page
  // cache) then falls on both alike instead of on whichever came second.
  const pruner = postgres(db.url, { max: 1, onnotice: () => {} });
  cleanups.push(() => pruner.end({ timeout: 5 }));
  const windowSeconds = SECONDS / ROUNDS;
  const windows: { pruning: boolean; polls: PollWindow }[] = [];
  let deleted = 0;
  let pruneSeconds = 0;
  for (let i = 0; i < 2 * ROUNDS; i++) {
    const pruningNow = i % 4 === 1 || i % 4 === 2;
    progress(`window ${i + 1} of ${2 * ROUNDS}: ${windowSeconds.toFixed(0)} s of polls ${pruningNow ? 'while the backlog is pruned' : 'without pruning'}`);
    if (!pruningNow) {
      windows.push({ pruning: false, polls: await window(sims, windowSeconds) });
      continue;
    }
    const stop = new AbortController();
    const pruneStarted = performance.now();
    const pruning = pruneOnce(pruner, rules, { batchSize: PRUNE_BATCH_SIZE, pauseMs: PRUNE_PAUSE_MS, idleFactor: PRUNE_IDLE_FACTOR, now: new Date(), signal: stop.signal });
    windows.push({ pruning: true, polls: await window(sims, windowSeconds) });
    stop.abort();
    deleted += (await pruning)?.reports ?? 0;
    pruneSeconds += (performance.now() - pruneStarted) / 1000;
  }
  const loadBaseline = pooled(windows.filter((w) => !w.pruning).map((w) => w.polls));
  const loadPruning = pooled(windows.filter((w) => w.pruning).map((w) => w.polls));
  const ratio = loadPruning.p99 / loadBaseline.p99;
  return [
    `### B. Pruning ${count(ROWS)} reports under a running server`,
    '',
    `One pswm-server (policy template), ${count(sockets)} simulated agents connected (bench/fleet-agents.ts: OTP enrolment, signed logins, one WebSocket each, If-None-Match polls every ${POLL_SECONDS} s ±10 %, heartbeats every 60 s, a report every 5 polls). reports filled to ${count(fill.rows)} rows with generate_series into the real table with its indexes (${fill.seconds.toFixed(0)} s; ${mib(fill.bytes)}), finished_at spread over the last ${2 * retention} days, so about half is past the ${retention}-day retention; the live agents' own reports are the newest and stay.`,
    `Pruning: the server's pruneOnce and reports rule with its batch size (${PRUNE_BATCH_SIZE}) and pause (at least ${PRUNE_PAUSE_MS} ms, and ${PRUNE_IDLE_FACTOR} × the batch's own time), from a connection of its own; it deleted ${count(deleted)} rows in the ${pruneSeconds.toFixed(0)} s measured (${count(deleted / pruneSeconds)} rows/s).`,
    `Windows: ${2 * ROUNDS} of ${windowSeconds.toFixed(0)} s, alternating A B B A (A without pruning, B while pruning); the rows pool each condition's windows. 304 p99 per window in order: ${windows.map((w) => `${w.pruning ? 'B' : 'A'} ${w.polls.p99.toFixed(1)}`).join(', ')} ms.`,
    '',
    '| window | polls | 304 p50 | 304 p99 | 304 max | errors | load average |',
    '|---|---|---|---|---|---|---|',
    `| without pruning (baseline) | ${count(loadBaseline.polls)} | ${loadBaseline.p50.toFixed(1)} ms | ${loadBaseline.p99.toFixed(1)} ms | ${loadBaseline.max.toFixed(1)} ms | ${loadBaseline.errors} | ${loadBaseline.load.toFixed(2)} |`,
    `| while pruning | ${count(loadPruning.polls)} | ${loadPruning.p50.toFixed(1)} ms | ${loadPruning.p99.toFixed(1)} ms | ${loadPruning.max.toFixed(1)} ms | ${loadPruning.errors} | ${loadPruning.load.toFixed(2)} |`,
    '',
    `Poll p99 while pruning / without: ${ratio.toFixed(2)} × (goal ≤ 1.20 ×: ${ratio <= 1.2 ? 'met' : 'missed'}).`,
  ];
}

/** Adds `rows` reports of the enrolled agents, finished over the last 2 × `retentionDays` days. */
async function fillReports(db: TestDatabase, rows: number, retentionDays: number): Promise<{ rows: number; seconds: number; bytes: number }> {
  const started = performance.now();
  const spanSeconds = 2 * retentionDays * 86_400;
  const batches = Array.from({ length: Math.ceil(rows / FILL_BATCH) }, (_, i) => Math.min(FILL_BATCH, rows - i * FILL_BATCH));
  let done = 0;
  // Batches in FILL_SESSIONS sessions at once: PostgreSQL runs each insert on one core.
  let next = 0;
  await Promise.all(Array.from({ length: FILL_SESSIONS }, async () => {
    while (next < batches.length) await fillBatch(batches[next++]);
  }));
  async function fillBatch(batch: number): Promise<void> {
    // Report ids are random UUIDs, as agents make them: the primary key index grows as it does in use.
    await db.sql`
      with live as (select id, row_number() over (order by id) - 1 as n, count(*) over () as agents from agents)
      insert into reports (id, agent_id, revision, document, started_at, finished_at, dry_run, has_inventory, received_at)
      select gen_random_uuid(), live.id, 'backlog', null, at - interval '40 seconds', at, false, false, at
      -- random() in a select list is drawn per row (an uncorrelated lateral subquery draws it once).
      from (select g, now() - make_interval(secs => 3600 + random() * ${spanSeconds}) as at from generate_series(1, ${batch}) g) slot
      join live on live.n = slot.g % live.agents`;
    done += batch;
    progress(`reports: ${count(done)} of ${count(rows)} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  // A table of this size in service has been vacuumed: without this, the insert-triggered autovacuum
  // of the 10 million new rows runs through the measured windows and makes both of them noise.
  progress('vacuum (analyze) reports');
  await db.sql`vacuum (analyze) reports`;
  // The fill and its vacuum leave gigabytes to write out (PostgreSQL's checkpoint, the kernel's dirty
  // pages); flushed now, that write-back does not land in whichever window happens to come next.
  progress('checkpoint and sync');
  await db.sql`checkpoint`;
  execFileSync('sync');
  const [{ n, bytes }] = await db.sql<{ n: number; bytes: number }[]>`select count(*)::float8 as n, pg_total_relation_size('reports')::float8 as bytes from reports`;
  return { rows: n, seconds: (performance.now() - started) / 1000, bytes };
}

interface PollWindow {
  polls: number[];
  p99: number;
  errors: number;
  load: number;
}

/** Polls over `seconds`: the 304 latencies the simulated agents saw, their errors, the load average. */
async function window(sims: Sim[], seconds: number): Promise<PollWindow> {
  await sleep(seconds * 1000);
  const stats = await takeStats(sims);
  const polls = stats.latencies['desired-state 304'] ?? [];
  const errors = Object.values(stats.errors).reduce((a, b) => a + b, 0);
  return { polls, p99: percentile(polls, 0.99), errors, load: os.loadavg()[0] };
}

/** One condition's windows taken together: percentiles over all their polls, the mean load. */
function pooled(windows: PollWindow[]): { polls: number; p50: number; p99: number; max: number; errors: number; load: number } {
  const polls = windows.flatMap((w) => w.polls);
  return {
    polls: polls.length, p50: percentile(polls, 0.5), p99: percentile(polls, 0.99), max: Math.max(...polls),
    errors: windows.reduce((n, w) => n + w.errors, 0), load: windows.reduce((n, w) => n + w.load, 0) / windows.length,
  };
}
