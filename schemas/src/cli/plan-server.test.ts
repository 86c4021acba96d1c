// `pswm-policy plan --server`: the plan of a real git repository resolved against a real
// `pswm-server start` process on a fresh PostgreSQL database, the CLI run as users run it.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { freshDatabase, type TestDatabase } from '../../../server/test/support/database.ts';
import { startServerProcess, type ServerProcess } from '../../../server/test/support/server-process.ts';

const MAIN = new URL('./main.ts', import.meta.url).pathname;
const TEMPLATE = new URL('../../../policy-repo-template/', import.meta.url).pathname;

let db: TestDatabase;
let server: ServerProcess;
let adminToken = '';
let tmp = '';
let repo = '';

const execFileAsync = promisify(execFile);

/** Runs pswm-policy to completion; a non-zero exit is a result here, not an error. */
async function runCli(args: string[], env: Record<string, string | undefined>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  try {
    return { status: 0, ...(await execFileAsync(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } })) };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { status: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const planArgs = () => ['plan', '--repo', repo, '--base', 'HEAD~1', '--head', 'HEAD', '--server', server.url];

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pswm-plan-server-'));
  db = await freshDatabase();
  const dataDir = path.join(tmp, 'data');
  server = await startServerProcess({ dataDir, env: { DATABASE_URL: db.url }, args: ['--poll-interval', '3600'] });
  adminToken = fs.readFileSync(path.join(dataDir, 'initial-admin-token'), 'utf8').trim();

  // 22 Paris workstations (one pending), the kiosk its override names, a revoked Paris machine and Berlin.
  const agent = (name: string, location: string, status = 'active') => ({
    name,
    organization: 'contoso',
    location,
    status,
    public_key: status === 'active' ? 'test-key' : null,
  });
  const rows = [
    ...Array.from({ length: 22 }, (_, i) => agent(`paris-ws-${String(i + 1).padStart(2, '0')}`, 'paris', i === 1 ? 'pending' : 'active')),
    agent('PARIS-KIOSK-01', 'paris'),
    agent('paris-retired', 'paris', 'revoked'),
    agent('berlin-ws-01', 'berlin'),
    agent('berlin-ws-02', 'berlin'),
  ];
  await db.sql`insert into agents ${db.sql(rows, 'name', 'organization', 'location', 'status', 'public_key')}`;

  repo = path.join(tmp, 'repo');
  fs.cpSync(TEMPLATE, repo, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repo,
      env: { ...process.env, GIT_AUTHOR_NAME: 'Ci Bot', GIT_AUTHOR_EMAIL: 'ci@example.test', GIT_COMMITTER_NAME: 'Ci Bot', GIT_COMMITTER_EMAIL: 'ci@example.test', GIT_CONFIG_NOSYSTEM: '1', HOME: tmp },
    });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'import the template');
  const paris = path.join(repo, 'organizations/contoso/paris.yaml');
  fs.writeFileSync(paris, fs.readFileSync(paris, 'utf8').replace('interval_seconds: 900', 'interval_seconds: 600'));
  // The kiosk overrides Paris's interval, so its group changes only with its own override.
  const kiosk = path.join(repo, 'overrides/paris-kiosk-01.yaml');
  fs.writeFileSync(kiosk, fs.readFileSync(kiosk, 'utf8').replace('interval_seconds: 300', 'interval_seconds: 120'));
  git('commit', '-q', '-am', 'Paris and its kiosk converge faster');
});

after(async () => {
  await server?.stop();
  await db?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('plan --server names the enrolled agents of each changed group and counts them', async () => {
  const result = await runCli(planArgs(), { PSWM_TOKEN: adminToken });
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.split('\n');
  const parisHeader = lines.indexOf('  ~ contoso/paris');
  assert.ok(parisHeader > 0, result.stdout);
  // The kiosk is planned in its own group (its override), not in its location's.
  const workstations = Array.from({ length: 20 }, (_, i) => `paris-ws-${String(i + 1).padStart(2, '0')}`);
  assert.equal(lines[parisHeader + 1], `      agents: ${workstations.join(', ')} and 2 more`);
  assert.ok(workstations.includes('paris-ws-02'), 'a pending agent counts');

  const kioskHeader = lines.findIndex((line) => line.startsWith('  ~ contoso/paris agent PARIS-KIOSK-01'));
  assert.equal(lines[kioskHeader + 1], '      agents: PARIS-KIOSK-01');
  assert.doesNotMatch(result.stdout, /berlin-ws|paris-retired/);
  assert.match(result.stdout, /\nAffects 23 enrolled agents\.\n$/);
});

test('plan --server --json adds the agents to each group and the number affected', async () => {
  const result = await runCli([...planArgs(), '--json'], { PSWM_TOKEN: adminToken });
  assert.equal(result.status, 0, result.stderr);
  const plan = JSON.parse(result.stdout);
  const byScope = new Map(plan.groups.map((group: { scope: string; agents: string[] }) => [group.scope, group.agents]));
  assert.deepEqual([...byScope.keys()].sort(), ['contoso/paris', 'contoso/paris agent PARIS-KIOSK-01']);
  assert.deepEqual(byScope.get('contoso/paris'), Array.from({ length: 22 }, (_, i) => `paris-ws-${String(i + 1).padStart(2, '0')}`));
  assert.deepEqual(byScope.get('contoso/paris agent PARIS-KIOSK-01'), ['PARIS-KIOSK-01']);
  assert.equal(plan.affectedAgents, 23);
});

test('plan without --server prints no agents', async () => {
  const result = await runCli(planArgs().slice(0, -2), { PSWM_TOKEN: adminToken });
  assert.equal(result.status, 0, result.stderr);
  assert.doesNotMatch(result.stdout, /agents:|Affects/);
});

test('plan --server with a wrong token exits 1 naming the server and the status, not the token', async () => {
  const wrongToken = 'pswm_wrong_token_0123456789';
  const result = await runCli(planArgs(), { PSWM_TOKEN: wrongToken });
  assert.equal(result.status, 1);
  assert.equal(result.stdout, '');
  assert.ok(result.stderr.includes(server.url), result.stderr);
  assert.match(result.stderr, /\b401\b/);
  assert.ok(!result.stderr.includes(wrongToken));
});

test('plan --server without PSWM_TOKEN is a usage error', async () => {
  const result = await runCli(planArgs(), { PSWM_TOKEN: undefined });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /PSWM_TOKEN/);
});

test('plan --server exits 1 naming the server when nothing listens there', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  const url = `http://127.0.0.1:${port}`;
  const result = await runCli([...planArgs().slice(0, -1), url], { PSWM_TOKEN: adminToken });
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`cannot reach pswm server ${url.replace(/\./g, '\\.')}`));
});
