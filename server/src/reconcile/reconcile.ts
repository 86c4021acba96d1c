// One reconcile of the policy repository into PostgreSQL, top to bottom. Each stage either continues
// or records why it stopped and returns; nothing here throws for an expected failure.
//
//   sync source → unchanged? no-op → read snapshot → load + validate → compile scopes
//   → (one transaction: lock → diff against stored → deletion budget → write changed rows
//      → applied revision + reconciliation record) → audit → outcome
//
// lastAttemptedRevision is set when work starts; appliedRevision moves only inside the apply
// transaction, so a rejected, failed or killed attempt leaves the last good revision in force.
import type postgres from 'postgres';
import type { Logger } from '../logger.ts';
import type { PolicySnapshot, PolicySource } from '../git/source.ts';
import { audit } from '../audit.ts';
import { loadPolicy } from '../../../schemas/src/validate/load-policy.ts';
import { reconcileDefaults } from '../../../schemas/src/json-schema.ts';
import type { Policy, PolicyError } from '../../../schemas/src/model.ts';
import { planWrites, type WriteCounts, type WritePlan } from '../apply/plan-writes.ts';
import { readStoredInventory } from '../apply/stored-inventory.ts';
import { applyWrites } from '../apply/apply-writes.ts';
import { checkDeletionBudget } from '../apply/deletion-budget.ts';
import { desiredRows } from './desired-rows.ts';
import { markAttemptStarted, readPolicyState, recordReconciliation } from './status.ts';
import type { ReconcileReason, ReconcileStatus, ReconciliationRecord } from './status.ts';

/** Key of the transaction-level advisory lock that makes one apply at a time across instances. */
export const RECONCILE_LOCK_KEY = 0x7073776d; // "pswm"

export interface ReconcileDeps {
  sql: postgres.Sql;
  source: PolicySource;
  log: Logger;
  now?: () => Date;
  /** What asked for this run (poll, webhook, api, watch, cli); recorded with the attempt. */
  trigger: string;
}

export interface ReconcileOutcome {
  /** The reconciliation row, or null when even recording failed (database down). */
  id: number | null;
  status: ReconcileStatus;
  reason?: ReconcileReason;
  message: string;
  revision: string | null;
  counts: WriteCounts;
  /** Scopes whose document changed, appeared or disappeared; [3/7] signals their agents. */
  changedScopes: string[];
  errors: PolicyError[];
  durationMs: number;
}

type Stop = Omit<ReconciliationRecord, 'trigger' | 'startedAt' | 'finishedAt'> & { changedScopes?: string[] };

const NO_COUNTS: WriteCounts = { added: 0, changed: 0, removed: 0 };

