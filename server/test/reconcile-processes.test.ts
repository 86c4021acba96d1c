// The reconciler across real processes: the CLI, two servers racing on one database, a server killed
// with SIGKILL in the middle of a large apply, and a remote repository over authenticated smart HTTP
// triggered by a signed webhook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freshDatabase } from './support/database.ts';
import { sharedSecretKey, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { gitWorkspace, runGit, startGitHttpServer } from './support/git-http-server.ts';
import { openPolicySource } from '../src/git/source.ts';
import { reconcileOnce, RECONCILE_LOCK_KEY } from '../src/reconcile/reconcile.ts';
import { appliedRevision, appliedState, initialAdminToken, objectCounts, silentLog, tempDir, templateRepo, TEMPLATE_DIR, until } from './reconcile-fixtures.ts';
import { generatePolicyRepo, writePolicyRepo } from '../../bench/generate-policy.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
async function post(server: ServerProcess, dataDir: string, url: string): Promise<any> {
  const token = await initialAdminToken(dataDir);
  const response = await fetch(new URL(url, server.url), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  return response.json();
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const { DATABASE_URL: _unused, ...inherited } = process.env;
    execFile(process.execPath, [MAIN, ...args], { env: { ...inherited, ...env }, timeout: 120_000, killSignal: 'SIGKILL' }, (error, stdout) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout });
    });
  });
}

test('pswm-server reconcile runs one reconcile and exits 1 with file:line:col errors on a broken revision', async (t) => {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const dataDir = await tempDir(t);
  const args = ['reconcile', '--policy-repo', repo.dir, '--data-dir', dataDir];
  const applied = await runCli(args, { DATABASE_URL: db.url });
  assert.equal(applied.code, 0, applied.stdout);
  assert.match(applied.stdout, /^applied: /);

  await repo.commit({ 'packages/baseline.yaml': 'apiVersion: pswm/v1\nkind: ChocoDeployment\nmetadata: {name: baseline}\nspec: {packages: [{name: git, ensure: sometimes}]}\n' }, 'bad ensure');
  const rejected = await runCli(args, { DATABASE_URL: db.url });
  assert.equal(rejected.code, 1);
  assert.match(rejected.stdout, /^rejected \(ValidationFailed\)/);
  assert.match(rejected.stdout, /^packages\/baseline\.yaml:4:\d+: .*\[SCHEMA_ENUM\]$/m);

  // reconcile status reads the same from the database: applied vs attempted, with the errors.
  const status = await runCli(['reconcile', 'status', '--data-dir', dataDir], { DATABASE_URL: db.url });
  assert.equal(status.code, 1);
  assert.match(status.stdout, /^attempted: [0-9a-f]{40} at .*: rejected \(ValidationFailed\)$/m);
  assert.match(status.stdout, /^  packages\/baseline\.yaml:4:\d+: .*\[SCHEMA_ENUM\]$/m);
});

test('two servers reconciling one database at once apply a revision exactly once', async (t) => {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const dirs = [await tempDir(t), await tempDir(t)];
  const servers = [];
  const keyEnv = await sharedSecretKey(dirs[0]);
  for (const dataDir of dirs) {
    const server = await startServerProcess({ dataDir, args: ['--policy-repo', repo.dir, '--poll-interval', '3600'], env: { DATABASE_URL: db.url, ...keyEnv } });
    t.after(() => server.stop());
    servers.push(server);
  }
  const first = await until('the template to be applied', () => appliedRevision(db.sql).then((r) => r ?? undefined));
  const paris = (await readFile(path.join(repo.dir, 'organizations/contoso/paris.yaml'), 'utf8')).replace('interval_seconds: 900', 'interval_seconds: 1200');
  const second = await repo.commit({ 'organizations/contoso/paris.yaml': paris }, 'paris every 20 minutes');
  // The initial admin token is written by whichever server reached the empty database first.
  const tokenDir = (await readFile(path.join(dirs[0], 'initial-admin-token')).then(() => dirs[0], () => dirs[1]));
  const outcomes = await Promise.all(servers.map((server) => post(server, tokenDir, '/api/v1/reconcile')));
  for (const outcome of outcomes) assert.ok(['applied', 'no-op'].includes(outcome.status), JSON.stringify(outcome));

  const applied = await db.sql`select revision, count(*)::int as n from reconciliations where status = 'applied' group by revision`;
  assert.deepEqual(Object.fromEntries(applied.map((r) => [r.revision, r.n])), { [first]: 1, [second]: 1 });

  // The same two revisions reconciled one after the other by a single reconciler.
  const alone = await freshDatabase(t);
  const source = await openPolicySource({ dataDir: dirs[0], policyRepo: repo.dir, policyBranch: 'main' }, silentLog);
  t.after(() => source.close());
  await runGit(['branch', 'first', first], repo.dir);
  const firstSource = await openPolicySource({ dataDir: dirs[0], policyRepo: repo.dir, policyBranch: 'first' }, silentLog);
  t.after(() => firstSource.close());
  assert.equal((await reconcileOnce({ sql: alone.sql, source: firstSource, log: silentLog, trigger: 'test' })).status, 'applied');
  assert.equal((await reconcileOnce({ sql: alone.sql, source, log: silentLog, trigger: 'test' })).status, 'applied');
  assert.deepEqual(await appliedState(db.sql), await appliedState(alone.sql));
});

