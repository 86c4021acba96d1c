// The enrolled agents as the compiler sees them: name, organization, location and only the facts the
// policy's selectors read. Facts come from enrollment (agents.facts) and, newer, from reports
// (agent_facts, one row per top-level fact_key); reading only the keys a selector path can start
// with keeps this one small query for the whole fleet.
import type postgres from 'postgres';
import type { AgentIdentity } from '../../../schemas/src/model.ts';
import { enrollmentMethodSql, isTrustedFactKey, trustedFacts, withoutTrustedFacts, TRUSTED_FACT_KEY } from '../agents/trusted-facts.ts';

export interface EnrolledAgent {
  id: string;
  identity: AgentIdentity;
}

type Queryable = postgres.Sql | postgres.TransactionSql;

/** Which agents to read: every active one, those of `agentIds`, or those enrolled in one of
 * `locations` ("org/location") or called one of `names`. */
export type AgentSelection = 'all' | { agentIds: string[] } | { locations: string[]; names: string[] };

/** Active agents (every one, or the selected ones), with the facts under `factPaths`. */
export async function readEnrolledAgents(sql: Queryable, factPaths: string[], selection: AgentSelection = 'all'): Promise<EnrolledAgent[]> {
  const keys = factKeysFor(factPaths);
  const facts = keys.length
    ? sql`
      coalesce((select jsonb_agg(jsonb_build_array(e.key, e.value)) from jsonb_each(a.facts) e where e.key = any(${keys}::text[])), '[]') as enrolled,
      coalesce((select jsonb_agg(jsonb_build_array(f.fact_key, f.value)) from agent_facts f where f.agent_id = a.id and f.fact_key = any(${keys}::text[])), '[]') as reported`
    : sql`'[]'::jsonb as enrolled, '[]'::jsonb as reported`;
  // the server's own facts, only when a selector reads them (the method costs two lookups per agent)
  const trusted = keys.some(isTrustedFactKey) ? sql`, a.enrolled_at, ${enrollmentMethodSql(sql)} as enrollment_method` : sql``;
  const rows = await sql<Array<{ id: string; name: string; organization: string; location: string; enrolled: FactEntry[]; reported: FactEntry[]; enrolled_at?: Date | null; enrollment_method?: string | null }>>`
    select a.id, a.name, a.organization, a.location, ${facts} ${trusted}
    from agents a where a.status = 'active' ${selectionFilter(sql, selection)}
    order by a.id`;
  return rows.map((row) => {
    const server: FactEntry[] = row.enrollment_method !== undefined ? [[TRUSTED_FACT_KEY, trustedFacts({ ...row, enrollment_method: row.enrollment_method ?? null, enrolled_at: row.enrolled_at ?? null })]] : [];
    return {
      id: row.id,
      // what the agent said under `trusted` is dropped; the server's values come last and win
      identity: { name: row.name, organization: row.organization, location: row.location, facts: nestFacts(withoutTrustedFacts(row.enrolled), withoutTrustedFacts(row.reported), server) },
    };
  });
}

/** The selection as a condition on `agents a` (exported for the test that checks its plan): each arm
 * is an index lookup (agents_scope_path, id, name), never a pass over every agent. */
export function selectionFilter(sql: Queryable, selection: AgentSelection) {
  if (selection === 'all') return sql``;
  if ('agentIds' in selection) return sql`and a.id = any(${selection.agentIds}::uuid[])`;
  return sql`and (a.organization || '/' || a.location = any(${selection.locations}::text[]) or a.name = any(${selection.names}::text[]))`;
}

type FactEntry = [string, unknown];

/** Every key a fact path can be stored under: "os.family" is the key "os" (nested) or "os.family". */
export function factKeysFor(factPaths: string[]): string[] {
  const keys = new Set<string>();
  for (const path of factPaths) {
    const parts = path.split('.');
    for (let i = 1; i <= parts.length; i++) keys.add(parts.slice(0, i).join('.'));
  }
  return [...keys].sort();
}

/** Nested facts from fact_key → value entries: a dotted key ("external.inventory") is placed at its
 * path, so a selector on "external.inventory.site" finds it. Reported facts are newer than the ones
 * sent at enrollment and win; shorter keys go first, so "os.family" refines "os" rather than being
 * replaced by it. */
export function nestFacts(...sources: FactEntry[][]): Record<string, unknown> {
  const facts: Record<string, unknown> = {};
  for (const entries of sources) {
    for (const [key, value] of [...entries].sort((a, b) => a[0].length - b[0].length)) setPath(facts, key.split('.'), value);
  }
  return facts;
}

function setPath(root: Record<string, unknown>, parts: string[], value: unknown): void {
  let node = root;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}
