import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServerMessage, wakeSocketUrl } from './wake-socket.ts';

test('the socket URL follows the server scheme', () => {
  assert.equal(wakeSocketUrl('http://127.0.0.1:8080/'), 'ws://127.0.0.1:8080/api/v1/agent/ws');
  assert.equal(wakeSocketUrl('https://pswm.example.com'), 'wss://pswm.example.com/api/v1/agent/ws');
});

test('reconcile and revoked are understood; anything else is ignored', () => {
  assert.deepEqual(parseServerMessage('{"type":"reconcile","reason":"policy changed"}'), { type: 'reconcile', reason: 'policy changed' });
  assert.deepEqual(parseServerMessage('{"type":"reconcile"}'), { type: 'reconcile', reason: undefined });
  assert.deepEqual(parseServerMessage('{"type":"revoked"}'), { type: 'revoked' });
  assert.deepEqual(parseServerMessage('{"type":"console-open"}'), { type: 'unknown' });
  assert.deepEqual(parseServerMessage('not json'), { type: 'unknown' });
});
