import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSender } from './sender.ts';

test('a kick during a pass cuts its backoff short and asks for exactly one more pass', async () => {
  const passes: number[] = [];
  let releaseFirst: () => void = () => {};
  let secondPass: () => void = () => {};
  const secondPassRan = new Promise<void>((resolve) => (secondPass = resolve));
  const sender = createSender(async (sleep) => {
    passes.push(passes.length);
    if (passes.length === 2) secondPass();
    if (passes.length === 1) {
      // a long backoff, as after the server went away; the kicks below must end it
      await Promise.all([sleep(3_600_000), new Promise<void>((resolve) => (releaseFirst = resolve))]);
    }
    return { sent: 0, rejected: 0, remaining: 0 };
  }, () => {});
  sender.kick();
  sender.kick();
  sender.kick();
  releaseFirst();
  await secondPassRan;
  await new Promise((resolve) => setImmediate(resolve));
  await sender.stop();
  assert.deepEqual(passes, [0, 1]);
});

test('stopping ends a pass stuck in backoff', async () => {
  let sleepEnded: unknown;
  const sender = createSender(async (sleep) => {
    sleepEnded = await sleep(3_600_000).then(() => 'resolved', (error: Error) => error.message);
    return { sent: 0, rejected: 0, remaining: 1 };
  }, () => {});
  sender.kick();
  await sender.stop();
  assert.equal(sleepEnded, 'agent stopping');
});
