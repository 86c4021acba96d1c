import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spreadWake } from './spread-wake.ts';
import { manualTimers } from '../../test/support/manual-timers.ts';

function setup(random = () => 0.25) {
  const clock = manualTimers();
  const woken: string[] = [];
  const spread = spreadWake((reason) => woken.push(`${clock.now()}:${reason}`), clock.timers, random);
  return { clock, woken, spread };
}

test('a wake without a spread starts at once', () => {
  const { clock, woken, spread } = setup();
  spread.wake('policy changed', 0);
  assert.deepEqual(woken, ['0:policy changed']);
  assert.deepEqual(clock.delays(), []);
});

test('a spread wake starts after a random share of the window', () => {
  const { clock, woken, spread } = setup(() => 0.25);
  spread.wake('all', 20_000);
  assert.deepEqual(woken, []);
  assert.deepEqual(clock.delays(), [5000]);
  clock.fire();
  assert.deepEqual(woken, ['5000:all']);
});

test('a spread wake while one waits adds nothing; the waiting one goes when due', () => {
  const { clock, woken, spread } = setup();
  spread.wake('first', 20_000);
  spread.wake('second', 20_000);
  assert.deepEqual(clock.delays(), [5000]);
  clock.fire();
  assert.deepEqual(woken, ['5000:first']);
  // once it went, the next spread wake waits again
  spread.wake('third', 4000);
  assert.deepEqual(clock.delays(), [1000]);
});

test('a wake without a spread replaces the waiting one', () => {
  const { clock, woken, spread } = setup();
  spread.wake('all', 20_000);
  clock.advance(100);
  spread.wake('location', 0);
  assert.deepEqual(woken, ['100:location']);
  assert.deepEqual(clock.delays(), []);
});

test('cancel: the waiting wake never starts', () => {
  const { clock, woken, spread } = setup();
  spread.wake('all', 20_000);
  spread.cancel();
  assert.deepEqual(clock.delays(), []);
  assert.deepEqual(woken, []);
});

test('the delay stays within the window for any draw', () => {
  for (const draw of [0, 0.5, 0.999999]) {
    const { clock, spread } = setup(() => draw);
    spread.wake('all', 15_000);
    const [delay] = clock.delays();
    assert.ok(delay >= 0 && delay < 15_000, `${draw}: ${delay}`);
  }
});
