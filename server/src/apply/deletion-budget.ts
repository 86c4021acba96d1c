// The deletion budget: a revision that would remove more than a share of the applied policy objects
// is refused unless the repository's global Settings allow it. A mistaken `git rm -r` or a broken
// generator must not empty the fleet's policy in one reconcile.
import type { WriteCounts } from './plan-writes.ts';

export interface DeletionGuard {
  deletion_budget_percent: number;
  allow_mass_deletion: boolean;
}

export type BudgetVerdict = { ok: true } | { ok: false; message: string };

export function checkDeletionBudget(counts: WriteCounts, previousObjectCount: number, guard: DeletionGuard): BudgetVerdict {
  if (guard.allow_mass_deletion || previousObjectCount === 0 || counts.removed === 0) return { ok: true };
  const removedPercent = (counts.removed / previousObjectCount) * 100;
  if (removedPercent <= guard.deletion_budget_percent) return { ok: true };
  return {
    ok: false,
    message: `the revision removes ${counts.removed} of ${previousObjectCount} policy objects (${removedPercent.toFixed(1)}%), ` +
      `more than the deletion budget of ${guard.deletion_budget_percent}%; set spec.reconcile.allow_mass_deletion: true ` +
      'in the Settings document to allow it',
  };
}
