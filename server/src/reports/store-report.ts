// Stores one report atomically, exactly once per report id: the report row is inserted with
// `on conflict do nothing`, and its runs, drift, facts and inventory are written only when that
// insert happened. A re-send writes nothing; the same id from another agent is refused.
import type postgres from 'postgres';
import { apiError } from '../api/errors.ts';
import type { OutputCaps } from './output-caps.ts';
import { truncateUtf8 } from './stored-text.ts';
import { withoutTrustedFacts } from '../agents/trusted-facts.ts';
import type { Report } from '../../../schemas/src/agent-wire.ts';

export type StoreOutcome = { stored: true; duplicate: false } | { stored: false; duplicate: true };

export interface StoreResult {
  outcome: StoreOutcome;
  /** The fact keys whose stored value this report changed (a key new to the agent included). */
  changedFacts: string[];
}

export async function storeReport(sql: postgres.Sql, agentId: string, report: Report, caps: OutputCaps): Promise<StoreResult> {
  const rows = reportRows(report, caps);
  try {
    return await storeOnce(sql, agentId, report, rows, false);
  } catch (error) {
    if (!overlapped(error)) throw error;
  }
  // Another report of this agent was stored at the same moment (an outbox re-send beside a new
  // report): again, holding the agent's mark row first, so the statement's snapshot includes it.
  return storeOnce(sql, agentId, report, rows, true);
}

async function storeOnce(sql: postgres.Sql, agentId: string, report: Report, rows: ReportRows, inTurn: boolean): Promise<StoreResult> {
  if (!report.choco_packages && !inTurn) return resultOf(sql, agentId, report, await insertReport(sql, agentId, report, rows));
  // The inventory replaces a set under a per-agent lock: the report and its inventory commit together.
  return sql.begin(async (tx) => {
    if (inTurn) await tx`select 1 from agent_report_marks where agent_id = ${agentId} for update`;
    const inserted = await insertReport(tx, agentId, report, rows);
    if (inserted.stored && report.choco_packages) await storeInventory(tx, agentId, report);
    return resultOf(tx, agentId, report, inserted);
  });
}

/** serialization_failure from pswm_report_overlapped, or a deadlock between two reports' row locks. */
function overlapped(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '40001' || code === '40P01';
}

async function resultOf(sql: postgres.Sql | postgres.TransactionSql, agentId: string, report: Report, inserted: Inserted): Promise<StoreResult> {
  if (!inserted.stored) return { outcome: await duplicateOf(sql, report.id, agentId), changedFacts: [] };
  return { outcome: { stored: true, duplicate: false }, changedFacts: inserted.changedFacts };
}

interface Inserted {
  stored: boolean;
  changedFacts: string[];
}

/**
 * The report row and everything it carries but the inventory, in one statement: one round trip, and
 * no BEGIN and COMMIT of its own (at 15,000 agents, 50 reports a second had cost four round trips
 * each). Every part selects from `inserted`, so a re-sent report (its id taken) writes nothing. The
 * text is the same for every report (empty lists are empty JSON arrays), so it is prepared once per
 * connection. Only the facts and drift items that changed are written, in key order (two reports of
 * one agent at once lock their rows in the same order); agent_report_marks says that the others were
 * reported again. A late re-send of an older report (finished earlier) changes none of the agent's
 * latest rows. Two reports of one agent stored at the same moment would each compare with the rows
 * as they were before both (the older could then write a value the newer one repeated): the later
 * to update the agent's mark row finds it moved since its snapshot and the statement fails with
 * serialization_failure (migration 105), to be stored again in the agent's turn.
 */
