// What needs an admin's attention (besides the old-revision agents fleetOverview lists), the rollout of a revision, and compliance over time: the
// overview's cards and charts, each one query.
import type postgres from 'postgres';

export interface Attention {
  /** Active agents not seen for `staleDays` days (or never seen), longest-silent first. */
  stale: { count: number; agents: Array<{ name: string; lastSeenAt: Date | null }> };
  /** Disks under 10 % free in the latest heartbeat. */
  lowDisks: Array<{ agent: string; mount: string; freePercent: number }>;
  /** Scripts and packages failing now, by how many agents they fail on. */
  failing: Array<{ kind: string; name: string; agents: number }>;
}

const TOP = 10;

export async function fleetAttention(sql: postgres.Sql, opts: { staleDays: number }): Promise<Attention> {
  const stale = await sql<Array<{ name: string; lastSeenAt: Date | null; count: number }>>`
    select name, last_seen_at as "lastSeenAt", count(*) over ()::int as count from agents
    where status = 'active' and (last_seen_at is null or last_seen_at < now() - make_interval(days => ${opts.staleDays}))
    order by last_seen_at nulls first, name limit ${TOP}`;
  const lowDisks = await sql<Array<{ agent: string; mount: string; freePercent: number }>>`
    select a.name as agent, d ->> 'mount' as mount,
           round((100 - 100 * (d ->> 'used_bytes')::numeric / (d ->> 'total_bytes')::numeric), 1)::float8 as "freePercent"
    from agent_metrics_latest m join agents a on a.id = m.agent_id and a.status = 'active'
    cross join lateral jsonb_array_elements(case when jsonb_typeof(m.metrics -> 'disks') = 'array' then m.metrics -> 'disks' else '[]' end) d
    where (d ->> 'total_bytes')::numeric > 0 and (d ->> 'used_bytes')::numeric > 0.9 * (d ->> 'total_bytes')::numeric
    order by 3, 1, 2 limit ${TOP}`;
  const failing = await sql<Array<{ kind: string; name: string; agents: number }>>`
    select d.kind, d.name, count(*)::int as agents from agent_drift d join agents a on a.id = d.agent_id and a.status = 'active'
    where d.status = 'failed' group by d.kind, d.name order by agents desc, d.kind, d.name limit ${TOP}`;
  return { stale: { count: stale[0]?.count ?? 0, agents: stale.map(({ name, lastSeenAt }) => ({ name, lastSeenAt })) }, lowDisks, failing };
}

export interface Rollout {
  revision: string | null;
  /** When the revision was applied (the start of the rollout). */
  since: Date | null;
  /** Active agents whose document this revision changed. */
  affected: number;
  /** Of those, how many reported applying their new document. */
  applied: number;
  /** Cumulative applied count over time: one point per agent that applied, in order. */
  progress: Array<{ at: Date; applied: number }>;
}

/**
 * The rollout of `revision` (default: the applied one): the agents whose document it changed
 * (scope_documents.revision names the commit that last wrote a scope's document) and when each first
 * reported that document applied.
 */
export async function rollout(sql: postgres.Sql, revision?: string): Promise<Rollout> {
  const [state] = await sql<Array<{ revision: string | null }>>`select applied_revision as revision from policy_state`;
  const rev = revision ?? state.revision;
  if (!rev) return { revision: null, since: null, affected: 0, applied: 0, progress: [] };
  const [started] = await sql<Array<{ at: Date | null }>>`
    select min(finished_at) as at from reconciliations where revision = ${rev} and status = 'applied'`;
  const rows = await sql<Array<{ at: Date | null }>>`
    with affected as (
      select a.id, coalesce(own.document_sha256, location.document_sha256) as document
      from agents a
      left join scope_documents own on own.scope = a.organization || '/' || a.location || '/' || a.name
      left join scope_documents location on location.scope = a.organization || '/' || a.location
      where a.status = 'active' and coalesce(own.revision, location.revision) = ${rev}
    )
    select (select min(r.finished_at) from reports r
            where r.agent_id = affected.id and r.document = affected.document and not r.dry_run
              and (${started.at}::timestamptz is null or r.finished_at >= ${started.at}::timestamptz)) as at
    from affected`;
  const times = rows.flatMap((row) => (row.at ? [row.at] : [])).sort((a, b) => a.getTime() - b.getTime());
  return {
    revision: rev, since: started.at, affected: rows.length, applied: times.length,
    progress: times.map((at, i) => ({ at, applied: i + 1 })),
  };
}

export interface ComplianceDay {
  day: string;
  /** Agents that reported that day (UTC). */
  agents: number;
  /** Of those, agents whose last report of the day had no failed or drifted item. */
  compliant: number;
}

export async function complianceHistory(sql: postgres.Sql, days: number): Promise<ComplianceDay[]> {
  return sql<ComplianceDay[]>`
    with days as (
      select generate_series((now() at time zone 'utc')::date - ${days - 1}::int, (now() at time zone 'utc')::date, interval '1 day')::date as day
    ), last_of_day as (
      select distinct on (r.agent_id, (r.finished_at at time zone 'utc')::date) r.id, (r.finished_at at time zone 'utc')::date as day
      from reports r join agents a on a.id = r.agent_id and a.status = 'active'
      where r.finished_at >= (now() at time zone 'utc')::date - ${days - 1}::int and not r.dry_run
      order by r.agent_id, (r.finished_at at time zone 'utc')::date, r.finished_at desc
    )
    select to_char(d.day, 'YYYY-MM-DD') as day, count(l.id)::int as agents,
      count(l.id) filter (where not exists (
        select 1 from report_drift rd where rd.report_id = l.id and rd.status in ('failed', 'drifted')
      ))::int as compliant
    from days d left join last_of_day l on l.day = d.day
    group by d.day order by d.day`;
}
