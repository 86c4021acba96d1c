import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createScheduler, iterationDelayMs, nextDueAt } from './scheduler.ts';
import { manualTimers } from '../../test/support/manual-timers.ts';

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
  const scheduler = createScheduler({ runIteration: its.runIteration, nextDelayMs: () => 5000, timers: clock.timers, now: clock.now });
  scheduler.start();
  return { clock, its, scheduler };
}

test('the next iteration is due interval plus jitter after the previous one was due, however long it ran', async () => {
  const { clock, its } = started();
  assert.deepEqual(its.started, ['start:start']);
  assert.deepEqual(clock.delays(), [], 'no timer while an iteration runs');
  clock.advance(3000); // a server that answered late
  await its.finishCurrent();
  assert.deepEqual(clock.delays(), [2000], 'due 5000 ms after the start, not after the end');
  clock.fire();
  assert.deepEqual(its.started, ['start:start', 'timer:interval']);
  clock.advance(1000);
  await its.finishCurrent();
  assert.deepEqual(clock.delays(), [4000], 'the phase is kept from one timed iteration to the next');
});

test('due times that passed while an iteration ran on are skipped, not made up in a burst', async () => {
  const { clock, its } = started();
  clock.advance(17_000); // three due times (5000, 10000, 15000) passed
  await its.finishCurrent();
  assert.deepEqual(clock.delays(), [3000], 'the next due time on the same grid: 20000');
  assert.equal(its.started.length, 1);
});

test('the next due time keeps the phase and refuses a spacing that would never advance', () => {
  assert.equal(nextDueAt(10_000, 13_000, () => 5000), 15_000);
  assert.equal(nextDueAt(10_000, 27_000, () => 5000), 30_000);
  const jitters = [5200, 4900];
  assert.equal(nextDueAt(0, 6000, () => jitters.shift()!), 10_100, 'each skipped step draws its own jitter');
  assert.throws(() => nextDueAt(0, 1, () => 0), /must be positive, not 0 ms/);
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

test('a timer that falls due during an iteration is taken by it; the next keeps its due time', async () => {
  const { clock, its, scheduler } = started();
  await its.finishCurrent();
  scheduler.wake('policy changed');
  clock.fire(); // due at 5000
  assert.deepEqual(its.started, ['start:start', 'wake:policy changed'], 'never two at once');
  assert.deepEqual(clock.delays(), []);
  clock.advance(1500);
  await its.finishCurrent();
  assert.deepEqual(clock.delays(), [3500], 'due at 10000: 5000 after the one the wake took');
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
  const scheduler = createScheduler({ runIteration: async () => { throw new Error('boom'); }, nextDelayMs: () => 7000, timers: clock.timers, now: clock.now });
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
