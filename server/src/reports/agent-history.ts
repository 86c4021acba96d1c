// One agent's reported data as the read API serves it: runs with their output, facts, package
// inventory, metrics and drift. Pages are keyset cursors, so they never shift while reports arrive.
import type postgres from 'postgres';
import { isStorableDateTime } from '../api/date-time-format.ts';
import type { DriftStatus } from '../../../schemas/src/agent-wire.ts';

export interface RunPage {
  runs: Array<ScriptRunView | ChocoRunView>;
  /** Cursor of the next page: pass it as `before`. Absent on the last page. */
  nextBefore?: string;
}

interface RunBase { id: string; reportId: string; startedAt: Date; durationMs: number; exitCode: number | null; timedOut: boolean }

export interface ScriptRunView extends RunBase {
  type: 'script';
  script: string; sha256: string; phase: 'check' | 'apply'; shell: string | null; signal: string | null;
  stdout: string; stderr: string; stdoutTruncated: boolean; stderrTruncated: boolean;
}

export interface ChocoRunView extends RunBase {
  type: 'choco';
  operation: string; package: string; version: string | null;
  output: string; outputTruncated: boolean; rebootRequired: boolean;
}

export interface RunQuery {
  type?: 'script' | 'choco';
  script?: string;
  before?: { startedAt: string; id: string };
  limit: number;
}

/** "<started_at ISO>~<run id>", the position of the last run of a page. */
export function parseRunCursor(text: string): { startedAt: string; id: string } | undefined {
  const [startedAt, id, ...rest] = text.split('~');
  return !rest.length && id && isStorableDateTime(startedAt) && /^[0-9a-f-]{36}$/i.test(id) ? { startedAt, id } : undefined;
}

/**
 * Script and choco runs merged, newest first. exit_code is bigint (32-bit codes, signed or unsigned),
 * which postgres.js returns as a string; float8 gives the number back exactly. Each table gives its newest `limit` past the cursor;
 * the merged page is the newest `limit` of both, so no run is skipped or repeated.
 */
export async function listRuns(sql: postgres.Sql, agentId: string, query: RunQuery): Promise<RunPage> {
  const past = query.before ? sql`and (started_at, id) < (${query.before.startedAt}::timestamptz, ${query.before.id}::uuid)` : sql``;
  const wantScripts = query.type !== 'choco';
  const wantChoco = query.type !== 'script' && query.script === undefined;
  const scripts = wantScripts
    ? await sql<ScriptRunView[]>`
        select 'script' as type, id, report_id as "reportId", started_at as "startedAt", duration_ms as "durationMs",
               exit_code::float8 as "exitCode", timed_out as "timedOut", script, sha256, phase, shell, signal, stdout, stderr,
               stdout_truncated as "stdoutTruncated", stderr_truncated as "stderrTruncated"
        from script_runs where agent_id = ${agentId} ${query.script !== undefined ? sql`and script = ${query.script}` : sql``} ${past}
        order by started_at desc, id desc limit ${query.limit}`
    : [];
  const choco = wantChoco
    ? await sql<ChocoRunView[]>`
        select 'choco' as type, id, report_id as "reportId", started_at as "startedAt", duration_ms as "durationMs",
               exit_code::float8 as "exitCode", timed_out as "timedOut", operation, package, version, output,
               output_truncated as "outputTruncated", reboot_required as "rebootRequired"
        from choco_runs where agent_id = ${agentId} ${past}
        order by started_at desc, id desc limit ${query.limit}`
    : [];
  const runs = [...scripts, ...choco]
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, query.limit);
  const last = runs.at(-1);
  return { runs, ...(runs.length === query.limit && last ? { nextBefore: `${last.startedAt.toISOString()}~${last.id}` } : {}) };
}

/** `reportedAt`: the newest report that carried the key (a row is written only when its value
 * changes; agent_report_marks holds the newest report's keys). */
export function listFacts(sql: postgres.Sql, agentId: string) {
  return sql<Array<{ key: string; value: unknown; reportedAt: Date; updatedAt: Date }>>`
    select f.fact_key as key, f.value, f.updated_at as "updatedAt",
           case when m.facts_at > f.reported_at and f.fact_key = any(m.fact_keys) then m.facts_at else f.reported_at end as "reportedAt"
    from agent_facts f left join agent_report_marks m on m.agent_id = f.agent_id
    where f.agent_id = ${agentId} order by f.fact_key`;
}

/** The latest inventory: `reportedAt` is when the set was last reported, `changedAt` when this
 * package appeared or last changed version or pin. */
export function listPackages(sql: postgres.Sql, agentId: string) {
  return sql<Array<{ name: string; version: string; pinned: boolean; reportedAt: Date; changedAt: Date }>>`
    select p.name, p.version, p.pinned, i.reported_at as "reportedAt", p.changed_at as "changedAt"
    from agent_choco_packages p join agent_inventories i using (agent_id)
    where p.agent_id = ${agentId} order by lower(p.name)`;
}

export async function agentMetrics(sql: postgres.Sql, agentId: string, historyLimit: number) {
  const [latest] = await sql<Array<{ at: Date; metrics: object; receivedAt: Date; samples: string }>>`
    select at, metrics, received_at as "receivedAt", samples from agent_metrics_latest where agent_id = ${agentId}`;
  const history = await sql<Array<{ at: Date; metrics: object }>>`
    select at, metrics from agent_metrics where agent_id = ${agentId} order by at desc limit ${historyLimit}`;
  return {
    latest: latest ? { at: latest.at, metrics: latest.metrics, receivedAt: latest.receivedAt } : null,
    history,
  };
}

/** `reportId`, `reportedAt`: the newest report that carried the item (as for facts above). */
export function listDrift(sql: postgres.Sql, agentId: string, status: DriftStatus | undefined) {
  return sql<Array<{ kind: string; name: string; status: DriftStatus; reason: string | null; revision: string | null; reportId: string; reportedAt: Date }>>`
    select d.kind, d.name, d.status, d.reason, d.revision,
           case when r.repeated then m.drift_report_id else d.report_id end as "reportId",
           case when r.repeated then m.drift_at else d.reported_at end as "reportedAt"
    from agent_drift d left join agent_report_marks m on m.agent_id = d.agent_id
    cross join lateral (select m.drift_at > d.reported_at and d.kind || ':' || d.name = any(m.drift_keys) as repeated) r
    where d.agent_id = ${agentId} ${status !== undefined ? sql`and d.status = ${status}` : sql``}
    order by d.kind, d.name`;
}
