// The remote console end to end: a real pswm-server, a real `pswm agent` process with a real PTY
// (node-pty), and a scripted operator on the console WebSocket.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { openOperator } from './support/console-operator.ts';
import { enrolledAgent, startFleet, type Fleet } from './support/fleet.ts';
import { processIsAlive, waitForProcessGone } from './support/processes.ts';

async function adminToken(fleet: Fleet): Promise<string> {
  return (await readFile(path.join(fleet.dataDir, 'initial-admin-token'), 'utf8')).trim();
}

async function connectedAgent(t: Parameters<typeof startFleet>[0], fleet: Fleet, name: string, place: string, env: Record<string, string> = {}) {
  const agent = await enrolledAgent(t, fleet, name, place);
  const running = agent.start(['agent'], env);
  await running.waitFor(/"msg":"WebSocket connected"/);
  await running.waitFor(/"msg":"iteration finished"/);
  return running;
}

test('a console runs commands in a real PTY: output, resize, Ctrl-C, transcript, audit, no process left', async (t) => {
  const fleet = await startFleet(t);
  const token = await adminToken(fleet);
  await connectedAgent(t, fleet, 'lab-console', 'fabrikam/lab-linux'); // console enabled, no consent

  const operator = openOperator(fleet.url, token, { agent: 'lab-console', reason: 'test: echo and resize', cols: 100, rows: 30 });
  t.after(() => operator.socket.terminate());
  const started = await operator.waitForMessage('started', 30_000);
  assert.match(started.shell, /bash|sh$/);

  operator.type('echo hel""lo; tput cols; echo SHELL:$$; sleep 1000 & echo BG:$!\r');
  const [, cols] = await operator.waitForOutput(/hello\r\n(\d+)\r\n/);
  assert.equal(cols, '100');
  const shellPid = Number((await operator.waitForOutput(/SHELL:(\d+)/))[1]);
  const backgroundPid = Number((await operator.waitForOutput(/BG:(\d+)/))[1]);

  operator.resize(120, 40);
  let offset = operator.output().length;
  operator.type('tput cols\r');
  assert.equal((await operator.waitForOutput(/[\r\n](\d+)\r\n/, 15_000, offset))[1], '120');

  offset = operator.output().length;
  operator.type('sleep 100; echo NOT-INTERRUPTED\r');
  await new Promise((resolve) => setTimeout(resolve, 300));
  operator.type('\x03');
  operator.type('echo after-interrupt\r');
  await operator.waitForOutput(/[\r\n]after-interrupt\r\n/, 15_000, offset);
  assert.doesNotMatch(operator.output().slice(offset), /[\r\n]NOT-INTERRUPTED/);

  operator.socket.send(JSON.stringify({ type: 'exit' }));
  const ended = await operator.waitForMessage('ended');
  assert.equal(ended.end, 'operator-exit');
  await operator.closed;
  assert.ok(await waitForProcessGone(shellPid), 'the shell is gone after close');
  assert.ok(await waitForProcessGone(backgroundPid), 'its background job is gone after close');

  // the stored transcript replays what the operator saw
  const listed = await fleet.admin(['console', 'list']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /lab-console.*operator-exit.*test: echo and resize/);
  const dump = await fleet.admin(['console', 'replay', started.session, '--dump']);
  assert.equal(dump.code, 0, dump.stderr);
  assert.equal(dump.stdout, operator.output());
  const transcript = await fleet.get(`/api/v1/console/sessions/${started.session}/transcript`).catch(() => undefined);
  assert.equal(transcript, undefined, 'the transcript is asciicast text, not JSON');

  const audit = await fleet.sql<{ action: string; outcome: string; details: any }[]>`
    select action, outcome, details from audit_log where action like 'console.%' order by id`;
  assert.deepEqual(audit.map((row) => row.action), ['console.open', 'console.close']);
  assert.equal(audit[1].details.end, 'operator-exit');
  assert.equal(audit[1].details.reason, 'test: echo and resize');
  assert.ok(audit[1].details.duration_ms > 0);
  assert.ok(!processIsAlive(backgroundPid));
});
