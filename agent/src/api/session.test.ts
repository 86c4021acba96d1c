import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { generateAgentKeys } from '../identity/key-pair.ts';
import { fetchDesiredState, loadCachedDesiredState } from './desired-state.ts';
import { ServerError } from './http.ts';
import { createAgentSession, tokenIsFresh, TOKEN_REFRESH_MARGIN_MS } from './session.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: any) => void;

async function fakeServer(t: TestContext, handler: Handler): Promise<string> {
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    handler(req, res, text ? JSON.parse(text) : undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
};

/** Issues token-1, token-2, ... and records the assertions it got. */
function tokenIssuer(expiresInMs = 15 * 60_000) {
  const assertions: string[] = [];
  return {
    assertions,
    handle(req: IncomingMessage, res: ServerResponse, body: any): boolean {
      if (req.url !== '/api/v1/agent/token') return false;
      assertions.push(body.assertion);
      json(res, 200, { access_token: `token-${assertions.length}`, expires_at: new Date(Date.now() + expiresInMs).toISOString() });
      return true;
    },
  };
}

test('a token is renewed a margin before it expires', () => {
  const now = 1_000_000;
  assert.ok(tokenIsFresh({ value: 't', expiresAtMs: now + TOKEN_REFRESH_MARGIN_MS + 1 }, now));
  assert.ok(!tokenIsFresh({ value: 't', expiresAtMs: now + TOKEN_REFRESH_MARGIN_MS }, now));
  assert.ok(!tokenIsFresh(undefined, now));
});

test('one token serves many calls; a refused token is replaced by a new assertion once', async (t) => {
  const issuer = tokenIssuer();
  const seen: string[] = [];
  const url = await fakeServer(t, (req, res, body) => {
    if (issuer.handle(req, res, body)) return;
    seen.push(req.headers.authorization!);
    if (req.headers.authorization === 'Bearer token-1' && seen.length === 3) return json(res, 401, { error: { code: 'TOKEN_EXPIRED', message: 'expired' } });
    json(res, 200, { ok: true });
  });
  const session = createAgentSession({ server: url, agentId: 'a-1', keys: generateAgentKeys() });
  await session.call('GET', '/api/v1/agent/whoami');
  await session.call('GET', '/api/v1/agent/whoami');
  await session.call('GET', '/api/v1/agent/whoami');
  assert.deepEqual(seen, ['Bearer token-1', 'Bearer token-1', 'Bearer token-1', 'Bearer token-2']);
  assert.equal(issuer.assertions.length, 2);
});

test('a revoked agent is not retried', async (t) => {
  const issuer = tokenIssuer();
  let calls = 0;
  const url = await fakeServer(t, (req, res, body) => {
    if (issuer.handle(req, res, body)) return;
    calls++;
    json(res, 401, { error: { code: 'AGENT_REVOKED', message: 'revoked' } });
  });
  const session = createAgentSession({ server: url, agentId: 'a-1', keys: generateAgentKeys() });
  await assert.rejects(session.call('GET', '/api/v1/agent/whoami'), (error: ServerError) => error.code === 'AGENT_REVOKED');
  assert.equal(calls, 1);
});

test('the desired state is cached with its ETag; the next request sends If-None-Match and a 304 keeps the copy', async (t) => {
  const issuer = tokenIssuer();
  const document = 'b'.repeat(64);
  const ifNoneMatch: Array<string | undefined> = [];
  const url = await fakeServer(t, (req, res, body) => {
    if (issuer.handle(req, res, body)) return;
    ifNoneMatch.push(req.headers['if-none-match']);
    if (req.headers['if-none-match'] === `"${document}"`) return json(res, 304, undefined, { etag: `"${document}"`, 'x-pswm-revision': 'rev-2' });
    json(res, 200, { apiVersion: 'pswm/v1', scripts: [] }, { etag: `"${document}"`, 'x-pswm-revision': 'rev-1' });
  });
  const cacheFile = path.join(await makeTempDir(t), 'cache', 'desired-state.json');
  const session = createAgentSession({ server: url, agentId: 'a-1', keys: generateAgentKeys() });

  const first = await fetchDesiredState(session, cacheFile, new Date());
  assert.equal(first.status, 'new');
  assert.equal((await loadCachedDesiredState(cacheFile))?.document, document);

  // a restarted agent: a new session, the same cache file
  const restarted = createAgentSession({ server: url, agentId: 'a-1', keys: generateAgentKeys() });
  const second = await fetchDesiredState(restarted, cacheFile, new Date());
  assert.equal(second.status, 'unchanged');
  assert.deepEqual(ifNoneMatch, [undefined, `"${document}"`]);
  assert.equal(second.status === 'unchanged' && second.cached.revision, 'rev-2', 'the revision header of a 304 is kept');
});

test('NO_DESIRED_STATE means nothing to converge; an unknown route is an error', async (t) => {
  const issuer = tokenIssuer();
  let routeExists = true;
  const url = await fakeServer(t, (req, res, body) => {
    if (issuer.handle(req, res, body)) return;
    json(res, 404, { error: routeExists ? { code: 'NO_DESIRED_STATE', message: 'none yet' } : { code: 'NOT_FOUND', message: 'Route not found' } });
  });
  const cacheFile = path.join(await makeTempDir(t), 'desired-state.json');
  const session = createAgentSession({ server: url, agentId: 'a-1', keys: generateAgentKeys() });
  assert.deepEqual(await fetchDesiredState(session, cacheFile, new Date()), { status: 'none' });
  routeExists = false;
  await assert.rejects(fetchDesiredState(session, cacheFile, new Date()), (error: ServerError) => error.code === 'NOT_FOUND');
});

test('a key rotated on disk is picked up when the server refuses the old one', async (t) => {
  const old = generateAgentKeys();
  const rotated = generateAgentKeys();
  const { createPublicKey, verify } = await import('node:crypto');
  const signedBy = (assertion: string, keys: typeof old) => {
    const [payload, signature] = assertion.split('.');
    return verify(null, Buffer.from(payload, 'ascii'), createPublicKey(keys.publicKeyPem), Buffer.from(signature, 'base64url'));
  };
  const url = await fakeServer(t, (req, res, body) => {
    if (signedBy(body.assertion, rotated)) return json(res, 200, { access_token: 'new-key-token', expires_at: new Date(Date.now() + 900_000).toISOString() });
    json(res, 401, { error: { code: 'ASSERTION_INVALID', message: 'the signature does not verify with the agent\'s key' } });
  });
  let reloads = 0;
  const session = createAgentSession({ server: url, agentId: 'a-1', keys: old, reloadKeys: async () => (reloads++, rotated) });
  assert.equal(await session.accessToken(), 'new-key-token');
  assert.equal(reloads, 1);
  const unchanged = createAgentSession({ server: url, agentId: 'a-1', keys: old, reloadKeys: async () => old });
  await assert.rejects(unchanged.accessToken(), (error: ServerError) => error.code === 'ASSERTION_INVALID');
});
