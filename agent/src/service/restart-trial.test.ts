import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeRestart, MAX_TRIAL_STARTS, type PendingUpdate } from './restart-trial.ts';

const pending: PendingUpdate = { version: '2.0.0', from_version: '1.0.0', sha256: 'a'.repeat(64), deadline: '2026-01-01T00:10:00.000Z', starts: 0 };
const before = new Date('2026-01-01T00:01:00Z');

test('nothing pending: nothing to do', () => {
  assert.deepEqual(judgeRestart(undefined, { runningVersion: '2.0.0', now: before }), { action: 'none' });
});

test('the new build starting before the deadline is on trial, and counts the start', () => {
  assert.deepEqual(judgeRestart(pending, { runningVersion: '2.0.0', now: before }), { action: 'trial', deadline: new Date(pending.deadline), starts: 1 });
  assert.equal(judgeRestart({ ...pending, starts: MAX_TRIAL_STARTS - 1 }, { runningVersion: '2.0.0', now: before }).action, 'trial');
});

test('one start too many (a build crashing at start) or a start past the deadline rolls back', () => {
  const crashed = judgeRestart({ ...pending, starts: MAX_TRIAL_STARTS }, { runningVersion: '2.0.0', now: before });
  assert.equal(crashed.action, 'rollback');
  assert.match((crashed as { reason: string }).reason, /started 3 times/);
  const late = judgeRestart(pending, { runningVersion: '2.0.0', now: new Date('2026-01-01T00:10:00Z') });
  assert.equal(late.action, 'rollback');
  assert.match((late as { reason: string }).reason, /deadline/);
});

test('a pending update of another build than the running one is forgotten (the previous build runs again)', () => {
  assert.deepEqual(judgeRestart(pending, { runningVersion: '1.0.0', now: before }), { action: 'forget' });
  assert.deepEqual(judgeRestart(pending, { runningVersion: undefined, now: before }), { action: 'forget' });
});
