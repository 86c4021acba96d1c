// `pswm agent --dry-run`: one line per item saying what applying would do.
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
