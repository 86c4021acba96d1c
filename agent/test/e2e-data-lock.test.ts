// One agent per data folder: while one `pswm agent --once` holds the folder, a second one exits at
// once saying who holds it, and a running loop waits for it; a holder killed with SIGKILL leaves a
// stale lock that the next run takes over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStaleLock } from '../src/platform/data-lock.ts';
import { enrolledAgent, startFleet } from './support/fleet.ts';

const EXIT_BUSY = 5;

test('a second agent on the same data folder exits with a clear message; a killed holder does not block the next run', async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'lab-lock', 'fabrikam/lab-linux');

  const holder = agent.start(['agent', '--once'], { PSWM_FAILPOINT: 'after-outbox-write' });
  await holder.waitFor(/failpoint after-outbox-write: holding before the send/);

  const second = await agent.run(['agent', '--once']);
  assert.equal(second.code, EXIT_BUSY, second.stderr);
  assert.match(second.stderr, new RegExp(`pswm agent: another pswm process is using \\S+: pid ${holder.child.pid} \\(pswm agent --once\\), since \\S+; try again when it has finished`));
  assert.doesNotMatch(second.stderr, /iteration started/, 'the second one did nothing');

  const loop = agent.start(['agent']);
  await loop.waitFor(/"msg":"waiting for the data folder: another pswm process holds it","holder_pid":\d+/);

  holder.child.kill('SIGKILL');
  await holder.exited;
  // the loop polls once a second: it takes the stale lock over and runs its iteration
  await loop.waitFor(/"msg":"iteration finished"/, 30_000);
  loop.child.kill('SIGTERM');
  assert.equal((await loop.exited).code, 0);

  const next = await agent.run(['agent', '--once']);
  assert.equal(next.code, 0, next.stderr);
});

test('a lock is stale when its process is gone or from before the last boot', () => {
  const alive = (pid: number) => pid === 42;
  assert.equal(isStaleLock({ pid: 42, command: 'pswm agent', started_at: '', boot_id: 'b1' }, { bootId: 'b1', exists: alive }), false);
  assert.equal(isStaleLock({ pid: 43, command: 'pswm agent', started_at: '', boot_id: 'b1' }, { bootId: 'b1', exists: alive }), true);
  assert.equal(isStaleLock({ pid: 42, command: 'pswm agent', started_at: '', boot_id: 'b0' }, { bootId: 'b1', exists: alive }), true, 'pid from before a reboot');
  assert.equal(isStaleLock({ pid: 42, command: 'pswm agent', started_at: '' }, { exists: alive }), false, 'no boot id (Windows): the pid decides');
  assert.equal(isStaleLock(undefined, { exists: alive }), true, 'unreadable');
});
