// agents.last_seen_at is written in batches: requests only mark the agent in memory, and one UPDATE
// per flush (timer or close) writes every agent marked since the last one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import postgres from 'postgres';
import { createLogger } from '../src/logger.ts';
import { createLastSeenBatcher } from '../src/reports/last-seen.ts';
import { reportsSetup, sampleHeartbeat, sampleReport } from './support/reports-setup.ts';

const lastSeen = async (sql: postgres.Sql, name: string): Promise<Date | null> =>
  (await sql<{ last_seen_at: Date | null }[]>`select last_seen_at from agents where name = ${name}`)[0].last_seen_at;

test('agent requests mark last_seen in memory; the database is written when the batch is flushed', async (t) => {
  const { enrolAgent, sql, server } = await reportsSetup(t); // flush interval: an hour
  const busy = await enrolAgent('ws-busy');
  await enrolAgent('ws-idle');
  const before = new Date();
  for (let i = 0; i < 3; i++) {
    assert.equal((await busy.post('/api/v1/agent/heartbeat', sampleHeartbeat(new Date().toISOString()))).status, 204);
    assert.equal((await busy.post('/api/v1/agent/reports', sampleReport())).status, 201);
  }
  assert.equal(await lastSeen(sql, 'ws-busy'), null, 'six requests, no write yet');

  await server.close(); // flushes what is pending
  const seen = await lastSeen(sql, 'ws-busy');
  assert.ok(seen && seen >= new Date(before.getTime() - 1000), `last_seen_at ${seen?.toISOString()}`);
  assert.equal(await lastSeen(sql, 'ws-idle'), null, 'an agent that sent nothing is not marked');
});

test('many marks for several agents become one UPDATE per flush, and an empty flush queries nothing', async (t) => {
  const { enrolAgent, db } = await reportsSetup(t);
  const agents = await Promise.all(['ws-1', 'ws-2', 'ws-3'].map((name) => enrolAgent(name)));
  const statements: string[] = [];
  // Every statement this client sends, except postgres.js's own type lookup on connecting.
  const counted = postgres(db.url, { max: 1, onnotice: () => {}, debug: (_connection, query) => void (!query.includes('pg_catalog') && statements.push(query)) });
  t.after(() => counted.end({ timeout: 5 }));
  const batcher = createLastSeenBatcher(counted, createLogger({ logLevel: 'silent' }), { intervalMs: 3_600_000 });
  t.after(() => batcher.close());

  for (let i = 0; i < 10; i++) for (const agent of agents) batcher.markSeen(agent.id);
  await batcher.flush();
  assert.equal(statements.filter((q) => /^\s*update agents/.test(q)).length, 1);
  assert.equal(statements.length, 1);
  for (const agent of agents) assert.notEqual(await lastSeen(db.sql, agent.name), null, agent.name);

  await batcher.flush();
  assert.equal(statements.length, 1, 'nothing marked, nothing written');
  batcher.markSeen(agents[0].id);
  await batcher.close();
  assert.equal(statements.length, 2, 'close flushes what is left');
});

test('a flush never moves last_seen backwards', async (t) => {
  const { enrolAgent, db } = await reportsSetup(t);
  const agent = await enrolAgent('ws-clock');
  const future = new Date(Date.now() + 3_600_000);
  await db.sql`update agents set last_seen_at = ${future} where id = ${agent.id}`;
  const batcher = createLastSeenBatcher(db.sql, createLogger({ logLevel: 'silent' }), { intervalMs: 3_600_000 });
  batcher.markSeen(agent.id);
  await batcher.close();
  assert.equal((await lastSeen(db.sql, 'ws-clock'))?.getTime(), future.getTime());
});
