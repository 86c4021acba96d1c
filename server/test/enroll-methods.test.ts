import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { issueNonce } from '../src/agents/nonce.ts';
import { generateAgentIdentity } from './support/agent-identity.ts';
import { enrollSetup } from './support/enroll-setup.ts';

test('admin-driven: agent create prints a token; presenting it binds the key and the agent gets an access token', async (t) => {
  const { client, cli, sql, auditOf } = await enrollSetup(t);
  const created = await cli(['agent', 'create', 'ws-paris-001', '--org', 'contoso', '--location', 'paris']);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^pswm-enroll-/);
  assert.equal((await cli(['agent', 'show', 'ws-paris-001'])).stdout.match(/status:\s+(\w+)/)?.[1], 'pending');

  const identity = generateAgentIdentity();
  const enrolled = await client.enroll(identity, { method: 'token', token, hostname: 'WS-PARIS-001', facts: { os: { family: 'windows' } } });
  assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
  assert.deepEqual(Object.keys(enrolled.body).sort(), ['agent_id', 'location', 'name', 'organization']);
  assert.deepEqual({ ...enrolled.body, agent_id: undefined }, { agent_id: undefined, name: 'ws-paris-001', organization: 'contoso', location: 'paris' });

  const [row] = await sql`select status, public_key, hostname, facts from agents where id = ${enrolled.body.agent_id}`;
  assert.deepEqual({ ...row }, { status: 'active', public_key: identity.publicKeyPem, hostname: 'WS-PARIS-001', facts: { os: { family: 'windows' } } });

  const issued = await client.accessToken(enrolled.body.agent_id, identity.assertion(enrolled.body.agent_id));
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  const lifetimeMs = Date.parse(issued.body.expires_at) - Date.now();
  assert.ok(lifetimeMs > 0 && lifetimeMs <= 15 * 60_000, `access token lifetime ${lifetimeMs} ms`);
  const whoami = await client.whoami(issued.body.access_token);
  assert.deepEqual(whoami.body, { agentId: enrolled.body.agent_id, name: 'ws-paris-001', organization: 'contoso', location: 'paris' });

  // The token is spent: a second agent presenting it is refused, and both attempts are audited.
  const again = await client.enroll(generateAgentIdentity(), { method: 'token', token });
  assert.equal(again.status, 401);
  assert.equal(again.body.error.code, 'CREDENTIAL_USED');
  const attempts = await auditOf('agent.enroll');
  assert.deepEqual(attempts.map((a) => [a.outcome, a.details.code ?? null]), [['success', null], ['failure', 'CREDENTIAL_USED']]);
  assert.equal((await sql`select count(*)::int as n from audit_log where details::text like ${`%${token}%`}`)[0].n, 0, 'the token itself is never audited');
});

