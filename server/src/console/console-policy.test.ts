import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideConsole } from './console-policy.ts';

const server = { maxIdleSeconds: 86400, maxDurationSeconds: 86400 };

test('disabled (or no document: the defaults) refuses; enabled gives the policy limits', () => {
  assert.equal(decideConsole(undefined, server).ok, false);
  assert.deepEqual(decideConsole({ enabled: false }, server), { ok: false, refusal: 'disabled', message: 'remote_console.enabled is false in this agent\'s effective policy' });
  assert.deepEqual(decideConsole({ enabled: true, require_consent: false, idle_timeout_minutes: 10 }, server), {
    ok: true, limits: { idleMs: 600_000, maxMs: 7_200_000, requireConsent: false, consentTimeoutMs: 60_000 },
  });
});

test('the server\'s ceilings only shorten the policy\'s limits', () => {
  const decided = decideConsole({ enabled: true, idle_timeout_minutes: 10, max_duration_minutes: 1 }, { maxIdleSeconds: 3, maxDurationSeconds: 3600 });
  assert.ok(decided.ok);
  assert.equal(decided.limits.idleMs, 3000);
  assert.equal(decided.limits.maxMs, 60_000);
});
