// Self-update end to end on Linux with real processes: real single-file builds (agent/scripts/
// build-single.ts, kept in agent/.cache/update-builds per sources digest), a real server holding the
// releases signed by `pswm-server release add`, and `pswm service` processes, one agent per case,
// each told its version by an AgentOverride: a tampered build is refused and never run, a build that
// cannot report (a real executable that is not pswm) is tried and rolled back, a good one is applied
// and the service exits 75 for the service manager (here the test) to start the new build, which
// confirms itself with its first report. After the restart, a new build that crashes at every start
// or never gets to report is rolled back by the post-restart trial (restart-trial.ts): the previous
// build is put back and started by the service manager — here the test, restarting on failure like
// systemd's Restart=on-failure. The bad builds are the good build with a failpoint that only acts in
// a service start under trial, so they pass the pre-restart trial as a subtly broken build would.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { cachedLinuxBuild } from '../scripts/build-single.ts';
import { nodeBinary, NODE_VERSIONS } from '../scripts/npm-binaries.ts';
import { runServerCommand } from '../../server/test/support/server-process.ts';
import { startFleet } from './support/fleet.ts';
import { makeTempDir } from './support/temp-dir.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function policyRepo(dir: string, versions: Record<string, string>): Promise<string> {
  const repo = path.join(dir, 'policy');
  await mkdir(path.join(repo, 'organizations', 'acme'), { recursive: true });
  await mkdir(path.join(repo, 'overrides'), { recursive: true });
  await cp(path.join(REPO, 'policy-repo-template', 'settings.yaml'), path.join(repo, 'settings.yaml'));
  const doc = (kind: string, name: string, spec: string) => `apiVersion: pswm/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
  await writeFile(path.join(repo, 'organizations', 'acme', 'organization.yaml'), doc('Organization', 'acme', '  display_name: Acme\n'));
  await writeFile(path.join(repo, 'organizations', 'acme', 'lab.yaml'), doc('Location', 'lab', '  organization: acme\n  display_name: Lab\n'));
  for (const [agent, version] of Object.entries(versions)) {
    await writeFile(path.join(repo, 'overrides', `${agent}.yaml`), doc('AgentOverride', agent, `  agent: ${agent}\n  organization: acme\n  location: acme/lab\n  settings:\n    agent_update:\n      version: "${version}"\n      rollout_percent: 100\n`));
  }
  await run('git', ['init', '-q', '-b', 'main', repo]);
  await run('git', ['-C', repo, 'add', '.']);
  await run('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'releases']);
  return repo;
}

/** Starts an executable with a deadline; `done` resolves when it ends. */
function start(file: string, args: string[], env: Record<string, string>, timeoutMs: number) {
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.once('close', (code) => {
    clearTimeout(timer);
    resolve({ code, output });
  }));
  return { child, done };
}

const runToEnd = (file: string, args: string[], env: Record<string, string>, timeoutMs: number) => start(file, args, env, timeoutMs).done;

test('self-update: a tampered build is refused, a failing one rolled back, a good one applied and restarted into', { timeout: 900_000 }, async (t) => {
  const [v1, v2] = [await cachedLinuxBuild('1.0.0-test'), await cachedLinuxBuild('2.0.0-test')];
  const dir = await makeTempDir(t, 'pswm-update-');
  const fleet = await startFleet(t, { serverArgs: ['--policy-repo', await policyRepo(dir, { tampered: '3.0.0-bad', failing: '4.0.0-fail', good: '2.0.0-test' })] });
  const db = { DATABASE_URL: fleet.databaseUrl, PSWM_LOG_LEVEL: 'warn' };
  const keygen = await runServerCommand(['release', 'keygen', '--out', dir], db);
  assert.equal(keygen.code, 0, keygen.stderr);
  const key = path.join(dir, 'release.key');
  for (const [file, version] of [[v2, '2.0.0-test'], [v2, '3.0.0-bad'], [await nodeBinary('linux', NODE_VERSIONS.shipped), '4.0.0-fail']]) {
    const added = await runServerCommand(['release', 'add', file, '--version', version, '--platform', 'linux', '--key', key], db);
    assert.equal(added.code, 0, added.stderr);
  }
  // the stored bytes of 3.0.0-bad change after signing: what a tampered mirror or disk would serve
  const tamper = await fleet.sql`update agent_releases set content = content || '\\x00'::bytea where version = '3.0.0-bad'`;
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

/** A data folder `dir/name` whose bin/pswm is a copy of `build`, enrolled by token as `name` in acme/lab. */
async function enrolledBuild(fleet: Awaited<ReturnType<typeof startFleet>>, dir: string, build: string, name: string, extraEnv: Record<string, string> = {}) {
  const home = path.join(dir, name);
  const exe = path.join(home, 'bin', 'pswm');
  await mkdir(path.dirname(exe), { recursive: true });
  await copyFile(build, exe);
  const created = await fleet.admin(['agent', 'create', name, '--org', 'acme', '--location', 'lab']);
  assert.equal(created.code, 0, created.stderr);
  const env = { PSWM_HOME: home, PSWM_UPDATE_CHECK_SECONDS: '1', ...extraEnv };
  const enrolled = await runToEnd(exe, ['enroll', '--server', fleet.url, '--token', created.stdout.trim()], env, 120_000);
  assert.equal(enrolled.code, 0, enrolled.output);
  return { name, home, exe, env };
}

/** The agent's update steps in order. A download that failed (the server busy, a timeout on a
 * loaded machine) is retried at the next iteration, which is the designed behaviour, so such
 * attempts are left out of the sequence; any other failure is a test failure. */
async function auditSteps(fleet: { sql: Awaited<ReturnType<typeof startFleet>>['sql'] }, name: string): Promise<string[]> {
  const rows = await fleet.sql<{ action: string; detail: string | null }[]>`
    select action, details ->> 'detail' as detail from audit_log where action like 'agent.update.%' and actor = ${`agent:${name}`} order by id`;
  const retried = rows.filter((row) => row.action === 'agent.update.failed' && row.detail?.startsWith('download failed'));
  if (retried.length > 0) console.log(`${name}: ${retried.length} download attempt(s) retried: ${retried.map((row) => row.detail).join('; ')}`);
  return rows.filter((row) => !retried.includes(row)).map((row) => row.action.slice('agent.update.'.length));
}

async function pendingIn(home: string): Promise<boolean> {
  const state = JSON.parse(await readFile(path.join(home, 'state', 'update.json'), 'utf8')) as { pending?: unknown };
  return state.pending !== undefined;
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/** The service manager: `pswm service`, started again 1 s after it exits with anything but 0 or 3
 * (systemd's Restart=on-failure with RestartPreventExitStatus=3), at most 10 times. */
function supervise(t: { after(fn: () => void): void }, exe: string, env: Record<string, string>) {
  const codes: Array<number | null> = [];
  let current: ReturnType<typeof start> | undefined;
  let stopped = false;
  const run = async () => {
    while (!stopped && codes.length < 10) {
      current = start(exe, ['service'], env, 600_000);
      const { code } = await current.done;
      codes.push(code);
      if (code === 0 || code === 3) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  const running = run();
  t.after(() => {
    stopped = true;
    current?.child.kill('SIGKILL');
  });
  return {
    codes,
    /** SIGTERM to the running service; resolves with every exit status once it ended. */
    async stop() {
      stopped = true;
      current?.child.kill('SIGTERM');
      await running;
      return codes;
    },
  };
}
