// The console sessions list's filter as it lives in the URL, and the API query it becomes.
import { query } from './api.ts';
import { text, time } from './audit-query.ts';

export interface SessionFilter { agent?: string; actor?: string; since?: string; until?: string }
export const SESSIONS_PER_PAGE = 50;

export function parseSessionFilter(params: URLSearchParams): SessionFilter & { page: number; form: Record<string, string> } {
  const form = Object.fromEntries(['agent', 'actor', 'since', 'until'].map((key) => [key, params.get(key) ?? '']));
  const page = Number.parseInt(params.get('page') ?? '1', 10);
  return {
    agent: text(params.get('agent')), actor: text(params.get('actor')), since: time(params.get('since')), until: time(params.get('until')),
    page: Number.isSafeInteger(page) && page > 0 ? page : 1, form,
  };
}

export function sessionsApiPath(filter: SessionFilter & { page: number }): string {
  return `/api/v1/console/sessions${query({ agent: filter.agent, actor: filter.actor, since: filter.since, until: filter.until, page: filter.page, limit: SESSIONS_PER_PAGE })}`;
}
