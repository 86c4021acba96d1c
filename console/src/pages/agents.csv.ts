// The agents list as CSV: exactly the rows the current filter selects (every page), in its order.
import type { APIRoute } from 'astro';
import { apiGet, query } from '../lib/api.ts';
import { csv, csvResponse } from '../lib/csv.ts';
import { filterParams, parseFleetQuery } from '../lib/fleet-query.ts';

interface FleetAgent { name: string; state: string; organization: string; location: string; platform: string | null; hostname: string | null; lastSeenAt: string | null; appliedRevision: string | null; upToDate: boolean | null; failed: number; drifted: number }
const PAGE = 10_000;

export const GET: APIRoute = async (context) => {
  const filter = parseFleetQuery(context.url.searchParams);
  const rows: FleetAgent[] = [];
  for (let page = 1; ; page++) {
    const { total, agents } = await apiGet<{ total: number; agents: FleetAgent[] }>(context,
      `/api/v1/fleet/agents${query({ ...filterParams(filter), sort: filter.sort, order: filter.order, page, per_page: PAGE })}`);
    rows.push(...agents);
    if (rows.length >= total || agents.length < PAGE) break;
  }
  return csvResponse('agents.csv', csv(
    ['name', 'state', 'organization', 'location', 'platform', 'hostname', 'last_seen_at', 'applied_revision', 'up_to_date', 'failed_items', 'drifted_items'],
    rows.map((a) => [a.name, a.state, a.organization, a.location, a.platform, a.hostname, a.lastSeenAt, a.appliedRevision, a.upToDate, a.failed, a.drifted]),
  ));
};
