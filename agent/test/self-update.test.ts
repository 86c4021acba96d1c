// Self-update end to end on Linux with real processes: real single-file builds (agent/scripts/
// build-single.ts, kept in agent/.cache/update-builds per sources digest), a real server holding the
// releases signed by `pswm-server release add`, and `pswm service` processes, one agent per case,
// each told its version by an AgentOverride: a tampered build is refused and never run, a build that
// cannot report (a real executable that is not pswm) is tried and rolled back, a good one is applied
// and the service exits 75 for the service manager (here the test) to start the new build.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { buildSingle } from '../scripts/build-single.ts';
import { bundleAgent } from '../scripts/bundle.ts';
import { CACHE_DIR, nodeBinary, NODE_VERSIONS } from '../scripts/npm-binaries.ts';
import { runServerCommand } from '../../server/test/support/server-process.ts';
import { startFleet } from './support/fleet.ts';
import { makeTempDir } from './support/temp-dir.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function linuxBuild(version: string): Promise<string> {
  const out = path.join(CACHE_DIR, 'update-builds', version);
  const { identity } = await bundleAgent({ platform: 'linux', nodeVersion: NODE_VERSIONS.shipped, version });
  const cached = await readFile(path.join(out, 'build-info.json'), 'utf8').then((t) => JSON.parse(t) as { digest: string }, () => undefined);
  if (cached?.digest === identity.digest) return path.join(out, 'pswm');
  return (await buildSingle({ platform: 'linux', out, version })).executable;
}

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
  const [v1, v2] = [await linuxBuild('1.0.0-test'), await linuxBuild('2.0.0-test')];
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
    const home = path.join(dir, name);
    const exe = path.join(home, 'bin', 'pswm');
    await mkdir(path.dirname(exe), { recursive: true });
    await copyFile(v1, exe);
    const created = await fleet.admin(['agent', 'create', name, '--org', 'acme', '--location', 'lab']);
    assert.equal(created.code, 0, created.stderr);
    const env = { PSWM_HOME: home, PSWM_UPDATE_CHECK_SECONDS: '1' };
    const enrolled = await runToEnd(exe, ['enroll', '--server', fleet.url, '--token', created.stdout.trim()], env, 120_000);
    assert.equal(enrolled.code, 0, enrolled.output);
    assert.match(await readFile(path.join(home, 'config.json'), 'utf8'), /release_public_key/, 'the release key is pinned at enrollment');
    return { name, home, exe, env };
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

  const audit = await fleet.sql<{ action: string; actor: string }[]>`select action, actor from audit_log where action like 'agent.update.%' order by id`;
  const steps = (name: string) => audit.filter((a) => a.actor === `agent:${name}`).map((a) => a.action.slice('agent.update.'.length));
  assert.deepEqual(steps('tampered'), ['refused']);
  assert.deepEqual(steps('failing'), ['downloaded', 'staged', 'rolled_back']);
  assert.deepEqual(steps('good'), ['downloaded', 'staged', 'applied']);
});