async function insertReport(sql: postgres.Sql | postgres.TransactionSql, agentId: string, report: Report, rows: ReportRows): Promise<Inserted> {
  const [inserted] = await sql<Array<{ stored: boolean; changed_facts: string[] }>>`
    with inserted as (
      insert into reports (id, agent_id, revision, document, started_at, finished_at, dry_run, has_inventory)
      values (${report.id}, ${agentId}, ${report.revision ?? null}, ${report.document ?? null},
              ${report.started_at}, ${report.finished_at}, ${report.dry_run}, ${report.choco_packages !== undefined})
      on conflict (id) do nothing
      returning id, agent_id, revision, document, finished_at, dry_run
    ), applied as (
      insert into agent_applied_reports as applied (agent_id, report_id, revision, document, finished_at)
      select agent_id, id, revision, document, finished_at from inserted where not dry_run
      on conflict (agent_id) do update
        set report_id = excluded.report_id, revision = excluded.revision, document = excluded.document, finished_at = excluded.finished_at
        where excluded.finished_at >= applied.finished_at
    ), scripts as (
      insert into script_runs (report_id, id, agent_id, script, sha256, phase, shell, exit_code, signal, timed_out,
                               stdout, stderr, stdout_truncated, stderr_truncated, duration_ms, started_at)
      select i.id, r.id, i.agent_id, r.script, r.sha256, r.phase, r.shell, r.exit_code, r.signal, r.timed_out,
             r.stdout, r.stderr, r.stdout_truncated, r.stderr_truncated, r.duration_ms, r.started_at
      from inserted i, jsonb_to_recordset(${sql.json(rows.scriptRuns)}) as r (
        id uuid, script text, sha256 text, phase text, shell text, exit_code bigint, signal text, timed_out boolean,
        stdout text, stderr text, stdout_truncated boolean, stderr_truncated boolean, duration_ms integer, started_at timestamptz)
    ), chocos as (
      insert into choco_runs (report_id, id, agent_id, operation, package, version, exit_code, timed_out, output,
                              output_truncated, reboot_required, duration_ms, started_at)
      select i.id, r.id, i.agent_id, r.operation, r.package, r.version, r.exit_code, r.timed_out, r.output,
             r.output_truncated, r.reboot_required, r.duration_ms, r.started_at
      from inserted i, jsonb_to_recordset(${sql.json(rows.chocoRuns)}) as r (
        id uuid, operation text, package text, version text, exit_code bigint, timed_out boolean, output text,
        output_truncated boolean, reboot_required boolean, duration_ms integer, started_at timestamptz)
    ), mark_before as (
      select facts_at, fact_keys, drift_report_id, drift_at, drift_keys, writes from agent_report_marks where agent_id = ${agentId}
    ), drift as (
      select d.* from jsonb_to_recordset(${sql.json(rows.drift)}) as d (kind text, name text, status text, reason text)
    ), drift_history as (
      insert into report_drift (report_id, kind, name, status, reason)
      select i.id, d.kind, d.name, d.status, d.reason from inserted i, drift d
    ), drift_latest as (
      -- only the items whose status, reason or revision changed (agent_report_marks says the rest
      -- were reported again); a report older than the newest drift changes none of its items
      insert into agent_drift as latest (agent_id, kind, name, status, reason, revision, report_id, reported_at)
      select i.agent_id, d.kind, d.name, d.status, d.reason, i.revision, i.id, i.finished_at
      from inserted i cross join drift d
      left join agent_drift stored on stored.agent_id = ${agentId} and stored.kind = d.kind and stored.name = d.name
      where (stored.status, stored.reason, stored.revision) is distinct from (d.status, d.reason, i.revision)
        and not exists (select 1 from mark_before m where m.drift_at > i.finished_at and d.kind || ':' || d.name = any(m.drift_keys))
      order by d.kind, d.name
      on conflict (agent_id, kind, name) do update
        set status = excluded.status, reason = excluded.reason, revision = excluded.revision,
            report_id = excluded.report_id, reported_at = excluded.reported_at
        where latest.reported_at <= excluded.reported_at
    ), drift_left_out as (
      -- items the previous newest drift carried and this newer one does not: their rows take the
      -- mark's report before it moves on
      update agent_drift item set report_id = m.drift_report_id, reported_at = m.drift_at
      from mark_before m, inserted i
      where item.agent_id = ${agentId} and ${rows.hasDrift} and i.finished_at >= m.drift_at and item.reported_at < m.drift_at
        and item.kind || ':' || item.name = any(m.drift_keys)
        and not exists (select 1 from drift d where d.kind = item.kind and d.name = item.name)
    ), incoming_facts as (
      select f.key, f.value from jsonb_each(${sql.json(rows.facts)}) as f (key, value)
    ), facts as (
      -- only the keys whose value changed (the statement's snapshot is the values before it); a
      -- report older than the newest facts changes none of their keys
      insert into agent_facts as fact (agent_id, fact_key, value, reported_at)
      select i.agent_id, f.key, f.value, i.finished_at
      from inserted i cross join incoming_facts f
      left join agent_facts stored on stored.agent_id = ${agentId} and stored.fact_key = f.key
      where stored.value is distinct from f.value
        and not exists (select 1 from mark_before m where m.facts_at > i.finished_at and f.key = any(m.fact_keys))
      order by f.key
      on conflict (agent_id, fact_key) do update
        set value = excluded.value, reported_at = excluded.reported_at, updated_at = now()
        where fact.reported_at <= excluded.reported_at
      returning fact_key
    ), facts_left_out as (
      update agent_facts fact set reported_at = m.facts_at
      from mark_before m, inserted i
      where fact.agent_id = ${agentId} and ${rows.hasFacts} and i.finished_at >= m.facts_at and fact.reported_at < m.facts_at
        and fact.fact_key = any(m.fact_keys) and fact.fact_key not in (select key from incoming_facts)
    ), marked as (
      -- a part the report does not carry keeps its mark; an older report moves neither
      insert into agent_report_marks as mark (agent_id, facts_at, fact_keys, drift_report_id, drift_at, drift_keys)
      select i.agent_id,
             case when ${rows.hasFacts} then i.finished_at end, array(select key from incoming_facts),
             case when ${rows.hasDrift} then i.id end, case when ${rows.hasDrift} then i.finished_at end, array(select kind || ':' || name from drift)
      from inserted i
      where ${rows.hasFacts} or ${rows.hasDrift}
      on conflict (agent_id) do update set
        facts_at = case when excluded.facts_at >= coalesce(mark.facts_at, '-infinity') then excluded.facts_at else mark.facts_at end,
        fact_keys = case when excluded.facts_at >= coalesce(mark.facts_at, '-infinity') then excluded.fact_keys else mark.fact_keys end,
        drift_report_id = case when excluded.drift_at >= coalesce(mark.drift_at, '-infinity') then excluded.drift_report_id else mark.drift_report_id end,
        drift_at = case when excluded.drift_at >= coalesce(mark.drift_at, '-infinity') then excluded.drift_at else mark.drift_at end,
        drift_keys = case when excluded.drift_at >= coalesce(mark.drift_at, '-infinity') then excluded.drift_keys else mark.drift_keys end,
        writes = mark.writes + 1
      returning writes
    )
    -- first, so the mark row is locked before any fact or drift row (one lock order for every report)
    select (select pswm_report_overlapped(${agentId}) from marked where writes <> coalesce((select writes from mark_before), 0) + 1) as overlapped,
           exists (select 1 from inserted) as stored, array(select fact_key from facts order by fact_key) as changed_facts`;
  return { stored: inserted.stored, changedFacts: inserted.changed_facts };
}

