import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { API_PREFIX, buildApp } from '../src/api/app.ts';
import { auditRoutes } from '../src/api/audit.ts';
import { createToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/logger.ts';
import { freshDatabase, oneClientDatabase } from './support/database.ts';

async function setup(t: import('node:test').TestContext) {
  const { sql } = await freshDatabase(t);
  const app = await buildApp({ db: oneClientDatabase(sql), config: loadConfig([], {}), log: createLogger({ logLevel: 'silent' }) });
  await app.register(auditRoutes, { prefix: API_PREFIX, sql });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // Creating the tokens writes two audit entries of its own (token.create); the filters below avoid them.
  const { token: viewer } = await sql.begin((tx) => createToken(tx, { role: 'viewer', name: 'viewer', actor: 'setup' }));
  const entries = [
    { at: '2030-01-01T10:00:00Z', actor: 'token:alice', action: 'agent.signal', target: 'all', outcome: 'success' },
    { at: '2030-01-01T11:00:00Z', actor: 'token:bob', action: 'agent.revoke', target: 'agent:web-1', outcome: 'success' },
    { at: '2030-01-01T12:00:00Z', actor: 'token:alice', action: 'agent.revoke', target: 'agent:web-2', outcome: 'failure' },
    { at: '2030-01-01T13:00:00Z', actor: 'token:alice', action: 'agentx.other', target: 'agent:web-1', outcome: 'success' },
    { at: '2030-01-01T14:00:00Z', actor: 'token:carol', action: 'otp.create', target: null, outcome: 'success' },
  ];
  for (const e of entries) {
    await sql`insert into audit_log (at, actor, action, target, outcome, details) values (${e.at}, ${e.actor}, ${e.action}, ${e.target}, ${e.outcome}, ${sql.json({ n: e.at })})`;
  }
  const get = async (query: string, token: string | null = viewer) => {
    const response = await fetch(`${base}/api/v1/audit${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, body: await response.json() };
  };
  return { get, sql };
}

const targetsOf = (body: { entries: { target: string | null; at: string }[] }) => body.entries.map((e) => `${e.at.slice(11, 13)}:${e.target}`);

test('audit filters select by actor, action (exact or prefix), target, outcome and time, newest first', async (t) => {
  const { get } = await setup(t);
  const since = 'since=2030-01-01T00:00:00Z';
  const cases: [string, string[]][] = [
    [`?${since}`, ['14:null', '13:agent:web-1', '12:agent:web-2', '11:agent:web-1', '10:all']],
    [`?${since}&actor=token:alice`, ['13:agent:web-1', '12:agent:web-2', '10:all']],
    ['?action=agent.revoke', ['12:agent:web-2', '11:agent:web-1']],
    ['?action=agent.*', ['12:agent:web-2', '11:agent:web-1', '10:all']],
    ['?target=agent:web-1', ['13:agent:web-1', '11:agent:web-1']],
    [`?${since}&outcome=failure`, ['12:agent:web-2']],
    ['?since=2030-01-01T11:00:00Z&until=2030-01-01T13:00:00Z', ['12:agent:web-2', '11:agent:web-1']],
    ['?actor=token:alice&action=agent.revoke&outcome=failure', ['12:agent:web-2']],
    ['?actor=nobody', []],
  ];
  for (const [query, expected] of cases) {
    const { status, body } = await get(query);
    assert.equal(status, 200, query);
    assert.deepEqual(targetsOf(body), expected, query);
  }
  const { body } = await get('?actor=token:bob');
  assert.deepEqual(body.entries[0].details, { n: '2030-01-01T11:00:00Z' });
  assert.equal(typeof body.entries[0].id, 'number');
});

test('audit pages with limit and the nextBefore cursor until the last page', async (t) => {
  const { get } = await setup(t);
  const seen: string[] = [];
  let query = '?since=2030-01-01T00:00:00Z&limit=2';
  for (let page = 0; page < 10; page++) {
    const { status, body } = await get(query);
    assert.equal(status, 200);
    seen.push(...targetsOf(body));
    if (body.nextBefore === undefined) break;
    query = `?since=2030-01-01T00:00:00Z&limit=2&before=${body.nextBefore}`;
  }
  assert.deepEqual(seen, ['14:null', '13:agent:web-1', '12:agent:web-2', '11:agent:web-1', '10:all']);
});

test('bad audit queries are 400 with a message, and the log needs a token', async (t) => {
  const { get } = await setup(t);
  const bad = [
    '?limit=0', '?limit=1001', '?limit=ten', '?outcome=maybe', '?since=yesterday', '?until=2030-13-45T00:00:00Z',
    '?before=-3', '?colour=blue', '?actor=', '?since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z',
  ];
  for (const query of bad) {
    const { status, body } = await get(query);
    assert.equal(status, 400, `${query}: ${JSON.stringify(body)}`);
    assert.ok(body.error.message.length > 5, query);
  }
  assert.equal((await get('', null)).status, 401);
  assert.equal((await get('?limit=1000')).status, 200);
});
