// Reports and heartbeats through a real server instance on real PostgreSQL, posted by real enrolled
// agents with their own access tokens, read back through the viewer API.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { reportsSetup, sampleHeartbeat, sampleReport, scriptRun } from './support/reports-setup.ts';
import { createOutputCapResolver } from '../src/reports/output-caps.ts';
import { silentLog, until } from './reconcile-fixtures.ts';
import { migrate } from '../src/db/migrate.ts';
import { freshDatabase } from './support/database.ts';

test('a full report is stored and visible through the read API', async (t) => {
  const { enrolAgent, viewer } = await reportsSetup(t);
  const agent = await enrolAgent('ws-paris-001');
  const report = sampleReport();

  const posted = await agent.post('/api/v1/agent/reports', report);
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  assert.deepEqual(posted.body, { stored: true, duplicate: false });

  const detail = await viewer('/api/v1/agents/ws-paris-001');
  assert.equal(detail.status, 200);
  assert.equal(detail.body.id, agent.id);
  assert.deepEqual(detail.body.applied, { revision: 'a1b2c3d4e5f6', document: 'd'.repeat(64), at: '2025-03-01T10:00:30.000Z' });
  assert.deepEqual(detail.body.drift, { in_sync: 1, changed: 2, failed: 1, drifted: 0, skipped: 0 });
  assert.equal(detail.body.factsCount, 4);
  assert.equal(detail.body.rebootPending, true, 'the choco run exited 3010');
  assert.equal(detail.body.lastReportAt, '2025-03-01T10:00:30.000Z');

  const runs = await viewer('/api/v1/agents/ws-paris-001/runs');
  assert.deepEqual(runs.body.runs.map((run: any) => [run.type, run.script ?? run.package, run.phase ?? run.operation, run.exitCode]), [
    ['choco', 'git', 'install', 3010],
    ['script', 'disable-smbv1', 'apply', 0],
    ['script', 'disable-smbv1', 'check', 1],
  ]);
  assert.equal(runs.body.runs[2].stdout, 'SMBv1 enabled\n');
  assert.equal(runs.body.runs[0].output, 'installed git 2.44.0');
  assert.equal(runs.body.runs[0].reportId, report.id);

  const facts = await viewer('/api/v1/agents/ws-paris-001/facts');
  assert.deepEqual(Object.fromEntries(facts.body.facts.map((fact: any) => [fact.key, fact.value])), report.facts);

  const packages = await viewer('/api/v1/agents/ws-paris-001/packages');
  assert.deepEqual(packages.body.packages.map((p: any) => [p.name, p.version, p.pinned]), [['chocolatey', '2.2.2', true], ['git', '2.44.0', false]]);

  const drift = await viewer('/api/v1/agents/ws-paris-001/drift?status=failed');
  assert.deepEqual(drift.body.items.map((item: any) => [item.kind, item.name, item.reason, item.revision]), [['package', '7zip', 'exit code 1', 'a1b2c3d4e5f6']]);

  const list = await viewer('/api/v1/agents?drift=with_drift');
  assert.deepEqual(list.body.agents.map((a: any) => a.name), ['ws-paris-001']);
  assert.deepEqual((await viewer('/api/v1/agents?drift=in_sync')).body.agents, []);
});

test('a report sent three times is stored once', async (t) => {
  const { enrolAgent, rowCounts } = await reportsSetup(t);
  const agent = await enrolAgent('ws-paris-002');
  const report = sampleReport();

  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await agent.post('/api/v1/agent/reports', report));
  assert.deepEqual(answers.map((a) => [a.status, a.body.stored, a.body.duplicate]), [[201, true, false], [200, false, true], [200, false, true]]);
  const counts = await rowCounts();
  assert.equal(counts.reports, 1);
  assert.equal(counts.script_runs, 2);
  assert.equal(counts.choco_runs, 1);
  assert.equal(counts.report_drift, 4);
  assert.equal(counts.agent_facts, 4);
  assert.equal(counts.agent_choco_packages, 2);
});

