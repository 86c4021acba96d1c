// The long-running agent and the WebSocket: a `reconcile` signal starts an iteration at once (one
// the server asked to spread, within its window); a revocation stops the agent with a clear log line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enrolledAgent, startFleet } from './support/fleet.ts';

const EXIT_REVOKED = 3;

test('a reconcile signal starts an iteration at once, one to more agents than the server wakes at once is spread; revocation stops the agent', async (t) => {
  // one agent at a time: a signal to one starts it at once, a signal to two asks them to spread over 2 s
  const fleet = await startFleet(t, { serverArgs: ['--wake-rate', '1'] });
  const agent = await enrolledAgent(t, fleet, 'lab-live', 'fabrikam/lab-linux');
  const running = agent.start(['agent']);
  await running.waitFor(/"msg":"iteration finished"/);
  await running.waitFor(/"msg":"WebSocket connected"/);

  const offset = running.output().length;
  const signalledAt = Date.now();
  const signal = await fleet.admin(['signal', '--agent', 'lab-live']);
  assert.equal(signal.code, 0, signal.stderr);
  // Generous wait: the assertion is that the signal starts an iteration (the interval is 30 min, so
  // nothing else would); the latency is reported, not asserted, to keep the test free of timing.
  const [line] = await running.waitFor(/\{[^\n]*"msg":"iteration started","trigger":"wake"[^\n]*\}/, 20_000, offset);
  const startedAt = Date.parse(JSON.parse(line).time);
  t.diagnostic(`signal → iteration start: ${startedAt - signalledAt} ms (including the pswm-server signal process start)`);
  await running.waitFor(/"msg":"iteration finished"/, 30_000, offset);

  const second = await enrolledAgent(t, fleet, 'lab-spread', 'fabrikam/lab-linux');
  const both = [running, second.start(['agent'])];
  await both[1].waitFor(/"msg":"iteration finished"/);
  await both[1].waitFor(/"msg":"WebSocket connected"/);
  const offsets = both.map((one) => one.output().length);
  assert.equal((await fleet.admin(['signal', '--all'])).code, 0);
  for (const [i, one] of both.entries()) {
    const [received] = await one.waitFor(/\{[^\n]*"msg":"reconcile signal received"[^\n]*\}/, 20_000, offsets[i]);
    assert.equal(JSON.parse(received).startWithinMs, 2000);
    const [started] = await one.waitFor(/\{[^\n]*"msg":"iteration started","trigger":"wake"[^\n]*\}/, 20_000, offsets[i]);
    const waitedMs = Date.parse(JSON.parse(started).time) - Date.parse(JSON.parse(received).time);
    assert.ok(waitedMs >= 0 && waitedMs <= 2000 + 500, `started ${waitedMs} ms after the signal, outside its 2-s window`);
    await one.waitFor(/"msg":"iteration finished"/, 30_000, offsets[i]);
  }

  assert.equal((await fleet.admin(['agent', 'revoke', 'lab-live'])).code, 0);
  const ended = await running.exited;
  assert.equal(ended.code, EXIT_REVOKED, ended.stderr);
  assert.match(ended.stderr, /"level":"critical","msg":"this agent has been revoked by the server; stopping"/);
});

test('SIGTERM stops the loop cleanly', async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'lab-term', 'fabrikam/lab-linux');
  const running = agent.start(['service']);
  // the service logs to files only: wait for the first report to reach the server
  const deadline = Date.now() + 30_000;
  while ((await fleet.sql`select 1 from reports r join agents a on a.id = r.agent_id where a.name = 'lab-term'`).length === 0) {
    assert.ok(Date.now() < deadline, 'the service sent no report');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  running.child.kill('SIGTERM');
  const ended = await running.exited;
  assert.equal(ended.code, 0, ended.stderr);
  assert.equal(ended.stdout + ended.stderr, '', 'the service writes nothing to the terminal');
});
