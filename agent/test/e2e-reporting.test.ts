// Honest reporting with a real agent and a real server: a fact value the server cannot store is
// left out (not the report), and the server is told; a report the server refuses is set aside
// without holding back the others; `pswm agent --once` names what failed and exits 4;
// `pswm status` shows failed items, pending and rejected reports and critical events, which also
// reach the server with the next report.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { editPolicy, enrolledAgent, reportIdsIn, startFleet } from './support/fleet.ts';

const EXIT_ITEMS_FAILED = 4;

test('one bad fact value, a refused report and a failing item: every other result arrives, and the CLI and the server say what went wrong', async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'lab-report', 'fabrikam/lab-linux');
  const facts = path.join(agent.home, 'external_facts');
  await mkdir(facts, { recursive: true });
  await writeFile(path.join(facts, 'nul.sh'), `printf '{"x":"a\\\\u0000b","ok":1}'\n`);
  await writeFile(path.join(facts, 'broken.sh'), `echo 'this is not JSON'\n`);
  // a report the server will refuse for good (it ends before it starts), left by an earlier run
  const refusedId = randomUUID();
  await mkdir(path.join(agent.home, 'outbox'), { recursive: true });
  await writeFile(
    path.join(agent.home, 'outbox', `0000000000000000-${refusedId}.json`),
    JSON.stringify({ id: refusedId, kind: 'report', body: { id: refusedId, started_at: '2026-01-02T00:00:00Z', finished_at: '2026-01-01T00:00:00Z', dry_run: false } }),
  );

  const first = await agent.run(['agent', '--once']);
  assert.equal(first.code, EXIT_ITEMS_FAILED, first.stderr);
  assert.match(first.stdout, /^external_fact broken\s+failed \(output is not valid JSON/m);
  assert.match(first.stdout, /^items: .*1 failed/m);

  const [reportId] = reportIdsIn(first.stderr);
  const stored = await fleet.sql<{ id: string }[]>`select r.id from reports r join agents a on a.id = r.agent_id where a.name = 'lab-report'`;
  assert.deepEqual(stored.map((r) => r.id), [reportId], 'the report with the bad fact value arrived; the refused one did not');
  const [fact] = await fleet.sql<{ value: unknown }[]>`select f.value from agent_facts f join agents a on a.id = f.agent_id where a.name = 'lab-report' and f.fact_key = 'external.nul'`;
  assert.deepEqual(fact.value, { ok: 1 }, 'only the value that cannot be stored was left out');

  const { items } = await fleet.get('/api/v1/agents/lab-report/drift');
  const item = (name: string) => items.find((i: { kind: string; name: string }) => i.kind === 'agent' && i.name === name);
  assert.equal(item('report-values').status, 'failed');
  assert.match(item('report-values').reason, /1 value\(s\) were left out of this report or cut \(the server cannot store them, or the report would pass its size limit\): \/facts\/external\.nul\/x contains U\+0000/);
  assert.equal(item('critical-log').status, 'changed');
  assert.match(item('critical-log').reason, /critical: enrolled with the server \{"method":"token","server":"http/);

  const status = await agent.run(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^failed: +external_fact broken: output is not valid JSON/m);
  assert.match(status.stdout, /^pending reports: +0$/m);
  assert.match(status.stdout, /^rejected reports: +1 in outbox-rejected\/$/m);
  assert.match(status.stdout, new RegExp(`^ +\\S+ ${refusedId}: POST /api/v1/agent/reports: body/finished_at must not be before body/started_at$`, 'm'));
  assert.match(status.stdout, /^ +\S+ critical: enrolled with the server/m);
  assert.match(status.stdout, /^ +\S+ error: the server refused a report|^ +\S+ error: a report was set aside in outbox-rejected\//m);

  const second = await agent.run(['agent', '--once']);
  assert.equal(second.code, EXIT_ITEMS_FAILED, second.stderr);
  const after = await fleet.sql<{ id: string }[]>`select r.id from reports r join agents a on a.id = r.agent_id where a.name = 'lab-report'`;
  assert.equal(after.length, 2, 'the next report arrived too');
  const again = await fleet.get('/api/v1/agents/lab-report/drift');
  const critical = again.items.find((i: { kind: string; name: string }) => i.kind === 'agent' && i.name === 'critical-log');
  assert.doesNotMatch(critical.reason ?? '', /enrolled with the server/, 'each critical entry is sent once');
  const json = JSON.parse((await agent.run(['status', '--json'])).stdout);
  assert.equal(json.rejected_reports.length, 1);
  assert.equal(json.last_iteration.failed_items[0].name, 'broken');
});

test('facts larger together than the server takes in one report: the agent fits the report to the limit the server advertises', async (t) => {
  const fleet = await startFleet(t);
  await editPolicy(fleet, 'organizations/fabrikam/organization.yaml', (yaml) => yaml.replace('    reporting:', '    external_facts:\n      max_output_bytes: 1048576\n    reporting:'), 'lab: 1 MiB fact output');
  const agent = await enrolledAgent(t, fleet, 'lab-big', 'fabrikam/lab-linux');
  const facts = path.join(agent.home, 'external_facts');
  await mkdir(facts, { recursive: true });
  // five facts of ~900 KB: 4.5 MB together, over the server's 4 MiB report limit
  for (let i = 1; i <= 5; i++) await writeFile(path.join(facts, `big${i}.sh`), `printf '{"blob":"'; head -c ${900_000 + i} /dev/zero | tr '\\0' 'x'; printf '"}'\n`);

  const run = await agent.run(['agent', '--once']);
  assert.equal(run.code, 0, run.stderr);
  const stored = await fleet.sql<{ id: string }[]>`select r.id from reports r join agents a on a.id = r.agent_id where a.name = 'lab-big'`;
  assert.deepEqual(stored.map((r) => r.id), reportIdsIn(run.stderr), 'the report was stored, not refused for its size');
  const rows = await fleet.sql<{ fact_key: string; value: { blob?: string; error?: string } }[]>`select f.fact_key, f.value from agent_facts f join agents a on a.id = f.agent_id where a.name = 'lab-big' and f.fact_key like 'external.big%' order by f.fact_key`;
  assert.equal(rows.length, 5);
  const kept = rows.filter((r) => typeof r.value.blob === 'string');
  const left = rows.filter((r) => r.value.error);
  assert.deepEqual(left.map((r) => r.fact_key), ['external.big5'], 'the largest fact gave way, the others arrived whole');
  assert.match(left[0].value.error!, /left out: 900016 bytes, over the server's report limit of 4194304 bytes/);
  assert.ok(kept.every((r) => r.value.blob!.length > 900_000));
  const { items } = await fleet.get('/api/v1/agents/lab-big/drift');
  const values = items.find((i: { kind: string; name: string }) => i.kind === 'agent' && i.name === 'report-values');
  assert.match(values.reason, /\/facts\/external\.big5 left out \(900016 bytes\) to fit the server's report limit of 4194304 bytes/);
});
