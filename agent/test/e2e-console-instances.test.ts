// Consoles across server instances: two pswm-server processes on one PostgreSQL, a real agent
// connected to B, one operator on A and one on B in two sessions to the same agent at once. Killing
// the agent ends both sessions with a message, and nothing the PTYs started survives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { until } from '../../server/test/reconcile-fixtures.ts';
import { openOperator } from './support/console-operator.ts';
import { agentHome } from './support/fleet.ts';
import { waitForProcessGone } from './support/processes.ts';
import { startTwoInstances } from './support/two-instances.ts';

test('operator on instance A, agent on instance B; two sessions to one agent; killing the agent ends both', { timeout: 300_000 }, async (t) => {
  const { db, token, servers, createAgent } = await startTwoInstances(t);
  const [a, b] = servers;
  const enrollmentToken = await createAgent('lab-multi', a);
  const agent = await agentHome(t);
  const enrolled = await agent.run(['enroll', '--server', b.url, '--token', enrollmentToken]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  const running = agent.start(['agent'], { HOME: agent.home });
  await running.waitFor(/"msg":"iteration finished"/, 60_000);

  const onA = openOperator(a.url, token, { agent: 'lab-multi', reason: 'from instance A' });
  const onB = openOperator(b.url, token, { agent: 'lab-multi', reason: 'from instance B' });
  t.after(() => [onA, onB].forEach((operator) => operator.socket.terminate()));
  await Promise.all([onA.waitForMessage('started', 30_000), onB.waitForMessage('started', 30_000)]);
  onA.type('echo A-$((40+2)); echo SHELL:$$; sleep 1000 & echo BG:$!\r');
  onB.type('echo B-$((50+1))\r');
  await onA.waitForOutput(/[\r\n]A-42\r\n/);
  await onB.waitForOutput(/[\r\n]B-51\r\n/);
  assert.doesNotMatch(onA.output(), /B-51/);
  assert.doesNotMatch(onB.output(), /A-42/);
  const shellPid = Number((await onA.waitForOutput(/SHELL:(\d+)/))[1]);
  const backgroundPid = Number((await onA.waitForOutput(/BG:(\d+)/))[1]);

  running.child.kill('SIGKILL');
  const [endA, endB] = await Promise.all([onA.waitForMessage('ended', 30_000), onB.waitForMessage('ended', 30_000)]);
  assert.deepEqual([endA.end, endB.end], ['agent-disconnected', 'agent-disconnected']);
  assert.equal(endA.message, 'the agent disconnected');
  assert.ok(await waitForProcessGone(shellPid, 10_000), 'the shell did not outlive the agent');
  assert.ok(await waitForProcessGone(backgroundPid, 10_000), 'its background job did not outlive the agent');

  // the instances audit the close right after they told the operators
  const closes = await until('both closes audited', async () => {
    const rows = await db.sql<{ details: any }[]>`select details from audit_log where action = 'console.close' order by id`;
    return rows.length === 2 ? rows : undefined;
  }, 15_000);
  assert.deepEqual(closes.map((row) => row.details.end), ['agent-disconnected', 'agent-disconnected']);
});
