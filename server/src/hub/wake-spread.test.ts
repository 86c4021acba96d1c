import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_WAKE_RATE, wakeSpreadMs } from './wake-spread.ts';

test('agents an instance serves within a second are woken at once', () => {
  assert.equal(wakeSpreadMs(0, DEFAULT_WAKE_RATE), 0);
  assert.equal(wakeSpreadMs(75, DEFAULT_WAKE_RATE), 0);
  assert.equal(wakeSpreadMs(DEFAULT_WAKE_RATE, DEFAULT_WAKE_RATE), 0);
});

test('more are spread over woken / rate seconds', () => {
  assert.equal(wakeSpreadMs(1001, 1000), 1001);
  assert.equal(wakeSpreadMs(15_000, 1000), 15_000);
  assert.equal(wakeSpreadMs(5, 2), 2500);
});

test('a rate of 0 never spreads', () => {
  assert.equal(wakeSpreadMs(30_000, 0), 0);
});