test('enrollment tokens: expired, used, revoked agent, unknown and name mismatch are refused with a clear 4xx', async (t) => {
  const { client, admin, sql, auditOf } = await enrollSetup(t);
  const create = async (name: string) => (await admin('POST', '/api/v1/agents', { name, organization: 'contoso', location: 'paris', expires_in: '1h' })).body.token as string;
  const expired = await create('expired-1');
  await sql`update enrollment_tokens set expires_at = now() - interval '1 second' where agent_id = (select id from agents where name = 'expired-1')`;
  const revoked = await create('revoked-1');
  assert.equal((await admin('DELETE', '/api/v1/agents/revoked-1')).status, 200);
  const named = await create('named-1');

  const cases = [
    { name: 'expired token', input: { method: 'token' as const, token: expired }, status: 401, code: 'CREDENTIAL_EXPIRED', message: /expired/ },
    { name: 'token of a revoked agent', input: { method: 'token' as const, token: revoked }, status: 401, code: 'CREDENTIAL_REVOKED', message: /revoked-1.*revoked/ },
    { name: 'unknown token', input: { method: 'token' as const, token: 'pswm-enroll-nope' }, status: 401, code: 'CREDENTIAL_INVALID', message: /unknown/ },
    { name: 'name other than the token\'s', input: { method: 'token' as const, token: named, name: 'someone-else' }, status: 400, code: 'BAD_REQUEST', message: /named-1.*someone-else/ },
    { name: 'method token without a token', input: { method: 'token' as const }, status: 400, code: 'VALIDATION_FAILED', message: /token is required/ },
  ];
  for (const c of cases) {
    const response = await client.enroll(generateAgentIdentity(), c.input);
    assert.equal(response.status, c.status, `${c.name}: ${JSON.stringify(response.body)}`);
    assert.equal(response.body.error.code, c.code, c.name);
    assert.match(response.body.error.message, c.message, c.name);
  }
  // The refused name-mismatch attempt left the token usable by the right agent.
  assert.equal((await client.enroll(generateAgentIdentity(), { method: 'token', token: named, name: 'named-1' })).status, 201);
  const failures = (await auditOf('agent.enroll')).filter((a) => a.outcome === 'failure');
  assert.deepEqual(failures.map((a) => a.details.code), cases.map((c) => c.code));
  assert.ok(failures.every((a) => typeof a.details.reason === 'string' && a.details.ip), 'each failure records its reason and address');
});

test('OTP: a code places agents in its location until its uses run out; expired, revoked and unknown codes are refused', async (t) => {
  const { client, cli, sql, auditOf } = await enrollSetup(t);
  const created = await cli(['otp', 'create', '--org', 'contoso', '--location', 'paris', '--uses', '2', '--expires', '7d']);
  assert.equal(created.code, 0, created.stderr);
  const code = created.stdout.trim();
  assert.match(code, /^pswm-otp-/);

  for (const name of ['kiosk-1', 'kiosk-2']) {
    const response = await client.enroll(generateAgentIdentity(), { method: 'otp', code, name });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    assert.deepEqual([response.body.name, response.body.organization, response.body.location], [name, 'contoso', 'paris']);
  }
  const exhausted = await client.enroll(generateAgentIdentity(), { method: 'otp', code, name: 'kiosk-3' });
  assert.equal(exhausted.body.error?.code, 'CREDENTIAL_USED');
  assert.match((await cli(['otp', 'list'])).stdout, /contoso\s+paris\s+0\/2/);

  const expiring = (await cli(['otp', 'create', '--org', 'contoso', '--location', 'paris', '--uses', '5', '--expires', '1h'])).stdout.trim();
  await sql`update enrollment_codes set expires_at = now() - interval '1 second' where uses = 5`;
  const revokedCode = (await cli(['otp', 'create', '--org', 'contoso', '--location', 'paris', '--uses', '5', '--expires', '1d'])).stdout.trim();
  const [{ id }] = await sql`select id from enrollment_codes where expires_at > now() + interval '2 hours' and uses = 5`;
  const revoked = await cli(['otp', 'revoke', id], true);
  assert.equal(revoked.code, 0, revoked.stderr);

  const refusals = [
    [expiring, 'CREDENTIAL_EXPIRED'],
    [revokedCode, 'CREDENTIAL_REVOKED'],
    ['pswm-otp-unknown', 'CREDENTIAL_INVALID'],
  ];
  for (const [candidate, expected] of refusals) {
    const response = await client.enroll(generateAgentIdentity(), { method: 'otp', code: candidate, name: `try-${expected.toLowerCase()}` });
    assert.equal(response.status, 401, expected);
    assert.equal(response.body.error.code, expected);
  }
  // A refused enrollment takes no use, and a name clash gives its use back.
  const taken = await client.enroll(generateAgentIdentity(), { method: 'otp', code: (await cli(['otp', 'create', '--org', 'contoso', '--location', 'paris', '--uses', '1', '--expires', '1d'])).stdout.trim(), name: 'kiosk-1' });
  assert.equal(taken.status, 409);
  assert.equal((await sql`select uses_remaining from enrollment_codes where uses = 1`)[0].uses_remaining, 1);

  const outcomes = (await auditOf('agent.enroll')).map((a) => a.details.code ?? a.outcome);
  assert.deepEqual(outcomes, ['success', 'success', 'CREDENTIAL_USED', 'CREDENTIAL_EXPIRED', 'CREDENTIAL_REVOKED', 'CREDENTIAL_INVALID', 'CONFLICT']);
  assert.equal((await sql`select count(*)::int as n from audit_log where details::text like ${`%${code}%`}`)[0].n, 0, 'codes are never audited');
});

