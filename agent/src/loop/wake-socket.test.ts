import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DUPLICATE_MAX_DELAY_MS, DUPLICATE_MIN_DELAY_MS, duplicateDelayMs, MAX_WAKE_SPREAD_MS, parseServerMessage, wakeSocketUrl } from './wake-socket.ts';

test('the socket URL follows the server scheme', () => {
  assert.equal(wakeSocketUrl('http://127.0.0.1:8080/'), 'ws://127.0.0.1:8080/api/v1/agent/ws');
  assert.equal(wakeSocketUrl('https://pswm.example.com'), 'wss://pswm.example.com/api/v1/agent/ws');
});

test('reconcile and revoked are understood; anything else is ignored', () => {
  assert.deepEqual(parseServerMessage('{"type":"reconcile","reason":"policy changed"}'), { type: 'reconcile', reason: 'policy changed', spreadMs: 0 });
  assert.deepEqual(parseServerMessage('{"type":"reconcile"}'), { type: 'reconcile', reason: undefined, spreadMs: 0 });
  assert.deepEqual(parseServerMessage('{"type":"reconcile","reason":"all","spread_ms":15000}'), { type: 'reconcile', reason: 'all', spreadMs: 15000 });
  // a spread the agent cannot use is no spread; one past the ceiling is cut to it
  for (const bad of ['-5', '0', '"15000"', 'null', '1e400']) {
    assert.equal((parseServerMessage(`{"type":"reconcile","spread_ms":${bad}}`) as { spreadMs: number }).spreadMs, 0, bad);
  }
  assert.equal((parseServerMessage(`{"type":"reconcile","spread_ms":${MAX_WAKE_SPREAD_MS * 10}}`) as { spreadMs: number }).spreadMs, MAX_WAKE_SPREAD_MS);
  assert.deepEqual(parseServerMessage('{"type":"revoked"}'), { type: 'revoked' });
  assert.deepEqual(parseServerMessage('{"type":"console-open"}'), { type: 'unknown' });
  assert.deepEqual(parseServerMessage('not json'), { type: 'unknown' });
});

test('after close 4410 the socket waits 30 to 60 minutes, jittered', () => {
  assert.equal(duplicateDelayMs(() => 0), DUPLICATE_MIN_DELAY_MS);
  assert.equal(DUPLICATE_MIN_DELAY_MS, 30 * 60_000);
  assert.ok(duplicateDelayMs(() => 0.999999) < DUPLICATE_MAX_DELAY_MS);
  assert.equal(DUPLICATE_MAX_DELAY_MS, 60 * 60_000);
  assert.notEqual(duplicateDelayMs(() => 0.25), duplicateDelayMs(() => 0.75));
});
