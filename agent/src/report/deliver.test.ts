import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { ServerError } from '../api/http.ts';
import { BackingOffError } from '../api/server-backoff.ts';
import { deliverOutbox, MAX_RECORD_FAILURES, type DeliverOptions } from './deliver.ts';
import { newOutboxRecord, openOutbox, type OutboxRecord } from './outbox.ts';

const silent = { info() {}, warn() {}, error() {} };
const isAgentProblem = (error: unknown) => error instanceof ServerError && error.status === 401;
const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

async function outboxWith(t: import('node:test').TestContext, count: number) {
  const dir = await makeTempDir(t);
  const outbox = await openOutbox(path.join(dir, 'outbox'));
  const records = Array.from({ length: count }, (_, i) => newOutboxRecord('report', { index: i }));
  for (const record of records) await outbox.append(record);
  const deliver = (opts: Pick<DeliverOptions, 'send'> & Partial<DeliverOptions>) =>
    deliverOutbox({ outbox, attempts: 1, rejectedDir: path.join(dir, 'rejected'), log: silent, isAgentProblem, ...opts });
  return { dir, outbox, records, deliver };
}

test('records are sent oldest first and forgotten once the server has them', async (t) => {
  const { records, deliver } = await outboxWith(t, 3);
  const sent: string[] = [];
  const result = await deliver({ send: async (r: OutboxRecord) => sent.push(r.id) });
  assert.deepEqual(sent, records.map((r) => r.id));
  assert.deepEqual(result, { sent: 3, rejected: 0, remaining: 0 });
});

test('an unreachable server ends the pass and keeps the record and everything after it', async (t) => {
  const { outbox, records, deliver } = await outboxWith(t, 3);
  let calls = 0;
  const result = await deliver({
    send: async () => {
      if (++calls === 2) throw refused();
    },
  });
  assert.equal(result.sent, 1);
  assert.equal(result.remaining, 2);
  assert.deepEqual((await outbox.pending()).map((r) => r.id), records.slice(1).map((r) => r.id));
});

test('with a turn to wait for, an unavailable server is retried as often as the turns allow; backing off is no attempt', async (t) => {
  const { deliver } = await outboxWith(t, 1);
  let turns = 0;
  let calls = 0;
  const result = await deliver({
    attempts: 0,
    waitTurn: async () => void turns++,
    send: async () => {
      calls++;
      if (calls === 2) throw new BackingOffError('someone else probes');
      if (calls < 5) throw new ServerError(503, 'UNAVAILABLE', 'busy');
    },
  });
  assert.equal(result.sent, 1);
  assert.equal(turns, 5, 'one wait before every attempt');
});

test('a stopping agent ends a pass waiting for its turn and keeps the record', async (t) => {
  const { deliver } = await outboxWith(t, 1);
  const result = deliver({ attempts: 0, waitTurn: () => Promise.reject(new Error('agent stopping')), send: async () => {} });
  await assert.rejects(result, /agent stopping/);
});

test('a record the server refuses for good is set aside with the reason and the next one still goes', async (t) => {
  const { dir, records, deliver } = await outboxWith(t, 2);
  const sent: string[] = [];
  const result = await deliver({
    attempts: 0,
    send: async (r) => {
      if (r.id === records[0].id) throw new ServerError(400, 'VALIDATION_FAILED', 'bad body');
      sent.push(r.id);
    },
  });
  assert.deepEqual(result, { sent: 1, rejected: 1, remaining: 0 });
  assert.deepEqual(sent, [records[1].id]);
  assert.deepEqual(await readdir(path.join(dir, 'rejected')), [`${records[0].id}.json`]);
  const entry = JSON.parse(await readFile(path.join(dir, 'rejected', `${records[0].id}.json`), 'utf8'));
  assert.equal(entry.error, 'bad body');
  assert.ok(Date.parse(entry.rejected_at));
});

test('a record the server fails on does not hold back the newer ones, and is set aside after repeated failures', async (t) => {
  const { dir, outbox, records, deliver } = await outboxWith(t, 1);
  const poison = records[0].id;
  const send = async (r: OutboxRecord) => {
    if (r.id === poison) throw new ServerError(500, 'INTERNAL', 'boom');
  };
  // alone, a 500 may be the server's own trouble: it stays, uncounted
  const alone = await deliver({ send });
  assert.equal(alone.remaining, 1);
  assert.equal((alone.error as ServerError).status, 500);
  for (let pass = 1; pass <= MAX_RECORD_FAILURES; pass++) {
    await outbox.append(newOutboxRecord('report', { pass }));
    const result = await deliver({ send });
    assert.equal(result.sent, 1, `pass ${pass}: the newer report went`);
    assert.equal(result.rejected, pass === MAX_RECORD_FAILURES ? 1 : 0);
  }
  assert.deepEqual(await outbox.pending(), []);
  const entry = JSON.parse(await readFile(path.join(dir, 'rejected', `${poison}.json`), 'utf8'));
  assert.match(entry.error, /failed on this report 3 times while it stored others; last: boom/);
});

test('a 503 says nothing about the record: it is never counted against it', async (t) => {
  const { outbox, records, deliver } = await outboxWith(t, 2);
  let calls = 0;
  const result = await deliver({
    send: async () => {
      if (++calls === 1) throw new ServerError(503, 'UNAVAILABLE', 'busy');
    },
  });
  assert.equal(result.sent, 0, 'the pass ended at the first record');
  assert.deepEqual((await outbox.pending()).map((r) => r.id), records.map((r) => r.id));
});

test('a refusal of the agent itself (revoked) keeps every record', async (t) => {
  const { deliver } = await outboxWith(t, 2);
  const result = await deliver({
    attempts: 0,
    send: async () => {
      throw new ServerError(401, 'AGENT_REVOKED', 'revoked');
    },
  });
  assert.equal(result.remaining, 2);
  assert.equal((result.error as ServerError).code, 'AGENT_REVOKED');
});
