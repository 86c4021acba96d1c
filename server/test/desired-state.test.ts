// GET /api/v1/agent/desired-state against real PostgreSQL: the template reconciled by reconcileOnce
// from a real git repository, agents enrolled through the API with their own keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPolicySource } from '../src/git/source.ts';
import { reconcileOnce } from '../src/reconcile/reconcile.ts';
import { freshDatabase } from './support/database.ts';
import { appliedRevision, silentLog, templateRepo } from './reconcile-fixtures.ts';
import { scopeDocument, startDesiredStateInstance } from './desired-fixtures.ts';

async function setup(t: Parameters<typeof templateRepo>[0] & { after(fn: () => Promise<void>): void }) {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const source = await openPolicySource({ dataDir: repo.dir, policyRepo: repo.dir, policyBranch: 'main' }, silentLog);
  t.after(() => source.close());
  const instance = await startDesiredStateInstance(db, t);
  const reconcile = async () => {
    const outcome = await reconcileOnce({ sql: db.sql, source, log: silentLog, trigger: 'test' });
    assert.equal(outcome.status, 'applied', outcome.message);
    await instance.documentsChanged();
    return outcome;
  };
  return { db, sql: db.sql, repo, instance, reconcile };
}

test('agents in two locations get their location\'s document with a strong ETag, the applied revision and no-cache', async (t) => {
  const { sql, instance, reconcile } = await setup(t);
  await reconcile();
  const paris = await instance.enrol('web-1', { organization: 'contoso', location: 'paris' });
  const nyc = await instance.enrol('pos-1', { organization: 'fabrikam', location: 'nyc' });

  const atParis = await instance.desiredState(paris.accessToken);
  assert.equal(atParis.status, 200);
  assert.equal(atParis.headers.get('etag'), `"${await scopeDocument(sql, 'contoso/paris')}"`);
  assert.equal(atParis.headers.get('x-pswm-revision'), await appliedRevision(sql));
  assert.equal(atParis.headers.get('cache-control'), 'no-cache');
  assert.equal(atParis.body.apiVersion, 'pswm/v1');
  assert.equal(atParis.body.settings.agent.interval_seconds, 900, 'Paris converges every 900 s');
  assert.equal(atParis.body.provenance['agent.interval_seconds'].document, 'Location/contoso/paris');

  const atNyc = await instance.desiredState(nyc.accessToken);
  assert.equal(atNyc.status, 200);
  assert.equal(atNyc.headers.get('etag'), `"${await scopeDocument(sql, 'fabrikam/nyc')}"`);
  assert.notEqual(atNyc.headers.get('etag'), atParis.headers.get('etag'));
  assert.notEqual(atNyc.body.settings.agent.interval_seconds, 900);
});

test('If-None-Match naming the current document is a 304 answered without any database query', async (t) => {
  const { sql, instance, reconcile } = await setup(t);
  await reconcile();
  const agent = await instance.enrol('web-1', { organization: 'contoso', location: 'paris' });
  const first = await instance.desiredState(agent.accessToken);
  const etag = first.headers.get('etag')!;

  const before = instance.queries();
  assert.ok(before > 0, 'the counter counts this instance\'s queries (enrolment, token, first GET)');
  for (let i = 0; i < 20; i++) {
    const again = await instance.desiredState(agent.accessToken, etag);
    assert.equal(again.status, 304);
    assert.equal(again.body, undefined);
    assert.equal(again.headers.get('etag'), etag);
    assert.equal(again.headers.get('x-pswm-revision'), await appliedRevision(sql));
  }
  assert.equal(instance.queries(), before, 'a 304 must not touch the database');

  const stale = await instance.desiredState(agent.accessToken, '"0000000000000000000000000000000000000000000000000000000000000000"');
  assert.equal(stale.status, 200, 'an ETag naming another document gets the current one');
  assert.equal(stale.headers.get('etag'), etag);
  const weak = await instance.desiredState(agent.accessToken, `W/${etag}`);
  assert.equal(weak.status, 304, 'If-None-Match compares weakly');
});

test('an agent only ever reads its own document: the token names it, and a forged or missing token is 401', async (t) => {
  const { sql, instance, reconcile } = await setup(t);
  await reconcile();
  const a = await instance.enrol('web-1', { organization: 'contoso', location: 'paris' });
  const b = await instance.enrol('pos-1', { organization: 'fabrikam', location: 'nyc' });
  const nycEtag = `"${await scopeDocument(sql, 'fabrikam/nyc')}"`;

  // Asking with B's ETag does not reveal B's state: A gets its own document.
  const asA = await instance.desiredState(a.accessToken, nycEtag);
  assert.equal(asA.status, 200);
  assert.equal(asA.headers.get('etag'), `"${await scopeDocument(sql, 'contoso/paris')}"`);
  // A query string naming B is no parameter the route knows; the answer is still A's.
  const named = await fetch(`${instance.url}/api/v1/agent/desired-state?agent=${b.id}&agent_id=${b.id}`, { headers: { authorization: `Bearer ${a.accessToken}` } });
  assert.equal(named.headers.get('etag'), asA.headers.get('etag'));

  // B's claims with A's signature: forged.
  const [prefix, , tagOfA] = a.accessToken.split('.');
  const [, bodyOfB] = b.accessToken.split('.');
  assert.equal((await instance.desiredState(`${prefix}.${bodyOfB}.${tagOfA}`)).status, 401);
  const anonymous = await fetch(`${instance.url}/api/v1/agent/desired-state`);
  assert.equal(anonymous.status, 401);
});

test('before any policy is applied the answer is 404 NO_DESIRED_STATE; after the apply the document is served', async (t) => {
  const { instance, reconcile } = await setup(t);
  const agent = await instance.enrol('early-1', { organization: 'contoso', location: 'paris' });
  const early = await instance.desiredState(agent.accessToken);
  assert.equal(early.status, 404);
  assert.equal(early.body.error.code, 'NO_DESIRED_STATE');
  assert.match(early.body.error.message, /No desired state has been compiled for this agent yet/);

  await reconcile();
  const later = await instance.desiredState(agent.accessToken);
  assert.equal(later.status, 200);
  assert.equal(later.body.settings.agent.interval_seconds, 900);
});

test('a revoked agent is refused at once, although its token verified before', async (t) => {
  const { instance, reconcile } = await setup(t);
  await reconcile();
  const agent = await instance.enrol('web-1', { organization: 'contoso', location: 'paris' });
  const before = await instance.desiredState(agent.accessToken);
  assert.equal(before.status, 200);
  const revoked = await fetch(`${instance.url}/api/v1/agents/web-1`, { method: 'DELETE', headers: { authorization: `Bearer ${instance.adminToken}` } });
  assert.equal(revoked.status, 200, await revoked.text());
  const after = await instance.desiredState(agent.accessToken, before.headers.get('etag')!);
  assert.equal(after.status, 401);
  assert.equal(after.body.error.code, 'AGENT_REVOKED');
});
