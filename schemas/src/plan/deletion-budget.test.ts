import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDeletionBudget } from './deletion-budget.ts';

test('the deletion budget refuses removing more than its share unless mass deletion is allowed', () => {
  const guard = { deletion_budget_percent: 25, allow_mass_deletion: false };
  assert.equal(checkDeletionBudget(25, 100, guard).ok, true);
  const refused = checkDeletionBudget(26, 100, guard);
  assert.equal(refused.ok, false);
  assert.match(!refused.ok ? refused.message : '', /26 of 100 .*allow_mass_deletion/);
  assert.equal(checkDeletionBudget(26, 100, { ...guard, allow_mass_deletion: true }).ok, true);
  assert.equal(checkDeletionBudget(0, 0, guard).ok, true, 'a first apply removes nothing');
});
