// The reconciler inside real `pswm-server start` processes: the API over the applied state, a
// rejected commit served side by side with the applied one, and embedded PostgreSQL (PGlite).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from './support/database.ts';
import { runServerCommand, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { initialAdminToken, tempDir, templateRepo, until } from './reconcile-fixtures.ts';
import { loadPolicy } from '../../schemas/src/validate/load-policy.ts';
import { readPolicyDir } from '../../schemas/src/source/dir.ts';
import { compileGroup } from '../../schemas/src/compile/compile-group.ts';

function client(server: ServerProcess, token: string) {
  return async (method: string, url: string, body?: object): Promise<{ status: number; body: any }> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) };
    const response = await fetch(new URL(url, server.url), { method, headers, body: body ? JSON.stringify(body) : undefined });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** A server on a fresh database following a temp copy of the template, and an admin client. */
async function startReconcileServer(t: Parameters<typeof templateRepo>[0]) {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const dataDir = await tempDir(t);
  const server = await startServerProcess({
    dataDir, args: ['--policy-repo', repo.dir, '--poll-interval', '3600'], env: { DATABASE_URL: db.url },
  });
  t.after(() => server.stop());
  const token = await initialAdminToken(dataDir);
  return { db, repo, server, token, admin: client(server, token) };
}

test('a rejected commit is visible next to the applied revision with its errors (API, log, reconcile status); removing a place with agents warns', async (t) => {
  const { repo, server, admin, token } = await startReconcileServer(t);

  const first = await admin('POST', '/api/v1/reconcile');
  assert.equal(first.status, 200);
  assert.ok(['applied', 'no-op'].includes(first.body.status), JSON.stringify(first.body));
  const applied = (await admin('GET', '/api/v1/revision')).body.applied.revision;
  assert.match(applied, /^[0-9a-f]{40}$/);
  assert.equal((await fetch(new URL('/ready', server.url))).status, 200);

  const broken = await repo.commit({ 'organizations/contoso/berlin.yaml': 'apiVersion: pswm/v1\nkind: Location\nmetadata: {name: berlin}\nspec: {organization: nowhere}\n' }, 'berlin moves nowhere');
  const rejected = await admin('POST', '/api/v1/reconcile');
  assert.equal(rejected.body.status, 'rejected');
  assert.equal(rejected.body.errors[0].file, 'organizations/contoso/berlin.yaml');

  const revision = (await admin('GET', '/api/v1/revision')).body;
  assert.equal(revision.applied.revision, applied);
  assert.equal(revision.lastAttempted.revision, broken);
  assert.equal(revision.lastAttempted.status, 'rejected');
  assert.equal(revision.conditions.find((c: any) => c.type === 'Ready').reason, 'ValidationFailed');
  assert.equal(revision.lastAttempted.reason, 'ValidationFailed');
  const [error] = revision.lastAttempted.errors;
  assert.equal(error.file, 'organizations/contoso/berlin.yaml');
  assert.ok(error.line >= 1 && error.col >= 1 && error.code, JSON.stringify(error));
  // The log names each error as file:line:col at warn level, not only a count.
  const logged = server.logs().split('\n').filter((line) => line.includes('"level":40') && line.includes(`organizations/contoso/berlin.yaml:${error.line}:${error.col}: `));
  assert.ok(logged.length >= 1, server.logs().slice(-2000));
  const status = await runServerCommand(['reconcile', 'status', '--server', server.url], { PSWM_ADMIN_TOKEN: token });
  assert.equal(status.code, 1, status.stderr);
  assert.match(status.stdout, new RegExp(`^applied:   ${applied} at `, 'm'));
  assert.match(status.stdout, new RegExp(`^attempted: ${broken} at .*: rejected \\(ValidationFailed\\)$`, 'm'));
  assert.match(status.stdout, new RegExp(`^  organizations/contoso/berlin\\.yaml:${error.line}:${error.col}: .* \\[${error.code}\\]$`, 'm'));

  const locations = (await admin('GET', '/api/v1/policy/locations')).body;
  assert.equal(locations.total, 4);
  const berlin = locations.items.find((l: any) => l.id === 'contoso/berlin');
  assert.equal(berlin.organization, 'contoso');
  assert.equal(berlin.revision, applied);

  const history = (await admin('GET', '/api/v1/reconciliations?status=rejected&limit=5')).body.reconciliations;
  // The API and the local ref watcher may both have tried the broken head: each attempt is recorded.
  assert.ok(history.length >= 1);
  assert.ok(history.every((r: any) => r.revision === broken));
  assert.equal(history[0].author, 'Test Author <author@example.test>');
  assert.equal(history[0].message, 'berlin moves nowhere');
  assert.ok(history[0].errors[0].line >= 1);

  // Removing a location that still has an agent applies, and says so at warn level.
  assert.equal((await admin('POST', '/api/v1/agents', { name: 'berlin-1', organization: 'contoso', location: 'berlin' })).status, 201);
  const removal = await repo.commit({ 'organizations/contoso/berlin.yaml': null }, 'close berlin');
  // The local ref watcher may apply it before the API call does.
  assert.ok(['applied', 'no-op'].includes((await admin('POST', '/api/v1/reconcile')).body.status));
  await until('the warning', async () => server.logs().includes(`revision ${removal} removes contoso/berlin, which still has 1 enrolled agent(s)`), 10_000);
});

