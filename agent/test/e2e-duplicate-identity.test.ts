// A cloned VM: two `pswm agent` processes with copies of one data folder (the same key, the same
// agent) against a real server. They take the WebSocket from each other until the server sees the
// flap: it audits it once, flags the agent in the read API and tells the displaced socket to stop
// (close 4410), which then waits half an hour — so the reconnects stay bounded. Polls with the
// identity keep working, the remaining machine keeps its socket, and the flag clears after the
// (here short) quiet period once one machine is gone. With two server instances, one machine on
// each, the same happens: the instances close each other's older socket through the shared claim.
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { until } from '../../server/test/reconcile-fixtures.ts';
import { agentHome, enrolledAgent, startFleet } from './support/fleet.ts';
import { startTwoInstances } from './support/two-instances.ts';

// longer than the checks below take, so the flag is still up while they run
const QUIET_SECONDS = 25;
const CONNECTED = /"msg":"WebSocket connected"/g;
const DUPLICATE = /"level":"critical","msg":"this agent identity is in use on another machine/;

const connects = (output: string) => output.match(CONNECTED)?.length ?? 0;

async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('two machines with one identity: detected once, flagged, backed off; the flag clears once one is gone', { timeout: 180_000 }, async (t) => {
  const fleet = await startFleet(t, {
    serverArgs: ['--duplicate-identity-takeovers', '3', '--duplicate-identity-window', '60', '--duplicate-identity-quiet', String(QUIET_SECONDS)],
  });
  const original = await enrolledAgent(t, fleet, 'lab-cloned', 'fabrikam/lab-linux');
  const copyOf = async () => {
    const copy = await agentHome(t);
    await cp(original.home, copy.home, { recursive: true });
    return copy;
  };
  const clone = await copyOf();

  const machines = [original.start(['agent']), clone.start(['agent'])];
  const duplicateAudits = () => fleet.sql<{ details: { peers: Array<{ address: string; hostname?: string }>; takeovers: number } }[]>`
    select details from audit_log where action = 'agent.duplicate_identity'`;
  await waitUntil('the duplicate identity audited', 60_000, async () => ((await duplicateAudits()).length ? true : undefined));
  const displaced = await waitUntil('a machine told its identity is in use elsewhere', 10_000, async () => machines.find((m) => DUPLICATE.test(m.output())));
  const holder = machines.find((m) => m !== displaced)!;
  const connectsAtDetection = machines.map((m) => connects(m.output()));
  t.diagnostic(`WebSocket connects until the server flagged the duplicate: ${connectsAtDetection.join(' + ')}`);
  // 1 first connect + 3 takeovers, a little more if both connected at the same moment
  assert.ok(connectsAtDetection[0] + connectsAtDetection[1] <= 6, `reconnects bounded: ${connectsAtDetection}`);

  // no more flapping: a while later neither machine connected again, and the event was audited once
  await new Promise((resolve) => setTimeout(resolve, 8000));
  assert.deepEqual(machines.map((m) => connects(m.output())), connectsAtDetection, 'no reconnect after the duplicate was flagged');
  const audits = await duplicateAudits();
  assert.equal(audits.length, 1, 'audited once, not per reconnect');
  assert.ok(audits[0].details.takeovers >= 3);
  assert.ok(audits[0].details.peers.some((peer) => peer.address.endsWith('127.0.0.1') && peer.hostname), JSON.stringify(audits[0].details));

  const detail = await fleet.get('/api/v1/agents/lab-cloned');
  assert.ok(detail.duplicateIdentity, 'flagged in GET /agents/:name');
  assert.ok(Date.parse(detail.duplicateIdentity.until) > Date.parse(detail.duplicateIdentity.since));
  const listed = await fleet.get('/api/v1/agents?q=lab-cloned');
  assert.ok(listed.agents[0].duplicateIdentity, 'flagged in GET /agents');

  // polls with the identity still work: a third copy runs an iteration and its report is stored
  const reportsBefore = (await fleet.sql`select r.id from reports r join agents a on a.id = r.agent_id where a.name = 'lab-cloned'`).length;
  const once = await (await copyOf()).run(['agent', '--once']);
  assert.equal(once.code, 0, once.stderr);
  const reportsAfter = (await fleet.sql`select r.id from reports r join agents a on a.id = r.agent_id where a.name = 'lab-cloned'`).length;
  assert.equal(reportsAfter, reportsBefore + 1, 'the identity is not locked out of the agent API');

  // the displaced machine goes away (re-enrolled elsewhere, say): the holder keeps its socket — a
  // signal reaches it — and the flag clears after the quiet period
  displaced.child.kill('SIGTERM');
  await displaced.exited;
  const offset = holder.output().length;
  const signal = await fleet.admin(['signal', '--agent', 'lab-cloned']);
  assert.equal(signal.code, 0, signal.stderr);
  await holder.waitFor(/"msg":"reconcile signal received"/, 20_000, offset);
  await waitUntil('the flag cleared', (QUIET_SECONDS + 15) * 1000, async () => ((await fleet.get('/api/v1/agents/lab-cloned')).duplicateIdentity === null ? true : undefined));
  assert.equal((await duplicateAudits()).length, 1);
  assert.equal(connects(holder.output()), connectsAtDetection[machines.indexOf(holder)], 'the holder never had to reconnect');
});