test('queue: register → pending → approve via CLI → the agent learns it and gets a token; reject → rejected', async (t) => {
  const { client, cli, auditOf } = await enrollSetup(t);
  const identity = generateAgentIdentity();
  const registered = await client.enroll(identity, { method: 'queue', name: 'lab-01', hostname: 'lab-01.example', facts: { cpu: 8 } });
  assert.equal(registered.status, 202, JSON.stringify(registered.body));
  assert.deepEqual(Object.keys(registered.body).sort(), ['request_id', 'status']);
  assert.equal(registered.body.status, 'pending');
  const requestId = registered.body.request_id;

  // Registering again while waiting (an agent restart) returns the same request.
  assert.equal((await client.enroll(identity, { method: 'queue', name: 'lab-01' })).body.request_id, requestId);
  assert.deepEqual((await client.requestStatus(identity, requestId)).body, { status: 'pending' });
  assert.match((await cli(['queue', 'list'])).stdout, new RegExp(`${requestId}\\s+lab-01\\s+lab-01.example\\s+pending`));

  // Only the key that registered may ask.
  const stranger = await client.requestStatus(generateAgentIdentity(), requestId);
  assert.equal(stranger.status, 401);
  assert.equal(stranger.body.error.code, 'SIGNATURE_INVALID');

  const approved = await cli(['queue', 'approve', requestId, '--org', 'contoso', '--location', 'paris']);
  assert.equal(approved.code, 0, approved.stderr);
  const status = await client.requestStatus(identity, requestId);
  assert.equal(status.body.status, 'approved');
  assert.deepEqual([status.body.name, status.body.organization, status.body.location], ['lab-01', 'contoso', 'paris']);
  const issued = await client.accessToken(status.body.agent_id, identity.assertion(status.body.agent_id));
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  assert.equal((await client.whoami(issued.body.access_token)).body.name, 'lab-01');
  const again = await cli(['queue', 'approve', requestId, '--org', 'contoso', '--location', 'paris'], true);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /409.*already approved/);

  const other = generateAgentIdentity();
  const second = (await client.enroll(other, { method: 'queue', name: 'lab-02' })).body.request_id;
  const rejected = await cli(['queue', 'reject', second], true);
  assert.equal(rejected.code, 0, rejected.stderr);
  assert.deepEqual((await client.requestStatus(other, second)).body, { status: 'rejected' });
  assert.match((await cli(['queue', 'list', '--status', 'all'])).stdout, /lab-02\s+lab-02\s+rejected/);

  assert.deepEqual((await auditOf('queue.approve')).map((a) => a.outcome), ['success']);
  assert.deepEqual((await auditOf('queue.reject')).map((a) => a.outcome), ['success']);
  assert.deepEqual((await auditOf('agent.enroll.status')).map((a) => a.details.code), ['SIGNATURE_INVALID']);
});

