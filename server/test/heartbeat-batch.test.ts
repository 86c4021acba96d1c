// Heartbeats written in batches: one statement for many agents, an agent's two heartbeats in one
// batch both kept in order, and one bad row failing only its own heartbeat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { freshDatabase } from './support/database.ts';
import { createHeartbeatWriter, distinctAgentWaves, storeHeartbeats, type AgentHeartbeat } from '../src/reports/store-heartbeat.ts';

const beat = (agentId: string, minute: number): AgentHeartbeat => ({
  agentId,
  heartbeat: { at: `2026-12-03T10:${String(minute).padStart(2, '0')}:00Z`, metrics: { cpu: { usage_percent: minute, cores: 4 } } } as AgentHeartbeat['heartbeat'],
});

test('waves hold each agent at most once and keep each agent\'s order', () => {
  const waves = distinctAgentWaves([beat('a', 1), beat('b', 1), beat('a', 2), beat('a', 3), beat('c', 1)]);
  assert.deepEqual(waves.map((wave) => wave.map((item) => `${item.agentId}${item.heartbeat.at.slice(14, 16)}`)), [['a01', 'b01', 'c01'], ['a02'], ['a03']]);
});

test('a batch stores every agent\'s heartbeat; an agent twice in one batch gets both samples, the later one latest', async (t) => {
  const db = await freshDatabase(t);
  const ids = (await db.sql<{ id: string }[]>`
    insert into agents (name, organization, location, status, public_key)
    select 'hb-' || g, 'contoso', 'paris', 'active', 'k' from generate_series(1, 3) g returning id`).map((row) => row.id);
  await storeHeartbeats(db.sql, [beat(ids[0], 1), beat(ids[1], 1), beat(ids[0], 2), beat(ids[2], 1)], 5);

  const latest = await db.sql<{ agent_id: string; samples: number; cpu: number }[]>`
    select agent_id, samples::int as samples, (metrics->'cpu'->>'usage_percent')::int as cpu from agent_metrics_latest order by samples desc, cpu desc`;
  assert.equal(latest.length, 3);
  assert.deepEqual(latest[0], { agent_id: ids[0], samples: 2, cpu: 2 });
  const history = await db.sql<{ slot: number; cpu: number }[]>`
    select slot, (metrics->'cpu'->>'usage_percent')::int as cpu from agent_metrics where agent_id = ${ids[0]} order by slot`;
  assert.deepEqual(history.map((row) => [row.slot, row.cpu]), [[1, 1], [2, 2]]);
});

test('heartbeats made together are one batch, and a row that cannot be stored fails only its own heartbeat', async (t) => {
  const db = await freshDatabase(t);
  const ids = (await db.sql<{ id: string }[]>`
    insert into agents (name, organization, location, status, public_key)
    select 'hb-' || g, 'contoso', 'paris', 'active', 'k' from generate_series(1, 40) g returning id`).map((row) => row.id);
  const write = createHeartbeatWriter(db.sql, 5);
  const unknownAgent = randomUUID();
  const outcomes = await Promise.allSettled([...ids.map((id) => write(beat(id, 1))), write(beat(unknownAgent, 1))]);

  assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 40);
  const failed = outcomes.at(-1)!;
  assert.equal(failed.status, 'rejected');
  assert.match(String((failed as PromiseRejectedResult).reason), /foreign key/);
  const [{ n }] = await db.sql<{ n: number }[]>`select count(*)::int as n from agent_metrics_latest`;
  assert.equal(n, 40);
});
