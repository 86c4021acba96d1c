// Signals after a reconcile and after a fact change, with real `pswm-server` processes on real
// PostgreSQL, real agents enrolled with their own keys and real WebSockets: only the agents whose
// document changed are woken, and every instance serves the new document once they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createToken } from '../src/auth/tokens.ts';
import { connectAgentSocket, type AgentSocket } from './support/agent-socket.ts';
import { freshDatabase, type TestDatabase } from './support/database.ts';
import { commitFiles, runGit } from './support/git-http-server.ts';
import { sharedSecretKey, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { appliedRevision, tempDir, templateRepo, until, type Hooks } from './reconcile-fixtures.ts';
import { enrolAgent, getDesiredState } from './desired-fixtures.ts';

/** Long enough for a signal that was going to come to have come (they take milliseconds). */
const QUIET_MS = 3000;

interface Agent {
  id: string;
  name: string;
  accessToken: string;
  socket: AgentSocket;
  etag: string;
}

async function startServer(t: Hooks, db: TestDatabase, repoDir: string, keyEnv: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess({ dataDir: await tempDir(t), args: ['--policy-repo', repoDir, '--poll-interval', '3600'], env: { DATABASE_URL: db.url, PSWM_LOG_LEVEL: 'info', ...keyEnv } });
  t.after(() => server.stop());
  return server;
}

async function adminToken(db: TestDatabase): Promise<string> {
  return (await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: `admin-${randomUUID()}`, actor: 'test' }))).token;
}

/** Enrols `name` through `server`, connects its WebSocket to `socketServer`, and fetches its desired
 * state once (as an agent does after enrolling). */
async function enrolConnected(server: ServerProcess, admin: string, name: string, placement: { organization: string; location: string }, socketServer = server): Promise<Agent> {
  const { id, accessToken } = await enrolAgent(server.url, admin, name, placement);
  const socket = await connectAgentSocket(socketServer.url, accessToken);
  const first = await getDesiredState(socketServer.url, accessToken);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  return { id, name, accessToken, socket, etag: first.headers.get('etag')! };
}

/** A server process on a fresh database, reading `repoDir` (the template unless given), once the
 * template is applied; and an admin token. */
async function templateServer(t: Hooks, repoDir?: string) {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const keyEnv = await sharedSecretKey(await tempDir(t));
  const server = await startServer(t, db, repoDir ?? repo.dir, keyEnv);
  await until('the template to be applied', () => appliedRevision(db.sql).then((revision) => revision ?? undefined), 120_000);
  return { db, repo, server, keyEnv, admin: await adminToken(db) };
}

/** Commits a new Paris interval and has `server` apply it (its ref watcher may be first). */
async function applyParisInterval(server: ServerProcess, admin: string, db: TestDatabase, repoDir: string, seconds: number): Promise<string> {
  const revision = await setParisInterval(repoDir, seconds);
  const response = await fetch(`${server.url}/api/v1/reconcile`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
  assert.ok(response.ok, await response.text());
  await until(`revision ${revision} to be applied`, async () => (await appliedRevision(db.sql)) === revision, 60_000);
  return revision;
}

async function setParisInterval(repoDir: string, seconds: number): Promise<string> {
  const file = path.join(repoDir, 'organizations/contoso/paris.yaml');
  const text = await readFile(file, 'utf8');
  const changed = text.replace(/interval_seconds: \d+/, `interval_seconds: ${seconds}`);
  assert.notEqual(changed, text);
  return commitFiles(repoDir, { 'organizations/contoso/paris.yaml': changed }, `paris converges every ${seconds} s`);
}

function quiet(...agents: Agent[]): Promise<void> {
  return new Promise((resolve) => setTimeout(() => {
    for (const agent of agents) assert.deepEqual(agent.socket.messages, [], `${agent.name} must not be signalled`);
    resolve();
  }, QUIET_MS));
}

test('a commit changing one location\'s settings signals exactly that location\'s agents whose document changed', { timeout: 180_000 }, async (t) => {
  const { db, repo, server, admin } = await templateServer(t);

  const paris = [await enrolConnected(server, admin, 'paris-1', { organization: 'contoso', location: 'paris' }), await enrolConnected(server, admin, 'paris-2', { organization: 'contoso', location: 'paris' })];
  // The kiosk's AgentOverride sets its own interval, which masks the change below.
  const kiosk = await enrolConnected(server, admin, 'PARIS-KIOSK-01', { organization: 'contoso', location: 'paris' });
  const berlin = await enrolConnected(server, admin, 'berlin-1', { organization: 'contoso', location: 'berlin' });
  const nyc = await enrolConnected(server, admin, 'nyc-1', { organization: 'fabrikam', location: 'nyc' });
  assert.notEqual(kiosk.etag, paris[0].etag, 'the kiosk has a document of its own');
  await quiet(...paris, kiosk, berlin, nyc);

  const revision = await applyParisInterval(server, admin, db, repo.dir, 600);
  for (const agent of paris) {
    assert.deepEqual(await agent.socket.message(1), { type: 'reconcile', reason: `policy revision ${revision}` });
    const fresh = await getDesiredState(server.url, agent.accessToken, agent.etag);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.settings.agent.interval_seconds, 600);
    assert.equal(fresh.headers.get('x-pswm-revision'), revision);
  }
  await quiet(kiosk, berlin, nyc);
  const kioskAfter = await getDesiredState(server.url, kiosk.accessToken, kiosk.etag);
  assert.equal(kioskAfter.status, 304, 'the override masks the change: the kiosk\'s document is the same');
  assert.equal(kioskAfter.headers.get('x-pswm-revision'), revision);
  assert.equal((await getDesiredState(server.url, berlin.accessToken, berlin.etag)).status, 304);
});

