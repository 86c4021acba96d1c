import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createScheduler, iterationDelayMs, type Timers } from './scheduler.ts';

/** Timers driven by the test: nothing fires until fire() is called. */
function manualTimers() {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 0;
  const timers: Timers = {
    setTimeout(callback, ms) {
      pending.set(++next, { callback, ms });
      return next;
    },
    clearTimeout: (handle) => void pending.delete(handle as number),
  };
  return {
    timers,
    delays: () => [...pending.values()].map((t) => t.ms),
    fire() {
      const [[id, entry]] = pending;
      pending.delete(id);
      entry.callback();
    },
  };
}

/** Iterations that end when the test says so. */
function controlledIterations() {
  const started: string[] = [];
  const endings: Array<() => void> = [];
  return {
    started,
    runIteration: (trigger: string, reason: string) => {
      started.push(`${trigger}:${reason}`);
      return new Promise<void>((resolve) => endings.push(resolve));
    },
    async finishCurrent() {
      endings.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** A scheduler on manual timers and controlled iterations, with its first iteration running. */
function started() {
  const clock = manualTimers();
  const its = controlledIterations();
  const scheduler = createScheduler({ runIteration: its.runIteration, nextDelayMs: () => 5000, timers: clock.timers });
  scheduler.start();
  return { clock, its, scheduler };
}

test('the next iteration is scheduled interval plus jitter after one ends', async () => {
  const { clock, its, scheduler } = started();
  assert.deepEqual(its.started, ['start:start']);
  assert.deepEqual(clock.delays(), [], 'no timer while an iteration runs');
  await its.finishCurrent();
  assert.deepEqual(clock.delays(), [5000]);
  clock.fire();
  assert.deepEqual(its.started, ['start:start', 'timer:interval']);
});

test('a wake between iterations starts one at once and keeps the pending timer: the fleet stays spread', async () => {
  const { clock, its, scheduler } = started();
  await its.finishCurrent();
  assert.deepEqual(clock.delays(), [5000]);
  scheduler.wake('policy changed');
  assert.deepEqual(its.started, ['start:start', 'wake:policy changed']);
  await its.finishCurrent();
  assert.deepEqual(clock.delays(), [5000], 'the same timer, not a second one drawn after the wake');
  clock.fire();
  assert.deepEqual(its.started, ['start:start', 'wake:policy changed', 'timer:interval']);
});

test('a timer that falls due during an iteration is taken by it; the next is drawn from its end', async () => {
  const { clock, its, scheduler } = started();
  await its.finishCurrent();
  scheduler.wake('policy changed');
  clock.fire();
  assert.deepEqual(its.started, ['start:start', 'wake:policy changed'], 'never two at once');
  assert.deepEqual(clock.delays(), []);
  await its.finishCurrent();
  assert.deepEqual(clock.delays(), [5000]);
  assert.equal(its.started.length, 2);
});

test('wakes during an iteration schedule exactly one more, never two at once', async () => {
  const { clock, its, scheduler } = started();
  scheduler.wake('a');
  scheduler.wake('b');
  scheduler.wake('c');
  assert.equal(its.started.length, 1, 'still the first iteration only');
  await its.finishCurrent();
  assert.deepEqual(its.started, ['start:start', 'wake:a']);
  await its.finishCurrent();
  assert.equal(its.started.length, 2, 'the three wakes made one iteration');
  assert.deepEqual(clock.delays(), [5000]);
});

test('a failing iteration still schedules the next one', async () => {
  const clock = manualTimers();
  const scheduler = createScheduler({ runIteration: async () => { throw new Error('boom'); }, nextDelayMs: () => 7000, timers: clock.timers });
  scheduler.start();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(clock.delays(), [7000]);
});

test('after stop no timer is left and wakes are ignored', async () => {
  const { clock, its, scheduler } = started();
  const stopped = scheduler.stop();
  scheduler.wake('late');
  await its.finishCurrent();
  await stopped;
  assert.deepEqual(its.started, ['start:start']);
  assert.deepEqual(clock.delays(), []);
});

test('the delay is the interval plus the drawn share of the jitter', () => {
  assert.equal(iterationDelayMs({ interval_seconds: 600, jitter_seconds: 120 }, () => 0), 600_000);
  assert.equal(iterationDelayMs({ interval_seconds: 600, jitter_seconds: 120 }, () => 0.5), 660_000);
  assert.equal(iterationDelayMs({ interval_seconds: 600, jitter_seconds: 0 }, () => 0.99), 600_000);
});
