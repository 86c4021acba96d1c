// Enrollment end to end: a real server process and real `pswm` processes, by token, by OTP and
// through the approval queue.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { agentHome, startFleet, type Fleet } from './support/fleet.ts';

async function assertEnrolled(fleet: Fleet, agent: Awaited<ReturnType<typeof agentHome>>, name: string, place: string) {
  const status = await agent.run(['status', '--json']);
  assert.equal(status.code, 0, status.stderr);
  const parsed = JSON.parse(status.stdout);
  assert.equal(parsed.agent.name, name);
  assert.equal(`${parsed.agent.organization}/${parsed.agent.location}`, place);
  assert.equal(parsed.server, new URL(fleet.url).toString());
  const shown = await fleet.get(`/api/v1/agents/${name}`);
  assert.equal(shown.status ?? shown.agent?.status, 'active');
  const publicKey = await readFile(path.join(agent.home, 'agent.pub'), 'utf8');
  assert.equal((shown.publicKey ?? shown.agent?.publicKey).trim(), publicKey.trim(), 'the server holds the key this agent generated');
}

test('agents enrol by token, by OTP code and through the queue approved by the CLI', async (t) => {
  const fleet = await startFleet(t);

  await t.test('token', async (t) => {
    const created = await fleet.admin(['agent', 'create', 'lab-01', '--org', 'fabrikam', '--location', 'lab-linux']);
    assert.equal(created.code, 0, created.stderr);
    const agent = await agentHome(t);
    assert.equal((await agent.run(['gencert'])).code, 0);
    const enrolled = await agent.run(['enroll', '--server', fleet.url, '--token', created.stdout.trim()]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    assert.match(enrolled.stdout, /enrolled as lab-01 \(fabrikam\/lab-linux\)/);
    await assertEnrolled(fleet, agent, 'lab-01', 'fabrikam/lab-linux');

    const again = await agent.run(['enroll', '--server', fleet.url, '--token', created.stdout.trim()]);
    assert.equal(again.code, 1, 'an enrolled agent does not enrol again without --force');
    assert.match(again.stderr, /already enrolled as "lab-01"/);
  });

  await t.test('OTP code', async (t) => {
    const code = await fleet.admin(['otp', 'create', '--org', 'contoso', '--location', 'paris', '--uses', '1', '--expires', '1h']);
    assert.equal(code.code, 0, code.stderr);
    const agent = await agentHome(t);
    const enrolled = await agent.run(['enroll', '--server', fleet.url, '--code', code.stdout.trim(), '--name', 'kiosk-7']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    assert.match(enrolled.stdout, /generated a new key pair/);
    await assertEnrolled(fleet, agent, 'kiosk-7', 'contoso/paris');

    const second = await agentHome(t);
    const refused = await second.run(['enroll', '--server', fleet.url, '--code', code.stdout.trim(), '--name', 'kiosk-8']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /CREDENTIAL_USED/);
  });

  await t.test('queue, approved', async (t) => {
    const agent = await agentHome(t);
    const waiting = agent.start(['enroll', '--server', fleet.url, '--queue', '--name', 'lab-queued', '--poll-seconds', '0.2', '--timeout', '60']);
    const [, requestId] = await waiting.waitFor(/enrollment request (\S+) is waiting for approval/);
    const approved = await fleet.admin(['queue', 'approve', requestId, '--org', 'fabrikam', '--location', 'lab-linux']);
    assert.equal(approved.code, 0, approved.stderr);
    const result = await waiting.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /enrolled as lab-queued \(fabrikam\/lab-linux\)/);
    await assertEnrolled(fleet, agent, 'lab-queued', 'fabrikam/lab-linux');
  });

  await t.test('queue, rejected', async (t) => {
    const agent = await agentHome(t);
    const waiting = agent.start(['enroll', '--server', fleet.url, '--queue', '--name', 'lab-unwanted', '--poll-seconds', '0.2', '--timeout', '60']);
    const [, requestId] = await waiting.waitFor(/enrollment request (\S+) is waiting for approval/);
    assert.equal((await fleet.admin(['queue', 'reject', requestId])).code, 0);
    const result = await waiting.exited;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /was rejected/);
    const status = await agent.run(['status']);
    assert.equal(status.code, 1, 'not enrolled');
  });

  await t.test('queue, nobody decides: the wait ends at --timeout', async (t) => {
    const agent = await agentHome(t);
    const result = await agent.run(['enroll', '--server', fleet.url, '--queue', '--name', 'lab-patient', '--poll-seconds', '0.2', '--timeout', '1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /still pending after 1 s/);
  });
});
