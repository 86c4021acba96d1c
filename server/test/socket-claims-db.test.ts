import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSocketClaims } from '../src/hub/socket-claims.ts';
import { freshDatabase } from './support/database.ts';

const POLICY = { takeovers: 2, windowMs: 600_000, quietMs: 3_600_000 };

async function agents(sql: import('postgres').Sql, names: string[]): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    insert into agents (name, organization, location, status, public_key)
    select name, 'acme', 'lab', 'active', 'test key' from unnest(${names}::text[]) as name returning id`;
  return rows.map((row) => row.id);
}

test('connects claimed together are judged as if one after another, in one transaction', async (t) => {
  const { sql } = await freshDatabase(t);
  const claims = createSocketClaims(sql, POLICY);
  const [a, b, c] = await agents(sql, ['a', 'b', 'c']);
  const peer = (address: string) => ({ address, hostname: `host-${address}` });
  // a and b connect for the first time; c from two machines within the same batch
  const results = await Promise.all([
    claims.claim(a, { instance: 'agent-a', peer: peer('10.0.0.1') }),
    claims.claim(b, { instance: 'agent-b', peer: peer('10.0.0.2') }),
    claims.claim(c, { instance: 'clone-1', peer: peer('10.0.0.3') }),
    claims.claim(c, { instance: 'clone-2', peer: peer('10.0.0.4') }),
  ]);
  assert.deepEqual(results, [
    { generation: 1, displaced: false, duplicate: false },
    { generation: 1, displaced: false, duplicate: false },
    { generation: 1, displaced: false, duplicate: false },
    { generation: 2, displaced: true, duplicate: false },
  ]);
  // the second takeover within the window flags the clone, audited once
  const third = await claims.claim(c, { instance: 'clone-1', peer: peer('10.0.0.3') });
  assert.deepEqual(third, { generation: 3, displaced: true, duplicate: true });
  const [row] = await sql`select holder, holder_instance, takeovers, duplicate_peers from agent_socket_claims where agent_id = ${c}`;
  assert.equal(Number(row.holder), 3);
  assert.equal(row.holder_instance, 'clone-1');
  assert.equal(row.takeovers, 2);
  assert.deepEqual(row.duplicate_peers.map((p: { address: string }) => p.address).sort(), ['10.0.0.3', '10.0.0.4']);
  const audits = await sql`select target from audit_log where action = 'agent.duplicate_identity'`;
  assert.deepEqual(audits.map((entry) => entry.target), [c]);
  // a's socket closed: its next connect displaces nothing
  await claims.release(a, 1);
  assert.deepEqual(await claims.claim(a, { instance: 'agent-a', peer: peer('10.0.0.1') }), { generation: 2, displaced: false, duplicate: false });
});

/** Transactions committed in this database while `work` ran (its own included). */
async function commitsDuring(sql: import('postgres').Sql, work: () => Promise<unknown>, atLeast: number): Promise<number> {
  const committed = async () => Number((await sql<{ n: string }[]>`select xact_commit::text as n from pg_stat_database where datname = current_database()`)[0].n);
  const before = await committed();
  await work();
  // pg_stat_database is updated when a backend reports its statistics: wait for the count to settle
  let commits = 0;
  for (let waited = 0; waited < 5000; waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    commits = (await committed()) - before;
    if (commits >= atLeast) break;
  }
  return commits;
}

test('1,200 agents connecting at once are claimed in a few transactions, each with its own generation, and released together the same way', async (t) => {
  const { sql } = await freshDatabase(t);
  const claims = createSocketClaims(sql, POLICY);
  const ids = await agents(sql, Array.from({ length: 1200 }, (_, i) => `fleet-${i}`));
  let results: Array<{ generation: number; displaced: boolean; duplicate: boolean }> = [];
  const claimCommits = await commitsDuring(sql, async () => {
    results = await Promise.all(ids.map((id) => claims.claim(id, { instance: `agent-${id}`, peer: { address: '10.1.1.1' } })));
  }, 3);
  assert.ok(results.every((r) => r.generation === 1 && !r.displaced && !r.duplicate));
  const [{ held }] = await sql<{ held: number }[]>`select count(*)::int as held from agent_socket_claims where holder = 1`;
  assert.equal(held, 1200);
  assert.ok(claimCommits >= 3 && claimCommits < 30, `1,200 claims took ${claimCommits} transactions (at most 500 claims each, plus this test's own queries)`);

  // their sockets close together (one of them with a generation a newer socket already replaced)
  const releaseCommits = await commitsDuring(sql, () => Promise.all(ids.map((id, i) => claims.release(id, i === 0 ? 0 : 1))), 3);
  const [{ stillHeld }] = await sql<{ stillHeld: number }[]>`select count(*)::int as "stillHeld" from agent_socket_claims where holder is not null`;
  assert.equal(stillHeld, 1, 'every socket released but the one whose generation did not match');
  assert.ok(releaseCommits >= 3 && releaseCommits < 30, `1,200 releases took ${releaseCommits} transactions`);
});