test('two machines with one identity on two server instances: the instances see the flap through the shared claim', { timeout: 240_000 }, async (t) => {
  const { db, token, servers, createAgent } = await startTwoInstances(t, { serverArgs: ['--duplicate-identity-takeovers', '3', '--duplicate-identity-window', '60'] });
  const [a, b] = servers;
  const original = await agentHome(t);
  const enrolled = await original.run(['enroll', '--server', a.url, '--token', await createAgent('lab-cloned-twice', a)]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  // the clone talks to the other instance (a load balancer could do the same)
  const clone = await agentHome(t);
  await cp(original.home, clone.home, { recursive: true });
  const configFile = path.join(clone.home, 'config.json');
  await writeFile(configFile, JSON.stringify({ ...JSON.parse(await readFile(configFile, 'utf8')), server: b.url }, null, 2));

  const machines = [original.start(['agent']), clone.start(['agent'])];
  await until('the duplicate identity audited', async () => (await db.sql`select 1 from audit_log where action = 'agent.duplicate_identity'`).length > 0, 60_000, 200);
  const displaced = await until('a machine told its identity is in use elsewhere', async () => machines.find((m) => DUPLICATE.test(m.output())), 10_000, 200);
  const connectsAtDetection = machines.map((m) => connects(m.output()));
  t.diagnostic(`WebSocket connects across two instances until the server flagged the duplicate: ${connectsAtDetection.join(' + ')}`);
  assert.ok(connectsAtDetection[0] > 0 && connectsAtDetection[1] > 0, 'both machines connected, each to its instance');
  assert.ok(connectsAtDetection[0] + connectsAtDetection[1] <= 6, `reconnects bounded: ${connectsAtDetection}`);
  await new Promise((resolve) => setTimeout(resolve, 6000));
  assert.deepEqual(machines.map((m) => connects(m.output())), connectsAtDetection, 'no reconnect after the duplicate was flagged');
  assert.equal((await db.sql`select 1 from audit_log where action = 'agent.duplicate_identity'`).length, 1, 'audited once');
  assert.ok(DUPLICATE.test(displaced.output()));
  assert.equal(machines.filter((m) => DUPLICATE.test(m.output())).length, 1, 'only the displaced machine was told to stop');
  const detail = await fetch(new URL('/api/v1/agents/lab-cloned-twice', b.url), { headers: { authorization: `Bearer ${token}` } }).then((response) => response.json());
  assert.ok(detail.duplicateIdentity, 'flagged, on either instance');
});
