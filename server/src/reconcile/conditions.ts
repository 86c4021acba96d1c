// Reconciler conditions, computed from the previous ones and an outcome. Pure. The shape follows
// Kubernetes/Flux: a condition's lastTransitionTime moves only when its status flips, so "Ready has
// been False since 10:02" stays true across repeated failed attempts.

export type ConditionType = 'Ready' | 'Reconciling' | 'Stalled';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface FinishedAttempt {
  status: 'applied' | 'rejected' | 'no-op' | 'failed';
  reason?: string;
  message: string;
}

/** Reconciling=True while an attempt is under way; Ready and Stalled are left as they were. */
export function startedConditions(previous: Condition[], revision: string, now: Date): Condition[] {
  return setCondition(previous, { type: 'Reconciling', status: 'True', reason: 'Progressing', message: `reconciling revision ${revision}` }, now);
}

/** Ready follows the outcome; Stalled marks a revision that will not succeed until a new commit
 * arrives (rejected), while a transient failure (failed) leaves Ready False and is retried. */
export function finishedConditions(previous: Condition[], attempt: FinishedAttempt, now: Date): Condition[] {
  let next = previous.filter((c) => c.type !== 'Reconciling');
  const succeeded = attempt.status === 'applied' || attempt.status === 'no-op';
  next = setCondition(next, {
    type: 'Ready',
    status: succeeded ? 'True' : 'False',
    reason: succeeded ? 'ReconciliationSucceeded' : (attempt.reason ?? 'ReconciliationFailed'),
    message: attempt.message,
  }, now);
  if (attempt.status === 'rejected') {
    return setCondition(next, { type: 'Stalled', status: 'True', reason: attempt.reason ?? 'Rejected', message: attempt.message }, now);
  }
  return succeeded ? next.filter((c) => c.type !== 'Stalled') : next;
}

function setCondition(conditions: Condition[], wanted: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const current = conditions.find((c) => c.type === wanted.type);
  const lastTransitionTime = current && current.status === wanted.status ? current.lastTransitionTime : now.toISOString();
  const others = conditions.filter((c) => c.type !== wanted.type);
  return [...others, { ...wanted, lastTransitionTime }].sort((a, b) => a.type.localeCompare(b.type));
}
