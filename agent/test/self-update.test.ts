// Self-update end to end on Linux with real processes: real single-file builds (agent/scripts/
// build-single.ts, kept in agent/.cache/update-builds per sources digest), a real server holding the
// releases signed by `pswm-server release add`, and `pswm service` processes, one agent per case,
// each told its version by an AgentOverride: a tampered build is refused and never run, a build that
// cannot report (a real executable that is not pswm) is tried and rolled back, a good one is applied
// and the service exits 75 for the service manager (here the test) to start the new build, which
// confirms itself with its first report. What happens after the restart is self-update-restart.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cachedLinuxBuild } from '../scripts/build-single.ts';
import { runServerCommand } from '../../server/test/support/server-process.ts';
import { startFleet } from './support/fleet.ts';
import { auditSteps, enrolledBuild, pendingIn, policyRepo, runToEnd, start, waitFor } from './support/self-update.ts';
import { makeTempDir } from './support/temp-dir.ts';

test('self-update: a tampered build is refused, a failing one rolled back, a good one applied and restarted into', { timeout: 900_000 }, async (t) => {
  const [v1, v2] = [await cachedLinuxBuild('1.0.0-test'), await cachedLinuxBuild('2.0.0-test')];
  const dir = await makeTempDir(t, 'pswm-update-');
  const fleet = await startFleet(t, { serverArgs: ['--policy-repo', await policyRepo(dir, { tampered: '3.0.0-bad', failing: '4.0.0-fail', good: '2.0.0-test' })] });
  const db = { DATABASE_URL: fleet.databaseUrl, PSWM_LOG_LEVEL: 'warn' };
  const keygen = await runServerCommand(['release', 'keygen', '--out', dir], db);
  assert.equal(keygen.code, 0, keygen.stderr);
  const key = path.join(dir, 'release.key');
  // the refused builds need not be big: a small real executable each (one never runs, one is not pswm)
  await Promise.all([[v2, '2.0.0-test'], ['/bin/true', '3.0.0-bad'], ['/bin/false', '4.0.0-fail']].map(async ([file, version]) => {
    const added = await runServerCommand(['release', 'add', file, '--version', version, '--platform', 'linux', '--key', key], db);
    assert.equal(added.code, 0, added.stderr);
  }));
  // a stored byte of 3.0.0-bad changes after signing: what a tampered mirror or disk would serve
  const tamper = await fleet.sql`update agent_release_chunks set data = set_byte(data, 0, (get_byte(data, 0) + 1) % 256) where version = '3.0.0-bad' and seq = 0`;
  assert.equal(tamper.count, 1);

  const agents = await Promise.all(['tampered', 'failing', 'good'].map(async (name) => {
    const agent = await enrolledBuild(fleet, dir, v1, name);
    assert.match(await readFile(path.join(agent.home, 'config.json'), 'utf8'), /release_public_key/, 'the release key is pinned at enrollment');
    return agent;
  }));

  const [tampered, failing, good] = agents;
  // the good one: applied, the service exits 75, and the build started next is 2.0.0-test
  const services = [good, failing, tampered].map((agent) => start(agent.exe, ['service'], agent.env, 300_000));
  t.after(() => services.forEach((s) => s.child.kill('SIGKILL')));
  const [goodRun, failingRun, tamperedRun] = services;
  const updated = await goodRun.done;
  assert.equal(updated.code, 75, updated.output);
  const version = await runToEnd(good.exe, ['--version'], good.env, 60_000);
  assert.match(version.output, /^pswm 2\.0\.0-test \(single-file linux build/);
  // the service manager starts the new build: its first report confirms the update
  assert.ok(await pendingIn(good.home), 'the update is on trial until the new build reports');
  const restarted = start(good.exe, ['service'], good.env, 120_000);
  t.after(() => restarted.child.kill('SIGKILL'));
  assert.ok(await waitFor(async () => (await auditSteps(fleet, 'good')).includes('confirmed')), 'the new build confirmed itself');
  assert.equal(await pendingIn(good.home), false);
  restarted.child.kill('SIGTERM');
  assert.equal((await restarted.done).code, 0);

  // the others stay on 1.0.0 and remember the refused version: stop them once they have
  const remembered = async (home: string, v: string) => {
    for (let i = 0; i < 240; i++) {
      const state = await readFile(path.join(home, 'state', 'update.json'), 'utf8').catch(() => '');
      if (state.includes(v)) return true;
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  };
  assert.ok(await remembered(tampered.home, '3.0.0-bad'), 'tampered build refused');
  assert.ok(await remembered(failing.home, '4.0.0-fail'), 'failing build rolled back');
  for (const service of [tamperedRun, failingRun]) service.child.kill('SIGTERM');
  const [tamperedEnd, failingEnd] = await Promise.all([tamperedRun.done, failingRun.done]);
  assert.equal(tamperedEnd.code, 0, tamperedEnd.output);
  assert.equal(failingEnd.code, 0, failingEnd.output);
  for (const agent of [tampered, failing]) assert.match((await runToEnd(agent.exe, ['--version'], agent.env, 60_000)).output, /^pswm 1\.0\.0-test /, `${agent.name} still runs the previous build`);

  assert.deepEqual(await auditSteps(fleet, 'tampered'), ['refused']);
  assert.deepEqual(await auditSteps(fleet, 'failing'), ['downloaded', 'staged', 'rolled_back']);
  assert.deepEqual(await auditSteps(fleet, 'good'), ['downloaded', 'staged', 'applied', 'confirmed']);
});
