// The audit log as CSV: every entry the current filter selects, newest first.
import type { APIRoute } from 'astro';
import { apiGet, query } from '../lib/api.ts';
import { parseAuditFilter } from '../lib/audit-query.ts';
import { csv, csvResponse } from '../lib/csv.ts';

interface Entry { id: string; at: string; actor: string; action: string; target: string | null; outcome: string; details: object }
// A bound, so one export cannot hold the server for minutes; the filter narrows further.
const MAX_ROWS = 100_000;

export const GET: APIRoute = async (context) => {
  const filter = parseAuditFilter(context.url.searchParams);
  const rows: Entry[] = [];
  let before: string | undefined;
  do {
    const page = await apiGet<{ entries: Entry[]; nextBefore?: string }>(context,
      `/api/v1/audit${query({ actor: filter.actor, action: filter.action, target: filter.target, since: filter.since, until: filter.until, before, limit: 1000 })}`);
    rows.push(...page.entries);
    before = page.nextBefore;
  } while (before && rows.length < MAX_ROWS);
  return csvResponse('audit.csv', csv(['id', 'at', 'actor', 'action', 'target', 'outcome', 'details'], rows.map((e) => [e.id, e.at, e.actor, e.action, e.target, e.outcome, e.details])));
};
