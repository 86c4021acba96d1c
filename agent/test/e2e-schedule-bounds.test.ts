// A real server and a real looping agent: a script whose child escapes with setsid is still ended
// at its timeout (the iteration is not held for the child's 40 s), and a schedule script runs at
// its cron time, woken for it, not at the next interval iteration (600 s in this location).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { commitPolicy, enrolledAgent, startFleet } from './support/fleet.ts';
import { waitForProcessGone } from './support/processes.ts';

const script = (name: string, spec: string) => `apiVersion: pswm/v1
kind: Script
metadata:
  name: ${name}
spec:
  shell: sh
${spec}
  targets:
    agents: [sched-01]
`;


test('a setsid child is ended at the timeout, and a schedule script runs at its minute', { timeout: 180_000 }, async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'sched-01', 'fabrikam/lab-linux');
  await commitPolicy(fleet, {
    'scripts/escape.yaml': script('escape', '  content: |\n    setsid sleep 40 & echo $! > escaped.pid\n    sleep 1004\n  timeout_seconds: 2\n  run: single_run'),
    'scripts/minutely.yaml': script('minutely', '  content: date +%s >> minutely.log\n  run: schedule\n  schedule: "* * * * *"'),
  }, 'scripts for sched-01');

  const loop = agent.start(['agent']);
  const first = await loop.waitFor(/"msg":"iteration finished"/, 60_000);
  const startedAt = Date.now();
  // the iteration ended long before the escaped child's 40 s
  const [started] = [...loop.output().matchAll(/"time":"([^"]+)","level":"info","msg":"iteration started"/g)].map((m) => Date.parse(m[1]));
  const [finished] = [...loop.output().matchAll(/"time":"([^"]+)","level":"info","msg":"iteration finished"/g)].map((m) => Date.parse(m[1]));
  assert.ok(first && finished - started < 20_000, `first iteration took ${finished - started} ms`);
  const escaped = Number(await readFile(path.join(agent.home, 'escaped.pid'), 'utf8'));
  assert.equal(await waitForProcessGone(escaped), true, 'the setsid child was killed with the script');

  // the first minute boundary after the script was first seen; the agent must wake for it
  const woken = await loop.waitFor(/"msg":"iteration started","trigger":"wake","reason":"schedule ([^"]+)"/, 90_000);
  const due = Date.parse(woken[1]);
  await loop.waitFor(/"msg":"iteration finished"[^\n]*\n[\s\S]*"msg":"iteration finished"/, 60_000);
  const ranAt = Number((await readFile(path.join(agent.home, 'minutely.log'), 'utf8')).trim().split('\n')[0]) * 1000;
  assert.ok(ranAt >= due && ranAt - due < 60_000, `ran ${ranAt - due} ms after its time`);
  assert.ok(due - startedAt < 61_000, 'the wake was for the next minute');

  const { runs } = await fleet.get('/api/v1/agents/sched-01/runs?type=script&script=escape');
  assert.equal(runs[0].timedOut, true, JSON.stringify(runs[0]));
  loop.child.kill('SIGTERM');
  assert.equal((await loop.exited).code, 0);
});
