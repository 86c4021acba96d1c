// How values read on a page: times, revisions, sizes, states. Pure.

export const STATE_LABELS: Record<string, string> = {
  converged: 'Converged',
  drifted: 'Drifted',
  failed: 'Failed',
  offline: 'Offline',
  never_reported: 'Never reported',
};

export function shortRevision(revision: string | null | undefined): string {
  return revision ? revision.slice(0, 10) : '—';
}

/** "3 min ago" style, from `now`; "never" for null. */
export function ago(value: string | Date | null | undefined, now = Date.now()): string {
  if (!value) return 'never';
  const seconds = Math.round((now - new Date(value).getTime()) / 1000);
  if (seconds < 60) return `${Math.max(seconds, 0)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

export function isoTime(value: string | Date | null | undefined): string {
  return value ? new Date(value).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—';
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${n.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

/** "file:line:col" of a policy error, as editors read it. */
export function position(error: { file?: string; line?: number; col?: number }): string {
  return [error.file, error.line, error.col].filter((part) => part !== undefined && part !== null).join(':');
}

export function json(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** "42 s", "3 min 5 s", "2 h 10 min" between two times; '—' when it has not started. */
export function duration(from: string | Date | null | undefined, to: string | Date | null | undefined, now = Date.now()): string {
  if (!from) return '—';
  const seconds = Math.max(0, Math.round(((to ? new Date(to).getTime() : now) - new Date(from).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}
