// Rate limits on the endpoints anyone can call (enrollment, its nonce and status, the token exchange,
// the git webhook) and the cap on pending enrollment requests, against a real server instance and
// PostgreSQL: 429 with Retry-After past the limit, counted per client address (X-Forwarded-For only
// from a trusted proxy), no audit row for a limited request, and never more pending requests than
// --enroll-queue-max, even when they arrive at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_PREFIX } from '../src/api/app.ts';
import { gitWebhookRoutes } from '../src/api/git-webhook.ts';
import { consoleSessionRoutes } from '../src/web-console/session-routes.ts';
import { createToken } from '../src/auth/tokens.ts';
import { enrollmentClient, generateAgentIdentity } from './support/agent-identity.ts';
import { startAgentApiInstance } from './support/agent-api-instance.ts';
import { freshDatabase } from './support/database.ts';

const UUID = '5b0f3c1e-8c1a-4b7e-9a51-3f2d2b7c9e01';

async function setup(t: { after(fn: () => Promise<void>): void }, argv: string[]) {
  const db = await freshDatabase(t);
  const server = await startAgentApiInstance(db, t, {}, argv, async (app) => {
    await app.register(gitWebhookRoutes, { prefix: API_PREFIX, branch: 'main', onPush: () => {} });
    await app.register(consoleSessionRoutes, { prefix: API_PREFIX, sql: db.sql, secureCookies: false });
  });
  const { token: adminToken } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'test-admin', actor: 'test' }));
  const send = async (method: string, path: string, init: { body?: object; headers?: Record<string, string> } = {}) => {
    const response = await fetch(server.url + path, {
      method,
      headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: text ? JSON.parse(text) : undefined };
  };
  const count = async (table: string, where = 'true') => (await db.sql.unsafe(`select count(*)::int as n from ${table} where ${where}`))[0].n as number;
  return { db, sql: db.sql, server, adminToken, send, count, client: enrollmentClient(server.url) };
}

test('each credential endpoint takes --rate-limit requests a minute per address, then 429 with Retry-After and no audit row', async (t) => {
  const { send, count, adminToken } = await setup(t, ['--rate-limit', '5']);
  const badEnroll = { method: 'queue', name: 'flood', hostname: 'flood', public_key: 'k', nonce: 'n', signature: 's' };
  const endpoints: Array<{ name: string; call: () => ReturnType<typeof send> }> = [
    { name: 'nonce', call: () => send('POST', '/api/v1/enroll/nonce') },
    { name: 'enroll', call: () => send('POST', '/api/v1/enroll', { body: badEnroll }) },
    { name: 'enroll status', call: () => send('GET', `/api/v1/enroll/requests/${UUID}`, { headers: { 'x-pswm-nonce': 'n', 'x-pswm-signature': 's' } }) },
    { name: 'token', call: () => send('POST', '/api/v1/agent/token', { body: { agent_id: UUID, assertion: 'a.b' } }) },
    { name: 'git webhook', call: () => send('POST', '/api/v1/hooks/git', { body: { ref: 'refs/heads/other' }, headers: { 'x-github-event': 'push' } }) },
    { name: 'console login', call: () => send('POST', '/api/v1/login', { body: { token: 'pswm_guessed' } }) },
  ];
  for (const endpoint of endpoints) {
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await endpoint.call());
    assert.ok(answers.slice(0, 5).every((a) => a.status !== 429), `${endpoint.name}: the first 5 are served (${answers.map((a) => a.status)})`);
    for (const limited of answers.slice(5)) {
      assert.equal(limited.status, 429, `${endpoint.name}: ${JSON.stringify(limited.body)}`);
      assert.equal(limited.body.error.code, 'TOO_MANY_REQUESTS');
      const retryAfter = Number(limited.retryAfter);
      assert.match(limited.body.error.message, new RegExp(`^More than 5 requests a minute from 127\\.0\\.0\\.1 to /api/v1/.+; retry in ${retryAfter} seconds\\.$`));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `${endpoint.name}: Retry-After ${limited.retryAfter}`);
    }
  }
  assert.equal(await count('audit_log', `action = 'agent.enroll'`), 5, 'only the enrollments that were let through are audited');
  assert.equal(await count('audit_log', `action = 'agent.token'`), 5);
  assert.equal(await count('audit_log', `action = 'web.login'`), 5);
  for (let i = 0; i < 10; i++) {
    assert.equal((await send('GET', '/api/v1/whoami', { headers: { authorization: `Bearer ${adminToken}` } })).status, 200, 'authenticated routes are not limited');
  }
});

