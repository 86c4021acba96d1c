// Stores one report in one transaction, exactly once per report id: the report row is inserted with
// `on conflict do nothing`, and its runs, drift, facts and inventory are written only when that
// insert happened. A re-send writes nothing; the same id from another agent is refused.
import type postgres from 'postgres';
import { apiError } from '../api/errors.ts';
import type { OutputCaps } from './output-caps.ts';
import { truncateUtf8 } from './stored-text.ts';
import { withoutTrustedFacts } from '../agents/trusted-facts.ts';
import type { Report } from '../../../schemas/src/agent-wire.ts';

export type StoreOutcome = { stored: true; duplicate: false } | { stored: false; duplicate: true };

export async function storeReport(sql: postgres.Sql, agentId: string, report: Report, caps: OutputCaps): Promise<StoreOutcome> {
  const scriptRuns = scriptRunRows(agentId, report, caps);
  const chocoRuns = chocoRunRows(agentId, report, caps);
  return sql.begin(async (tx) => {
    const [inserted] = await tx`
      insert into reports (id, agent_id, revision, document, started_at, finished_at, dry_run, has_inventory)
      values (${report.id}, ${agentId}, ${report.revision ?? null}, ${report.document ?? null},
              ${report.started_at}, ${report.finished_at}, ${report.dry_run}, ${report.choco_packages !== undefined})
      on conflict (id) do nothing
      returning id`;
    if (!inserted) return duplicateOf(tx, report.id, agentId);
    // Independent statements, sent together: the connection runs them in this order (the lock order
    // below), and a report costs one round trip for all of them instead of one each.
    await Promise.all([
      report.dry_run ? undefined : recordApplied(tx, agentId, report),
      scriptRuns.length ? tx`insert into script_runs ${tx(scriptRuns)}` : undefined,
      chocoRuns.length ? tx`insert into choco_runs ${tx(chocoRuns)}` : undefined,
      report.drift?.length ? storeDrift(tx, agentId, report) : undefined,
      report.facts ? storeFacts(tx, agentId, report) : undefined,
    ]);
    if (report.choco_packages) await storeInventory(tx, agentId, report);
    return { stored: true, duplicate: false } as const;
  });
}

/** The agent's latest applying report, unless a later one is recorded already (an outbox may send old reports late). */
async function recordApplied(tx: postgres.TransactionSql, agentId: string, report: Report): Promise<void> {
  await tx`
    insert into agent_applied_reports (agent_id, report_id, revision, document, finished_at)
    values (${agentId}, ${report.id}, ${report.revision ?? null}, ${report.document ?? null}, ${report.finished_at})
    on conflict (agent_id) do update set report_id = excluded.report_id, revision = excluded.revision, document = excluded.document, finished_at = excluded.finished_at
    where excluded.finished_at >= agent_applied_reports.finished_at`;
}

async function duplicateOf(tx: postgres.TransactionSql, reportId: string, agentId: string): Promise<StoreOutcome> {
  const [existing] = await tx<Array<{ agent_id: string }>>`select agent_id from reports where id = ${reportId}`;
  if (existing.agent_id !== agentId) throw apiError('REPORT_ID_CONFLICT', `Report id ${reportId} was already used by another agent; generate a new id.`);
  return { stored: false, duplicate: true };
}

/** Output cut to the cap; the truncated flag stays set when the agent had already cut it. */
function cappedOutput(text: string, capBytes: number, agentTruncated: boolean | undefined): { text: string; truncated: boolean } {
  const capped = truncateUtf8(text, capBytes);
  return { text: capped.text, truncated: capped.truncated || agentTruncated === true };
}

function scriptRunRows(agentId: string, report: Report, caps: OutputCaps) {
  return (report.script_runs ?? []).map((run) => {
    const cap = caps.scriptBytes(run.script);
    const stdout = cappedOutput(run.stdout, cap, run.stdout_truncated);
    const stderr = cappedOutput(run.stderr, cap, run.stderr_truncated);
    return {
      report_id: report.id, id: run.id, agent_id: agentId, script: run.script, sha256: run.sha256, phase: run.phase,
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

function chocoRunRows(agentId: string, report: Report, caps: OutputCaps) {
  return (report.choco_runs ?? []).map((run) => {
    const output = cappedOutput(run.output, caps.chocoBytes, run.output_truncated);
    return {
      report_id: report.id, id: run.id, agent_id: agentId, operation: run.operation, package: run.package,
      version: run.version ?? null, exit_code: run.exit_code, timed_out: run.timed_out ?? false,
      output: output.text, output_truncated: output.truncated, reboot_required: run.reboot_required,
      duration_ms: run.duration_ms, started_at: toMilliseconds(run.started_at),
    };
  });
}

// The latest word per item: a late re-send of an older report (finished earlier) changes nothing.
// Drift and facts rows are upserted in key order, so concurrent reports of one agent lock them in the
// same order and wait for each other instead of deadlocking.
async function storeDrift(tx: postgres.TransactionSql, agentId: string, report: Report): Promise<void> {
  const items = report.drift!.map((item) => ({ report_id: report.id, kind: item.kind, name: item.name, status: item.status, reason: item.reason ?? null }));
  // Both sent at once: the upsert reads the rows the insert before it wrote.
  await Promise.all([tx`insert into report_drift ${tx(items)}`, tx`
    insert into agent_drift as latest (agent_id, kind, name, status, reason, revision, report_id, reported_at)
    select ${agentId}, kind, name, status, reason, ${report.revision ?? null}, report_id, ${report.finished_at}
    from report_drift where report_id = ${report.id}
    order by kind, name
    on conflict (agent_id, kind, name) do update
      set status = excluded.status, reason = excluded.reason, revision = excluded.revision,
          report_id = excluded.report_id, reported_at = excluded.reported_at
      where latest.reported_at <= excluded.reported_at`]);
}

async function storeFacts(tx: postgres.TransactionSql, agentId: string, report: Report): Promise<void> {
  // `trusted` facts are the server's to set (agents/trusted-facts.ts); an agent's are dropped
  const entries = withoutTrustedFacts(Object.entries(report.facts!)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (!entries.length) return;
  await tx`
    insert into agent_facts as fact (agent_id, fact_key, value, reported_at)
    select ${agentId}, key, value::jsonb, ${report.finished_at}
    from unnest(${entries.map(([key]) => key)}::text[], ${entries.map(([, value]) => JSON.stringify(value))}::text[]) as given (key, value)
    on conflict (agent_id, fact_key) do update
      set value = excluded.value, reported_at = excluded.reported_at, updated_at = now()
      where fact.reported_at <= excluded.reported_at`;
}

// The inventory is a whole set: the newest report that carried one replaces the previous set. Writers
// of one agent's inventory take turns (a transaction-scoped lock): two at once both deleted the old set
// and then both inserted theirs, and the second failed on the primary key (70 of 100 concurrent reports).
async function storeInventory(tx: postgres.TransactionSql, agentId: string, report: Report): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`agent_choco_packages:${agentId}`}, 0))`;
  const [newer] = await tx`
    select 1 from reports
    where agent_id = ${agentId} and has_inventory and finished_at > ${report.finished_at} and id <> ${report.id}
    limit 1`;
  if (newer) return;
  await tx`delete from agent_choco_packages where agent_id = ${agentId}`;
  const rows = report.choco_packages!.map((pkg) => ({ agent_id: agentId, name: pkg.name, version: pkg.version, pinned: pkg.pinned, reported_at: report.finished_at }));
  if (rows.length) await tx`insert into agent_choco_packages ${tx(rows)}`;
}
