// `npm run bench:report-writes`: what storing one agent report costs PostgreSQL — time, rows
// written and WAL bytes — for the report bench:fleet's simulators send (every fact, two script runs,
// ten drift items; storeReport, the server's own statement, on real PostgreSQL, a fresh database).
// The first round is every agent's first report; the next rounds repeat it with only the uptime
// moved, as agents do. Baseline in the same run: the report row alone (the least a report can write).
// Prints a markdown section for docs/BENCHMARKS.md ("Report writes").
import os from 'node:os';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { storeReport } from '../server/src/reports/store-report.ts';
import { SERVER_OUTPUT_CAPS } from '../server/src/reports/output-caps.ts';
import { freshDatabase } from '../server/test/support/database.ts';
import type { Report } from '../schemas/src/agent-wire.ts';
import { simulatedReport } from './fleet-report.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
  },
});
const AGENTS = Number(values.agents);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const progress = (line: string) => process.stderr.write(`${line}\n`);

interface Measured { reports: number; seconds: number; rowWrites: number; walBytes: number }

const db = await freshDatabase();
try {
  const sql = db.sql;
  const agents = await sql<Array<{ id: string; name: string }>>`
    insert into agents (name, organization, location, status, public_key)
    select 'bench-' || i, 'o', 'l', 'active', 'k' from generate_series(1, ${AGENTS}) as i
    returning id, name`;
  progress(`${AGENTS} agents; ${ROUNDS} rounds of one report each, ${CONCURRENCY} at a time`);

  const rounds: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const finishedAt = new Date(Date.UTC(2026, 0, 1, 0, round)).toISOString();
    rounds.push(await measure(agents, (pool, agent) => storeReport(pool, agent.id, simulatedReport(agent.name, undefined, finishedAt) as unknown as Report, SERVER_OUTPUT_CAPS)));
    progress(`round ${round + 1}: ${describe(rounds.at(-1)!)}`);
  }
  const baseline = await measure(agents, (pool, agent) => pool`
    insert into reports (id, agent_id, started_at, finished_at, dry_run, has_inventory)
    values (gen_random_uuid(), ${agent.id}, now(), now(), false, false)`);
  progress(`baseline: ${describe(baseline)}`);
  printMarkdown(rounds, baseline);
} finally {
  await db.drop();
}

/** Each measurement on a pool of its own, ended after it: a backend flushes its statistics when it
 * exits (while it lives, up to 10 s later). */
async function measure<T>(agents: Array<{ id: string; name: string }>, store: (pool: postgres.Sql, agent: { id: string; name: string }) => Promise<T>): Promise<Measured> {
  const before = await counters(db.sql);
  const pool = postgres(db.url, { max: CONCURRENCY, onnotice: () => {} });
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < agents.length) await store(pool, agents[next++]);
  }));
  const seconds = (performance.now() - started) / 1000;
  await pool.end();
  const after = await counters(db.sql);
  return { reports: agents.length, seconds, rowWrites: after.rowWrites - before.rowWrites, walBytes: Number(after.lsn - before.lsn) };
}

/** Rows inserted or updated in this database so far, and the WAL position. */
async function counters(sql: postgres.Sql): Promise<{ rowWrites: number; lsn: bigint }> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  await sql`select pg_stat_clear_snapshot()`;
  const [row] = await sql<Array<{ writes: string; lsn: string }>>`
    select coalesce(sum(n_tup_ins + n_tup_upd), 0)::text as writes, (pg_current_wal_lsn() - '0/0'::pg_lsn)::text as lsn
    from pg_stat_user_tables`;
  return { rowWrites: Number(row.writes), lsn: BigInt(row.lsn.split('.')[0]) };
}

function describe(m: Measured): string {
  return `${(m.reports / m.seconds).toFixed(0)} reports/s, ${(m.rowWrites / m.reports).toFixed(1)} row writes and ${(m.walBytes / m.reports / 1024).toFixed(1)} KiB of WAL per report`;
}

function printMarkdown(rounds: Measured[], baseline: Measured): void {
  const row = (what: string, m: Measured) => `| ${what} | ${(m.reports / m.seconds).toFixed(0)} | ${(1000 * m.seconds / m.reports * CONCURRENCY).toFixed(2)} ms | ${(m.rowWrites / m.reports).toFixed(1)} | ${(m.walBytes / m.reports / 1024).toFixed(1)} KiB |`;
  const lines = [
    `## Report writes (bench:report-writes)`,
    '',
    `\`npm run bench:report-writes -- --agents ${AGENTS} --rounds ${ROUNDS} --concurrency ${CONCURRENCY}\` on ${os.cpus()[0].model.trim()} (${os.cpus().length} cores), PostgreSQL on 127.0.0.1, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| what is stored | reports/s | time per report (each of the concurrent writers) | row writes per report | WAL per report |',
    '|---|---|---|---|---|',
    ...rounds.map((m, i) => row(i === 0 ? 'first report of each agent' : `report ${i + 1} of each agent (only the uptime moved)`, m)),
    row('baseline: the report row alone', baseline),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
