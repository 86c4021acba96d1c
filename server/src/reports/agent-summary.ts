// Agents as the console and CLI list them: the agents row plus what its reports say — the revision and
// document it applied last, the document it should have now, and its drift per status.
import type postgres from 'postgres';
import type { AgentRecord, AgentRow, AgentStatus } from '../agents/agents.ts';
import { toAgentRecord } from '../agents/agents.ts';
import type { DriftStatus } from '../../../schemas/src/agent-wire.ts';

export type DriftCounts = Record<DriftStatus, number>;

export interface AgentSummary extends AgentRecord {
  applied: { revision: string | null; document: string | null; at: Date } | null;
  desired: { document: string; revision: string | null } | null;
  /** Applied document = desired document; null until both are known. */
  upToDate: boolean | null;
  drift: DriftCounts;
  /** Set while two machines use this agent's identity (hub/socket-claims.ts); null otherwise. */
  duplicateIdentity: DuplicateIdentity | null;
}

export interface DuplicateIdentity {
  since: Date;
  /** The flag clears then unless the machines keep taking the socket from each other. */
  until: Date;
  /** The addresses (and host names the agents sent) seen taking the socket over. */
  peers: Array<{ address: string; hostname?: string }>;
}

export interface AgentDetail extends AgentSummary {
  lastReportAt: Date | null;
  factsCount: number;
  /** A choco run in the agent's latest applying report left a reboot pending (exit 1641 or 3010). */
  rebootPending: boolean;
}

export interface AgentFilter {
  organization?: string;
  location?: string;
  status?: AgentStatus;
  /** with_drift: some item failed or drifted; in_sync: none did. */
  drift?: 'with_drift' | 'in_sync';
  /** Name prefix. */
  q?: string;
  /** The last name of the previous page. */
  after?: string;
  limit: number;
}

// Not compliant now: a changed item was brought in line, a skipped one does not apply here.
const OUT_OF_SYNC: DriftStatus[] = ['failed', 'drifted'];

interface SummaryRow extends AgentRow {
  applied_revision: string | null; applied_document: string | null; applied_at: Date | null;
  desired_document: string | null; desired_revision: string | null;
  in_sync: number; changed: number; failed: number; drifted: number; skipped: number;
  duplicate_since: Date | null; duplicate_until: Date | null; duplicate_peers: DuplicateIdentity['peers'] | null;
}

/**
 * The columns every summary needs, for agents `a` (joins: last applying report, scope document, drift).
 * `wholeFleet`: the caller reads every agent (the console's fleet state), so drift is counted for all
 * agents in one grouped pass and hash-joined, instead of one index probe and aggregate per agent,
 * which is the better plan for a page of agents or one.
 */
export function summarySelect(sql: postgres.Sql, opts: { wholeFleet?: boolean } = {}) {
  const driftCounts = sql`
    select count(*) filter (where status = 'in_sync') as in_sync, count(*) filter (where status = 'changed') as changed,
           count(*) filter (where status = 'failed') as failed, count(*) filter (where status = 'drifted') as drifted,
           count(*) filter (where status = 'skipped') as skipped`;
  const drift = opts.wholeFleet
    ? sql`left join (${driftCounts}, agent_id from agent_drift group by agent_id) drift on drift.agent_id = a.id`
    : sql`left join lateral (${driftCounts} from agent_drift d where d.agent_id = a.id) drift on true`;
  return sql`
    select a.*,
      applied.report_id as applied_report_id, applied.revision as applied_revision, applied.document as applied_document, applied.finished_at as applied_at,
      coalesce(own_scope.document_sha256, location_scope.document_sha256) as desired_document, state.applied_revision as desired_revision,
      coalesce(drift.in_sync, 0)::int as in_sync, coalesce(drift.changed, 0)::int as changed,
      coalesce(drift.failed, 0)::int as failed, coalesce(drift.drifted, 0)::int as drifted,
      coalesce(drift.skipped, 0)::int as skipped,
      claims.duplicate_since, claims.duplicate_until, claims.duplicate_peers
    from agents a
    cross join policy_state state
    -- The last applying report, recorded when it was stored (migration 070): a key join, where a
    -- per-agent probe of reports cost most of the fleet query over 10,000 agents.
    left join agent_applied_reports applied on applied.agent_id = a.id
    -- The agent's own scope when it has one, else its location's. Two key joins rather than a
    -- lateral: over 10,000 agents the lateral's per-agent sort took ~40 % of the query.
    left join scope_documents own_scope on own_scope.scope = a.organization || '/' || a.location || '/' || a.name
    left join scope_documents location_scope on location_scope.scope = a.organization || '/' || a.location
    ${drift}
    left join agent_socket_claims claims on claims.agent_id = a.id and claims.duplicate_until > now()`;
}

function toSummary(row: SummaryRow): AgentSummary {
  const applied = row.applied_at ? { revision: row.applied_revision, document: row.applied_document, at: row.applied_at } : null;
  const desired = row.desired_document ? { document: row.desired_document, revision: row.desired_revision } : null;
  return {
    ...toAgentRecord(row),
    applied,
    desired,
    upToDate: applied?.document && desired ? applied.document === desired.document : null,
    drift: { in_sync: row.in_sync, changed: row.changed, failed: row.failed, drifted: row.drifted, skipped: row.skipped },
    duplicateIdentity: row.duplicate_until ? { since: row.duplicate_since!, until: row.duplicate_until, peers: row.duplicate_peers ?? [] } : null,
  };
}

export async function listAgentSummaries(sql: postgres.Sql, filter: AgentFilter): Promise<AgentSummary[]> {
  const outOfSync = sql`exists (select 1 from agent_drift d where d.agent_id = a.id and d.status in ${sql(OUT_OF_SYNC)})`;
  const conditions = [
    filter.organization !== undefined && sql`a.organization = ${filter.organization}`,
    filter.location !== undefined && sql`a.location = ${filter.location}`,
    filter.status !== undefined && sql`a.status = ${filter.status}`,
    filter.drift === 'with_drift' && outOfSync,
    filter.drift === 'in_sync' && sql`not ${outOfSync}`,
    filter.q !== undefined && sql`starts_with(a.name, ${filter.q})`,
    filter.after !== undefined && sql`a.name > ${filter.after}`,
  ].filter((condition) => condition !== false);
  const where = conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`);
  const rows = await sql<SummaryRow[]>`${summarySelect(sql)} where ${where} order by a.name limit ${filter.limit}`;
  return rows.map(toSummary);
}

/** One agent's summary with its last report time, fact count and pending reboot. */
export async function agentDetail(sql: postgres.Sql, agentId: string): Promise<AgentDetail | undefined> {
  const [row] = await sql<Array<SummaryRow & { last_report_at: Date | null; facts_count: number; reboot_pending: boolean }>>`
    with summary as (${summarySelect(sql)} where a.id = ${agentId})
    select summary.*,
      (select max(finished_at) from reports r where r.agent_id = summary.id) as last_report_at,
      (select count(*)::int from agent_facts f where f.agent_id = summary.id) as facts_count,
      -- the run that asked for it, or the agent's reboot_pending fact (kept until the machine restarted)
      exists (
        select 1 from choco_runs c where c.report_id = summary.applied_report_id and c.reboot_required
      ) or exists (
        select 1 from agent_facts f where f.agent_id = summary.id and f.fact_key = 'reboot_pending' and f.value -> 'pending' = 'true'::jsonb
      ) as reboot_pending
    from summary`;
  if (!row) return undefined;
  return { ...toSummary(row), lastReportAt: row.last_report_at, factsCount: row.facts_count, rebootPending: row.reboot_pending };
}
