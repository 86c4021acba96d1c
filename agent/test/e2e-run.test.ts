// `pswm-server run` end to end: a real server, real agent processes, the demo policy's lab-motd
// Script. Results arrive over the agents' WebSockets and are stored as script runs marked on-demand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enrolledAgent, startFleet } from './support/fleet.ts';

test('run: 3 agents, one offline → 2 results and 1 not reached; --wait runs it when the agent connects; unknown scripts are refused', async (t) => {
  const fleet = await startFleet(t);
  const agents = await Promise.all(['run-1', 'run-2', 'run-3'].map((name) => enrolledAgent(t, fleet, name, 'fabrikam/lab-linux')));
  const running = agents.slice(0, 2).map((agent) => agent.start(['agent']));
  await Promise.all(running.map((r) => r.waitFor(/"msg":"iteration finished"/)));

  const unknown = await fleet.admin(['run', 'rm-rf-everything', '--all', '--reason', 'not in the repository']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /"rm-rf-everything" is not a Script of the applied revision/);

  const ran = await fleet.admin(['run', 'lab-motd', '--location', 'fabrikam/lab-linux', '--reason', 'INC-1: refresh motd now']);
  assert.equal(ran.code, 1, 'one agent was not reached'); // and the two results succeeded
  assert.match(ran.stdout, /== run-1: exit 0 in \d+ ms\nwrote \S+\/motd/);
  assert.match(ran.stdout, /== run-2: exit 0 in \d+ ms\nwrote \S+\/motd/);
  assert.match(ran.stdout, /== run-3: not reached/);
  assert.match(ran.stderr, /3 of 3 done/);
  assert.match(ran.stderr, /2 result\(s\) \(0 failed\), 1 not reached, 0 refused/);

  const stored = await fleet.sql<{ name: string; script: string; exit_code: number; report_run: string; reason: string }[]>`
    select a.name, s.script, s.exit_code::float8 as exit_code, r.on_demand_run as report_run, o.reason
    from script_runs s join reports r on r.id = s.report_id join agents a on a.id = s.agent_id join on_demand_runs o on o.id = s.on_demand_run
    order by a.name`;
  assert.deepEqual(stored.map((row) => [row.name, row.script, row.exit_code, row.reason]), [
    ['run-1', 'lab-motd', 0, 'INC-1: refresh motd now'], ['run-2', 'lab-motd', 0, 'INC-1: refresh motd now'],
  ]);
  const audit = await fleet.sql<{ outcome: string; details: any }[]>`select outcome, details from audit_log where action = 'script.run' order by id`;
  assert.deepEqual(audit.map((row) => [row.outcome, row.details.reason]), [['failure', 'not in the repository'], ['success', 'INC-1: refresh motd now']]);

  // --wait: the offline agent runs it once it connects
  const waiting = fleet.admin(['run', 'lab-motd', '--agent', 'run-3', '--wait', '--json', '--reason', 'when it is back']);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  agents[2].start(['agent']);
  const waited = await waiting;
  assert.equal(waited.code, 0, waited.stderr);
  const [result, summary] = waited.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(result.agent, 'run-3');
  assert.equal(result.status, 'done');
  assert.equal(result.exit_code, 0);
  assert.deepEqual(summary.summary, { run: summary.summary.run, script: 'lab-motd', results: 1, failed: 0, not_reached: 0, refused: 0 });
});
