// Enrolled agents left without a place: a revision that removes a Location or an Organization keeps
// its agents enrolled, but they get no desired state any more. The apply goes ahead (the policy says
// so); the log says how many agents it leaves behind, as `pswm-policy plan --server` does before merge.
import type { Queryable } from '../db/database.ts';

export interface OrphanedAgents { place: string; agents: number }

/** Active and pending agents per removed location (`org/location`) or organization (`org`). */
export async function agentsInRemovedPlaces(sql: Queryable, removed: Array<{ kind: string; id: string }>): Promise<OrphanedAgents[]> {
  const locations = removed.filter((o) => o.kind === 'Location').map((o) => o.id);
  const organizations = removed.filter((o) => o.kind === 'Organization').map((o) => o.id);
  if (!locations.length && !organizations.length) return [];
  const rows = await sql<Array<{ place: string; agents: number }>>`
    select case when organization = any(${organizations}::text[]) then organization else organization || '/' || location end as place,
      count(*)::int as agents
    from agents
    where status in ('active', 'pending')
      and (organization = any(${organizations}::text[]) or organization || '/' || location = any(${locations}::text[]))
    group by 1 order by 1`;
  return rows.map((row) => ({ place: row.place, agents: row.agents }));
}
