// Shared by the self-update suites (self-update.test.ts, self-update-restart.test.ts): a policy
// repository that rolls versions out to named agents, agents enrolled from a copy of a real build, the
// service started as a service manager would, and the update steps as the server audited them.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { startFleet } from './fleet.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const run = promisify(execFile);

export async function policyRepo(dir: string, versions: Record<string, string>): Promise<string> {
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
export function start(file: string, args: string[], env: Record<string, string>, timeoutMs: number) {
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

export const runToEnd = (file: string, args: string[], env: Record<string, string>, timeoutMs: number) => start(file, args, env, timeoutMs).done;

/** A data folder `dir/name` whose bin/pswm is a copy of `build`, enrolled by token as `name` in acme/lab. */
export async function enrolledBuild(fleet: Awaited<ReturnType<typeof startFleet>>, dir: string, build: string, name: string, extraEnv: Record<string, string> = {}) {
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
export async function auditSteps(fleet: { sql: Awaited<ReturnType<typeof startFleet>>['sql'] }, name: string): Promise<string[]> {
  const rows = await fleet.sql<{ action: string; detail: string | null }[]>`
    select action, details ->> 'detail' as detail from audit_log where action like 'agent.update.%' and actor = ${`agent:${name}`} order by id`;
  const retried = rows.filter((row) => row.action === 'agent.update.failed' && row.detail?.startsWith('download failed'));
  if (retried.length > 0) console.log(`${name}: ${retried.length} download attempt(s) retried: ${retried.map((row) => row.detail).join('; ')}`);
  return rows.filter((row) => !retried.includes(row)).map((row) => row.action.slice('agent.update.'.length));
}

export async function pendingIn(home: string): Promise<boolean> {
  const state = JSON.parse(await readFile(path.join(home, 'state', 'update.json'), 'utf8')) as { pending?: unknown };
  return state.pending !== undefined;
}

export async function waitFor(probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/** The service manager: `pswm service`, started again 1 s after it exits with anything but 0 or 3
 * (systemd's Restart=on-failure with RestartPreventExitStatus=3), at most 10 times. */
export function supervise(t: { after(fn: () => void): void }, exe: string, env: Record<string, string>) {
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
