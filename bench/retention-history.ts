// Simulated history for `npm run bench:retention`: one day of a fleet's reports (with their script
// runs, Chocolatey runs and drift), reconciliations and audit entries, written with set-based SQL
// (generate_series) into the real tables, timestamps spread over the day. Agents are rows of their
// own ("hist-…"), so the history needs no enrolment.
import type postgres from 'postgres';

export interface HistoryRates {
  agents: number;
  /** Per agent: one report per iteration (the agent's default interval is 1,800 s: 48 a day). */
  reportsPerDay: number;
  scriptRunsPerReport: number;
  /** Bytes of stdout per script run. */
  outputBytes: number;
  /** One Chocolatey run (with 4× the output) in about this many reports. */
  chocoEvery: number;
  driftPerReport: number;
  /** Applied commits and the folded no-op row that follows each. */
  reconciliationsPerDay: number;
  auditPerDay: number;
}

/** The tables that grow with time, in the order sizes are printed. */
export const HISTORY_TABLES = ['reports', 'script_runs', 'choco_runs', 'report_drift', 'reconciliations', 'audit_log'] as const;

const DAY_MS = 86_400_000;

export async function insertHistoryAgents(sql: postgres.Sql, count: number): Promise<void> {
  await sql`
    insert into agents (name, organization, location, public_key, status, enrolled_at)
    select 'hist-' || lpad(g::text, 6, '0'), 'history', 'simulated', 'simulated key', 'active', now()
    from generate_series(1, ${count}) g`;
}

/** Writes one day, [dayStart, dayStart + 24 h), of history. */
export async function insertHistoryDay(sql: postgres.Sql, rates: HistoryRates, dayStart: Date): Promise<void> {
  const dayEnd = new Date(dayStart.getTime() + DAY_MS);
  const slotSeconds = 86_400 / rates.reportsPerDay;
  await sql`
    insert into reports (id, agent_id, revision, document, started_at, finished_at, dry_run, has_inventory, received_at)
    select gen_random_uuid(), agent_id, 'rev-' || ${dayStart.toISOString().slice(0, 10)}, null, at - interval '40 seconds', at, false, k = 0, at
    -- random() in a select list is drawn per row (in a lateral subquery it would be drawn once per k).
    from (select a.id as agent_id, k, ${dayStart}::timestamptz + make_interval(secs => (k + random()) * ${slotSeconds}) as at
          from agents a cross join generate_series(0, ${rates.reportsPerDay - 1}) k
          where a.name like 'hist-%') slot`;
  const today = sql`r.finished_at >= ${dayStart} and r.finished_at < ${dayEnd}`;
  await sql`
    insert into script_runs (report_id, id, agent_id, script, sha256, phase, shell, exit_code, signal, timed_out,
      stdout, stderr, stdout_truncated, stderr_truncated, duration_ms, started_at)
    select r.id, gen_random_uuid(), r.agent_id, 'script-' || lpad(s::text, 4, '0'), repeat('a', 64), 'check', 'powershell', 0, null, false,
      left(repeat(md5(r.id::text || s), ${Math.ceil(rates.outputBytes / 32)}), ${rates.outputBytes}), '', false, false, 120, r.started_at
    from reports r cross join generate_series(1, ${rates.scriptRunsPerReport}) s
    where ${today}`;
  await sql`
    insert into choco_runs (report_id, id, agent_id, operation, package, version, exit_code, timed_out, output, output_truncated,
      reboot_required, duration_ms, started_at)
    select r.id, gen_random_uuid(), r.agent_id, 'upgrade', 'package-' || (random() * 40)::int, '1.2.3', 0, false,
      left(repeat(md5(r.id::text), ${Math.ceil((rates.outputBytes * 4) / 32)}), ${rates.outputBytes * 4}), false, false, 9000, r.started_at
    from reports r
    where ${today} and random() < ${1 / rates.chocoEvery}`;
  await sql`
    insert into report_drift (report_id, kind, name, status, reason)
    select r.id, 'script', 'script-' || lpad(d::text, 4, '0'), case when random() < 0.05 then 'drifted' else 'in_sync' end, null
    from reports r cross join generate_series(1, ${rates.driftPerReport}) d
    where ${today}`;
  await sql`
    insert into reconciliations (revision, author, message, trigger, status, reason, detail, added, changed, removed, duration_ms, errors, started_at, finished_at, repeats)
    select md5(${dayStart.toISOString()} || (g / 2)::text) || 'abcdefgh', 'Simulated Author', 'simulated commit', 'poll',
      case when g % 2 = 0 then 'applied' else 'no-op' end, null,
      case when g % 2 = 0 then 'applied 1 change' else 'nothing changed' end, 0, g % 2, 0, 850, '[]', at, at, case when g % 2 = 0 then 1 else 30 end
    from (select g, ${dayStart}::timestamptz + make_interval(secs => (g + random()) * ${86_400 / rates.reconciliationsPerDay}) as at
          from generate_series(0, ${rates.reconciliationsPerDay - 1}) g) slot`;
  await sql`
    insert into audit_log (at, actor, action, target, outcome, details)
    select ${dayStart}::timestamptz + make_interval(secs => random() * 86400), 'admin-token:simulated',
      (array['agent.enroll', 'reconcile.apply', 'run.create', 'console.open', 'agent.token'])[1 + (g % 5)],
      'hist-' || lpad((g % ${rates.agents} + 1)::text, 6, '0'), case when g % 50 = 0 then 'failure' else 'success' end,
      jsonb_build_object('ip', '10.0.' || (g % 250) || '.' || (g % 200), 'reason', 'simulated')
    from generate_series(1, ${rates.auditPerDay}) g`;
}

export interface TableSize { table: string; rows: number; bytes: number }

/** Rows and pg_total_relation_size (heap, TOAST and indexes) of each history table. */
export async function historySizes(sql: postgres.Sql): Promise<TableSize[]> {
  const sizes: TableSize[] = [];
  for (const table of HISTORY_TABLES) {
    const [row] = await sql<{ rows: number; bytes: number }[]>`
      select (select count(*) from ${sql(table)})::float8 as rows, pg_total_relation_size(${table}::regclass)::float8 as bytes`;
    sizes.push({ table, rows: row.rows, bytes: row.bytes });
  }
  return sizes;
}
