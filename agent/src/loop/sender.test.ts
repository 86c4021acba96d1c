import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSender } from './sender.ts';

test('kicks during a pass neither interrupt it nor start a second one beside it: exactly one more pass follows', async () => {
  const passes: number[] = [];
  let releaseFirst: () => void = () => {};
  let secondPass: () => void = () => {};
  const secondPassRan = new Promise<void>((resolve) => (secondPass = resolve));
  let firstEndedBy = '';
  const sender = createSender(async (stopping) => {
    passes.push(passes.length);
    if (passes.length === 2) secondPass();
    if (passes.length === 1) {
      // waiting for the server's backoff: the kicks below must not end this
      firstEndedBy = await new Promise<string>((resolve) => {
        releaseFirst = () => resolve('released');
        stopping.addEventListener('abort', () => resolve('stopped'));
      });
    }
    return { sent: 0, rejected: 0, remaining: 0 };
  }, () => {});
  sender.kick();
  sender.kick();
  sender.kick();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(passes, [0], 'still in the first pass');
  releaseFirst();
  await secondPassRan;
  await new Promise((resolve) => setImmediate(resolve));
  await sender.stop();
  assert.equal(firstEndedBy, 'released');
  assert.deepEqual(passes, [0, 1]);
});

test('stopping aborts the signal a waiting pass holds', async () => {
  let ended = '';
  const sender = createSender(async (stopping) => {
    ended = await new Promise<string>((resolve) => stopping.addEventListener('abort', () => resolve(String((stopping.reason as Error).message))));
    return { sent: 0, rejected: 0, remaining: 1 };
  }, () => {});
  sender.kick();
  await sender.stop();
  assert.equal(ended, 'agent stopping');
});
