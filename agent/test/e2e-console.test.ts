// The remote console end to end: a real pswm-server, a real `pswm agent` process with a real PTY
// (node-pty), and a scripted operator on the console WebSocket.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { openOperator } from './support/console-operator.ts';
import { commitPolicy, enrolledAgent, startFleet, type Fleet } from './support/fleet.ts';
import { processIsAlive, waitForProcessGone } from './support/processes.ts';

async function adminToken(fleet: Fleet): Promise<string> {
  return (await readFile(path.join(fleet.dataDir, 'initial-admin-token'), 'utf8')).trim();
}

async function adminCall(fleet: Fleet, token: string, method: string, apiPath: string, body?: object): Promise<any> {
  const response = await fetch(new URL(apiPath, fleet.url), {
    method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body && JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${apiPath}: ${response.status} ${await response.clone().text()}`);
  return response.json();
}

async function connectedAgent(t: Parameters<typeof startFleet>[0], fleet: Fleet, name: string, place: string, env: Record<string, string> = {}) {
  const agent = await enrolledAgent(t, fleet, name, place);
  // HOME is the shell's home and startup files: the agent's own folder keeps the machine's ~/.bashrc out
  const running = agent.start(['agent'], { HOME: agent.home, ...env });
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
  const [, cols] = await operator.waitForOutput(/hello\r\n(\d+)\r\n/, 30_000);
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
  // the two transcript reads above (replay --dump, the GET) are audited too
  assert.deepEqual(audit.map((row) => row.action), ['console.open', 'console.close', 'console.replay', 'console.replay']);
  assert.equal(audit[2].details.agent, 'lab-console');
  assert.equal(audit[1].details.end, 'operator-exit');
  assert.equal(audit[1].details.reason, 'test: echo and resize');
  assert.ok(audit[1].details.duration_ms > 0);
  assert.ok(!processIsAlive(backgroundPid));
});

const CONSENT_OVERRIDE = `apiVersion: pswm/v1
kind: AgentOverride
metadata:
  name: berlin-consent
spec:
  agent: berlin-consent
  organization: contoso
  location: contoso/berlin
  settings:
    remote_console:
      consent_timeout_seconds: 5
`;

// The consent command answers by the session's reason: "deny ..." denies, "slow ..." never answers.
const CONSENT_COMMAND = 'case "$PSWM_CONSOLE_REASON" in deny*) exit 1;; slow*) sleep 60;; *) exit 0;; esac';

test('refusals (permission, policy, offline, consent) and the limits (idle, duration, revocation) end sessions with their reason', async (t) => {
  const fleet = await startFleet(t, { serverArgs: ['--console-idle-limit', '3', '--console-duration-limit', '6'] });
  const token = await adminToken(fleet);
  await commitPolicy(fleet, { 'overrides/berlin-consent.yaml': CONSENT_OVERRIDE }, 'consent timeout for berlin-consent');
  const refusalsAudited = async () => (await fleet.sql`select 1 from audit_log where action = 'console.refuse'`).length;
  const refusal = async (agent: string, reason: string, withToken = token) => {
    const audited = await refusalsAudited();
    const operator = openOperator(fleet.url, withToken, { agent, reason });
    t.after(() => operator.socket.terminate());
    const refused = await operator.waitForMessage('refused', 30_000);
    await operator.closed;
    // the operator hears of the refusal before the server has audited it: the next attempt waits,
    // so the audit's order below is the order of the attempts (one run saw two swapped)
    const deadline = Date.now() + 15_000;
    while ((await refusalsAudited()) === audited) {
      assert.ok(Date.now() < deadline, `the ${refused.refusal} refusal is audited`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return refused;
  };

  const viewer = await adminCall(fleet, token, 'POST', '/api/v1/tokens', { role: 'viewer' });
  const forbidden = await new Promise<number>((resolve) => {
    const operator = openOperator(fleet.url, viewer.token, { agent: 'lab-limits', reason: 'viewer' });
    operator.socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
  });
  assert.equal(forbidden, 403);

  const consentAgent = await enrolledAgent(t, fleet, 'berlin-consent', 'contoso/berlin');
  assert.equal((await refusal('berlin-consent', 'not running yet')).refusal, 'agent-offline');
  assert.equal((await refusal('no-such-agent', 'typo')).refusal, 'not-found');

  const kiosk = await enrolledAgent(t, fleet, 'PARIS-KIOSK-01', 'contoso/paris');
  const kioskRun = kiosk.start(['agent']);
  await kioskRun.waitFor(/"msg":"iteration finished"/);
  const disabled = await refusal('PARIS-KIOSK-01', 'policy says no');
  assert.equal(disabled.refusal, 'disabled');
  assert.match(disabled.message, /remote_console\.enabled is false/);

  // the agent decides from its own copy of the policy: wait until it has one
  const consentRun = consentAgent.start(['agent'], { PSWM_CONSOLE_CONSENT_COMMAND: CONSENT_COMMAND });
  await consentRun.waitFor(/"msg":"iteration finished"/);
  assert.equal((await refusal('berlin-consent', 'deny me')).refusal, 'consent-denied');
  assert.equal((await refusal('berlin-consent', 'slow answer')).refusal, 'consent-timeout');
  const allowed = openOperator(fleet.url, token, { agent: 'berlin-consent', reason: 'allow me' });
  t.after(() => allowed.socket.terminate());
  await allowed.waitForMessage('status');
  assert.equal((await allowed.waitForMessage('started', 30_000)).type, 'started');
  assert.ok(allowed.messages().some((m) => m.type === 'status' && /waiting for consent/.test(m.message)));
  // no input: the server's 3 s idle ceiling ends it
  assert.equal((await allowed.waitForMessage('ended', 15_000)).end, 'idle-timeout');

  await connectedAgent(t, fleet, 'lab-limits', 'fabrikam/lab-linux');
  const busy = openOperator(fleet.url, token, { agent: 'lab-limits', reason: 'keeps typing' });
  t.after(() => busy.socket.terminate());
  await busy.waitForMessage('started', 30_000);
  const typing = setInterval(() => busy.type('\r'), 500);
  t.after(() => clearInterval(typing));
  const ended = await busy.waitForMessage('ended', 20_000);
  clearInterval(typing);
  assert.equal(ended.end, 'max-duration');

  const revoked = openOperator(fleet.url, token, { agent: 'lab-limits', reason: 'until revoked' });
  t.after(() => revoked.socket.terminate());
  await revoked.waitForMessage('started', 30_000);
  const typingOn = setInterval(() => revoked.type('\r'), 500);
  t.after(() => clearInterval(typingOn));
  await adminCall(fleet, token, 'DELETE', '/api/v1/agents/lab-limits');
  assert.equal((await revoked.waitForMessage('ended', 15_000)).end, 'revoked');
  clearInterval(typingOn);
  // the operator hears of the end before the server has stored and audited it
  const deadline = Date.now() + 15_000;
  while ((await fleet.sql`select 1 from audit_log where action = 'console.close' and details ->> 'end' = 'revoked'`).length === 0) {
    assert.ok(Date.now() < deadline, 'the revoked session\'s console.close is audited');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const audit = await fleet.sql<{ action: string; outcome: string; details: any }[]>`
    select action, outcome, details from audit_log where action like 'console.%' order by id`;
  const refusals = audit.filter((row) => row.action === 'console.refuse').map((row) => row.details.refusal);
  assert.deepEqual(refusals, ['agent-offline', 'not-found', 'disabled', 'consent-denied', 'consent-timeout']);
  const consents = audit.filter((row) => row.action === 'console.consent').map((row) => row.details.answer);
  assert.deepEqual(consents, ['denied', 'timed-out', 'allowed']);
  const ends = audit.filter((row) => row.action === 'console.close').map((row) => row.details.end);
  assert.deepEqual(ends, ['idle-timeout', 'max-duration', 'revoked']);
  const sessions = await fleet.sql<{ end_reason: string }[]>`select end_reason from console_sessions order by requested_at`;
  assert.deepEqual(sessions.map((s) => s.end_reason), [
    'refused:agent-offline', 'refused:disabled', 'refused:consent-denied', 'refused:consent-timeout', 'idle-timeout', 'max-duration', 'revoked',
  ]);
});
