// Nothing is lost: reports written while the server is down, or by an agent killed with SIGKILL
// between writing a report and sending it, reach the server exactly once later.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enrolledAgent, reportIdsIn, startFleet, type Fleet } from './support/fleet.ts';

async function storedReportIds(fleet: Fleet, agentName: string): Promise<string[]> {
  const rows = await fleet.sql<{ id: string }[]>`select r.id from reports r join agents a on a.id = r.agent_id where a.name = ${agentName} order by r.id`;
  return rows.map((r) => r.id);
}

test('reports of three iterations while the server is down arrive exactly once after it returns', async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'lab-offline', 'fabrikam/lab-linux');

  const online = await agent.run(['agent', '--once']);
  assert.equal(online.code, 0, online.stderr);
  const ids = reportIdsIn(online.stderr);
  assert.equal(ids.length, 1);
  assert.deepEqual(await storedReportIds(fleet, 'lab-offline'), ids);

  await fleet.stop();
  for (let i = 0; i < 3; i++) {
    const offline = await agent.run(['agent', '--once']);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stderr, /reports kept in the outbox for later/);
    ids.push(...reportIdsIn(offline.stderr));
  }
  assert.equal(ids.length, 4);
  const status = JSON.parse((await agent.run(['status', '--json'])).stdout);
  assert.equal(status.pending_reports, 3);

  await fleet.start();
  const back = await agent.run(['agent', '--once']);
  assert.equal(back.code, 0, back.stderr);
  ids.push(...reportIdsIn(back.stderr));
  assert.deepEqual(await storedReportIds(fleet, 'lab-offline'), [...ids].sort(), 'every report once, none lost, none extra');
  assert.equal(JSON.parse((await agent.run(['status', '--json'])).stdout).pending_reports, 0);
});

test('a report written before a kill -9 is sent by the next run', async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'lab-killed', 'fabrikam/lab-linux');

  const doomed = agent.start(['agent', '--once'], { PSWM_FAILPOINT: 'after-outbox-write' });
  const [, reportId] = await doomed.waitFor(/failpoint after-outbox-write: holding before the send","report":"([0-9a-f-]{36})"/);
  doomed.child.kill('SIGKILL');
  assert.equal((await doomed.exited).signal, 'SIGKILL');
  assert.deepEqual(await storedReportIds(fleet, 'lab-killed'), [], 'the killed run sent nothing');
  assert.equal(JSON.parse((await agent.run(['status', '--json'])).stdout).pending_reports, 1);

  const next = await agent.run(['agent', '--once']);
  assert.equal(next.code, 0, next.stderr);
  const stored = await storedReportIds(fleet, 'lab-killed');
  assert.ok(stored.includes(reportId), 'the report written before the kill arrived');
  assert.deepEqual(stored, [reportId, ...reportIdsIn(next.stderr)].sort());
});
