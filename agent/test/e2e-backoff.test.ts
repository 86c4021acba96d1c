// A running agent against a server that answers 503: it backs off (one request at a time, never
// sooner than the server's Retry-After, however many signals and new reports arrive meanwhile),
// and delivers everything once the server is back. The outage is played by a proxy in front of a
// real server (agent/test/support/outage-proxy.ts); the WebSocket opened before it stays up, so the
// server's signals still reach the agent during the outage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentHome, editPolicy, reportIdsIn, startFleet, type Fleet } from './support/fleet.ts';
import { startOutageProxy } from './support/outage-proxy.ts';

const RETRY_AFTER_S = 2;
const OUTAGE_MS = 9_000;

/** The lab's reporting backoff made short (1 s doubling to 4 s), so the test's outage is seconds. */
const shortenLabBackoff = (fleet: Fleet) =>
  editPolicy(fleet, 'organizations/fabrikam/organization.yaml', (yaml) => yaml.replace('      retry_max_seconds: 300', '      retry_base_seconds: 1\n      retry_max_seconds: 4'), 'lab: short report backoff');

test('a 503 with Retry-After holds every request of a running agent back, signals and new reports included; all reports arrive afterwards', async (t) => {
  const fleet = await startFleet(t);
  await shortenLabBackoff(fleet);
  const proxy = await startOutageProxy(t, fleet.url);
  const created = await fleet.admin(['agent', 'create', 'lab-backoff', '--org', 'fabrikam', '--location', 'lab-linux']);
  assert.equal(created.code, 0, created.stderr);
  const agent = await agentHome(t);
  const enrolled = await agent.run(['enroll', '--server', proxy.url, '--token', created.stdout.trim()]);
  assert.equal(enrolled.code, 0, enrolled.stderr);

  const running = agent.start(['agent']);
  await running.waitFor(/"msg":"reports delivered"/);
  await running.waitFor(/"msg":"WebSocket connected"/);

  proxy.setDown(true, RETRY_AFTER_S);
  const outageStart = Date.now();
  const firstDuring = proxy.requests.length;
  // wakes during the outage: each runs an iteration whose report is one more reason to send now
  for (let i = 0; i < 2; i++) {
    const offset = running.output().length;
    assert.equal((await fleet.admin(['signal', '--agent', 'lab-backoff'])).code, 0);
    await running.waitFor(/"msg":"iteration finished"/, 30_000, offset);
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
  proxy.setDown(false);
  const during = proxy.requests.slice(firstDuring);
  const outageMs = Date.now() - outageStart;

  // At most one request per Retry-After, plus the ones already on their way when the outage began.
  t.diagnostic(`${during.length} requests in ${outageMs} ms of outage: ${during.map((r) => `${r.at - outageStart}ms ${r.method} ${r.path}`).join(', ')}`);
  assert.ok(during.length <= Math.ceil(outageMs / (RETRY_AFTER_S * 1000)) + 2, `${during.length} requests in ${outageMs} ms`);
  const probes = during.filter((r) => r.at - during[0].at > 500);
  for (let i = 1; i < probes.length; i++) {
    assert.ok(probes[i].at - probes[i - 1].at >= RETRY_AFTER_S * 1000 - 50, `two requests ${probes[i].at - probes[i - 1].at} ms apart, inside the Retry-After`);
  }
  assert.ok(probes.length >= 2, 'the agent kept probing');

  // Back: every report of the run reaches the server, once.
  const ids = () => reportIdsIn(running.output());
  const deadline = Date.now() + 30_000;
  for (;;) {
    const stored = await fleet.sql<{ id: string }[]>`select r.id from reports r join agents a on a.id = r.agent_id where a.name = 'lab-backoff'`;
    if (stored.length === ids().length) {
      assert.deepEqual(stored.map((r) => r.id).sort(), [...ids()].sort());
      break;
    }
    assert.ok(Date.now() < deadline, `${stored.length} of ${ids().length} reports arrived after the outage`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(ids().length, 3, "the start and two signals");
  running.child.kill('SIGTERM');
  assert.equal((await running.exited).code, 0);
});