test('a fact change that flips a fact-selected script changes that agent\'s document and signals it, and only it', { timeout: 180_000 }, async (t) => {
  const { db, repo, server, admin } = await templateServer(t);
  const flipping = await enrolConnected(server, admin, 'desk-1', { organization: 'contoso', location: 'paris' });
  const neighbour = await enrolConnected(server, admin, 'desk-2', { organization: 'contoso', location: 'paris' });
  assert.equal(flipping.etag, neighbour.etag);

  const report = async (agent: Agent, family: string) => {
    const now = new Date().toISOString();
    const response = await fetch(`${server.url}/api/v1/agent/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agent.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: randomUUID(), started_at: now, finished_at: now, dry_run: false, facts: { os: { family, version: '10' }, uptime_seconds: 5 } }),
    });
    assert.equal(response.status, 201, await response.text());
  };

  await report(flipping, 'windows');
  assert.deepEqual(await flipping.socket.message(1), { type: 'reconcile', reason: `desired state changed (policy revision ${await appliedRevision(db.sql)})` });
  const windows = await getDesiredState(server.url, flipping.accessToken, flipping.etag);
  assert.equal(windows.status, 200);
  assert.ok(windows.body.scripts.some((script: { name: string }) => script.name === 'disable-smbv1'), 'the windows-only script now applies');
  await quiet(neighbour);

  // Facts that selectors do not read (uptime) change nothing and wake nobody.
  await report(flipping, 'windows');
  await quiet(neighbour);
  assert.equal(flipping.socket.messages.length, 1);

  await report(flipping, 'linux');
  assert.equal(((await flipping.socket.message(2)) as { type: string }).type, 'reconcile');
  const linux = await getDesiredState(server.url, flipping.accessToken);
  assert.equal(linux.headers.get('etag'), neighbour.etag, 'back to the location\'s document');
});

test('two servers on one database: a reconcile applied by A makes B serve the new document and wakes B\'s agent', { timeout: 180_000 }, async (t) => {
  const { db, repo, server: a, admin, keyEnv } = await templateServer(t);
  // B reads a clone that never gets the commit, so only A can apply it.
  const cloneDir = path.join(await tempDir(t), 'clone');
  await runGit(['clone', '--quiet', repo.dir, cloneDir]);
  const b = await startServer(t, db, cloneDir, keyEnv);
  const onB = await enrolConnected(a, admin, 'paris-b', { organization: 'contoso', location: 'paris' }, b);

  const revision = await applyParisInterval(a, admin, db, repo.dir, 450);
  assert.deepEqual(await onB.socket.message(1), { type: 'reconcile', reason: `policy revision ${revision}` });
  const fromB = await getDesiredState(b.url, onB.accessToken, onB.etag);
  assert.equal(fromB.status, 200, 'B knows the document changed');
  assert.equal(fromB.body.settings.agent.interval_seconds, 450);
  assert.equal(fromB.headers.get('x-pswm-revision'), revision);
  const again = await getDesiredState(b.url, onB.accessToken, fromB.headers.get('etag')!);
  assert.equal(again.status, 304);
});

test('facts reported to two servers at once: every agent ends with the document its facts select, none left behind', { timeout: 180_000 }, async (t) => {
  const { db, repo, server: a, admin, keyEnv } = await templateServer(t);
  const b = await startServer(t, db, repo.dir, keyEnv);
  const agents = await Promise.all(Array.from({ length: 24 }, (_, i) => enrolAgent(a.url, admin, `desk-${i}`, { organization: 'contoso', location: 'paris' })));
  // Every agent reports Windows facts, half through each server, all at once: each server refreshes
  // its agents' own scopes while the other writes its own.
  await Promise.all(agents.map(async (agent, i) => {
    const now = new Date().toISOString();
    const response = await fetch(`${(i % 2 ? b : a).url}/api/v1/agent/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agent.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: randomUUID(), started_at: now, finished_at: now, dry_run: false, facts: { os: { family: 'windows', version: '10' } } }),
    });
    assert.equal(response.status, 201, await response.text());
  }));
  const ownScopes = () => db.sql<{ scope: string }[]>`select scope from scope_documents where scope like 'contoso/paris/desk-%'`.then((rows) => rows.length);
  await until('every agent to have its own scope', async () => (await ownScopes()) === agents.length || undefined, 60_000);
  for (const agent of agents) {
    const desired = await getDesiredState(a.url, agent.accessToken);
    assert.ok(desired.body.scripts.some((script: { name: string }) => script.name === 'disable-smbv1'), `${agent.name} gets the windows-only script`);
  }
});