test('the read API validates its input and checks roles', async (t) => {
  const { db, repo, server, token, admin } = await startReconcileServer(t);
  const outcome = await admin('POST', '/api/v1/reconcile');
  assert.ok(['applied', 'no-op'].includes(outcome.body.status));

  const created = await fetch(new URL('/api/v1/tokens', server.url), {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'viewer', name: 'reader' }),
  });
  const viewer = client(server, (await created.json()).token);

  assert.equal((await viewer('GET', '/api/v1/reconciliations?limit=0')).status, 400);
  assert.equal((await viewer('GET', '/api/v1/reconciliations?status=exploded')).status, 400);
  assert.equal((await viewer('GET', '/api/v1/reconciliations?limit=ten')).status, 400);
  assert.equal((await viewer('GET', '/api/v1/policy/scripts?offset=-1')).status, 400);
  assert.equal((await viewer('GET', '/api/v1/policy/documents/not-a-digest')).status, 400);
  assert.equal((await viewer('GET', `/api/v1/policy/documents/${'0'.repeat(64)}`)).status, 404);
  assert.equal((await viewer('POST', '/api/v1/reconcile')).status, 403);
  assert.equal((await client(server, 'nonsense')('GET', '/api/v1/revision')).status, 401);

  const scripts = (await viewer('GET', '/api/v1/policy/scripts?limit=2')).body;
  assert.equal(scripts.items.length, 2);
  assert.ok(scripts.total > 2);
  // A served document: its ETag is its scope's document id, its bytes are what compileGroup gives an
  // agent of that scope, and If-None-Match with that ETag answers 304.
  const [row] = await db.sql`select document_sha256 from scope_documents where scope = 'contoso/paris'`;
  const url = new URL(`/api/v1/policy/documents/${row.document_sha256}`, server.url);
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('etag'), `"${row.document_sha256}"`);
  const loaded = loadPolicy(await readPolicyDir(repo.dir));
  assert.ok(loaded.ok);
  const expected = compileGroup(loaded.policy, { name: 'pc-paris-042', organization: 'contoso', location: 'paris', facts: {} });
  assert.equal(expected.sha256, row.document_sha256);
  assert.equal(await response.text(), expected.json);
  const again = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'if-none-match': `"${row.document_sha256}"` } });
  assert.equal(again.status, 304);

  const accepted = await admin('POST', '/api/v1/reconcile?wait=false');
  assert.equal(accepted.status, 202);
});

test('embedded PostgreSQL: pswm-server start with no configuration reconciles the demo repository', async (t) => {
  const dataDir = await tempDir(t);
  const server = await startServerProcess({ dataDir, args: ['--poll-interval', '3600'] });
  t.after(() => server.stop());
  const admin = client(server, await initialAdminToken(dataDir));
  const revision = await until('the demo revision to be applied', async () => {
    const { body } = await admin('GET', '/api/v1/revision');
    return body.applied.revision ?? undefined;
  });
  assert.match(revision, /^[0-9a-f]{40}$/);
  assert.equal((await fetch(new URL('/ready', server.url))).status, 200);
  const again = await admin('POST', '/api/v1/reconcile');
  assert.equal(again.body.status, 'no-op');
  const organizations = (await admin('GET', '/api/v1/policy/organizations')).body;
  assert.deepEqual(organizations.items.map((o: any) => o.name).sort(), ['contoso', 'fabrikam']);
});

test('/metrics counts reconciles by status and agents by status', async (t) => {
  const { repo, server, admin } = await startReconcileServer(t);
  assert.equal((await admin('POST', '/api/v1/reconcile')).status, 200);
  await repo.commit({ 'organizations/contoso/berlin.yaml': 'kind: [' }, 'broken yaml');
  assert.equal((await admin('POST', '/api/v1/reconcile')).body.status, 'rejected');
  const created = await admin('POST', '/api/v1/agents', { name: 'metrics-pc', organization: 'contoso', location: 'paris' });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const value = (series: string) => Number(text.match(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm'))?.[1]);
  assert.ok(value('pswm_reconciliations_total{status="applied"}') >= 1, text);
  // The local ref watcher may have rejected the broken commit too, before the API asked.
  const rejected = value('pswm_reconciliations_total{status="rejected"}');
  assert.ok(rejected >= 1);
  assert.equal(value('pswm_reconcile_duration_seconds_count{status="rejected"}'), rejected);
  assert.ok(value('pswm_reconcile_last_applied_timestamp_seconds') > 0);
  assert.equal(value('pswm_agents{status="pending"}'), 1);
});
