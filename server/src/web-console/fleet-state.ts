// The fleet at a glance: each agent's state, the counts per state, and the lists behind them. One SQL
// definition of a state serves the overview's counts and the filtered list, so a count and the list
// it links to cannot disagree.
import type postgres from 'postgres';
import { summarySelect } from '../reports/agent-summary.ts';

export const AGENT_STATES = ['converged', 'drifted', 'failed', 'offline', 'never_reported'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export const SORTS = ['name', 'last_seen', 'state'] as const;
export type AgentSort = (typeof SORTS)[number];

export interface StateThresholds {
  /** Not seen for this long: offline. */
  offlineAfterSeconds: number;
}

export interface FleetFilter {
  organization?: string;
  location?: string;
  state?: AgentState;
  platform?: string;
  /** Part of the name or hostname, any case. */
  q?: string;
}

export interface FleetListQuery extends FleetFilter {
  sort: AgentSort;
  order: 'asc' | 'desc';
  page: number;
  perPage: number;
}

export interface FleetAgent {
  name: string;
  organization: string;
  location: string;
  status: string;
  state: AgentState;
  platform: string | null;
  hostname: string | null;
  lastSeenAt: Date | null;
  appliedRevision: string | null;
  appliedAt: Date | null;
  /** The applied document is the one the policy gives the agent now (null until both are known). */
  upToDate: boolean | null;
  failed: number;
  drifted: number;
}

/**
 * Every non-revoked agent with its state: never reported (pending enrollment, or enrolled without a
 * report), offline (not seen within the threshold), failed (a drift item failed), drifted (an item
 * drifted), else converged — in that order of precedence.
 */
export function fleetStates(sql: postgres.Sql, thresholds: StateThresholds) {
  return sql`
    with summary as (${summarySelect(sql, { wholeFleet: true })} where a.status <> 'revoked')
    -- Only the columns the console uses: the fleet is materialized, and agents.facts can be large.
    select s.id, s.name, s.organization, s.location, s.status, s.hostname, s.last_seen_at, s.applied_revision, s.applied_document,
      s.applied_at, s.desired_document, s.failed, s.drifted,
      coalesce(os.value ->> 'family', s.facts -> 'os' ->> 'family') as platform,
      case
        when s.status = 'pending' or s.applied_at is null then 'never_reported'
        when s.last_seen_at is null or s.last_seen_at < now() - make_interval(secs => ${thresholds.offlineAfterSeconds}) then 'offline'
        when s.failed > 0 then 'failed'
        when s.drifted > 0 then 'drifted'
        else 'converged'
      end as state
    from summary s
    left join agent_facts os on os.agent_id = s.id and os.fact_key = 'os'`;
}

function fleetWhere(sql: postgres.Sql, filter: FleetFilter) {
  const conditions = [
    filter.organization !== undefined && sql`organization = ${filter.organization}`,
    filter.location !== undefined && sql`location = ${filter.location}`,
    filter.state !== undefined && sql`state = ${filter.state}`,
    filter.platform !== undefined && sql`platform = ${filter.platform}`,
    filter.q !== undefined && sql`(strpos(lower(name), lower(${filter.q})) > 0 or strpos(lower(coalesce(hostname, '')), lower(${filter.q})) > 0)`,
  ].filter((condition) => condition !== false);
  return conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`);
}

/** Worst first when sorting by state ascending. Fixed names, never user input. */
const STATE_RANK = ['failed', 'drifted', 'offline', 'never_reported', 'converged'].map((state, i) => `when '${state}' then ${i}`).join(' ');

function orderBy(sql: postgres.Sql, sort: AgentSort, order: 'asc' | 'desc') {
  const direction = order === 'desc' ? sql`desc` : sql`asc`;
  if (sort === 'last_seen') return sql`last_seen_at ${direction} nulls last, name`;
  if (sort === 'state') return sql`case state ${sql.unsafe(STATE_RANK)} end ${direction}, name`;
  return sql`name ${direction}`;
}

interface FleetRow {
  name: string; organization: string; location: string; status: string; state: AgentState; platform: string | null;
  hostname: string | null; last_seen_at: Date | null; applied_revision: string | null; applied_at: Date | null;
  applied_document: string | null; desired_document: string | null; failed: number; drifted: number;
}

function toFleetAgent(row: FleetRow): FleetAgent {
  return {
    name: row.name, organization: row.organization, location: row.location, status: row.status, state: row.state,
    platform: row.platform, hostname: row.hostname, lastSeenAt: row.last_seen_at,
    appliedRevision: row.applied_revision, appliedAt: row.applied_at,
    upToDate: row.applied_document && row.desired_document ? row.applied_document === row.desired_document : null,
    failed: row.failed, drifted: row.drifted,
  };
}

export async function listFleet(sql: postgres.Sql, query: FleetListQuery, thresholds: StateThresholds): Promise<{ total: number; agents: FleetAgent[] }> {
  const rows = await sql<Array<FleetRow & { total: number }>>`
    with fleet as (${fleetStates(sql, thresholds)})
    select name, organization, location, status, state, platform, hostname, last_seen_at, applied_revision, applied_at,
           applied_document, desired_document, failed, drifted, count(*) over ()::int as total
    from fleet where ${fleetWhere(sql, query)}
    order by ${orderBy(sql, query.sort, query.order)}
    limit ${query.perPage} offset ${(query.page - 1) * query.perPage}`;
  const total = rows[0]?.total ?? (query.page > 1 ? await countFleet(sql, query, thresholds) : 0);
  return { total, agents: rows.map(toFleetAgent) };
}

async function countFleet(sql: postgres.Sql, filter: FleetFilter, thresholds: StateThresholds): Promise<number> {
  const [{ total }] = await sql<Array<{ total: number }>>`
    with fleet as (${fleetStates(sql, thresholds)}) select count(*)::int as total from fleet where ${fleetWhere(sql, filter)}`;
  return total;
}

export interface Overview {
  states: Record<AgentState, number>;
  total: number;
  pendingApproval: number;
  /** Agents on a document the policy no longer gives them: how many, and the first ten by name. */
  oldRevision: number;
  oldRevisionAgents: Array<{ name: string; appliedRevision: string | null }>;
  platforms: string[];
  organizations: Array<{ organization: string; location: string }>;
}

/** Counts per state plus what the filters offer, in one pass over the fleet. */
export async function fleetOverview(sql: postgres.Sql, thresholds: StateThresholds): Promise<Overview> {
  // One pass over the fleet for the counts and the old-revision list.
  const old = sql`status = 'active' and applied_document <> desired_document`;
  const [counts] = await sql<Array<Record<AgentState, number> & { total: number; old_revision: number; platforms: string[] | null; old_names: string[] | null; old_revisions: Array<string | null> | null }>>`
    with fleet as (${fleetStates(sql, thresholds)})
    select count(*)::int as total,
      ${sql.unsafe(AGENT_STATES.map((state) => `count(*) filter (where state = '${state}')::int as ${state}`).join(', '))},
      count(*) filter (where ${old})::int as old_revision,
      (array_agg(name order by name) filter (where ${old}))[1:10] as old_names,
      (array_agg(applied_revision order by name) filter (where ${old}))[1:10] as old_revisions,
      array_agg(distinct platform) filter (where platform is not null) as platforms
    from fleet`;
  const [{ pending }] = await sql<Array<{ pending: number }>>`select count(*)::int as pending from enrollment_requests where status = 'pending'`;
  const organizations = await sql<Array<{ organization: string; location: string }>>`
    select organization, name as location from locations order by organization, name`;
  return {
    states: Object.fromEntries(AGENT_STATES.map((state) => [state, counts[state]])) as Record<AgentState, number>,
    total: counts.total,
    pendingApproval: pending,
    oldRevision: counts.old_revision,
    oldRevisionAgents: (counts.old_names ?? []).map((name, i) => ({ name, appliedRevision: counts.old_revisions![i] })),
    platforms: (counts.platforms ?? []).sort(),
    organizations,
  };
}
