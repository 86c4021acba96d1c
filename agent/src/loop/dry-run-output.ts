// `pswm agent --dry-run`: one line per item saying what applying would do. `pswm agent --once`: one
// line per item that changed or failed, and the totals.
import type { WireDriftItem } from '../report/wire.ts';
import type { DriftItem } from '../converge/drift.ts';

export function dryRunLabel(item: Pick<DriftItem, 'status' | 'reason' | 'wouldChange'>): string {
  const why = item.reason ? ` (${item.reason})` : '';
  if (item.status === 'drifted') return `drifted${why}, would change`;
  if (item.wouldChange) return `would change${why}`;
  if (item.status === 'in_sync') return 'in_sync';
  return `${item.status}${why}`;
}

export function formatDryRun(items: ReadonlyArray<DriftItem | WireDriftItem>): string {
  if (items.length === 0) return 'dry run: nothing to converge\n';
  const width = Math.max(...items.map((i) => `${i.kind} ${i.name}`.length));
  return items.map((i) => `${`${i.kind} ${i.name}`.padEnd(width)}  ${dryRunLabel(i)}\n`).join('');
}

const itemLabel = (i: { kind: string; name: string }) => `${i.kind} ${i.name}`;

/** What an applied iteration did, for the terminal: the items that changed or failed, then the
 * totals (an iteration where all is in sync prints only the totals). */
export function formatApplied(items: ReadonlyArray<DriftItem | WireDriftItem>, counts: Record<string, number>): string {
  const notable = items.filter((i) => i.status === 'changed' || i.status === 'failed');
  const width = Math.max(0, ...notable.map((i) => itemLabel(i).length));
  const lines = notable.map((i) => `${itemLabel(i).padEnd(width)}  ${i.status}${i.reason ? ` (${i.reason.split('\n')[0]})` : ''}\n`);
  const totals = Object.entries(counts).map(([status, n]) => `${n} ${status}`).join(', ');
  return `${lines.join('')}${items.length ? `items: ${totals}` : 'nothing to converge'}\n`;
}
