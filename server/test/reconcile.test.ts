// reconcileOnce against real PostgreSQL and a real git repository (git CLI commits, read by the
// server's local policy source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from './support/database.ts';
import { openPolicySource } from '../src/git/source.ts';
import { oneRunAtATime, reconcileOnce } from '../src/reconcile/reconcile.ts';
import { appliedRevision, objectCounts, silentLog, tempDir, templateRepo } from './reconcile-fixtures.ts';

async function setup(t: Parameters<typeof templateRepo>[0]) {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const source = await openPolicySource({ dataDir: repo.dir, policyRepo: repo.dir, policyBranch: 'main' }, silentLog);
  t.after(() => source.close());
  const reconcile = (trigger = 'test') => reconcileOnce({ sql: db.sql, source, log: silentLog, trigger });
  return { sql: db.sql, repo, reconcile };
}

const BROKEN_PARIS = `apiVersion: pswm/v1
kind: Location
metadata:
  name: paris
spec:
  organization: contoso
  settings:
    agent:
      interval_seconds: "often"
`;

test('the template applies, and the same revision again is a no-op', async (t) => {
  const { sql, reconcile } = await setup(t);
  const first = await reconcile();
  assert.equal(first.status, 'applied', first.message);
  assert.ok(first.counts.added > 10);
  assert.deepEqual(first.counts, { added: first.counts.added, changed: 0, removed: 0 });
  const counts = await objectCounts(sql);
  assert.equal(counts.Location, 4);
  assert.equal(counts.Settings, 1);
  assert.equal(await appliedRevision(sql), first.revision);
  const [scopes] = await sql`select count(*)::int as n, count(distinct document_sha256)::int as documents from scope_documents`;
  assert.equal(scopes.n, 4 + 1, 'four locations and one agent pinned by an override');
  assert.ok(first.changedScopes.includes('contoso/paris'));
  // the apply is audited, in the same transaction as its rows
  const audited = await sql`select actor, target, outcome, details from audit_log where action = 'policy.apply'`;
  assert.equal(audited.length, 1);
  assert.equal(audited[0].target, first.revision);
  assert.equal(audited[0].outcome, 'success');
  assert.match(audited[0].actor, /^reconciler:/);
  assert.deepEqual(audited[0].details.counts, first.counts);

  const second = await reconcile();
  assert.equal(second.status, 'no-op');
  assert.equal(second.revision, first.revision);
  const rows = await sql`select status from reconciliations order by id`;
  assert.deepEqual(rows.map((r) => r.status), ['applied', 'no-op']);
  assert.equal((await sql`select 1 from audit_log where action = 'policy.apply'`).length, 1, 'a no-op is not audited as an apply');

  // Polling the same revision again does not grow the history: consecutive no-ops share a row.
  const third = await reconcile();
  assert.equal(third.status, 'no-op');
  assert.equal(third.id, second.id);
  const history = await sql`select status, repeats from reconciliations order by id`;
  assert.deepEqual(history.map((r) => [r.status, r.repeats]), [['applied', 1], ['no-op', 2]]);
});

test('a broken commit is rejected with file:line errors and the applied revision stays', async (t) => {
  const { sql, repo, reconcile } = await setup(t);
  const good = await reconcile();
  const before = await objectCounts(sql);
  const broken = await repo.commit({ 'organizations/contoso/paris.yaml': BROKEN_PARIS }, 'break paris');

  const rejected = await reconcile();
  assert.equal(rejected.status, 'rejected');
  assert.equal(rejected.reason, 'ValidationFailed');
  assert.equal(rejected.revision, broken);
  assert.ok(rejected.errors.length > 0);
  assert.equal(rejected.errors[0].file, 'organizations/contoso/paris.yaml');
  assert.equal(rejected.errors[0].line, 9);
  assert.equal(await appliedRevision(sql), good.revision);
  assert.deepEqual(await objectCounts(sql), before);
  const [state] = await sql`select last_attempted_revision, last_attempted_status, conditions from policy_state`;
  assert.equal(state.last_attempted_revision, broken);
  assert.equal(state.last_attempted_status, 'rejected');
  const ready = state.conditions.find((c: { type: string }) => c.type === 'Ready');
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'ValidationFailed');
  const [record] = await sql`select errors from reconciliations where status = 'rejected'`;
  assert.equal(record.errors[0].line, 9);

  // A rejected head left on the branch is tried on every poll: the attempts share one row.
  const again = await reconcile('poll');
  assert.equal(again.status, 'rejected');
  assert.equal(again.id, rejected.id);
  const history = await sql`select status, repeats, trigger from reconciliations order by id`;
  assert.deepEqual(history.map((r) => [r.status, r.repeats, r.trigger]), [['applied', 1, 'test'], ['rejected', 2, 'poll']]);

  // The same broken head again: still rejected (not a no-op: it was never applied).
  assert.equal((await reconcile()).status, 'rejected');

  const fixed = await repo.commit({ 'organizations/contoso/paris.yaml': BROKEN_PARIS.replace('"often"', '600') }, 'fix paris');
  const applied = await reconcile();
  assert.equal(applied.status, 'applied', applied.message);
  assert.equal(await appliedRevision(sql), fixed);
});

