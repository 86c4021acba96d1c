import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { oneAtATime } from './folder-lock.ts';

async function lockPath(t: import('node:test').TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pswm-folder-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'build.lock');
}

test('callers of one lock run one at a time, and the lock is gone after each, even when the work fails', async (t) => {
  const lock = await lockPath(t);
  const events: string[] = [];
  const work = (name: string) => oneAtATime(lock, async () => {
    events.push(`${name} in`);
    await sleep(300);
    events.push(`${name} out`);
    if (name === 'b') throw new Error('b failed');
    return name;
  });
  const results = await Promise.allSettled([work('a'), work('b'), work('c')]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  for (let i = 0; i < events.length; i += 2) assert.equal(events[i].split(' ')[0], events[i + 1].split(' ')[0], `no overlap: ${events}`);
  await assert.rejects(stat(lock), { code: 'ENOENT' });
});

test('a lock left by a process that died is taken over once it is stale, not before', async (t) => {
  const lock = await lockPath(t);
  await mkdir(lock);
  const old = new Date(Date.now() - 60_000);
  await utimes(lock, old, old);
  assert.equal(await oneAtATime(lock, async () => 'ran', 30_000), 'ran');

  await mkdir(lock); // held, and fresh: the caller waits
  let ran = false;
  const waiting = oneAtATime(lock, async () => (ran = true), 30_000);
  await sleep(600);
  assert.equal(ran, false);
  await rm(lock, { recursive: true });
  await waiting;
  assert.equal(ran, true);
});
