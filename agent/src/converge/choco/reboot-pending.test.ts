import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeTempDir } from '../../../test/support/temp-dir.ts';
import type { ChocoRunRecord } from './converge-choco.ts';
import { rebootPendingFact, rebootPendingRecord, saveRebootPending } from './reboot-pending.ts';

const run = (pkg: string, exitCode: number, rebootRequired: boolean): ChocoRunRecord => ({ operation: 'install', package: pkg, exitCode, rebootRequired, output: '', timedOut: false, durationMs: 1, startedAt: '2025-01-15T12:00:00.000Z' });

test('a reboot stays pending across iterations until the boot time moves', async (t) => {
  const dir = await makeTempDir(t);
  const booted = new Date('2025-01-15T08:00:00Z');
  const record = rebootPendingRecord([run('git', 0, false), run('dotnetfx', 3010, true), run('vcredist', 1641, true)], new Date('2025-01-15T12:00:00Z'), booted);
  assert.deepEqual(record, { since: '2025-01-15T12:00:00.000Z', reason: 'choco install dotnetfx exited 3010; choco install vcredist exited 1641', boot_time: booted.toISOString() });
  assert.equal(rebootPendingRecord([run('git', 0, false)], new Date(), booted), undefined);

  assert.deepEqual(await rebootPendingFact(dir, booted), { pending: false });
  await saveRebootPending(dir, record!);
  // the uptime-derived boot time wobbles by seconds: still the same boot
  assert.deepEqual(await rebootPendingFact(dir, new Date(booted.getTime() + 5000)), { pending: true, since: record!.since, reason: record!.reason });
  assert.deepEqual(await rebootPendingFact(dir, new Date('2025-01-15T13:00:00Z')), { pending: false }, 'restarted');
  assert.deepEqual(await rebootPendingFact(dir, booted), { pending: false }, 'and forgotten');
});