interface ReportRows {
  scriptRuns: postgres.JSONValue;
  chocoRuns: postgres.JSONValue;
  drift: postgres.JSONValue;
  facts: postgres.JSONValue;
  /** Whether the report carries facts / drift at all (a part it leaves out keeps its mark). */
  hasFacts: boolean;
  hasDrift: boolean;
}

/** The statement's parameters. */
function reportRows(report: Report, caps: OutputCaps): ReportRows {
  return {
    scriptRuns: scriptRunRows(report, caps) as unknown as postgres.JSONValue,
    chocoRuns: chocoRunRows(report, caps) as unknown as postgres.JSONValue,
    drift: (report.drift ?? []).map((item) => ({ kind: item.kind, name: item.name, status: item.status, reason: item.reason ?? null })),
    // `trusted` facts are the server's to set (agents/trusted-facts.ts); an agent's are dropped
    facts: Object.fromEntries(withoutTrustedFacts(Object.entries(report.facts ?? {}))) as postgres.JSONValue,
    hasFacts: report.facts !== undefined,
    hasDrift: report.drift !== undefined,
  };
}

async function duplicateOf(tx: postgres.Sql | postgres.TransactionSql, reportId: string, agentId: string): Promise<StoreOutcome> {
  const [existing] = await tx<Array<{ agent_id: string }>>`select agent_id from reports where id = ${reportId}`;
  if (existing.agent_id !== agentId) throw apiError('REPORT_ID_CONFLICT', `Report id ${reportId} was already used by another agent; generate a new id.`);
  return { stored: false, duplicate: true };
}

