/** Per-item outcome of one converge, as reported to the server (DESIGN §6). */
export type DriftStatus = 'in_sync' | 'changed' | 'failed' | 'drifted' | 'skipped';

export interface DriftItem {
  kind: 'script' | 'package';
  name: string;
  status: DriftStatus;
  reason?: string;
  /** Dry run only: applying would change this item. */
  wouldChange?: boolean;
}
