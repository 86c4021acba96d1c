// The deletion budget: a revision that would remove more than a share of the policy objects of the
// revision before it is refused unless the repository's global Settings allow it. A mistaken `git rm -r`
// or a broken generator must not empty the fleet's policy in one reconcile. The server applies it before
// writing, and `pswm-policy validate --base` / `plan` apply the same rule, so CI refuses what the server
// would.
import { reconcileDefaults } from '../json-schema.ts';
import type { Policy } from '../model.ts';
import { inventory } from './inventory.ts';

export interface DeletionGuard {
  deletion_budget_percent: number;
  allow_mass_deletion: boolean;
}

export type BudgetVerdict = { ok: true } | { ok: false; message: string };

/** The guard the head revision sets (its Settings), with the schema's defaults. */
export function deletionGuard(head: Policy): DeletionGuard {
  return { ...reconcileDefaults(), ...head.settings?.spec.reconcile };
}

export function checkDeletionBudget(removed: number, previousObjectCount: number, guard: DeletionGuard): BudgetVerdict {
  if (guard.allow_mass_deletion || previousObjectCount === 0 || removed === 0) return { ok: true };
  const removedPercent = (removed / previousObjectCount) * 100;
  if (removedPercent <= guard.deletion_budget_percent) return { ok: true };
  return {
    ok: false,
    message: `the revision removes ${removed} of ${previousObjectCount} policy objects (${removedPercent.toFixed(1)}%), ` +
      `more than the deletion budget of ${guard.deletion_budget_percent}%; set spec.reconcile.allow_mass_deletion: true ` +
      'in the Settings document to allow it',
  };
}

/** The budget check of a change from `base` to `head`, counted in policy objects as the server does. */
export function checkRevisionDeletions(base: Policy, head: Policy): BudgetVerdict {
  const before = inventory(base);
  const after = inventory(head);
  const removed = [...before.keys()].filter((key) => !after.has(key)).length;
  return checkDeletionBudget(removed, before.size, deletionGuard(head));
}