test('concurrent re-sends of one report store it once, with an inventory (a transaction) or without (one statement)', async (t) => {
  const { enrolAgent, rowCounts } = await reportsSetup(t);
  const agent = await enrolAgent('ws-paris-003');
  for (const report of [sampleReport(), sampleReport({ choco_packages: undefined })]) {
    const answers = await Promise.all(Array.from({ length: 8 }, () => agent.post('/api/v1/agent/reports', report)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
  }
  const counts = await rowCounts();
  assert.deepEqual([counts.reports, counts.script_runs], [2, 4]);
});

test('reports without an inventory (one statement each), many of one agent at once: all stored, the newest has the last word, a re-send writes nothing', async (t) => {
  const { enrolAgent, rowCounts, viewer } = await reportsSetup(t);
  const agent = await enrolAgent('ws-burst');
  const statuses = ['in_sync', 'changed', 'failed'];
  const reports = Array.from({ length: 12 }, (_, i) => sampleReport({
    started_at: `2025-03-01T10:${String(i).padStart(2, '0')}:00.000Z`, finished_at: `2025-03-01T10:${String(i).padStart(2, '0')}:30.000Z`,
    facts: { 'os.version': `v${i}`, [`only.${i}`]: i },
    drift: [{ kind: 'package', name: 'git', status: statuses[i % 3] }, { kind: 'script', name: 'disable-smbv1', status: statuses[(i + 1) % 3] }],
    choco_packages: undefined,
  }));
  // shuffled, so the newest is not simply the last to arrive
  const order = [5, 11, 0, 7, 3, 9, 1, 10, 2, 8, 4, 6];
  const answers = await Promise.all(order.map((i) => agent.post('/api/v1/agent/reports', reports[i])));
  assert.deepEqual(answers.map((a) => a.status), order.map(() => 201));

  const facts = Object.fromEntries((await viewer('/api/v1/agents/ws-burst/facts')).body.facts.map((f: any) => [f.key, f.value]));
  assert.equal(facts['os.version'], 'v11');
  assert.equal(Object.keys(facts).filter((key) => key.startsWith('only.')).length, 12);
  const drift = (await viewer('/api/v1/agents/ws-burst/drift')).body.items;
  assert.deepEqual(drift.map((item: any) => [item.name, item.status]).sort(), [['disable-smbv1', statuses[0]], ['git', statuses[2]]]);
  assert.equal((await viewer('/api/v1/agents/ws-burst')).body.applied.at, '2025-03-01T10:11:30.000Z');
  const counts = await rowCounts();
  assert.deepEqual([counts.reports, counts.script_runs, counts.choco_runs, counts.report_drift, counts.agent_choco_packages], [12, 24, 12, 24, 0]);

  const again = await agent.post('/api/v1/agent/reports', reports[3]);
  assert.deepEqual([again.status, again.body], [200, { stored: false, duplicate: true }]);
  assert.deepEqual(await rowCounts(), counts);
});

test('two reports of one agent whose statements both began before either committed: the newer one\'s facts and drift stand, with inventories or without', async (t) => {
  const { enrolAgent, sql, viewer } = await reportsSetup(t);
  for (const [name, inventory] of [['ws-overlap', undefined], ['ws-overlap-inventory', [{ name: 'git', version: '2.44.0', pinned: false }]]] as const) {
    const agent = await enrolAgent(name);
    const at = (minute: number) => ({ started_at: `2025-03-01T10:0${minute}:00.000Z`, finished_at: `2025-03-01T10:0${minute}:30.000Z` });
    const reportOf = (minute: number, gitStatus: string, osVersion: string) => sampleReport({
      ...at(minute), choco_packages: inventory, facts: { 'os.version': osVersion },
      drift: [{ kind: 'package', name: 'git', status: gitStatus }],
    });
    assert.equal((await agent.post('/api/v1/agent/reports', reportOf(1, 'failed', 'A'))).status, 201);

    // The newer report repeats what is stored (git failed, os A), the older one changes both. Held
    // on the agent's mark row, both statements take their snapshot before either commits.
    const hold = await sql.reserve();
    try {
      await hold`begin`;
      await hold`select 1 from agent_report_marks where agent_id = ${agent.id} for update`;
      const posted = Promise.all([agent.post('/api/v1/agent/reports', reportOf(3, 'failed', 'A')), agent.post('/api/v1/agent/reports', reportOf(2, 'changed', 'B'))]);
      await until('both reports waiting on the mark row', async () => (await sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)[0].n >= 2, 10_000, 20);
      await hold`commit`;
      assert.deepEqual((await posted).map((answer) => answer.status), [201, 201]);
    } finally {
      hold.release();
    }

    const drift = (await viewer(`/api/v1/agents/${name}/drift`)).body.items;
    assert.deepEqual(drift.map((item: any) => [item.name, item.status, item.reportedAt]), [['git', 'failed', '2025-03-01T10:03:30.000Z']]);
    const facts = (await viewer(`/api/v1/agents/${name}/facts`)).body.facts;
    assert.deepEqual(facts.map((fact: any) => [fact.key, fact.value]), [['os.version', 'A']]);
  }
});

test('a report id already used by another agent is refused and writes nothing', async (t) => {
  const { enrolAgent, rowCounts } = await reportsSetup(t);
  const a = await enrolAgent('ws-a');
  const b = await enrolAgent('ws-b');
  const report = sampleReport();
  assert.equal((await a.post('/api/v1/agent/reports', report)).status, 201);
  const before = await rowCounts();

  const reused = await b.post('/api/v1/agent/reports', { ...sampleReport(), id: report.id });
  assert.equal(reused.status, 409);
  assert.equal(reused.body.error.code, 'REPORT_ID_CONFLICT');
  assert.deepEqual(await rowCounts(), before);
});

test('an agent posts only as itself: the report belongs to the token\'s agent', async (t) => {
  const { enrolAgent, sql, viewer } = await reportsSetup(t);
  const a = await enrolAgent('ws-a');
  const b = await enrolAgent('ws-b');

  const forged = await a.post('/api/v1/agent/reports', { ...sampleReport(), agent_id: b.id });
  assert.equal(forged.status, 400);
  assert.match(forged.body.error.message, /unknown property "agent_id"/);

  assert.equal((await a.post('/api/v1/agent/reports', sampleReport())).status, 201);
  const owners = await sql`select distinct agent_id from reports union select distinct agent_id from script_runs union select distinct agent_id from agent_facts`;
  assert.deepEqual(owners.map((row) => row.agent_id), [a.id]);
  assert.deepEqual((await viewer('/api/v1/agents/ws-b/runs')).body.runs, []);
  assert.deepEqual((await viewer('/api/v1/agents/ws-b/facts')).body.facts, []);
});

test('outputs are cut to the agent\'s policy cap, per script, on a character boundary', async (t) => {
  const { enrolAgent, sql, viewer } = await reportsSetup(t);
  const agent = await enrolAgent('ws-caps');
  await placeDocument(sql, 'contoso/paris', { settingsCap: 40, scripts: [{ name: 'roomy', max_output_bytes: 100 }] });

  const run = (script: string, stdout: string, extra = {}) => scriptRun({ script, stdout, ...extra });
  const report = sampleReport({
    script_runs: [
      run('plain', 'é'.repeat(30)), // 60 bytes → 40 bytes = 20 characters
      run('roomy', 'x'.repeat(150)), // its own cap: 100
      run('small', 'short', { stderr_truncated: true }), // under the cap: the agent's flag stays
      run('euro', `a${'€'.repeat(20)}`), // 61 bytes; 40 falls inside a 3-byte character
    ],
    choco_runs: [{ ...(sampleReport().choco_runs as object[])[0], output: 'o'.repeat(41) }],
  });
  assert.equal((await agent.post('/api/v1/agent/reports', report)).status, 201);

  const runs = (await viewer('/api/v1/agents/ws-caps/runs?type=script')).body.runs;
  const byScript = Object.fromEntries(runs.map((r: any) => [r.script, r]));
  assert.equal(byScript.plain.stdout, 'é'.repeat(20));
  assert.equal(byScript.plain.stdoutTruncated, true);
  assert.equal(byScript.roomy.stdout.length, 100);
  assert.equal(byScript.small.stdout, 'short');
  assert.deepEqual([byScript.small.stdoutTruncated, byScript.small.stderrTruncated], [false, true]);
  assert.equal(byScript.euro.stdout, `a${'€'.repeat(13)}`); // 1 + 39 bytes
  const choco = (await viewer('/api/v1/agents/ws-caps/runs?type=choco')).body.runs[0];
  assert.deepEqual([choco.output.length, choco.outputTruncated], [40, true]);
});

test('the caps come from the document the instance has in memory for the agent, without a query', async (t) => {
  const { sql } = await reportsSetup(t);
  // doc1 exists, but no scope names it: only the in-memory answer leads to it
  await placeDocument(sql, 'contoso/paris', { settingsCap: 40, scripts: [{ name: 'roomy', max_output_bytes: 100 }] });
  await sql`delete from scope_documents`;
  const agent = { agentId: randomUUID(), name: 'ws-mem', organization: 'contoso', location: 'paris' };
  const fromMemory = await createOutputCapResolver(sql, silentLog, () => 'doc1')(agent);
  assert.deepEqual([fromMemory.scriptBytes('roomy'), fromMemory.scriptBytes('other'), fromMemory.chocoBytes], [100, 40, 40]);
  const fromDatabase = await createOutputCapResolver(sql, silentLog, () => undefined)(agent);
  assert.equal(fromDatabase.scriptBytes('roomy'), 1024 * 1024, 'not in memory: the database has no document for it');
});

test('without a document the server caps outputs at 1 MiB', async (t) => {
  const { enrolAgent, viewer } = await reportsSetup(t);
  const agent = await enrolAgent('ws-nodoc');
  const report = sampleReport({ script_runs: [scriptRun({ stdout: 'y'.repeat(1536 * 1024), stderr: 'NUL\u0000byte' })], choco_runs: [] });
  assert.equal((await agent.post('/api/v1/agent/reports', report)).status, 201);
  const [run] = (await viewer('/api/v1/agents/ws-nodoc/runs')).body.runs;
  assert.equal(run.stdout.length, 1024 * 1024);
  assert.equal(run.stdoutTruncated, true);
  assert.equal(run.stderr, 'NUL\uFFFDbyte', 'PostgreSQL cannot store U+0000: it is replaced, not refused');
});

test('an older report sent late does not overwrite newer facts, drift or inventory', async (t) => {
  const { enrolAgent, viewer } = await reportsSetup(t);
  const agent = await enrolAgent('ws-order');
  const newer = sampleReport({
    started_at: '2025-03-02T10:00:00Z', finished_at: '2025-03-02T10:01:00Z',
    facts: { 'os.version': 'new' }, drift: [{ kind: 'package', name: 'git', status: 'in_sync' }],
    choco_packages: [{ name: 'git', version: '2.45.0', pinned: false }],
  });
  const older = sampleReport({
    facts: { 'os.version': 'old', 'only.old': true }, drift: [{ kind: 'package', name: 'git', status: 'failed' }],
    choco_packages: [{ name: 'git', version: '2.40.0', pinned: false }, { name: 'old-pkg', version: '1', pinned: false }],
  });
  assert.equal((await agent.post('/api/v1/agent/reports', newer)).status, 201);
  assert.equal((await agent.post('/api/v1/agent/reports', older)).status, 201);

  const facts = Object.fromEntries((await viewer('/api/v1/agents/ws-order/facts')).body.facts.map((f: any) => [f.key, f.value]));
  assert.equal(facts['os.version'], 'new');
  assert.equal(facts['only.old'], true, 'a key the newer report did not carry is still learnt');
  assert.deepEqual((await viewer('/api/v1/agents/ws-order/drift')).body.items.map((i: any) => i.status), ['in_sync']);
  assert.deepEqual((await viewer('/api/v1/agents/ws-order/packages')).body.packages.map((p: any) => p.version), ['2.45.0']);
  assert.equal((await viewer('/api/v1/agents/ws-order')).body.applied.at, '2025-03-02T10:01:00.000Z');
  // a later dry run applied nothing: the applied report stays the newer one
  const dryRun = sampleReport({ started_at: '2025-03-03T10:00:00Z', finished_at: '2025-03-03T10:01:00Z', dry_run: true, document: 'e'.repeat(64) });
  assert.equal((await agent.post('/api/v1/agent/reports', dryRun)).status, 201);
  const detail = (await viewer('/api/v1/agents/ws-order')).body;
  assert.equal(detail.applied.at, '2025-03-02T10:01:00.000Z');
  assert.notEqual(detail.applied.document, 'e'.repeat(64));
});

test('an inventory writes only the packages that appeared, changed or went; the rest keep their rows', async (t) => {
  const { enrolAgent, viewer, sql } = await reportsSetup(t);
  const agent = await enrolAgent('ws-inventory');
  const at = (minute: number) => `2025-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const inventory = (minute: number, packages: Array<[string, string, boolean?]>) =>
    sampleReport({ started_at: at(minute), finished_at: at(minute), choco_packages: packages.map(([name, version, pinned]) => ({ name, version, pinned: pinned ?? false })) });
  const rowVersions = async () => Object.fromEntries((await sql<Array<{ name: string; xmin: string }>>`
    select name, xmin::text from agent_choco_packages where agent_id = ${agent.id}`).map((r) => [r.name, r.xmin]));

  assert.equal((await agent.post('/api/v1/agent/reports', inventory(1, [['git', '2.44.0'], ['7zip', '23.1'], ['vlc', '3.0.20'], ['firefox', '120.0']]))).status, 201);
  const before = await rowVersions();
  // git upgraded, 7zip pinned, vlc gone, putty new, firefox as it was
  const second = await agent.post('/api/v1/agent/reports', inventory(2, [['git', '2.45.0'], ['7zip', '23.1', true], ['firefox', '120.0'], ['putty', '0.81']]));
  assert.equal(second.status, 201, JSON.stringify(second.body));
  const after = await rowVersions();
  assert.equal(after.firefox, before.firefox, 'an unchanged package is not written again');
  assert.notEqual(after.git, before.git);
  assert.notEqual(after['7zip'], before['7zip']);
  assert.equal(after.vlc, undefined);

  const packages = (await viewer('/api/v1/agents/ws-inventory/packages')).body.packages;
  assert.deepEqual(packages.map((p: any) => [p.name, p.version, p.pinned, p.changedAt]), [
    ['7zip', '23.1', true, at(2)], ['firefox', '120.0', false, at(1)], ['git', '2.45.0', false, at(2)], ['putty', '0.81', false, at(2)],
  ]);
  assert.ok(packages.every((p: any) => p.reportedAt === at(2)), 'the set was reported by the second report');

  // the same set again: nothing is written but the time it was reported
  assert.equal((await agent.post('/api/v1/agent/reports', inventory(3, [['git', '2.45.0'], ['7zip', '23.1', true], ['firefox', '120.0'], ['putty', '0.81']]))).status, 201);
  assert.deepEqual(await rowVersions(), after);
  const again = (await viewer('/api/v1/agents/ws-inventory/packages')).body.packages;
  assert.ok(again.every((p: any) => p.reportedAt === at(3)));
  // an empty inventory empties the set
  assert.equal((await agent.post('/api/v1/agent/reports', inventory(4, []))).status, 201);
  assert.deepEqual((await viewer('/api/v1/agents/ws-inventory/packages')).body.packages, []);
});

test('facts and drift: only what changed is written; the read API still names the newest report that carried each', async (t) => {
  const { enrolAgent, viewer, sql } = await reportsSetup(t);
  const agent = await enrolAgent('ws-marks');
  const at = (minute: number) => `2025-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const report = (minute: number, facts: object, statuses: Record<string, string>) => sampleReport({
    started_at: at(minute), finished_at: at(minute), facts, choco_packages: undefined,
    drift: Object.entries(statuses).map(([name, status]) => ({ kind: 'script', name, status })),
  });
  const post = async (body: Record<string, unknown>) => assert.equal((await agent.post('/api/v1/agent/reports', body)).status, 201);
  const rowVersions = async () => ({
    ...Object.fromEntries((await sql<Array<{ key: string; xmin: string }>>`select fact_key as key, xmin::text from agent_facts where agent_id = ${agent.id}`).map((r) => [`fact ${r.key}`, r.xmin])),
    ...Object.fromEntries((await sql<Array<{ name: string; xmin: string }>>`select name, xmin::text from agent_drift where agent_id = ${agent.id}`).map((r) => [`drift ${r.name}`, r.xmin])),
  });

  const first = report(1, { hostname: 'ws-marks', uptime_seconds: 60 }, { a: 'in_sync', b: 'failed' });
  await post(first);
  const before = await rowVersions();
  const second = report(2, { hostname: 'ws-marks', uptime_seconds: 120 }, { a: 'in_sync', b: 'in_sync' });
  await post(second);
  const after = await rowVersions();
  assert.equal(after['fact hostname'], before['fact hostname'], 'an unchanged fact is not written again');
  assert.equal(after['drift a'], before['drift a'], 'an unchanged drift item is not written again');
  assert.notEqual(after['fact uptime_seconds'], before['fact uptime_seconds']);
  assert.notEqual(after['drift b'], before['drift b']);

  const facts = (await viewer('/api/v1/agents/ws-marks/facts')).body.facts;
  assert.deepEqual(facts.map((f: any) => [f.key, f.value, f.reportedAt]), [['hostname', 'ws-marks', at(2)], ['uptime_seconds', 120, at(2)]]);
  const [hostname, uptime] = facts;
  assert.ok(hostname.updatedAt < uptime.updatedAt, 'updatedAt: when the value last changed');
  const drift = (await viewer('/api/v1/agents/ws-marks/drift')).body.items;
  assert.deepEqual(drift.map((d: any) => [d.name, d.status, d.reportId, d.reportedAt]), [['a', 'in_sync', second.id, at(2)], ['b', 'in_sync', second.id, at(2)]]);

  // A report older than the newest, sent late, changes none of the keys the newest carried but
  // still teaches a key it did not; a part a report leaves out keeps its mark.
  await post(report(0, { hostname: 'renamed', 'only.old': true }, { a: 'failed', c: 'drifted' }));
  await post(sampleReport({ started_at: at(3), finished_at: at(3), facts: undefined, drift: undefined, choco_packages: undefined }));
  const late = Object.fromEntries((await viewer('/api/v1/agents/ws-marks/facts')).body.facts.map((f: any) => [f.key, [f.value, f.reportedAt]]));
  assert.deepEqual(late, { hostname: ['ws-marks', at(2)], uptime_seconds: [120, at(2)], 'only.old': [true, at(0)] });
  const lateDrift = (await viewer('/api/v1/agents/ws-marks/drift')).body.items;
  assert.deepEqual(lateDrift.map((d: any) => [d.name, d.status, d.reportedAt]), [['a', 'in_sync', at(2)], ['b', 'in_sync', at(2)], ['c', 'drifted', at(0)]]);
  // the next report that leaves a key out: the row keeps the time it was last carried
  await post(report(4, { uptime_seconds: 240 }, { b: 'in_sync' }));
  const next = Object.fromEntries((await viewer('/api/v1/agents/ws-marks/facts')).body.facts.map((f: any) => [f.key, f.reportedAt]));
  assert.deepEqual(next, { hostname: at(2), uptime_seconds: at(4), 'only.old': at(0) });
  const nextDrift = (await viewer('/api/v1/agents/ws-marks/drift')).body.items;
  assert.deepEqual(nextDrift.map((d: any) => [d.name, d.reportedAt]), [['a', at(2)], ['b', at(4)], ['c', at(0)]]);
});

test('migration 100 marks, per agent, the newest report\'s facts and drift keys from the stored rows', async (t) => {
  const { sql } = await freshDatabase(t);
  await sql`drop table agent_report_marks`;
  await sql`delete from schema_migrations where version = '100_agent_report_marks.sql'`;
  const [withBoth] = await sql<Array<{ id: string }>>`
    insert into agents (name, organization, location, status, public_key)
    values ('with-both', 'o', 'l', 'active', 'k'), ('never', 'o', 'l', 'active', 'k') returning id`;
  const [older, newer] = [randomUUID(), randomUUID()];
  await sql`insert into agent_facts (agent_id, fact_key, value, reported_at) values
    (${withBoth.id}, 'hostname', '"h"', '2025-03-01T10:00:00Z'), (${withBoth.id}, 'uptime', '1', '2025-03-01T11:00:00Z'),
    (${withBoth.id}, 'os', '"w"', '2025-03-01T11:00:00Z')`;
  await sql`insert into agent_drift (agent_id, kind, name, status, revision, report_id, reported_at) values
    (${withBoth.id}, 'script', 'a', 'in_sync', 'r', ${older}, '2025-03-01T10:00:00Z'),
    (${withBoth.id}, 'package', 'git', 'failed', 'r', ${newer}, '2025-03-01T11:00:00Z')`;

  assert.deepEqual((await migrate(sql, silentLog)).applied, ['100_agent_report_marks.sql']);
  const marks = await sql`select agent_id, facts_at, fact_keys, drift_report_id, drift_at, drift_keys from agent_report_marks`;
  assert.equal(marks.length, 1, 'an agent that never reported has no mark');
  assert.equal(marks[0].agent_id, withBoth.id);
  assert.equal(marks[0].facts_at.toISOString(), '2025-03-01T11:00:00.000Z');
  assert.deepEqual(marks[0].fact_keys, ['os', 'uptime']);
  assert.equal(marks[0].drift_report_id, newer);
  assert.equal(marks[0].drift_at.toISOString(), '2025-03-01T11:00:00.000Z');
  assert.deepEqual(marks[0].drift_keys, ['package:git']);
});

test('migration 095 learns when each stored inventory was reported, from its packages or its newest report', async (t) => {
  const db = await freshDatabase(t);
  const { sql } = db;
  // back to the schema before 095, with an inventory stored the old way
  await sql`drop table agent_inventories`;
  await sql`alter table agent_choco_packages rename column changed_at to reported_at`;
  await sql`delete from schema_migrations where version = '095_agent_inventories.sql'`;
  const [withPackages, emptySet, never] = await sql<Array<{ id: string }>>`
    insert into agents (name, organization, location, status, public_key)
    values ('with-packages', 'o', 'l', 'active', 'k'), ('empty-set', 'o', 'l', 'active', 'k'), ('never', 'o', 'l', 'active', 'k')
    returning id`;
  await sql`insert into agent_choco_packages (agent_id, name, version, pinned, reported_at)
    values (${withPackages.id}, 'git', '2.44.0', false, '2025-03-01T10:00:00Z')`;
  await sql`insert into reports (id, agent_id, started_at, finished_at, dry_run, has_inventory) values
    (${randomUUID()}, ${emptySet.id}, '2025-03-01T09:00:00Z', '2025-03-01T09:00:00Z', false, true),
    (${randomUUID()}, ${emptySet.id}, '2025-03-01T11:00:00Z', '2025-03-01T11:00:00Z', false, true),
    (${randomUUID()}, ${never.id}, '2025-03-01T11:00:00Z', '2025-03-01T11:00:00Z', false, false)`;

  assert.deepEqual((await migrate(sql, silentLog)).applied, ['095_agent_inventories.sql']);
  const inventories = await sql<Array<{ name: string; reported_at: Date }>>`
    select a.name, i.reported_at from agent_inventories i join agents a on a.id = i.agent_id order by a.name`;
  assert.deepEqual(inventories.map((i) => [i.name, i.reported_at.toISOString()]), [
    ['empty-set', '2025-03-01T11:00:00.000Z'], ['with-packages', '2025-03-01T10:00:00.000Z'],
  ]);
  const [git] = await sql`select changed_at from agent_choco_packages where agent_id = ${withPackages.id}`;
  assert.equal(git.changed_at.toISOString(), '2025-03-01T10:00:00.000Z');
});

test('the reconciler hears of the facts a report changed, not of every fact it carried', async (t) => {
  const heard: string[][] = [];
  const { enrolAgent } = await reportsSetup(t, { onAgentFacts: (_agentId, keys) => heard.push(keys) });
  const agent = await enrolAgent('ws-facts');
  const at = (minute: number) => `2025-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const withFacts = (minute: number, facts: object) => sampleReport({ started_at: at(minute), finished_at: at(minute), facts, choco_packages: undefined });
  const post = async (report: object) => assert.ok([200, 201].includes((await agent.post('/api/v1/agent/reports', report)).status));

  await post(withFacts(1, { os: { family: 'windows' }, uptime_seconds: 60 }));
  await post(withFacts(2, { os: { family: 'windows' }, uptime_seconds: 60 })); // the same values
  const third = withFacts(3, { uptime_seconds: 180, os: { family: 'windows' } });
  await post(third);
  await post(third); // a re-send stores nothing
  await post(withFacts(0, { os: { family: 'linux' } })); // older than what is stored: not written
  assert.deepEqual(heard, [['os', 'uptime_seconds'], ['uptime_seconds']]);
});

test('runs are paged newest first without gaps and filtered by script', async (t) => {
  const { enrolAgent, viewer } = await reportsSetup(t);
  const agent = await enrolAgent('ws-runs');
  const at = (second: number) => `2025-03-01T10:00:${String(second).padStart(2, '0')}.000Z`;
  const scripts = Array.from({ length: 7 }, (_, i) => scriptRun({ script: i % 2 ? 'odd' : 'even', started_at: at(i) }));
  const choco = Array.from({ length: 3 }, (_, i) => ({ ...(sampleReport().choco_runs as object[])[0], id: randomUUID(), started_at: at(10 + i) }));
  assert.equal((await agent.post('/api/v1/agent/reports', sampleReport({ script_runs: scripts, choco_runs: choco }))).status, 201);

  const seen: string[] = [];
  let path = '/api/v1/agents/ws-runs/runs?limit=4';
  for (;;) {
    const page = (await viewer(path)).body;
    seen.push(...page.runs.map((r: any) => r.startedAt));
    if (!page.nextBefore) break;
    path = `/api/v1/agents/ws-runs/runs?limit=4&before=${encodeURIComponent(page.nextBefore)}`;
  }
  assert.deepEqual(seen, [12, 11, 10, 6, 5, 4, 3, 2, 1, 0].map(at));
  const odd = (await viewer('/api/v1/agents/ws-runs/runs?script=odd')).body.runs;
  assert.deepEqual(odd.map((r: any) => r.startedAt), [5, 3, 1].map(at));
  assert.equal((await viewer('/api/v1/agents/ws-runs/runs?before=nonsense')).status, 400);
  assert.equal((await viewer('/api/v1/agents/nobody/runs')).status, 404);
});

test('a heartbeat replaces the latest sample and the history keeps the last N', async (t) => {
  const { enrolAgent, viewer, rowCounts } = await reportsSetup(t, { metricsHistory: 3 });
  const agent = await enrolAgent('ws-metrics');
  for (let i = 1; i <= 5; i++) {
    const answer = await agent.post('/api/v1/agent/heartbeat', sampleHeartbeat(`2025-03-01T10:0${i}:00Z`, i * 10));
    assert.equal(answer.status, 204, JSON.stringify(answer.body));
  }
  const metrics = (await viewer('/api/v1/agents/ws-metrics/metrics')).body;
  assert.equal(metrics.latest.at, '2025-03-01T10:05:00.000Z');
  assert.equal(metrics.latest.metrics.cpu.usage_percent, 50);
  assert.deepEqual(metrics.history.map((h: any) => h.metrics.cpu.usage_percent), [50, 40, 30]);
  assert.equal((await viewer('/api/v1/agents/ws-metrics/metrics?limit=1')).body.history.length, 1);
  const counts = await rowCounts();
  assert.deepEqual([counts.agent_metrics_latest, counts.agent_metrics], [1, 3]);
});

test('the agent list filters by placement, status and name prefix, and pages by name', async (t) => {
  const { enrolAgent, admin, viewer } = await reportsSetup(t);
  for (const name of ['kiosk-1', 'kiosk-2', 'kiosk-3']) await enrolAgent(name);
  await enrolAgent('lyon-1', { organization: 'contoso', location: 'lyon' });
  await admin('POST', '/api/v1/agents', { name: 'kiosk-4', organization: 'contoso', location: 'paris' }); // pending

  const names = async (query: string) => (await viewer(`/api/v1/agents?${query}`)).body.agents.map((a: any) => a.name);
  assert.deepEqual(await names('location=lyon'), ['lyon-1']);
  assert.deepEqual(await names('q=kiosk&status=active'), ['kiosk-1', 'kiosk-2', 'kiosk-3']);
  assert.deepEqual(await names('status=pending'), ['kiosk-4']);
  const first = (await viewer('/api/v1/agents?limit=2')).body;
  assert.deepEqual([first.agents.map((a: any) => a.name), first.nextAfter], [['kiosk-1', 'kiosk-2'], 'kiosk-2']);
  assert.deepEqual(await names(`limit=2&after=${first.nextAfter}`), ['kiosk-3', 'kiosk-4']);
  assert.equal((await viewer('/api/v1/agents?drift=maybe')).status, 400);
});

/** Gives a scope a document whose settings part caps script output at `settingsCap` bytes. */
async function placeDocument(sql: any, scope: string, input: { settingsCap: number; scripts: Array<{ name: string; max_output_bytes: number }> }) {
  const settings = JSON.stringify({ provenance: {}, settings: { scripts: { max_output_bytes: input.settingsCap, timeout_seconds: 600 } } });
  const resources = JSON.stringify({ conflicts: [], external_facts: [], packages: [], scripts: input.scripts });
  const [organization, location] = scope.split('/');
  await sql`insert into document_parts (sha256, kind, body, size) values ('s1', 'settings', ${settings}, ${settings.length}), ('r1', 'resources', ${resources}, ${resources.length})`;
  await sql`insert into desired_documents (sha256, settings_sha256, resources_sha256) values ('doc1', 's1', 'r1')`;
  await sql`insert into scope_documents (scope, organization, location, agent, document_sha256, revision) values (${scope}, ${organization}, ${location}, null, 'doc1', 'r1')`;
}