test('only rows whose content changed are written', async (t) => {
  const { sql, repo, reconcile } = await setup(t);
  const first = await reconcile();
  const edited = await repo.commit({
    'organizations/contoso/paris.yaml': BROKEN_PARIS.replace('"often"', '600'),
  }, 'paris converges every 10 minutes');
  const second = await reconcile();
  assert.equal(second.status, 'applied', second.message);
  assert.deepEqual(second.counts, { added: 0, changed: 1, removed: 0 });
  const rewritten = await sql`select kind, id from policy_objects where revision = ${edited}`;
  assert.deepEqual(rewritten.map((r) => `${r.kind}/${r.id}`), ['Location/contoso/paris']);
  const untouched = await sql`select count(*)::int as n from policy_objects where revision = ${first.revision}`;
  assert.equal(untouched[0].n, first.counts.added - 1);
  // Paris and the kiosk pinned there get new documents; Berlin, in the same organization, does not.
  assert.ok(second.changedScopes.includes('contoso/paris'));
  assert.ok(!second.changedScopes.includes('contoso/berlin'));
  const scopeRevisions = await sql`select scope from scope_documents where revision = ${edited} order by scope`;
  assert.deepEqual(scopeRevisions.map((r) => r.scope), second.changedScopes);
});

test('a commit removing more than the deletion budget is rejected unless the repository allows it', async (t) => {
  const { sql, repo, reconcile } = await setup(t);
  const first = await reconcile();
  const removeScripts = Object.fromEntries([
    'scripts/windows/disable-smbv1.yaml', 'scripts/windows/set-timezone-paris.yaml', 'scripts/windows/temp-cleanup.yaml',
    'scripts/windows/time-resync.yaml', 'scripts/windows/windows-update-policy.yaml', 'scripts/linux/motd.yaml',
    'scripts/linux/chrony-pool.yaml',
  ].map((file) => [file, null]));
  await repo.commit(removeScripts, 'remove every script');
  const rejected = await reconcile();
  assert.equal(rejected.status, 'rejected', rejected.message);
  assert.equal(rejected.reason, 'DeletionBudgetExceeded');
  assert.equal(rejected.counts.removed, 7);
  assert.equal(await appliedRevision(sql), first.revision);
  assert.equal((await objectCounts(sql)).Script, 7);

  const settings = await import('node:fs/promises').then((fs) => fs.readFile(`${repo.dir}/settings.yaml`, 'utf8'));
  const allowed = await repo.commit({ 'settings.yaml': settings.replace('allow_mass_deletion: false', 'allow_mass_deletion: true') }, 'allow it');
  const applied = await reconcile();
  assert.equal(applied.status, 'applied', applied.message);
  assert.equal(applied.counts.removed, 7);
  assert.equal(await appliedRevision(sql), allowed);
  assert.equal((await objectCounts(sql)).Script, undefined);
});

test('instances reconciling the same commit at once: one compiles and applies, the others wait and stop at "already applied"', async (t) => {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  // One policy source per instance, as each server keeps its own clone.
  const instances = await Promise.all([0, 1, 2].map(async () => {
    const source = await openPolicySource({ dataDir: await tempDir(t), policyRepo: repo.dir, policyBranch: 'main' }, silentLog);
    t.after(() => source.close());
    return source;
  }));
  const outcomes = await Promise.all(instances.map((source) => reconcileOnce({ sql: db.sql, source, log: silentLog, trigger: 'test', oneAtATime: oneRunAtATime({ reconciler: db.sql, embedded: false }) })));
  assert.deepEqual(outcomes.map((o) => o.status).sort(), ['applied', 'no-op', 'no-op']);
  for (const waited of outcomes.filter((o) => o.status === 'no-op')) {
    assert.equal(waited.message, `revision ${waited.revision} is already applied`);
    assert.ok(waited.stagesMs.wait > 0, JSON.stringify(waited.stagesMs));
    assert.equal(waited.stagesMs.compile, undefined, 'nothing read or compiled while waiting');
  }
});
