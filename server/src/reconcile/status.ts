// The reconciler's status in the database: the policy_state row (applied vs last attempted revision,
// conditions) and one reconciliations row per attempt.
import type postgres from 'postgres';
import type { PolicyError } from '../../../schemas/src/model.ts';
import type { WriteCounts } from '../apply/plan-writes.ts';
import { finishedConditions, startedConditions, type Condition } from './conditions.ts';

export type Queryable = postgres.Sql | postgres.TransactionSql;

export type ReconcileStatus = 'applied' | 'rejected' | 'no-op' | 'failed';
export type ReconcileReason = 'ValidationFailed' | 'DeletionBudgetExceeded' | 'FetchFailed' | 'ApplyFailed';

export interface PolicyState {
  appliedRevision: string | null;
  appliedAt: Date | null;
  lastAttemptedRevision: string | null;
  lastAttemptedAt: Date | null;
  lastAttemptedStatus: ReconcileStatus | null;
  conditions: Condition[];
  /** Moves with every write to the applied documents (reconciles and agents' own scopes). */
  documentsVersion: number;
}

/** One finished attempt, as recorded. */
export interface ReconciliationRecord {
  revision: string | null;
  commit?: { author: string; email?: string; message: string };
  trigger: string;
  status: ReconcileStatus;
  reason?: ReconcileReason;
  message: string;
  counts: WriteCounts;
  errors: PolicyError[];
  startedAt: Date;
  finishedAt: Date;
}

export async function readPolicyState(sql: Queryable): Promise<PolicyState> {
  const [row] = await sql<Array<{
    applied_revision: string | null; applied_at: Date | null; last_attempted_revision: string | null;
    last_attempted_at: Date | null; last_attempted_status: ReconcileStatus | null; conditions: Condition[]; documents_version: string;
  }>>`select * from policy_state`;
  return {
    appliedRevision: row.applied_revision,
    appliedAt: row.applied_at,
    lastAttemptedRevision: row.last_attempted_revision,
    lastAttemptedAt: row.last_attempted_at,
    lastAttemptedStatus: row.last_attempted_status,
    conditions: row.conditions,
    documentsVersion: Number(row.documents_version),
  };
}

/** Marks a write to the applied documents (inside its transaction); returns the new version. */
export async function bumpDocumentsVersion(tx: postgres.TransactionSql): Promise<number> {
  const [row] = await tx<Array<{ documents_version: string }>>`update policy_state set documents_version = documents_version + 1 returning documents_version`;
  return Number(row.documents_version);
}

/** Sets lastAttemptedRevision before any work, so a crash mid-reconcile is visible. */
export async function markAttemptStarted(sql: Queryable, revision: string, now: Date): Promise<void> {
  const { conditions } = await readPolicyState(sql);
  await sql`
    update policy_state set last_attempted_revision = ${revision}, last_attempted_at = ${now}, last_attempted_status = null,
      conditions = ${sql.json(startedConditions(conditions, revision, now) as unknown as postgres.JSONValue)}`;
}

/** Records the attempt and updates the state row; on `applied`, call inside the apply transaction so
 * the applied revision moves together with the rows it describes. Returns the reconciliation id, and
 * whether the attempt was folded into the previous row as a repeat. */
export async function recordReconciliation(sql: Queryable, record: ReconciliationRecord): Promise<{ id: number; repeated: boolean }> {
  const { conditions } = await readPolicyState(sql);
  const next = finishedConditions(conditions, record, record.finishedAt);
  const applied = record.status === 'applied';
  await sql`
    update policy_state set
      applied_revision = case when ${applied} then ${record.revision} else applied_revision end,
      applied_at = case when ${applied} then ${record.finishedAt}::timestamptz else applied_at end,
      last_attempted_revision = coalesce(${record.revision}, last_attempted_revision),
      last_attempted_at = ${record.finishedAt}, last_attempted_status = ${record.status},
      conditions = ${sql.json(next as unknown as postgres.JSONValue)}`;
  if (record.status === 'no-op' || record.status === 'rejected') {
    const repeated = await foldRepeatedOutcome(sql, record);
    if (repeated !== undefined) return { id: repeated, repeated: true };
  }
  const author = record.commit ? `${record.commit.author}${record.commit.email ? ` <${record.commit.email}>` : ''}` : null;
  const [row] = await sql<Array<{ id: string }>>`
    insert into reconciliations (revision, author, message, trigger, status, reason, detail, added, changed, removed,
      duration_ms, errors, started_at, finished_at)
    values (${record.revision}, ${author}, ${record.commit?.message.trimEnd() ?? null}, ${record.trigger}, ${record.status},
      ${record.reason ?? null}, ${record.message}, ${record.counts.added}, ${record.counts.changed}, ${record.counts.removed},
      ${record.finishedAt.getTime() - record.startedAt.getTime()}, ${sql.json(record.errors as unknown as postgres.JSONValue)},
      ${record.startedAt}, ${record.finishedAt})
    returning id`;
  return { id: Number(row.id), repeated: false };
}

/** When the newest reconciliation already is this outcome (a no-op, or the same rejection) of this
 * revision, counts this one into it (repeats, last trigger and finish time): polling a branch that does
 * not change, or whose head stays rejected, does not grow the history. */
async function foldRepeatedOutcome(sql: Queryable, record: ReconciliationRecord): Promise<number | undefined> {
  const [row] = await sql<Array<{ id: string }>>`
    update reconciliations set repeats = repeats + 1, trigger = ${record.trigger}, finished_at = ${record.finishedAt},
      duration_ms = ${record.finishedAt.getTime() - record.startedAt.getTime()}
    where id = (select max(id) from reconciliations) and status = ${record.status}
      and revision is not distinct from ${record.revision} and reason is not distinct from ${record.reason ?? null}
      and detail = ${record.message}
    returning id`;
  return row ? Number(row.id) : undefined;
}
/** What GET /revision and `pswm-server reconcile status` show: applied vs last attempted revision, the
 * last attempt's outcome with its errors (file:line:col), and the conditions. */
export interface RevisionStatus {
  applied: { revision: string | null; at: Date | null };
  lastAttempted: {
    revision: string | null; at: Date | null; status: ReconcileStatus | null;
    reason: ReconcileReason | null; message: string | null; errors: PolicyError[];
  };
  conditions: Condition[];
}

export async function readRevisionStatus(sql: Queryable): Promise<RevisionStatus> {
  const state = await readPolicyState(sql);
  const [last] = await sql<Array<{ revision: string | null; reason: ReconcileReason | null; detail: string; errors: PolicyError[] }>>`
    select revision, reason, detail, errors from reconciliations order by id desc limit 1`;
  // A newer attempt may be running (no row yet): then its outcome is not known.
  const known = last && state.lastAttemptedStatus !== null && (last.revision ?? state.lastAttemptedRevision) === state.lastAttemptedRevision;
  return {
    applied: { revision: state.appliedRevision, at: state.appliedAt },
    lastAttempted: {
      revision: state.lastAttemptedRevision, at: state.lastAttemptedAt, status: state.lastAttemptedStatus,
      reason: known ? last.reason : null, message: known ? last.detail : null, errors: known ? last.errors : [],
    },
    conditions: state.conditions,
  };
}
