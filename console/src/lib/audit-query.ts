// The audit log's filter as it lives in the URL, and the API query it becomes; the form helpers serve
// every filter form (console sessions too).

export interface AuditFilter { actor?: string; action?: string; target?: string; since?: string; until?: string }

export const text = (value: string | null) => (value && value.trim() ? value.trim().slice(0, 200) : undefined);
/** A datetime-local value ("2026-12-02T10:00") read as UTC, or undefined. */
export const time = (value: string | null) => {
  const t = text(value);
  return t && Number.isFinite(Date.parse(`${t}Z`)) ? new Date(`${t}Z`).toISOString() : t && Number.isFinite(Date.parse(t)) ? new Date(t).toISOString() : undefined;
};

export function parseAuditFilter(params: URLSearchParams): AuditFilter & { form: Record<string, string> } {
  const form = Object.fromEntries(['actor', 'action', 'target', 'since', 'until'].map((key) => [key, params.get(key) ?? '']));
  return { actor: text(params.get('actor')), action: text(params.get('action')), target: text(params.get('target')), since: time(params.get('since')), until: time(params.get('until')), form };
}