test('proof of key possession: forged or reused signatures, stale nonces and non-Ed25519 keys are refused and audited', async (t) => {
  const { client, sql, auditOf, server } = await enrollSetup(t);
  const identity = generateAgentIdentity();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const staleNonce = issueNonce(server.keys.enrollmentNonce, Date.now() - 10 * 60_000).nonce;
  const queue = { method: 'queue' as const, name: 'mallory' };
  const cases: { name: string; tamper: (body: Record<string, unknown>) => void; code: string; status: number }[] = [
    { name: 'signature by another key', tamper: (b) => (b.signature = generateAgentIdentity().signEnrollment({ nonce: b.nonce as string, method: 'queue', name: 'mallory' })), code: 'SIGNATURE_INVALID', status: 401 },
    { name: 'name changed after signing', tamper: (b) => (b.name = 'mallory2'), code: 'SIGNATURE_INVALID', status: 401 },
    { name: 'method changed after signing', tamper: (b) => (b.method = 'otp', b.code = 'x'), code: 'SIGNATURE_INVALID', status: 401 },
    { name: 'signature not base64 of 64 bytes', tamper: (b) => (b.signature = 'AAAA'), code: 'SIGNATURE_INVALID', status: 401 },
    { name: 'nonce not issued by the server', tamper: (b) => (b.nonce = `${Math.floor(Date.now() / 1000) + 60}.AAAAAAAAAAAAAAAAAAAAAA.${'A'.repeat(43)}`), code: 'NONCE_INVALID', status: 401 },
    { name: 'expired nonce, correctly signed', tamper: (b) => (b.nonce = staleNonce, b.signature = identity.signEnrollment({ nonce: staleNonce, method: 'queue', name: 'mallory' })), code: 'NONCE_INVALID', status: 401 },
    { name: 'RSA public key', tamper: (b) => (b.public_key = rsa), code: 'INVALID_PUBLIC_KEY', status: 400 },
    { name: 'garbage public key', tamper: (b) => (b.public_key = 'not a key'), code: 'INVALID_PUBLIC_KEY', status: 400 },
  ];
  for (const c of cases) {
    const response = await client.enroll(identity, queue, c.tamper);
    assert.equal(response.status, c.status, `${c.name}: ${JSON.stringify(response.body)}`);
    assert.equal(response.body.error.code, c.code, c.name);
  }
  // A nonce is spent by its first use: replaying a whole valid request is refused.
  let replayed: Record<string, unknown> = {};
  assert.equal((await client.enroll(identity, queue, (b) => (replayed = { ...b }))).status, 202);
  const replay = await client.call('POST', '/api/v1/enroll', { body: replayed });
  assert.equal(replay.body.error.code, 'NONCE_INVALID');
  assert.match(replay.body.error.message, /already used/);

  const audited = (await auditOf('agent.enroll')).map((a) => a.details.code ?? a.outcome);
  assert.deepEqual(audited, [...cases.map((c) => c.code), 'success', 'NONCE_INVALID']);
  assert.equal((await sql`select count(*)::int as n from enrollment_requests`)[0].n, 1, 'only the valid request was queued');
});

test('organizations and locations must exist in the applied policy', async (t) => {
  const { admin, cli, sql } = await enrollSetup(t);
  const unknownLocation = await admin('POST', '/api/v1/otp', { organization: 'contoso', location: 'mars', uses: 1, expires_in: '1d' });
  assert.equal(unknownLocation.status, 400);
  assert.equal(unknownLocation.body.error.code, 'UNKNOWN_LOCATION');
  assert.match(unknownLocation.body.error.message, /no location "mars" in organization "contoso"/);
  const unknownOrg = await cli(['agent', 'create', 'a-1', '--org', 'initech', '--location', 'paris']);
  assert.equal(unknownOrg.code, 1);
  assert.match(unknownOrg.stderr, /no organization "initech"/);
  assert.equal((await sql`select count(*)::int as n from agents`)[0].n, 0);

  // Before any policy is applied there is nothing to check against: agents may be prepared ahead.
  await sql`delete from policy_objects`;
  assert.equal((await cli(['agent', 'create', 'a-1', '--org', 'initech', '--location', 'hq'])).code, 0);
});
