// Self-update after the restart, end to end on Linux with real builds, a real server and `pswm
// service` processes (see self-update.test.ts for the steps before it): a new build that crashes at
// every start or never gets to report is rolled back by the post-restart trial (restart-trial.ts):
// the previous build is put back and started by the service manager — here the test, restarting on
// failure like systemd's Restart=on-failure. The bad builds are the good build with a failpoint that
// only acts in a service start under trial, so they pass the pre-restart trial as a subtly broken
// build would.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cachedLinuxBuild } from '../scripts/build-single.ts';
import { runServerCommand } from '../../server/test/support/server-process.ts';
import { startFleet } from './support/fleet.ts';
import { auditSteps, enrolledBuild, policyRepo, runToEnd, supervise, waitFor } from './support/self-update.ts';
import { makeTempDir } from './support/temp-dir.ts';

test('self-update after the restart: a new build that crashes at start, or never reports, is rolled back and the previous build runs again', { timeout: 900_000 }, async (t) => {
  const [v1, v2] = [await cachedLinuxBuild('1.0.0-test'), await cachedLinuxBuild('2.0.0-test')];
  const dir = await makeTempDir(t, 'pswm-update-restart-');
  const fleet = await startFleet(t, { serverArgs: ['--policy-repo', await policyRepo(dir, { crashing: '2.0.0-test', hanging: '2.0.0-test' })] });
  const db = { DATABASE_URL: fleet.databaseUrl, PSWM_LOG_LEVEL: 'warn' };
  assert.equal((await runServerCommand(['release', 'keygen', '--out', dir], db)).code, 0);
  const added = await runServerCommand(['release', 'add', v2, '--version', '2.0.0-test', '--platform', 'linux', '--key', path.join(dir, 'release.key')], db);
  assert.equal(added.code, 0, added.stderr);

  const HANG_DEADLINE_SECONDS = 20;
  const cases = [
    // 10 minutes to report: what rolls this one back is its third crash at start
    { name: 'crashing', env: { PSWM_FAILPOINT: 'crash-on-trial', PSWM_UPDATE_CONFIRM_SECONDS: '600' } },
    { name: 'hanging', env: { PSWM_FAILPOINT: 'hang-on-trial', PSWM_UPDATE_CONFIRM_SECONDS: String(HANG_DEADLINE_SECONDS) } },
  ];
  const agents = await Promise.all(cases.map(async ({ name, env: extra }) => {
    const agent = await enrolledBuild(fleet, dir, v1, name, extra);
    return { ...agent, supervisor: supervise(t, agent.exe, agent.env) };
  }));

  for (const agent of agents) {
    // rolled back, and then the previous build (1.0.0) runs as the service and reports again
    assert.ok(await waitFor(async () => (await auditSteps(fleet, agent.name)).includes('rolled_back'), 300_000), `${agent.name}: rolled back (${agent.supervisor.codes})`);
    const [{ at }] = await fleet.sql<{ at: Date }[]>`select at from audit_log where action = 'agent.update.rolled_back' and actor = ${`agent:${agent.name}`}`;
    assert.ok(await waitFor(async () => (await fleet.sql`select 1 from reports r join agents a on a.id = r.agent_id where a.name = ${agent.name} and r.received_at > ${at}`).length > 0), `${agent.name}: the previous build reports after the rollback`);
    const ended = await agent.supervisor.stop();
    assert.equal(ended.at(-1), 0, `${agent.name}: the previous build stopped cleanly (${ended})`);
    assert.match((await runToEnd(agent.exe, ['--version'], agent.env, 60_000)).output, /^pswm 1\.0\.0-test /, `${agent.name} runs the previous build again`);
    const state = JSON.parse(await readFile(path.join(agent.home, 'state', 'update.json'), 'utf8')) as { refused: Record<string, string>; pending?: unknown };
    assert.ok(state.refused['2.0.0-test'], 'the version is remembered as refused: not tried again');
    assert.equal(state.pending, undefined);
    assert.deepEqual(await auditSteps(fleet, agent.name), ['downloaded', 'staged', 'applied', 'rolled_back']);
  }
  const [crashing, hanging] = agents;
  // 1.0.0 exits 75 for the swap; 2.0.0 crashes at its three trial starts, rolls back at the fourth
  // (75); 1.0.0 runs until stopped (0)
  const crashCodes = crashing.supervisor.codes;
  assert.equal(crashCodes.length, 6, `${crashCodes}`);
  assert.equal(crashCodes[0], 75);
  assert.ok(crashCodes.slice(1, 4).every((code) => code !== 0 && code !== 75), `three crashes: ${crashCodes}`);
  assert.deepEqual(crashCodes.slice(4), [75, 0]);
  // 1.0.0 exits 75; 2.0.0 hangs until its deadline, rolls back and exits 75; 1.0.0 runs until stopped
  assert.deepEqual(hanging.supervisor.codes, [75, 75, 0]);
  const details = await fleet.sql<{ actor: string; detail: string }[]>`select actor, details ->> 'detail' as detail from audit_log where action = 'agent.update.rolled_back' order by actor`;
  assert.match(details.find((d) => d.actor === 'agent:crashing')!.detail, /started 3 times after the restart without delivering a report/);
  assert.match(details.find((d) => d.actor === 'agent:hanging')!.detail, /did not deliver a report by .* the deadline after the restart/);
});
