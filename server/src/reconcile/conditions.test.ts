import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finishedConditions, startedConditions } from './conditions.ts';

const t0 = new Date('2025-01-01T10:00:00Z');
const t1 = new Date('2025-01-01T10:05:00Z');
const t2 = new Date('2025-01-01T10:10:00Z');

test('Reconciling is present only while an attempt runs', () => {
  const running = startedConditions([], 'abc', t0);
  assert.deepEqual(running.map((c) => [c.type, c.status]), [['Reconciling', 'True']]);
  const done = finishedConditions(running, { status: 'applied', message: 'applied abc' }, t1);
  assert.deepEqual(done.map((c) => [c.type, c.status, c.reason]), [['Ready', 'True', 'ReconciliationSucceeded']]);
});

test('a rejected revision stalls; Ready keeps its transition time across repeated failures', () => {
  const ready = finishedConditions([], { status: 'applied', message: 'ok' }, t0);
  const rejected = finishedConditions(ready, { status: 'rejected', reason: 'ValidationFailed', message: 'bad' }, t1);
  assert.deepEqual(rejected.map((c) => [c.type, c.status, c.reason]), [['Ready', 'False', 'ValidationFailed'], ['Stalled', 'True', 'ValidationFailed']]);
  const again = finishedConditions(rejected, { status: 'failed', reason: 'FetchFailed', message: 'network' }, t2);
  const readyAgain = again.find((c) => c.type === 'Ready')!;
  assert.equal(readyAgain.reason, 'FetchFailed');
  assert.equal(readyAgain.lastTransitionTime, t1.toISOString());
  const recovered = finishedConditions(again, { status: 'applied', message: 'ok' }, t2);
  assert.deepEqual(recovered.map((c) => c.type), ['Ready'], 'success clears Stalled');
});