test('kill -9 in the middle of a large apply leaves the previous revision intact; a restart applies the new one', async (t) => {
  const db = await freshDatabase(t);
  const repoDir = await tempDir(t, 'pswm-reconcile-large-');
  const size = { organizations: 20, locations: 400, overrides: 2000, scripts: 100, deployments: 40 };
  await writePolicyRepo(repoDir, generatePolicyRepo({ ...size, seed: 1 }));
  await runGit(['init', '--quiet', '-b', 'main'], repoDir);
  await runGit(['add', '--all'], repoDir);
  await runGit(['commit', '--quiet', '-m', 'generated, seed 1'], repoDir);
  const dataDir = await tempDir(t);
  const serverArgs = { dataDir, args: ['--policy-repo', repoDir, '--poll-interval', '3600'], env: { DATABASE_URL: db.url } };

  let server = await startServerProcess(serverArgs);
  const before = await until('the first revision to be applied', () => appliedRevision(db.sql).then((r) => r ?? undefined), 120_000);
  const countsBefore = await objectCounts(db.sql);
  const stateBefore = await appliedState(db.sql);
  await server.stop();

  // Every setting changes (another seed), so the apply rewrites thousands of rows.
  await writePolicyRepo(repoDir, generatePolicyRepo({ ...size, seed: 2 }));
  await runGit(['add', '--all'], repoDir);
  await runGit(['commit', '--quiet', '-m', 'generated, seed 2'], repoDir);
  const after = await runGit(['rev-parse', 'HEAD'], repoDir);

  server = await startServerProcess(serverArgs);
  // pg_locks lists the whole cluster: other test files' servers (other databases) take the same key
  const lockHeld = () => db.sql`
    select 1 from pg_locks where locktype = 'advisory' and objid = ${RECONCILE_LOCK_KEY} and granted
      and database = (select oid from pg_database where datname = current_database())`.then((rows) => rows.length > 0);
  await until('the apply transaction to hold the reconcile lock', lockHeld, 120_000, 5);
  await server.stop('SIGKILL');

  assert.equal(await appliedRevision(db.sql), before);
  assert.deepEqual(await objectCounts(db.sql), countsBefore);
  assert.deepEqual(await appliedState(db.sql), stateBefore);
  const [state] = await db.sql`select last_attempted_revision from policy_state`;
  assert.equal(state.last_attempted_revision, after, 'the killed attempt is visible as the last attempted revision');

  server = await startServerProcess(serverArgs);
  t.after(() => server.stop());
  await until('the new revision to be applied after the restart', () => appliedRevision(db.sql).then((r) => r === after), 120_000);
  const [changed] = await db.sql`select count(*)::int as n from policy_objects where revision = ${after}`;
  assert.ok(changed.n > 1000);
});

test('a remote repository over authenticated HTTP: a signed push webhook reconciles, an unsigned one is refused', async (t) => {
  const git = await startGitHttpServer({ username: 'pswm', password: 's3cret' });
  t.after(() => git.stop());
  await git.createRepo('policy.git');
  const workspace = await gitWorkspace(git.authenticatedUrl('policy.git'));
  t.after(() => workspace.remove());
  const { cp } = await import('node:fs/promises');
  await cp(TEMPLATE_DIR, workspace.dir, { recursive: true });
  const first = await workspace.commitFiles({}, 'policy template');
  await workspace.push();

  const db = await freshDatabase(t);
  const dataDir = await tempDir(t);
  const secret = 'webhook-secret';
  const server = await startServerProcess({
    dataDir,
    args: ['--policy-repo', git.url('policy.git'), '--poll-interval', '3600'],
    env: { DATABASE_URL: db.url, PSWM_GIT_USERNAME: 'pswm', PSWM_GIT_TOKEN: 's3cret', PSWM_WEBHOOK_SECRET: secret },
  });
  t.after(() => server.stop());
  await until('the first revision to be applied', () => appliedRevision(db.sql).then((r) => r === first));

  const paris = (await readFile(path.join(workspace.dir, 'organizations/contoso/paris.yaml'), 'utf8')).replace('interval_seconds: 900', 'interval_seconds: 1200');
  const second = await workspace.commitFiles({ 'organizations/contoso/paris.yaml': paris }, 'paris every 20 minutes');
  await workspace.push();

  const body = JSON.stringify({ ref: 'refs/heads/main', after: second });
  const deliver = (signature?: string) => fetch(new URL('/api/v1/hooks/git', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
    body,
  });
  assert.equal((await deliver()).status, 401);
  assert.equal((await deliver(`sha256=${createHmac('sha256', 'wrong').update(body).digest('hex')}`)).status, 401);
  const [{ n: attempts }] = await db.sql`select count(*)::int as n from reconciliations`;
  assert.equal(await appliedRevision(db.sql), first);

  assert.equal((await deliver(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`)).status, 202);
  await until('the pushed revision to be applied', () => appliedRevision(db.sql).then((r) => r === second));
  const rows = await db.sql`select trigger, status from reconciliations where id > ${attempts} order by id`;
  assert.deepEqual(rows.map((r) => [r.trigger, r.status]), [['webhook:github', 'applied']]);
});
