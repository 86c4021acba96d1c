import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createAgentAuthority } from '../src/agents/access-token.ts';
import { generateAgentIdentity } from './support/agent-identity.ts';
import type { AgentIdentity } from './support/agent-identity.ts';
import { startAgentApiInstance } from './support/agent-api-instance.ts';
import { enrollSetup } from './support/enroll-setup.ts';

async function enrolledAgent(setup: Awaited<ReturnType<typeof enrollSetup>>, name: string): Promise<{ identity: AgentIdentity; agentId: string }> {
  const token = (await setup.admin('POST', '/api/v1/agents', { name, organization: 'contoso', location: 'paris' })).body.token;
  const identity = generateAgentIdentity();
  const enrolled = await setup.client.enroll(identity, { method: 'token', token });
  assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
  return { identity, agentId: enrolled.body.agent_id };
}

/** Revocation travels through PostgreSQL NOTIFY: wait (bounded) until the instance has heard it. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`never happened: ${what}`);
}

test('assertions: a valid one buys an access token once; replayed, forged, expired or foreign ones get 401 and are audited', async (t) => {
  const setup = await enrollSetup(t);
  const { client, auditOf } = setup;
  const { identity, agentId } = await enrolledAgent(setup, 'ws-1');
  const other = await enrolledAgent(setup, 'ws-2');
  const pending = (await setup.admin('POST', '/api/v1/agents', { name: 'ws-3', organization: 'contoso', location: 'paris' })).body.agent.id;
  const now = Math.floor(Date.now() / 1000);

  const first = identity.assertion(agentId);
  const issued = await client.accessToken(agentId, first);
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  assert.match(issued.body.access_token, /^pswm-agent\./);

  const [payload] = identity.assertion(agentId).split('.');
  const cases: { name: string; agentId: string; assertion: string; code: string; message?: RegExp }[] = [
    { name: 'replayed assertion', agentId, assertion: first, code: 'ASSERTION_REPLAYED' },
    { name: 'signed by another key', agentId, assertion: generateAgentIdentity().assertion(agentId), code: 'ASSERTION_INVALID', message: /signature/ },
    { name: 'payload swapped after signing', agentId, assertion: `${payload}.${identity.assertion(agentId).split('.')[1]}`, code: 'ASSERTION_INVALID', message: /signature/ },
    { name: 'another agent\'s assertion', agentId, assertion: other.identity.assertion(other.agentId), code: 'ASSERTION_INVALID', message: /sub/ },
    { name: 'presented as another agent', agentId: other.agentId, assertion: identity.assertion(agentId), code: 'ASSERTION_INVALID', message: /sub/ },
    { name: 'wrong audience', agentId, assertion: identity.assertion(agentId, { aud: 'elsewhere' }), code: 'ASSERTION_INVALID', message: /aud/ },
    { name: 'expired', agentId, assertion: identity.assertion(agentId, { iat: now - 600, exp: now - 300 }), code: 'ASSERTION_INVALID', message: /expired/ },
    { name: 'valid for too long', agentId, assertion: identity.assertion(agentId, { exp: now + 3600 }), code: 'ASSERTION_INVALID', message: /at most 300 seconds/ },
    { name: 'issued in the future', agentId, assertion: identity.assertion(agentId, { iat: now + 600, exp: now + 700 }), code: 'ASSERTION_INVALID', message: /future/ },
    { name: 'short jti', agentId, assertion: identity.assertion(agentId, { jti: 'x' }), code: 'ASSERTION_INVALID', message: /jti/ },
    { name: 'not an assertion', agentId, assertion: 'hello', code: 'ASSERTION_INVALID' },
    { name: 'payload not JSON', agentId, assertion: `${Buffer.from('{').toString('base64url')}.AAAA`, code: 'ASSERTION_INVALID', message: /JSON/ },
    { name: 'unknown agent', agentId: '00000000-0000-4000-8000-000000000000', assertion: identity.assertion('00000000-0000-4000-8000-000000000000'), code: 'ASSERTION_INVALID', message: /no agent/ },
    { name: 'agent that never enrolled', agentId: pending, assertion: identity.assertion(pending), code: 'ASSERTION_INVALID', message: /not enrolled/ },
  ];
  for (const c of cases) {
    const response = await client.accessToken(c.agentId, c.assertion);
    assert.equal(response.status, 401, `${c.name}: ${JSON.stringify(response.body)}`);
    assert.equal(response.body.error.code, c.code, c.name);
    if (c.message) assert.match(response.body.error.message, c.message, c.name);
  }
  // Refusals are audited; the routine success is only counted.
  const audited = await auditOf('agent.token');
  assert.deepEqual(audited.map((a) => a.details.code ?? a.outcome), cases.map((c) => c.code));
  const metrics = await (await fetch(new URL('/metrics', setup.server.url))).text();
  assert.match(metrics, /^pswm_agent_tokens_issued_total 1$/m);
});

test('access tokens: missing, forged, expired and API tokens are refused on agent routes', async (t) => {
  const setup = await enrollSetup(t);
  const { client, server, sql } = setup;
  const { identity, agentId } = await enrolledAgent(setup, 'ws-1');
  const token: string = (await client.accessToken(agentId, identity.assertion(agentId))).body.access_token;
  assert.equal((await client.whoami(token)).status, 200);

  // Signed with the server's own secret, but fifteen minutes and one second ago.
  const past = await createAgentAuthority(sql, server.bus, server.keys.accessToken, { now: () => Date.now() - (15 * 60 + 1) * 1000 });
  t.after(() => past.close());
  const expired = past.issue({ agentId, name: 'ws-1', organization: 'contoso', location: 'paris' }).token;

  const [prefix, payload, tag] = token.split('.');
  const elevated = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), name: 'other' })).toString('base64url');
  const cases = [
    { name: 'expired', token: expired, code: 'TOKEN_EXPIRED' },
    { name: 'payload changed', token: `${prefix}.${elevated}.${tag}`, code: 'INVALID_TOKEN' },
    { name: 'tag changed', token: `${prefix}.${payload}.${tag.slice(0, -2)}AA`, code: 'INVALID_TOKEN' },
    { name: 'an admin API token', token: 'pswm_abcdef', code: 'INVALID_TOKEN' },
  ];
  for (const c of cases) {
    const response = await client.whoami(c.token);
    assert.equal(response.status, 401, c.name);
    assert.equal(response.body.error.code, c.code, c.name);
  }
  const bare = await client.call('GET', '/api/v1/agent/whoami');
  assert.equal(bare.body.error.code, 'UNAUTHENTICATED');
});

test('a remembered token is still refused once it expires or its agent is revoked', async (t) => {
  const { server, sql } = await enrollSetup(t);
  let clock = Date.now();
  const authority = await createAgentAuthority(sql, server.bus, server.keys.accessToken, { now: () => clock });
  t.after(() => authority.close());
  const agent = { agentId: randomUUID(), name: 'ws-9', organization: 'contoso', location: 'paris' };
  const { token } = authority.issue(agent);
  assert.equal(authority.check(token).ok, true);
  assert.equal(authority.check(token).ok, true, 'the second check answers from memory');
  clock += 15 * 60 * 1000;
  assert.deepEqual(authority.check(token), { ok: false, reason: 'expired' });

  clock = Date.now();
  const fresh = authority.issue(agent).token;
  assert.equal(authority.check(fresh).ok, true);
  await authority.revoke(agent.agentId);
  assert.deepEqual(authority.check(fresh), { ok: false, reason: 'revoked' });
});

test('revocation: the agent\'s next request is 401 on every instance, new tokens are refused, and a restarted instance remembers', async (t) => {
  const setup = await enrollSetup(t);
  const { client, cli, db, auditOf, server } = setup;
  const second = await startAgentApiInstance(db, t, { keys: server.keys });
  const onSecond = (await import('./support/agent-identity.ts')).enrollmentClient(second.url);
  const one = await enrolledAgent(setup, 'ws-1');
  const two = await enrolledAgent(setup, 'ws-2');
  const tokenOf = async (agent: typeof one) => (await client.accessToken(agent.agentId, agent.identity.assertion(agent.agentId))).body.access_token as string;
  const tokenOne = await tokenOf(one);
  const tokenTwo = await tokenOf(two);
  assert.equal((await onSecond.whoami(tokenOne)).status, 200, 'any instance accepts a token another issued');

  // Through the admin API of the first instance: the second hears it on the bus.
  const revoked = await cli(['agent', 'revoke', 'ws-1'], true);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal((await client.whoami(tokenOne)).body.error.code, 'AGENT_REVOKED', 'the revoking instance refuses at once');
  await eventually(async () => (await onSecond.whoami(tokenOne)).status === 401, 'the second instance refuses ws-1');
  assert.equal((await onSecond.whoami(tokenOne)).body.error.code, 'AGENT_REVOKED');
  assert.equal((await onSecond.whoami(tokenTwo)).status, 200, 'other agents are unaffected');
  const refused = await onSecond.accessToken(one.agentId, one.identity.assertion(one.agentId));
  assert.equal(refused.body.error.code, 'AGENT_REVOKED');

  // Straight against the database (no server involved): NOTIFY still reaches both instances.
  assert.equal((await cli(['agent', 'revoke', 'ws-2'])).code, 0);
  await eventually(async () => (await client.whoami(tokenTwo)).status === 401 && (await onSecond.whoami(tokenTwo)).status === 401, 'both instances refuse ws-2');
  assert.match((await cli(['agent', 'list'])).stdout, /ws-2\s+contoso\s+paris\s+revoked/);

  const third = await startAgentApiInstance(db, t, { keys: server.keys });
  const onThird = (await import('./support/agent-identity.ts')).enrollmentClient(third.url);
  assert.equal((await onThird.whoami(tokenOne)).body.error.code, 'AGENT_REVOKED', 'revocations are loaded at start');
  assert.deepEqual((await auditOf('agent.revoke')).map((a) => [a.actor, a.outcome]), [['token:test-admin', 'success'], [`cli:${(await import('node:os')).userInfo().username}`, 'success']]);
});

test('20 concurrent enrollments against an OTP with 5 uses: exactly 5 agents are created', async (t) => {
  const setup = await enrollSetup(t);
  const { client, admin, sql, auditOf } = setup;
  const code = (await admin('POST', '/api/v1/otp', { organization: 'contoso', location: 'paris', uses: 5, expires_in: '1h' })).body.code;
  const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => client.enroll(generateAgentIdentity(), { method: 'otp', code, name: `rush-${i}` })));
  const statuses = responses.map((r) => r.status).sort();
  assert.deepEqual(statuses, [...Array(5).fill(201), ...Array(15).fill(401)]);
  assert.ok(responses.filter((r) => r.status === 401).every((r) => r.body.error.code === 'CREDENTIAL_USED'));
  assert.equal((await sql`select count(*)::int as n from agents where name like 'rush-%'`)[0].n, 5);
  assert.equal((await sql`select uses_remaining from enrollment_codes`)[0].uses_remaining, 0);
  const audited = await auditOf('agent.enroll');
  assert.equal(audited.filter((a) => a.outcome === 'success').length, 5);
  assert.equal(audited.filter((a) => a.details.code === 'CREDENTIAL_USED').length, 15);
});
