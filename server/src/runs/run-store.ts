// On-demand runs in PostgreSQL: the request with its targets, their progress, and each result stored
// as an ordinary report holding one script run, both marked with the run's id.
import type { OnDemandResult } from '@pswm/schemas/console-wire';
import type { Queryable } from '../db/database.ts';
import { repairText } from '@pswm/schemas/input-rules';
import { truncateUtf8 } from '../reports/stored-text.ts';

export type TargetStatus = 'pending' | 'accepted' | 'done' | 'refused' | 'not_reached';
export const FINAL_STATUSES: ReadonlySet<TargetStatus> = new Set(['done', 'refused', 'not_reached']);

/** The server's own cap on stored output, as for reports. */
const MAX_STORED_OUTPUT = 1024 * 1024;

export interface RunRow {
  id: string;
  script: string;
  revision: string;
  actor: string;
  reason: string;
  wait: boolean;
  requested_at: Date;
}

export interface TargetRow {
  agent_id: string;
  agent: string;
  status: TargetStatus;
  message: string | null;
  exit_code: number | null;
  timed_out: boolean | null;
  stdout: string | null;
  stderr: string | null;
  duration_ms: number | null;
  updated_at: Date;
}

export async function insertRun(sql: Queryable, run: Omit<RunRow, 'requested_at'>, agentIds: string[]): Promise<void> {
  await sql`insert into on_demand_runs (id, script, revision, actor, reason, wait) values (${run.id}, ${run.script}, ${run.revision}, ${run.actor}, ${run.reason}, ${run.wait})`;
  if (agentIds.length) {
    await sql`insert into on_demand_targets ${sql(agentIds.map((agentId) => ({ run_id: run.id, agent_id: agentId, status: 'pending' })))}`;
  }
}

export async function setTargetStatus(sql: Queryable, runId: string, agentId: string, status: TargetStatus, message: string | null = null): Promise<void> {
  // a late 'accepted' never overwrites a result
  await sql`
    update on_demand_targets set status = ${status}, message = ${message}, updated_at = now()
    where run_id = ${runId} and agent_id = ${agentId} and status not in ('done', 'refused')`;
}

/** Targets of runs without --wait that nobody picked up: their agents were offline. */
export async function markNotReached(sql: Queryable, runId: string): Promise<number> {
  const rows = await sql`
    update on_demand_targets t set status = 'not_reached', message = 'the agent was not connected', updated_at = now()
    from on_demand_runs r
    where t.run_id = r.id and r.id = ${runId} and not r.wait and t.status = 'pending'
    returning t.agent_id`;
  return rows.length;
}

/** Runs still waiting for this agent (requested with --wait while it was offline). */
/** The runs waiting for each of these agents (in the agents' order), oldest first: one query for a
 * batch of connects (on-demand-runs.ts). */
export async function pendingRunsFor(sql: Queryable, agentIds: string[]): Promise<RunRow[][]> {
  const rows = await sql<Array<RunRow & { target_agent: string }>>`
    select t.agent_id as target_agent, r.* from on_demand_targets t join on_demand_runs r on r.id = t.run_id
    where t.agent_id = any(${agentIds}::uuid[]) and t.status = 'pending' and r.wait
    order by r.requested_at`;
  const byAgent = new Map<string, RunRow[]>(agentIds.map((id) => [id, []]));
  for (const { target_agent, ...run } of rows) byAgent.get(target_agent)?.push(run);
  return agentIds.map((id) => byAgent.get(id)!);
}

export async function storeResult(sql: Queryable, runId: string, agentId: string, result: OnDemandResult): Promise<boolean> {
  const stdout = truncateUtf8(repairText(result.stdout), MAX_STORED_OUTPUT);
  const stderr = truncateUtf8(repairText(result.stderr), MAX_STORED_OUTPUT);
  const [target] = await sql<{ status: TargetStatus }[]>`select status from on_demand_targets where run_id = ${runId} and agent_id = ${agentId}`;
  if (!target || target.status === 'done') return false; // not a target of this run, or a repeat
  const startedAt = new Date(result.started_at);
  const finishedAt = new Date(startedAt.getTime() + result.duration_ms);
  const [report] = await sql<{ id: string }[]>`
    insert into reports (id, agent_id, revision, document, started_at, finished_at, dry_run, has_inventory, on_demand_run)
    values (gen_random_uuid(), ${agentId}, ${result.revision ?? null}, ${result.document}, ${startedAt}, ${finishedAt}, false, false, ${runId})
    returning id`;
  await sql`
    insert into script_runs ${sql({
      report_id: report.id, id: result.id, agent_id: agentId, script: result.script, sha256: result.sha256, phase: 'apply',
      shell: result.shell, exit_code: result.exit_code, signal: result.signal ?? null, timed_out: result.timed_out,
      stdout: stdout.text, stderr: stderr.text, stdout_truncated: stdout.truncated || result.stdout_truncated,
      stderr_truncated: stderr.truncated || result.stderr_truncated, duration_ms: Math.max(0, Math.round(result.duration_ms)),
      started_at: startedAt, on_demand_run: runId,
    })}`;
  await sql`update on_demand_targets set status = 'done', message = null, report_id = ${report.id}, updated_at = now() where run_id = ${runId} and agent_id = ${agentId}`;
  return true;
}

export async function readRun(sql: Queryable, runId: string): Promise<{ run: RunRow; targets: TargetRow[] } | undefined> {
  const [run] = await sql<RunRow[]>`select * from on_demand_runs where id = ${runId}`;
  if (!run) return undefined;
  const targets = await sql<TargetRow[]>`
    select t.agent_id, a.name as agent, t.status, t.message, s.exit_code::float8 as exit_code, s.timed_out, s.stdout, s.stderr, s.duration_ms, t.updated_at
    from on_demand_targets t
    join agents a on a.id = t.agent_id
    left join script_runs s on s.report_id = t.report_id
    where t.run_id = ${runId}
    order by a.name`;
  return { run, targets };
}