/** Output cut to the cap; the truncated flag stays set when the agent had already cut it. */
function cappedOutput(text: string, capBytes: number, agentTruncated: boolean | undefined): { text: string; truncated: boolean } {
  const capped = truncateUtf8(text, capBytes);
  return { text: capped.text, truncated: capped.truncated || agentTruncated === true };
}

function scriptRunRows(report: Report, caps: OutputCaps) {
  return (report.script_runs ?? []).map((run) => {
    const cap = caps.scriptBytes(run.script);
    const stdout = cappedOutput(run.stdout, cap, run.stdout_truncated);
    const stderr = cappedOutput(run.stderr, cap, run.stderr_truncated);
    return {
      id: run.id, script: run.script, sha256: run.sha256, phase: run.phase,
      shell: run.shell ?? null, exit_code: run.exit_code, signal: run.signal ?? null, timed_out: run.timed_out,
      stdout: stdout.text, stderr: stderr.text, stdout_truncated: stdout.truncated, stderr_truncated: stderr.truncated,
      duration_ms: run.duration_ms, started_at: toMilliseconds(run.started_at),
    };
  });
}

/** Run times at the millisecond precision of the read API's page cursors (JavaScript dates). */
function toMilliseconds(time: string): string {
  return new Date(time).toISOString();
}

function chocoRunRows(report: Report, caps: OutputCaps) {
  return (report.choco_runs ?? []).map((run) => {
    const output = cappedOutput(run.output, caps.chocoBytes, run.output_truncated);
    return {
      id: run.id, operation: run.operation, package: run.package,
      version: run.version ?? null, exit_code: run.exit_code, timed_out: run.timed_out ?? false,
      output: output.text, output_truncated: output.truncated, reboot_required: run.reboot_required,
      duration_ms: run.duration_ms, started_at: toMilliseconds(run.started_at),
    };
  });
}

// The inventory is a whole set, as the newest report that carried one says. The agent's row in
// agent_inventories is both the check and the turn: a report older than the stored set claims
// nothing, and two reports of one agent at once wait for each other on that row (both deleting the
// old set and inserting theirs, the second failed on the primary key: 70 of 100 concurrent
// reports). Then only the packages that appeared, changed or went are written, by a statement that
// starts after the turn was taken and so sees what the previous writer committed. Writing the whole
// set each time cost 80 row writes per 40-package report, nearly all of them for nothing.
async function storeInventory(tx: postgres.TransactionSql, agentId: string, report: Report): Promise<void> {
  const [claimed] = await tx`
    insert into agent_inventories as inventory (agent_id, reported_at) values (${agentId}, ${report.finished_at})
    on conflict (agent_id) do update set reported_at = excluded.reported_at
      where inventory.reported_at <= excluded.reported_at
    returning agent_id`;
  if (!claimed) return;
  await tx`
    with incoming as (
      select p.name, p.version, p.pinned from jsonb_to_recordset(${tx.json(inventoryRows(report))}) as p (name text, version text, pinned boolean)
    ), gone as (
      delete from agent_choco_packages stored
      where stored.agent_id = ${agentId} and not exists (select 1 from incoming where incoming.name = stored.name)
    )
    insert into agent_choco_packages as stored (agent_id, name, version, pinned, changed_at)
    select ${agentId}::uuid, name, version, pinned, ${report.finished_at}::timestamptz from incoming
    order by name
    on conflict (agent_id, name) do update set version = excluded.version, pinned = excluded.pinned, changed_at = excluded.changed_at
      where (stored.version, stored.pinned) is distinct from (excluded.version, excluded.pinned)`;
}

/** The statement's JSON parameter (the API refuses a set that names a package twice). */
function inventoryRows(report: Report): postgres.JSONValue {
  return report.choco_packages!.map((pkg) => ({ name: pkg.name, version: pkg.version, pinned: pkg.pinned }));
}
