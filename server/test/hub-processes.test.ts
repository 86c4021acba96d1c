// Signals across real server processes on one PostgreSQL: an agent enrolled through the API holds a
// WebSocket on instance B, and signals requested on A (HTTP, the CLI with --server, the CLI on the
// database) and a revocation on A reach it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { createToken } from '../src/auth/tokens.ts';
import { connectAgentSocket } from './support/agent-socket.ts';
import { enrollmentClient, generateAgentIdentity } from './support/agent-identity.ts';
import { freshDatabase } from './support/database.ts';
import { loggedEntries, runServerCommand, sharedSecretKey, startServerProcess } from './support/server-process.ts';
import type { ServerProcess } from './support/server-process.ts';
import { appliedRevision, initialAdminToken, templateRepo, tempDir, until } from './reconcile-fixtures.ts';

function api(server: ServerProcess, token: string) {
  return async (method: string, path: string, body?: object) => {
    const response = await fetch(new URL(path, server.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await response.json() };
  };
}

/** Creates an agent on `server`, enrols it with a fresh key and returns an access token. */
async function enrolledAgent(server: ServerProcess, adminToken: string, name: string, placement: { organization: string; location: string }) {
  const created = await api(server, adminToken)('POST', '/api/v1/agents', { name, ...placement });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const identity = generateAgentIdentity();
  const client = enrollmentClient(server.url);
  const enrolled = await client.enroll(identity, { method: 'token', token: created.body.token, name });
  assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
  const issued = await client.accessToken(enrolled.body.agent_id, identity.assertion(enrolled.body.agent_id));
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  return { agentId: enrolled.body.agent_id as string, accessToken: issued.body.access_token as string };
}

test('two servers on one database: signals requested on A and a revocation on A reach an agent connected to B', { timeout: 180_000 }, async (t) => {
  const db = await freshDatabase(t);
  const { token: admin } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'hub-test', actor: 'test' }));
  const { token: viewer } = await db.sql.begin((tx) => createToken(tx, { role: 'viewer', name: 'hub-viewer', actor: 'test' }));
  // Enrollment places agents only in locations of the applied policy: the template's.
  const repo = await templateRepo(t);
  const keyEnv = await sharedSecretKey(await tempDir(t));
  const start = async () => {
    const server = await startServerProcess({ dataDir: await tempDir(t), args: ['--policy-repo', repo.dir, '--poll-interval', '3600'], env: { DATABASE_URL: db.url, ...keyEnv } });
    t.after(() => server.stop());
    return server;
  };
  const [a, b] = await Promise.all([start(), start()]);
  await until('the template to be applied', () => appliedRevision(db.sql).then((revision) => revision ?? undefined), 120_000);

  const web = await enrolledAgent(a, admin, 'web-1', { organization: 'contoso', location: 'paris' });
  const other = await enrolledAgent(a, admin, 'pos-1', { organization: 'fabrikam', location: 'nyc' });
  const onB = await connectAgentSocket(b.url, web.accessToken);
  const otherOnA = await connectAgentSocket(a.url, other.accessToken);

  const signalled = await api(a, admin)('POST', '/api/v1/signal', { agents: ['web-1'], reason: 'requested on A' });
  assert.deepEqual(signalled, { status: 200, body: { signalled: 1 } });
  assert.deepEqual(await onB.message(1), { type: 'reconcile', reason: 'requested on A' });

  const cliRemote = await runServerCommand(['signal', '--org', 'contoso', '--reason', 'cli remote', '--server', a.url], { PSWM_ADMIN_TOKEN: admin });
  assert.equal(cliRemote.code, 0, cliRemote.stderr);
  assert.equal(cliRemote.stdout, 'signalled 1 agent\n');
  assert.deepEqual(await onB.message(2), { type: 'reconcile', reason: 'cli remote' });

  // Straight onto the database's bus: no server involved in the request.
  const cliLocal = await runServerCommand(['signal', '--location', 'contoso/paris,fabrikam/nyc', '--reason', 'cli bus', '--data-dir', await tempDir(t)], { DATABASE_URL: db.url });
  assert.equal(cliLocal.code, 0, cliLocal.stderr);
  assert.equal(cliLocal.stdout, 'signalled 2 agents\n');
  assert.deepEqual(await onB.message(3), { type: 'reconcile', reason: 'cli bus' });
  assert.deepEqual(await otherOnA.message(1), { type: 'reconcile', reason: 'cli bus' });

  const all = await api(b, admin)('POST', '/api/v1/signal', { all: true });
  assert.deepEqual(all.body, { signalled: 2 });
  // The request's log line says when the token was checked and when the signal left, ms after it
  // arrived. It reaches the child's stdout pipe independently of the response, so it is waited for.
  const last = await until('the signal route\'s log line', async () =>
    loggedEntries<{ signalled: number; authorizedMs: number; publishedMs: number }>(b, 'agents signalled').at(-1), 10_000);
  assert.equal(last.signalled, 2);
  assert.ok(last.authorizedMs >= 0 && last.publishedMs >= last.authorizedMs, JSON.stringify(last));
  assert.deepEqual(await otherOnA.message(2), { type: 'reconcile', reason: 'requested by token:hub-test' });
  assert.deepEqual(await onB.message(4), { type: 'reconcile', reason: 'requested by token:hub-test' });

  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  assert.match(metrics, /^pswm_websocket_connections 1$/m);

  const audit = await api(b, viewer)('GET', '/api/v1/audit?action=agent.signal');
  assert.deepEqual(audit.body.entries.map((e: { actor: string; target: string }) => [e.actor, e.target]).reverse(), [
    ['token:hub-test', 'agent:web-1'],
    ['token:hub-test', 'org:contoso'],
    [`cli:${userInfo().username}`, 'location:contoso/paris,location:fabrikam/nyc'],
    ['token:hub-test', 'all'],
  ]);

  const revoked = await api(a, admin)('DELETE', '/api/v1/agents/web-1');
  assert.equal(revoked.status, 200);
  assert.deepEqual(await onB.closed, { code: 4401, reason: 'agent revoked' });
  assert.deepEqual(onB.messages.slice(4), [{ type: 'revoked' }]);
  await assert.rejects(connectAgentSocket(b.url, web.accessToken), /HTTP 401/);
  assert.equal(otherOnA.socket.readyState, otherOnA.socket.OPEN, 'the other agent keeps its socket');
  otherOnA.socket.close();
});

