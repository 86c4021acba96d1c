// whileLocked: whole runs one at a time across connections, and the work still runs (once) when the
// lock cannot be taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { freshDatabase } from './support/database.ts';
import { whileLocked } from '../src/db/run-lock.ts';

const KEY = 0x74657374;

test('work under the same key runs one at a time; an error in the work is not retried', async (t) => {
  const db = await freshDatabase(t);
  const order: string[] = [];
  const work = (name: string) => whileLocked(db.sql, KEY, async () => {
    order.push(`${name} start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push(`${name} end`);
    return name;
  });
  assert.deepEqual(await Promise.all([work('a'), work('b')]), ['a', 'b']);
  assert.deepEqual(order.map((step) => step.split(' ')[1]), ['start', 'end', 'start', 'end']);

  let calls = 0;
  await assert.rejects(whileLocked(db.sql, KEY, async () => {
    calls++;
    throw new Error('the work failed');
  }), /the work failed/);
  assert.equal(calls, 1);
});

test('without a database the work runs unlocked and meets the failure itself', async () => {
  const unreachable = postgres('postgres://postgres@127.0.0.1:1/none', { connect_timeout: 2, max: 2, onnotice: () => {} });
  try {
    let calls = 0;
    assert.equal(await whileLocked(unreachable, KEY, async () => ++calls), 1);
  } finally {
    await unreachable.end({ timeout: 1 });
  }
});
