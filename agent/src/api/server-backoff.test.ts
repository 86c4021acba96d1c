import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Timers } from '../loop/scheduler.ts';
import { parseRetryAfter } from './http.ts';
import { backoffDelayMs, createServerBackoff, MAX_RETRY_AFTER_MS } from './server-backoff.ts';

/** A clock and timers that only move when told to. */
function manualClock() {
  let now = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  let next = 1;
  const fake: Timers = {
    setTimeout: (callback, ms) => {
      timers.set(next, { at: now + ms, callback });
      return next++;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
  };
  return {
    now: () => now,
    timers: fake,
    advance(ms: number) {
      now += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.callback();
      }
    },
  };
}

test('backoff delays grow exponentially up to the cap, scaled by the jitter', () => {
  const top = () => 0.999999;
  assert.deepEqual([0, 1, 2, 3, 4, 10, 5000].map((attempt) => backoffDelayMs(attempt, 100, 1000, top)), [99, 199, 399, 799, 999, 999, 999]);
  assert.equal(backoffDelayMs(5, 100, 1000, () => 0), 0);
  assert.equal(backoffDelayMs(3, 100, 1000, () => 0.5), 400);
});

test('while the server answers every call goes; after a failure one probe goes once the delay passed', () => {
  const clock = manualClock();
  const backoff = createServerBackoff({ policy: { baseMs: 1000, maxMs: 60_000 }, random: () => 0.5, now: clock.now, timers: clock.timers });
  assert.ok(backoff.tryAcquire() && backoff.tryAcquire());
  backoff.failed();
  assert.equal(backoff.waitMs(), 500);
  assert.equal(backoff.tryAcquire(), false);
  clock.advance(500);
  assert.equal(backoff.tryAcquire(), true, 'the probe');
  assert.equal(backoff.tryAcquire(), false, 'only one probe at a time');
  backoff.failed();
  assert.equal(backoff.waitMs(), 1000, 'the window doubled');
  clock.advance(1000);
  assert.ok(backoff.tryAcquire());
  backoff.succeeded();
  assert.ok(backoff.tryAcquire() && backoff.tryAcquire(), 'an answer opens it for everyone');
  assert.equal(backoff.failures(), 0);
});

test("the server's Retry-After is a floor the jitter never goes below, up to an hour", () => {
  const clock = manualClock();
  const backoff = createServerBackoff({ policy: { baseMs: 1000, maxMs: 60_000 }, random: () => 0, now: clock.now, timers: clock.timers });
  backoff.failed(30_000);
  assert.equal(backoff.waitMs(), 30_000);
  clock.advance(30_000);
  assert.ok(backoff.tryAcquire());
  backoff.failed(10 * 86_400_000);
  assert.equal(backoff.waitMs(), MAX_RETRY_AFTER_MS);
});

test('whenOpen waits for the delay and for a probe in flight; stopping ends the wait', async () => {
  const clock = manualClock();
  const backoff = createServerBackoff({ policy: { baseMs: 1000, maxMs: 60_000 }, random: () => 0.5, now: clock.now, timers: clock.timers });
  backoff.failed();
  let opened = false;
  const waiting = backoff.whenOpen().then(() => (opened = true));
  clock.advance(499);
  await Promise.resolve();
  assert.equal(opened, false);
  assert.equal(backoff.tryAcquire(), false);
  clock.advance(1);
  await waiting;
  assert.ok(backoff.tryAcquire(), 'the probe');
  let second = false;
  const behindProbe = backoff.whenOpen().then(() => (second = true));
  clock.advance(10_000);
  await Promise.resolve();
  assert.equal(second, false, 'waits for the probe to settle');
  backoff.succeeded();
  await behindProbe;

  backoff.failed();
  const stop = new AbortController();
  const stopped = backoff.whenOpen(stop.signal).then(() => 'opened', (error: Error) => error.message);
  stop.abort(new Error('agent stopping'));
  assert.equal(await stopped, 'agent stopping');
});

test('Retry-After is read as seconds or an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-5', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});