test('embedded mode: a signal reaches a connected agent through the in-process bus', { timeout: 180_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const server = await startServerProcess({ dataDir, args: ['--poll-interval', '3600'] });
  t.after(() => server.stop());
  const admin = await initialAdminToken(dataDir);
  await until('the demo policy to be applied', async () => (await api(server, admin)('GET', '/api/v1/revision')).body.applied.revision ?? undefined, 120_000);
  const web = await enrolledAgent(server, admin, 'web-1', { organization: 'contoso', location: 'paris' });
  const socket = await connectAgentSocket(server.url, web.accessToken);
  assert.deepEqual((await api(server, admin)('POST', '/api/v1/signal', { locations: ['contoso/paris'], reason: 'embedded' })).body, { signalled: 1 });
  assert.deepEqual(await socket.message(1), { type: 'reconcile', reason: 'embedded' });
  await api(server, admin)('DELETE', '/api/v1/agents/web-1');
  assert.equal((await socket.closed).code, 4401);
});

test('POST /signal refuses requests that name no one, bad locations and non-admins', { timeout: 120_000 }, async (t) => {
  const db = await freshDatabase(t);
  const { token: admin } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'a', actor: 'test' }));
  const { token: viewer } = await db.sql.begin((tx) => createToken(tx, { role: 'viewer', name: 'v', actor: 'test' }));
  const server = await startServerProcess({ dataDir: await tempDir(t), args: ['--poll-interval', '3600'], env: { DATABASE_URL: db.url } });
  t.after(() => server.stop());
  const cases: [string, object | undefined, number][] = [
    ['empty body', {}, 400],
    ['all false', { all: false }, 400],
    ['empty lists', { agents: [], locations: [], organizations: [] }, 400],
    ['location without a slash', { locations: ['acme'] }, 400],
    ['unknown property', { everyone: true }, 400],
    ['wrong type', { all: 'yes' }, 400],
    ['wrong item type', { agents: [{ name: 'web-1' }] }, 400],
    ['reason too long', { all: true, reason: 'r'.repeat(201) }, 400],
  ];
  for (const [name, body, status] of cases) {
    const response = await api(server, admin)('POST', '/api/v1/signal', body);
    assert.equal(response.status, status, `${name}: ${JSON.stringify(response.body)}`);
    assert.ok(response.body.error.message.length > 10, name);
  }
  assert.equal((await api(server, viewer)('POST', '/api/v1/signal', { all: true })).status, 403);
  assert.deepEqual((await api(server, admin)('POST', '/api/v1/signal', { all: true })).body, { signalled: 0 });
  const audited = await db.sql`select count(*)::int as n from audit_log where action = 'agent.signal'`;
  assert.equal(audited[0].n, 1, 'only the accepted request is audited');
});

test('pswm-server signal: usage errors, and embedded mode points to --server', { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const none = await runServerCommand(['signal', '--data-dir', dataDir]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /name whom to signal/);
  const badLocation = await runServerCommand(['signal', '--location', 'acme', '--data-dir', dataDir]);
  assert.equal(badLocation.code, 2);
  assert.match(badLocation.stderr, /not organization\/location/);
  const embedded = await runServerCommand(['signal', '--all', '--data-dir', dataDir]);
  assert.equal(embedded.code, 2);
  assert.match(embedded.stderr, /use --server URL/);
});