export async function reconcileOnce(deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const { sql, source, log } = deps;
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const finish = (stop: Stop) => finishAttempt(deps, startedAt, now(), stop);

  let revision: string;
  try {
    revision = await source.sync();
  } catch (error) {
    return finish(failure(null, 'FetchFailed', `cannot sync ${source.description}`, error, log));
  }

  let snapshot: PolicySnapshot;
  try {
    const state = await readPolicyState(sql);
    if (revision === state.appliedRevision && revision === state.lastAttemptedRevision) {
      return finish({ revision, status: 'no-op', message: `revision ${revision} is already applied`, counts: NO_COUNTS, errors: [] });
    }
    await markAttemptStarted(sql, revision, startedAt);
  } catch (error) {
    return finish(failure(revision, 'ApplyFailed', 'cannot read the reconcile state', error, log));
  }
  try {
    snapshot = await source.read(revision);
  } catch (error) {
    return finish(failure(revision, 'FetchFailed', `cannot read revision ${revision}`, error, log));
  }
  const commit = snapshot.commit;

  const loaded = loadPolicy(snapshot.files);
  if (!loaded.ok) {
    const message = `revision ${revision} is invalid (${loaded.errors.length} error(s)); the applied revision stays in force`;
    return finish({ revision, commit, status: 'rejected', reason: 'ValidationFailed', message, counts: NO_COUNTS, errors: loaded.errors });
  }

  const desired = desiredRows(loaded.policy);
  const guard = { ...reconcileDefaults(), ...loaded.policy.settings?.spec.reconcile };

  try {
    return await sql.begin(async (tx) => {
      // Serialises applies across instances; re-reading the stored state under the lock means two
      // instances that both compiled the same revision cannot both apply it.
      await tx`select pg_advisory_xact_lock(${RECONCILE_LOCK_KEY})`;
      const stored = await readStoredInventory(tx);
      if (stored.revision === revision) {
        return finishIn(tx, { revision, commit, status: 'no-op', message: `revision ${revision} was applied by another reconcile`, counts: NO_COUNTS, errors: [] });
      }
      const plan = planWrites(stored, desired);
      const budget = checkDeletionBudget(plan.counts, stored.objects.size, guard);
      if (!budget.ok) {
        return finishIn(tx, { revision, commit, status: 'rejected', reason: 'DeletionBudgetExceeded', message: budget.message, counts: plan.counts, errors: [] });
      }
      await applyWrites(tx, plan, revision);
      return finishIn(tx, { revision, commit, status: 'applied', message: appliedMessage(revision, plan), counts: plan.counts, errors: [], changedScopes: plan.changedScopes });
    }).then(async (outcome) => {
      if (outcome.status === 'applied') await auditApplied(sql, deps.trigger, outcome, loaded.policy, log);
      return outcome;
    });
  } catch (error) {
    return finish(failure(revision, 'ApplyFailed', `cannot apply revision ${revision}`, error, log, commit));
  }

  // Inside the apply transaction the record commits (or rolls back) with the rows it describes.
  function finishIn(tx: postgres.TransactionSql, stop: Stop): Promise<ReconcileOutcome> {
    return finishAttempt({ ...deps, sql: tx as unknown as postgres.Sql }, startedAt, now(), stop, { throwOnRecordError: true });
  }
}

/** Records the attempt (reconciliations row + policy_state) and turns it into the outcome. */
async function finishAttempt(deps: ReconcileDeps, startedAt: Date, finishedAt: Date, stop: Stop, options: { throwOnRecordError?: boolean } = {}): Promise<ReconcileOutcome> {
  const record: ReconciliationRecord = { ...stop, trigger: deps.trigger, startedAt, finishedAt };
  let id: number | null = null;
  try {
    id = await recordReconciliation(deps.sql, record);
  } catch (error) {
    if (options.throwOnRecordError) throw error;
    deps.log.error({ err: error, revision: stop.revision, status: stop.status }, 'cannot record the reconciliation');
  }
  const outcome: ReconcileOutcome = {
    id,
    status: stop.status,
    reason: stop.reason,
    message: stop.message,
    revision: stop.revision,
    counts: stop.counts,
    changedScopes: stop.changedScopes ?? [],
    errors: stop.errors,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
  };
  const level = stop.status === 'applied' || stop.status === 'no-op' ? 'info' : 'warn';
  deps.log[level]({ revision: stop.revision, status: stop.status, reason: stop.reason, counts: stop.counts, durationMs: outcome.durationMs, trigger: deps.trigger }, `reconcile ${stop.status}: ${stop.message}`);
  return outcome;
}

function failure(revision: string | null, reason: ReconcileReason, what: string, error: unknown, log: Logger, commit?: PolicySnapshot['commit']): Stop {
  log.warn({ err: error, revision }, what);
  const message = `${what}: ${(error as Error)?.message ?? String(error)}`;
  return { revision, commit, status: 'failed', reason, message, counts: NO_COUNTS, errors: [] };
}

function appliedMessage(revision: string, plan: WritePlan): string {
  const { added, changed, removed } = plan.counts;
  return `applied revision ${revision}: ${added} added, ${changed} changed, ${removed} removed; ${plan.changedScopes.length} scope(s) changed`;
}

async function auditApplied(sql: postgres.Sql, trigger: string, outcome: ReconcileOutcome, policy: Policy, log: Logger): Promise<void> {
  try {
    await audit(sql, {
      actor: `reconciler:${trigger}`,
      action: 'policy.apply',
      target: outcome.revision ?? undefined,
      outcome: 'success',
      details: { counts: outcome.counts, changedScopes: outcome.changedScopes.length, locations: policy.locations.size },
    });
  } catch (error) {
    // The revision is applied and recorded; a missing audit line must not turn that into a failure.
    log.error({ err: error, revision: outcome.revision }, 'cannot write the audit entry for an applied revision');
  }
}
