import { test } from 'node:test';
import assert from 'node:assert/strict';
import type postgres from 'postgres';
import { parseLocation, resolveSignalTargets, signalTargets } from '../src/hub/targets.ts';
import type { SignalTarget } from '../src/hub/targets.ts';
import { freshDatabase } from './support/database.ts';

/** name → id, for agents inserted as [name, organization, location, status]. */
async function insertAgents(sql: postgres.Sql, rows: [string, string, string, 'active' | 'pending' | 'revoked'][]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const [name, organization, location, status] of rows) {
    const [row] = await sql<{ id: string }[]>`
      insert into agents (name, organization, location, status, public_key)
      values (${name}, ${organization}, ${location}, ${status}, ${status === 'pending' ? null : 'test key'})
      returning id`;
    ids[name] = row.id;
  }
  return ids;
}

const FLEET: [string, string, string, 'active' | 'pending' | 'revoked'][] = [
  ['web-1', 'acme', 'paris', 'active'],
  ['web-2', 'acme', 'paris', 'active'],
  ['db-1', 'acme', 'berlin', 'active'],
  ['old-1', 'acme', 'paris', 'revoked'],
  ['new-1', 'acme', 'paris', 'pending'],
  ['pos-1', 'globex', 'paris', 'active'],
  ['pos-2', 'globex', 'sub/site', 'active'],
];

test('signal targets resolve to active agents by name, id, location, organization or all', async (t) => {
  const { sql } = await freshDatabase(t);
  const ids = await insertAgents(sql, FLEET);
  const names = async (target: SignalTarget) => {
    const resolved = await resolveSignalTargets(sql, target);
    const byId = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
    return resolved.map((id) => byId[id]).sort();
  };
  const cases: [SignalTarget, string[]][] = [
    [{ agents: ['web-1'] }, ['web-1']],
    [{ agents: [ids['db-1'], 'pos-1'] }, ['db-1', 'pos-1']],
    [{ agents: ['old-1', 'new-1', 'nobody'] }, []],
    [{ locations: ['acme/paris'] }, ['web-1', 'web-2']],
    [{ locations: ['globex/sub/site', 'acme/berlin'] }, ['db-1', 'pos-2']],
    [{ locations: ['acme/nowhere'] }, []],
    [{ organizations: ['globex'] }, ['pos-1', 'pos-2']],
    [{ organizations: ['acme'], agents: ['pos-1'] }, ['db-1', 'pos-1', 'web-1', 'web-2']],
    [{ all: true }, ['db-1', 'pos-1', 'pos-2', 'web-1', 'web-2']],
    [{ all: false }, []],
    [{}, []],
  ];
  for (const [target, expected] of cases) assert.deepEqual(await names(target), expected, JSON.stringify(target));
  await assert.rejects(resolveSignalTargets(sql, { locations: ['acme'] }), /not a location/);
});

test('a signal request wakes the resolved agents and is audited, failures too', async (t) => {
  const { sql } = await freshDatabase(t);
  const ids = await insertAgents(sql, FLEET);
  const woken: { agentIds: string[] | 'all'; reason: string }[] = [];
  const wake = async (agentIds: string[] | 'all', reason: string) => void woken.push({ agentIds, reason });
  const signalled = await signalTargets(sql, wake, { target: { locations: ['acme/paris'] }, reason: 'new settings', actor: 'token:alice' });
  assert.equal(signalled, 2);
  assert.deepEqual(woken, [{ agentIds: [ids['web-1'], ids['web-2']].sort(), reason: 'new settings' }]);
  // the whole fleet is one wake-up for "all", however many agents it counts
  const everyone = await signalTargets(sql, wake, { target: { all: true }, reason: 'all of you', actor: 'token:alice' });
  assert.equal(everyone, FLEET.filter(([, , , status]) => status === 'active').length);
  assert.deepEqual(woken[1], { agentIds: 'all', reason: 'all of you' });

  const broken = async () => {
    throw new Error('bus down');
  };
  await assert.rejects(signalTargets(sql, broken, { target: { all: true }, reason: 'r', actor: 'token:bob' }), /bus down/);
  const entries = await sql`select actor, action, target, outcome, details from audit_log where action = 'agent.signal' order by id`;
  assert.deepEqual(entries.map((e) => [e.actor, e.target, e.outcome]), [['token:alice', 'location:acme/paris', 'success'], ['token:alice', 'all', 'success'], ['token:bob', 'all', 'failure']]);
  assert.equal(entries[0].details.signalled, 2);
  assert.equal(entries[2].details.error, 'bus down');
});

test('a location is split at its first slash', () => {
  assert.deepEqual(parseLocation('acme/paris'), { organization: 'acme', location: 'paris' });
  assert.deepEqual(parseLocation('acme/sub/site'), { organization: 'acme', location: 'sub/site' });
  for (const bad of ['acme', '/paris', 'acme/', '']) assert.equal(parseLocation(bad), undefined, bad);
});
