// Converging the demo policy's Linux scripts (policy-repo-template/scripts/linux/) with real agent
// processes against a real server, results read back through the server's read API.
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { enrolledAgent, startFleet, type Fleet } from './support/fleet.ts';

const LINUX_SCRIPTS = ['chrony-pool', 'lab-motd'];
const exists = (file: string) => access(file).then(() => true, () => false);

/** The desired-state endpoint answers 401 without a token once it exists, 404 before. */
async function driftOf(fleet: Fleet, name: string): Promise<Record<string, string>> {
  const { items } = await fleet.get(`/api/v1/agents/${name}/drift`);
  // the Linux scripts only: the lab's document also holds Windows scripts (skipped here)
  return Object.fromEntries(items.filter((i: { kind: string; name: string }) => i.kind === 'script' && LINUX_SCRIPTS.includes(i.name)).map((i: { name: string; status: string }) => [i.name, i.status]));
}

test('the lab scripts: drifted in a dry run, changed when applied, in sync the next time', async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'lab-01', 'fabrikam/lab-linux');
  const motd = path.join(agent.home, 'demo-state', 'pswm-demo', 'motd');

  const dry = await agent.run(['agent', '--once', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^script lab-motd\s+drifted \(check exited 1\), would change$/m);
  assert.match(dry.stdout, /^script chrony-pool\s+drifted \(check exited [12]\), would change$/m);
  assert.match(dry.stdout, /^package \S+\s+skipped \(choco is not installed/m);
  assert.ok(!(await exists(motd)), 'a dry run changes nothing');
  assert.deepEqual(await driftOf(fleet, 'lab-01'), { 'chrony-pool': 'drifted', 'lab-motd': 'drifted' });
  const [dryReport] = await fleet.sql<{ dry_run: boolean }[]>`select dry_run from reports order by received_at desc limit 1`;
  assert.equal(dryReport.dry_run, true, 'the dry run report is flagged');

  const applied = await agent.run(['agent', '--once']);
  assert.equal(applied.code, 0, applied.stderr);
  assert.ok(await exists(motd), 'the script ran');
  assert.deepEqual(await driftOf(fleet, 'lab-01'), { 'chrony-pool': 'changed', 'lab-motd': 'changed' });

  const again = await agent.run(['agent', '--once']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await driftOf(fleet, 'lab-01'), { 'chrony-pool': 'in_sync', 'lab-motd': 'in_sync' });

  const { runs } = await fleet.get('/api/v1/agents/lab-01/runs?type=script&script=lab-motd');
  // newest first: check (in sync) ← apply, check (drifted) ← check (dry run, drifted)
  assert.deepEqual(runs.map((r: { phase: string; exitCode: number }) => [r.phase, r.exitCode]), [['check', 0], ['apply', 0], ['check', 1], ['check', 1]]);
  assert.match(runs[1].stdout, /wrote .*pswm-demo\/motd/);

  const status = JSON.parse((await agent.run(['status', '--json'])).stdout);
  assert.equal(status.last_iteration.result, 'ok');
  assert.ok(status.applied_revision, 'the applied revision is known');
  assert.equal(status.pending_reports, 0);
});

test('offline, the agent converges the cached desired state and reports it later', async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'lab-02', 'fabrikam/lab-linux');
  const motd = path.join(agent.home, 'demo-state', 'pswm-demo', 'motd');

  assert.equal((await agent.run(['agent', '--once', '--dry-run'])).code, 0, 'fetches and caches the desired state');
  await fleet.stop();
  const offline = await agent.run(['agent', '--once']);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stderr, /server unreachable: converging the cached desired state/);
  assert.ok(await exists(motd), 'the cached state was converged');

  await fleet.start();
  const back = await agent.run(['agent', '--once']);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stderr, /desired state unchanged/, 'a 304 thanks to the cached ETag');
  assert.deepEqual(await driftOf(fleet, 'lab-02'), { 'chrony-pool': 'in_sync', 'lab-motd': 'in_sync' });
  const changed = await fleet.sql`select 1 from report_drift d join reports r on r.id = d.report_id where d.name = 'lab-motd' and d.status = 'changed'`;
  assert.equal(changed.length, 1, 'the offline iteration reported its change once it could');
});
