// The agents list's filter as it lives in the URL: parsed from a page's search params, and written
// back for links (sort headers, pages, CSV export). Unknown values are dropped, not guessed.

export const STATES = ['converged', 'drifted', 'failed', 'offline', 'never_reported'] as const;
export const PLATFORMS = ['linux', 'windows', 'darwin'] as const;
const SORTS = ['name', 'last_seen', 'state'] as const;

export interface FleetQuery {
  organization?: string;
  location?: string;
  state?: string;
  platform?: string;
  q?: string;
  sort: string;
  order: 'asc' | 'desc';
  page: number;
}

const pick = (value: string | null, allowed: readonly string[]) => (value && allowed.includes(value) ? value : undefined);
const text = (value: string | null) => (value && value.trim() ? value.trim().slice(0, 253) : undefined);

export function parseFleetQuery(params: URLSearchParams): FleetQuery {
  const page = Number(params.get('page'));
  return {
    organization: text(params.get('organization')),
    location: text(params.get('location')),
    state: pick(params.get('state'), STATES),
    platform: pick(params.get('platform'), PLATFORMS),
    q: text(params.get('q')),
    sort: pick(params.get('sort'), SORTS) ?? 'name',
    order: params.get('order') === 'desc' ? 'desc' : 'asc',
    page: Number.isInteger(page) && page > 0 ? page : 1,
  };
}

/** The filter part (no sort or page): what the CSV export and the API list take. */
export function filterParams(query: FleetQuery): Record<string, string | undefined> {
  return { organization: query.organization, location: query.location, state: query.state, platform: query.platform, q: query.q };
}
