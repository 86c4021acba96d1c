import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createReconcileScheduler } from './scheduler.ts';

const silent = pino({ level: 'silent' });

/** A run function that blocks until released, recording the reasons it was called with. */
function gatedRun() {
  const reasons: string[] = [];
  let release = () => {};
  const started: Array<() => void> = [];
  const run = (reason: string) => {
    reasons.push(reason);
    for (const notify of started.splice(0)) notify();
    return new Promise<void>((resolve) => (release = resolve));
  };
  return {
    run,
    reasons,
    release: () => release(),
    nextStart: () => new Promise<void>((resolve) => started.push(resolve)),
  };
}

test('ten requests during a run cause exactly one follow-up run', async () => {
  const gate = gatedRun();
  const scheduler = createReconcileScheduler(gate.run, silent);
  const first = scheduler.request('api');
  assert.deepEqual(gate.reasons, ['api']);

  const burst = Array.from({ length: 10 }, (_, i) => scheduler.request(i % 2 ? 'webhook' : 'poll'));
  const followUpStarted = gate.nextStart();
  gate.release();
  await first;
  await followUpStarted;
  assert.deepEqual(gate.reasons, ['api', 'poll, webhook']);

  gate.release();
  await Promise.all(burst);
  assert.equal(gate.reasons.length, 2);
  await scheduler.stop();
});

test('a request resolves only after a run that started after it', async () => {
  const gate = gatedRun();
  const scheduler = createReconcileScheduler(gate.run, silent);
  void scheduler.request('first');
  let laterDone = false;
  const later = scheduler.request('later').then(() => (laterDone = true));
  const followUpStarted = gate.nextStart();
  gate.release();
  await followUpStarted;
  assert.equal(laterDone, false);
  gate.release();
  await later;
  assert.equal(laterDone, true);
  await scheduler.stop();
});

test('a failing run is logged and later requests still run', async () => {
  const reasons: string[] = [];
  const logged: unknown[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const scheduler = createReconcileScheduler(async (reason) => {
    reasons.push(reason);
    if (reason === 'boom') throw new Error('database gone');
  }, log);
  await scheduler.request('boom');
  await scheduler.request('after');
  assert.deepEqual(reasons, ['boom', 'after']);
  assert.equal(logged.length, 1);
  assert.match(JSON.stringify(logged[0]), /database gone/);
  await scheduler.stop();
});

test('stop waits for the running run and drops the pending one', async () => {
  const gate = gatedRun();
  const scheduler = createReconcileScheduler(gate.run, silent);
  void scheduler.request('running');
  const dropped = scheduler.request('pending');
  let stopped = false;
  const stopping = scheduler.stop().then(() => (stopped = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stopped, false);
  gate.release();
  await stopping;
  await dropped;
  await scheduler.request('after stop');
  assert.deepEqual(gate.reasons, ['running']);
});

test('polling requests runs until stopped', async () => {
  let polls = 0;
  const { promise: twice, resolve } = Promise.withResolvers<void>();
  const scheduler = createReconcileScheduler(async (reason) => {
    assert.equal(reason, 'poll');
    if (++polls === 2) resolve();
  }, silent);
  scheduler.startPolling(0.01);
  await twice;
  await scheduler.stop();
  const afterStop = polls;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(polls, afterStop);
});