test('X-Forwarded-For names the client only behind a trusted proxy', async (t) => {
  const direct = await setup(t, ['--rate-limit', '2']);
  const forwardedFrom = (address: string) => ({ headers: { 'x-forwarded-for': address } });
  for (let i = 0; i < 2; i++) assert.equal((await direct.send('POST', '/api/v1/enroll/nonce', forwardedFrom(`10.0.0.${i}`))).status, 200);
  assert.equal((await direct.send('POST', '/api/v1/enroll/nonce', forwardedFrom('10.0.0.99'))).status, 429, 'an untrusted X-Forwarded-For does not buy a new allowance');

  const proxied = await setup(t, ['--rate-limit', '2', '--trust-proxy', '127.0.0.1']);
  for (let i = 0; i < 2; i++) assert.equal((await proxied.send('POST', '/api/v1/enroll/nonce', forwardedFrom('10.0.0.1'))).status, 200);
  const limited = await proxied.send('POST', '/api/v1/enroll/nonce', forwardedFrom('10.0.0.1'));
  assert.equal(limited.status, 429);
  assert.match(limited.body.error.message, /from 10\.0\.0\.1/);
  assert.equal((await proxied.send('POST', '/api/v1/enroll/nonce', forwardedFrom('10.0.0.2'))).status, 200, 'another client behind the proxy has its own allowance');
  await proxied.send('POST', '/api/v1/enroll', { body: { method: 'queue' }, ...forwardedFrom('10.0.0.3') });
  const [audited] = await proxied.sql<{ details: { ip: string } }[]>`select details from audit_log where action = 'agent.enroll'`;
  assert.equal(audited.details.ip, '10.0.0.3', 'the audit names the client, not the proxy');
});

test('the enrollment queue holds --enroll-queue-max pending requests, even when they arrive at once', async (t) => {
  const { client, send, count, adminToken } = await setup(t, ['--enroll-queue-max', '3', '--rate-limit', '0']);
  const identities = Array.from({ length: 12 }, () => generateAgentIdentity());
  const answers = await Promise.all(identities.map((identity, i) => client.enroll(identity, { method: 'queue', name: `lab-${i}` })));
  assert.deepEqual(answers.map((a) => a.status).sort(), [...Array(3).fill(202), ...Array(9).fill(429)]);
  assert.equal(await count('enrollment_requests', `status = 'pending'`), 3);
  const full = await send('POST', '/api/v1/enroll', {
    body: await (async () => {
      const identity = generateAgentIdentity();
      const nonce = await client.nonce();
      return { method: 'queue', name: 'late', hostname: 'late', public_key: identity.publicKeyPem, nonce, signature: identity.signEnrollment({ nonce, method: 'queue', name: 'late' }) };
    })(),
  });
  assert.equal(full.status, 429);
  assert.equal(full.body.error.code, 'TOO_MANY_REQUESTS');
  assert.match(full.body.error.message, /enrollment queue is full \(3 pending requests\)/);
  assert.equal(full.retryAfter, '300');
  assert.ok(await count('audit_log', `action = 'agent.enroll' and outcome = 'failure' and details->>'code' = 'TOO_MANY_REQUESTS'`) >= 10, 'refusals are audited');

  const waiting = identities[answers.findIndex((a) => a.status === 202)];
  const restarted = await client.enroll(waiting, { method: 'queue', name: 'ignored' });
  assert.equal(restarted.status, 202, 'an agent that already waits gets its request back while the queue is full');

  const [first] = await client.call('GET', '/api/v1/enroll/queue?status=pending', { headers: { authorization: `Bearer ${adminToken}` } }).then((r) => r.body.requests as Array<{ id: string }>);
  assert.equal((await client.call('POST', `/api/v1/enroll/queue/${first.id}/reject`, { headers: { authorization: `Bearer ${adminToken}` } })).status, 200);
  assert.equal((await client.enroll(generateAgentIdentity(), { method: 'queue', name: 'after-reject' })).status, 202, 'a decision frees a place');
});
