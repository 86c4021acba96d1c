import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { batched } from './batched.ts';

test('calls within the window run as one batch, each getting its own result in order', async () => {
  const batches: number[][] = [];
  const double = batched(async (inputs: number[]) => {
    batches.push(inputs);
    return inputs.map((n) => n * 2);
  }, { windowMs: 20, maxSize: 100 });
  assert.deepEqual(await Promise.all([1, 2, 3].map(double)), [2, 4, 6]);
  assert.deepEqual(batches, [[1, 2, 3]]);
  await sleep(30);
  assert.equal(await double(5), 10);
  assert.deepEqual(batches, [[1, 2, 3], [5]]);
});

test('a full batch runs at once, without waiting for the window', async () => {
  const batches: number[][] = [];
  const echo = batched(async (inputs: number[]) => {
    batches.push(inputs);
    return inputs;
  }, { windowMs: 60_000, maxSize: 2 });
  assert.deepEqual(await Promise.all([1, 2].map(echo)), [1, 2]);
  assert.deepEqual(batches, [[1, 2]]);
});

test('a failed batch rejects every call in it, and the next batch runs again', async () => {
  let fail = true;
  const call = batched(async (inputs: string[]) => {
    if (fail) throw new Error('database down');
    return inputs.map((s) => s.toUpperCase());
  }, { windowMs: 5, maxSize: 10 });
  const results = await Promise.allSettled(['a', 'b'].map(call));
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  fail = false;
  assert.equal(await call('c'), 'C');
});

test('a batch answered with the wrong number of results rejects its calls', async () => {
  const call = batched(async () => [1], { windowMs: 5, maxSize: 10 });
  await assert.rejects(Promise.all([call(1), call(2)]), /a batch of 2 got 1 results/);
});
