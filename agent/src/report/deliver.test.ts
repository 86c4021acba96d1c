import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { ServerError } from '../api/http.ts';
import { deliverOutbox } from './deliver.ts';
import { newOutboxRecord, openOutbox, type OutboxRecord } from './outbox.ts';

const silent = { info() {}, warn() {}, error() {} };
const isAgentProblem = (error: unknown) => error instanceof ServerError && error.status === 401;

async function outboxWith(t: import('node:test').TestContext, count: number) {
  const dir = await makeTempDir(t);
  const outbox = await openOutbox(path.join(dir, 'outbox'));
  const records = Array.from({ length: count }, (_, i) => newOutboxRecord('report', { index: i }));
  for (const record of records) await outbox.append(record);
  return { dir, outbox, records };
}

test('records are sent oldest first and forgotten once the server has them', async (t) => {
  const { dir, outbox, records } = await outboxWith(t, 3);
  const sent: string[] = [];
  const result = await deliverOutbox({ outbox, send: async (r: OutboxRecord) => sent.push(r.id), retry: { baseMs: 0, maxMs: 0, maxAttempts: 1 }, rejectedDir: path.join(dir, 'rejected'), log: silent, isAgentProblem });
  assert.deepEqual(sent, records.map((r) => r.id));
  assert.deepEqual(result, { sent: 3, rejected: 0, remaining: 0 });
});

test('an unreachable server ends the pass and keeps the record and everything after it', async (t) => {
  const { dir, outbox, records } = await outboxWith(t, 3);
  let calls = 0;
  const result = await deliverOutbox({
    outbox,
    send: async () => {
      if (++calls === 2) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    },
    retry: { baseMs: 0, maxMs: 0, maxAttempts: 1 },
    rejectedDir: path.join(dir, 'rejected'),
    log: silent,
    isAgentProblem,
  });
  assert.equal(result.sent, 1);
  assert.equal(result.remaining, 2);
  assert.deepEqual((await outbox.pending()).map((r) => r.id), records.slice(1).map((r) => r.id));
});

test('transient failures are retried with backoff until the server takes the record', async (t) => {
  const { dir, outbox } = await outboxWith(t, 1);
  const sleeps: number[] = [];
  let calls = 0;
  const result = await deliverOutbox({
    outbox,
    send: async () => {
      if (++calls < 4) throw new ServerError(503, 'UNAVAILABLE', 'busy');
    },
    retry: { baseMs: 1000, maxMs: 5000, maxAttempts: 0, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
    rejectedDir: path.join(dir, 'rejected'),
    log: silent,
    isAgentProblem,
  });
  assert.deepEqual(sleeps, [500, 1000, 2000]);
  assert.equal(result.sent, 1);
});

test('a record the server refuses for good is set aside and the next one still goes', async (t) => {
  const { dir, outbox, records } = await outboxWith(t, 2);
  const sent: string[] = [];
  const result = await deliverOutbox({
    outbox,
    send: async (r) => {
      if (r.id === records[0].id) throw new ServerError(400, 'VALIDATION_FAILED', 'bad body');
      sent.push(r.id);
    },
    retry: { baseMs: 0, maxMs: 0, maxAttempts: 0 },
    rejectedDir: path.join(dir, 'rejected'),
    log: silent,
    isAgentProblem,
  });
  assert.deepEqual(result, { sent: 1, rejected: 1, remaining: 0 });
  assert.deepEqual(sent, [records[1].id]);
  assert.deepEqual(await readdir(path.join(dir, 'rejected')), [`${records[0].id}.json`]);
});

test('a refusal of the agent itself (revoked) keeps every record', async (t) => {
  const { dir, outbox } = await outboxWith(t, 2);
  const result = await deliverOutbox({
    outbox,
    send: async () => {
      throw new ServerError(401, 'AGENT_REVOKED', 'revoked');
    },
    retry: { baseMs: 0, maxMs: 0, maxAttempts: 0 },
    rejectedDir: path.join(dir, 'rejected'),
    log: silent,
    isAgentProblem,
  });
  assert.equal(result.remaining, 2);
  assert.equal((result.error as ServerError).code, 'AGENT_REVOKED');
});
