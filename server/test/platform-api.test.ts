import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { buildApp, BODY_LIMIT_BYTES } from '../src/api/app.ts';
import { PER_HANDLE_METRICS } from '../src/api/metrics.ts';
import { createToken, revokeToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/logger.ts';
import { freshDatabase, oneClientDatabase } from './support/database.ts';

async function setup(t: import('node:test').TestContext) {
  const { sql } = await freshDatabase(t);
  const app = await buildApp({ db: oneClientDatabase(sql), config: loadConfig([], {}), log: createLogger({ logLevel: 'silent' }) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const issue = (role: 'admin' | 'viewer', name: string) => sql.begin((tx) => createToken(tx, { role, name, actor: 'test' }));
  const admin = await issue('admin', 'admin-a');
  const viewer = await issue('viewer', 'viewer-v');
  const revoked = await issue('admin', 'revoked-r');
  await sql.begin((tx) => revokeToken(tx, revoked.record.id, 'test'));
  const call = async (method: string, path: string, init: { token?: string; authorization?: string; body?: string; type?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.authorization) headers.authorization = init.authorization;
    if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
    const response = await fetch(base + path, { method, headers, body: init.body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  };
  return { app, sql, call, admin: admin.token, viewer: viewer.token, revoked: revoked.token };
}

test('authentication and roles: 401 without a valid token, 403 for a weaker role', async (t) => {
  const { call, admin, viewer, revoked } = await setup(t);
  const cases: { name: string; path: string; token?: string; authorization?: string; status: number; code?: string }[] = [
    { name: 'no token', path: '/api/v1/whoami', status: 401, code: 'UNAUTHENTICATED' },
    { name: 'not a bearer header', path: '/api/v1/whoami', authorization: `Basic ${admin}`, status: 401, code: 'UNAUTHENTICATED' },
    { name: 'unknown token', path: '/api/v1/whoami', token: 'pswm_unknown', status: 401, code: 'INVALID_TOKEN' },
    { name: 'token without the prefix', path: '/api/v1/whoami', token: 'abc', status: 401, code: 'INVALID_TOKEN' },
    { name: 'revoked token', path: '/api/v1/whoami', token: revoked, status: 401, code: 'INVALID_TOKEN' },
    { name: 'viewer on a viewer route', path: '/api/v1/whoami', token: viewer, status: 200 },
    { name: 'admin on a viewer route', path: '/api/v1/whoami', token: admin, status: 200 },
    { name: 'viewer on an admin route', path: '/api/v1/tokens', token: viewer, status: 403, code: 'FORBIDDEN' },
    { name: 'admin on an admin route', path: '/api/v1/tokens', token: admin, status: 200 },
  ];
  for (const c of cases) {
    const response = await call('GET', c.path, c);
    assert.equal(response.status, c.status, c.name);
    if (c.code) {
      const { error } = response.json();
      assert.equal(error.code, c.code, c.name);
      assert.ok(error.message.length > 10, `${c.name}: the message explains`);
    }
    if (c.status === 401) assert.equal(response.headers.get('www-authenticate'), 'Bearer', c.name);
  }
  assert.match((await call('GET', '/api/v1/tokens', { token: viewer })).json().error.message, /needs the admin role.*viewer/);
});

test('malformed input gets a 4xx with a message, never a 500', async (t) => {
  const { call, admin } = await setup(t);
  const post = (body: string, type?: string) => call('POST', '/api/v1/tokens', { token: admin, body, type });
  const cases = [
    { name: 'broken JSON', response: await post('{"role":'), status: 400, code: 'INVALID_JSON' },
    { name: 'empty JSON body', response: await post(''), status: 400, code: 'INVALID_JSON' },
    { name: 'schema violation', response: await post('{"role":"root"}'), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'unknown property', response: await post('{"role":"viewer","admin":true}'), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'body over the limit', response: await post(JSON.stringify({ role: 'viewer', name: 'x'.repeat(BODY_LIMIT_BYTES) })), status: 413, code: 'BODY_TOO_LARGE' },
    { name: 'unsupported content type', response: await post('role=viewer', 'application/x-www-form-urlencoded'), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'unknown route', response: await call('GET', '/api/v1/nothing-here'), status: 404, code: 'NOT_FOUND' },
    { name: 'revoking a token that does not exist', response: await call('DELETE', '/api/v1/tokens/not-a-uuid', { token: admin }), status: 404, code: 'NOT_FOUND' },
  ];
  for (const c of cases) {
    assert.equal(c.response.status, c.status, `${c.name}: ${c.response.text}`);
    const { error } = c.response.json();
    assert.equal(error.code, c.code, c.name);
    assert.equal(typeof error.message, 'string', c.name);
  }
  assert.match(cases[2].response.json().error.message, /role/);
});

test('tokens created and revoked through the API are audited and take effect at once', async (t) => {
  const { call, sql, admin } = await setup(t);
  const created = await call('POST', '/api/v1/tokens', { token: admin, body: JSON.stringify({ role: 'viewer', name: 'dashboard' }) });
  assert.equal(created.status, 201);
  const { token, id } = created.json();
  assert.equal((await call('GET', '/api/v1/whoami', { token })).json().name, 'dashboard');
  assert.equal((await call('DELETE', `/api/v1/tokens/${id}`, { token: admin })).status, 200);
  assert.equal((await call('GET', '/api/v1/whoami', { token })).status, 401);
  const entries = await sql<{ actor: string; action: string; target: string; outcome: string }[]>`
    select actor, action, target, outcome from audit_log where target = ${id} order by id`;
  assert.deepEqual(entries.map((e) => ({ ...e })), [
    { actor: 'token:admin-a', action: 'token.create', target: id, outcome: 'success' },
    { actor: 'token:admin-a', action: 'token.revoke', target: id, outcome: 'success' },
  ]);
});

test('/health answers ok; /ready runs the registered readiness checks', async (t) => {
  const { app, call } = await setup(t);
  assert.deepEqual((await call('GET', '/health')).json(), { status: 'ok' });
  const ready = await call('GET', '/ready');
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json(), { status: 'ready', checks: [{ name: 'database', ready: true }] });
  app.readinessChecks.push({ name: 'revision', check: async () => 'no revision applied yet' });
  const notReady = await call('GET', '/ready');
  assert.equal(notReady.status, 503);
  assert.deepEqual(notReady.json().checks[1], { name: 'revision', ready: false, message: 'no revision applied yet' });
});

test('/metrics exposes request latency by route pattern in Prometheus text', async (t) => {
  const { call, admin } = await setup(t);
  await call('GET', '/health');
  await call('DELETE', '/api/v1/tokens/00000000-0000-0000-0000-000000000000', { token: admin });
  const metrics = await call('GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
  assert.match(metrics.text, /pswm_http_request_duration_seconds_count\{method="GET",route="\/health",status_code="200"\} 1/);
  assert.match(metrics.text, /route="\/api\/v1\/tokens\/:id",status_code="404"/);
  assert.match(metrics.text, /^# TYPE pswm_nodejs_eventloop_lag_p99_seconds /m);
  for (const name of PER_HANDLE_METRICS) {
    assert.doesNotMatch(metrics.text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} lists every socket handle on each scrape`);
  }
});
