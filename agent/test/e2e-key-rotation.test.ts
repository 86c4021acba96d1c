// Key rotation with a real server and real agent processes: --force refuses on an enrolled agent,
// --rotate registers the new key by a request the old key signs, the agent goes on with the new key,
// the old key is worthless afterwards, and the server audited the change.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { callServer, ServerError } from '../src/api/http.ts';
import { createAgentSession } from '../src/api/session.ts';
import { generateAgentKeys, loadAgentKeys } from '../src/identity/key-pair.ts';
import { keyRotationBody } from '../src/identity/key-rotation.ts';
import { enrolledAgent, startFleet } from './support/fleet.ts';

test('gencert --rotate replaces an enrolled agent\'s key without re-enrollment; --force refuses', { timeout: 180_000 }, async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'rot-01', 'fabrikam/lab-linux');
  const keyFile = path.join(agent.home, 'agent.key');
  const storedKey = async () => (await fleet.sql<{ public_key: string }[]>`select public_key from agents where name = 'rot-01'`)[0].public_key;
  const oldKeys = await loadAgentKeys(keyFile);
  const config = JSON.parse(await readFile(path.join(agent.home, 'config.json'), 'utf8'));

  const forced = await agent.run(['gencert', '--force']);
  assert.equal(forced.code, 1);
  assert.match(forced.stderr, /enrolled .* Use --rotate, or --force --reenroll/);
  assert.equal((await loadAgentKeys(keyFile)).publicKeyPem, oldKeys.publicKeyPem, 'the key is untouched');

  const rotated = await agent.run(['gencert', '--rotate']);
  assert.equal(rotated.code, 0, rotated.stderr);
  const newKeys = await loadAgentKeys(keyFile);
  assert.notEqual(newKeys.publicKeyPem, oldKeys.publicKeyPem);
  assert.equal(await storedKey(), newKeys.publicKeyPem, 'the server holds the new key');
  assert.equal(await readFile(path.join(agent.home, 'agent.pub'), 'utf8'), newKeys.publicKeyPem);

  const once = await agent.run(['agent', '--once']);
  assert.equal(once.code, 0, once.stderr);
  assert.match(once.stderr, /desired state received/, 'authenticated with the new key');

  // the old key no longer gets a token, nor can it rotate the key again
  await assert.rejects(createAgentSession({ server: fleet.url, agentId: config.agent_id, keys: oldKeys }).accessToken(), (error: ServerError) => error.code === 'ASSERTION_INVALID');
  const token = await createAgentSession({ server: fleet.url, agentId: config.agent_id, keys: newKeys }).accessToken();
  const rotateWith = (body: object) => callServer(fleet.url, 'POST', '/api/v1/agent/key', { body, headers: { authorization: `Bearer ${token}` } });
  await assert.rejects(rotateWith(keyRotationBody(config.agent_id, oldKeys, generateAgentKeys(), Date.now())), (error: ServerError) => error.code === 'SIGNATURE_INVALID');
  // a proper request is accepted once; the same request again is a replay
  const third = generateAgentKeys();
  const body = keyRotationBody(config.agent_id, newKeys, third, Date.now());
  assert.equal((await rotateWith(body)).status, 200);
  await assert.rejects(rotateWith({ ...body }), (error: ServerError) => error.code === 'ASSERTION_REPLAYED' || error.code === 'SIGNATURE_INVALID');

  const audited = await fleet.sql<{ outcome: string }[]>`select outcome from audit_log where action = 'agent.key_rotate' order by id`;
  assert.deepEqual(audited.map((a) => a.outcome), ['success', 'failure', 'success', 'failure']);
});
