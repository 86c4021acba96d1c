// Incremental reconcile: a process that remembers what it applied recompiles only the scopes a
// commit can reach and writes only what changed, and its result equals a full reconcile of the same
// revision on a clean database. A process whose memory is stale (another instance applied) rebuilds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type postgres from 'postgres';
import { freshDatabase } from './support/database.ts';
import { openPolicySource, type PolicySource } from '../src/git/source.ts';
import { reconcileOnce, type ReconcileOutcome } from '../src/reconcile/reconcile.ts';
import { createReconcileMemory, type ReconcileMemory } from '../src/reconcile/memory.ts';
import { appliedState, repoOf, silentLog, templateRepo, type Hooks, type LocalRepo } from './reconcile-fixtures.ts';
import { generatePolicyRepo, mutatePolicyRepo, type MutationKind } from '../../bench/generate-policy.ts';
import type { RepoFile } from '../../schemas/src/model.ts';

const GENERATED = { organizations: 3, locations: 12, overrides: 60, scripts: 12, deployments: 6, seed: 7 };

async function sourceOf(t: Hooks, repo: LocalRepo): Promise<PolicySource> {
  const source = await openPolicySource({ dataDir: repo.dir, policyRepo: repo.dir, policyBranch: 'main' }, silentLog);
  t.after(() => source.close());
  return source;
}

function reconciler(sql: postgres.Sql, source: PolicySource, memory?: ReconcileMemory) {
  return async (): Promise<ReconcileOutcome> => {
    const outcome = await reconcileOnce({ sql, source, log: silentLog, trigger: 'test', memory, insertMethod: 'copy' });
    assert.equal(outcome.status, 'applied', outcome.message);
    return outcome;
  };
}

/** The state a full reconcile of the source's head writes into a clean database. */
async function fullReconcileState(t: Hooks, source: PolicySource): Promise<unknown> {
  const clean = await freshDatabase(t);
  await reconciler(clean.sql, source)();
  const state = await appliedState(clean.sql, { revisions: false });
  await clean.drop();
  return state;
}

const shas = async (sql: postgres.Sql, table: 'document_parts' | 'desired_documents') =>
  new Set((await sql<Array<{ sha256: string }>>`select sha256 from ${sql(table)}`).map((r) => r.sha256));
const minus = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x));

/** Changes files of a RepoFile list in the repository: only the files whose text differs. */
async function commitChanged(repo: LocalRepo, before: RepoFile[], after: RepoFile[], message: string): Promise<string> {
  const old = new Map(before.map((f) => [f.path, f.text]));
  const changed = Object.fromEntries(after.filter((f) => old.get(f.path) !== f.text).map((f) => [f.path, f.text ?? '']));
  return repo.commit(changed, message);
}

test('after a one-file commit only the affected scopes are compiled and only their rows and parts are written', async (t) => {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const source = await sourceOf(t, repo);
  const reconcile = reconciler(db.sql, source, createReconcileMemory());
  const first = await reconcile();
  assert.equal(first.compiledScopes, 5, 'the first reconcile of a process compiles every scope');
  const partsBefore = await shas(db.sql, 'document_parts');
  const documentsBefore = await shas(db.sql, 'desired_documents');

  // A setting the kiosk inherits from Paris, so both documents change.
  const paris = await readFile(`${repo.dir}/organizations/contoso/paris.yaml`, 'utf8');
  const edited = await repo.commit({ 'organizations/contoso/paris.yaml': paris.replace('interval_seconds: 900', 'interval_seconds: 900\n      jitter_seconds: 30') }, 'paris: less jitter');
  const second = await reconcile();

  assert.equal(second.compiledScopes, 2, 'paris and the kiosk pinned there, nothing else');
  assert.deepEqual(second.changedScopes, ['contoso/paris', 'contoso/paris/PARIS-KIOSK-01']);
  const objects = await db.sql`select kind, id from policy_objects where revision = ${edited}`;
  assert.deepEqual(objects.map((r) => `${r.kind}/${r.id}`), ['Location/contoso/paris']);
  const scopes = await db.sql`select scope from scope_documents where revision = ${edited} order by scope`;
  assert.deepEqual(scopes.map((r) => r.scope), second.changedScopes);

  const partsAfter = await shas(db.sql, 'document_parts');
  const newParts = await db.sql`select kind from document_parts where sha256 = any(${minus(partsAfter, partsBefore)}::text[])`;
  assert.deepEqual(newParts.map((r) => r.kind), ['settings', 'settings'], 'two new settings parts; the resources parts are reused');
  assert.equal(minus(partsBefore, partsAfter).length, 2, 'the two old settings parts of paris are dropped');
  const documentsAfter = await shas(db.sql, 'desired_documents');
  assert.equal(minus(documentsAfter, documentsBefore).length, 2);
  assert.equal(minus(documentsBefore, documentsAfter).length, 2);

  assert.deepEqual(await appliedState(db.sql, { revisions: false }), await fullReconcileState(t, source));
});

/** A clean database and a generated repository; `change` commits one mutation of it. */
async function generatedSetup(t: Hooks) {
  const db = await freshDatabase(t);
  let files = generatePolicyRepo(GENERATED);
  const repo = await repoOf(t, files);
  const source = await sourceOf(t, repo);
  const change = async (kind: MutationKind) => {
    const next = mutatePolicyRepo(files, kind);
    await commitChanged(repo, files, next, kind);
    files = next;
  };
  return { db, source, change };
}

test('incremental reconciles of a generated repository end in the state a full reconcile writes', async (t) => {
  const { db, source, change } = await generatedSetup(t);
  const reconcile = reconciler(db.sql, source, createReconcileMemory());
  const first = await reconcile();
  const [{ n: scopeCount }] = await db.sql`select count(*)::int as n from scope_documents`;
  assert.equal(first.compiledScopes, scopeCount);

  for (const kind of ['one-location-setting', 'one-organization-setting', 'one-script-content', 'add-script'] as const) {
    await change(kind);
    const outcome = await reconcile();
    if (kind === 'one-location-setting' || kind === 'one-organization-setting') {
      assert.ok(outcome.compiledScopes > 0 && outcome.compiledScopes < scopeCount, `${kind}: compiled ${outcome.compiledScopes} of ${scopeCount}`);
    }
    assert.deepEqual(await appliedState(db.sql, { revisions: false }), await fullReconcileState(t, source), `after ${kind}`);
  }
});

test('an instance that did not apply the last revision takes it into memory and compiles only what the commit touches', async (t) => {
  const { db, source, change } = await generatedSetup(t);
  const instanceA = reconciler(db.sql, source, createReconcileMemory());
  const instanceB = reconciler(db.sql, source, createReconcileMemory());

  const all = (await instanceB()).compiledScopes;
  await change('one-location-setting'); // applied by A
  const adopted = await instanceA();
  assert.ok(adopted.compiledScopes < all, `A has no memory yet and takes B's revision in: compiled ${adopted.compiledScopes} of ${all}`);
  assert.deepEqual(await appliedState(db.sql, { revisions: false }), await fullReconcileState(t, source));
  await change('one-location-setting'); // applied by B, whose memory is a revision behind
  const rebuilt = await instanceB();
  assert.ok(rebuilt.compiledScopes < all, `B notices the database moved on and takes A's revision in: compiled ${rebuilt.compiledScopes} of ${all}`);
  assert.deepEqual(await appliedState(db.sql, { revisions: false }), await fullReconcileState(t, source));

  await change('one-location-setting'); // B again, now current
  const incremental = await instanceB();
  assert.ok(incremental.compiledScopes < all, `compiled ${incremental.compiledScopes} of ${all}`);
  assert.deepEqual(await appliedState(db.sql, { revisions: false }), await fullReconcileState(t, source));
});

/** Enrolled agents as rows: Windows machines (a facts selector gives them own scopes), a Linux one
 * (its location's document) and the Paris kiosk an AgentOverride pins. */
async function enrolFleet(sql: postgres.Sql): Promise<void> {
  const agents: Array<[string, string, string, string]> = [
    ['paris-ws-1', 'contoso', 'paris', 'windows'], ['paris-ws-2', 'contoso', 'paris', 'windows'], ['PARIS-KIOSK-01', 'contoso', 'paris', 'windows'],
    ['berlin-ws-1', 'contoso', 'berlin', 'windows'], ['nyc-ws-1', 'fabrikam', 'nyc', 'windows'], ['lab-01', 'fabrikam', 'lab-linux', 'linux'],
  ];
  for (const [name, organization, location, family] of agents) {
    await sql`insert into agents (name, organization, location, status, public_key, facts)
      values (${name}, ${organization}, ${location}, 'active', 'test-key', ${sql.json({ os: { family } })})`;
  }
}

test('a commit re-decides only the agents it can reach; the others keep their own scopes, as a full reconcile would write them', async (t) => {
  const db = await freshDatabase(t);
  await enrolFleet(db.sql);
  const repo = await templateRepo(t);
  const source = await sourceOf(t, repo);
  const reconcile = reconciler(db.sql, source, createReconcileMemory());
  const fullWithFleet = async () => {
    const clean = await freshDatabase(t);
    await enrolFleet(clean.sql);
    await reconciler(clean.sql, source)();
    const state = await appliedState(clean.sql, { revisions: false });
    await clean.drop();
    return state;
  };
  const ownScopes = async () => (await db.sql<Array<{ scope: string }>>`select scope from scope_documents where scope like '%/%/%' order by scope`).map((r) => r.scope);

  assert.equal((await reconcile()).decidedAgents, 6, 'the first reconcile of a process decides every agent');
  const before = await ownScopes();
  assert.ok(before.includes('contoso/berlin/berlin-ws-1') && before.includes('fabrikam/nyc/nyc-ws-1'), `own scopes: ${before.join(', ')}`);

  const lab = await readFile(`${repo.dir}/organizations/fabrikam/lab-linux.yaml`, 'utf8');
  await repo.commit({ 'organizations/fabrikam/lab-linux.yaml': lab.replace(/interval_seconds: \d+/, 'interval_seconds: 1200') }, 'lab: slower');
  const labOnly = await reconcile();
  assert.deepEqual(labOnly.changedScopes, ['fabrikam/lab-linux']);
  assert.equal(labOnly.decidedAgents, 1, 'only the lab agent is read and decided again');
  assert.deepEqual(await ownScopes(), before, 'agents elsewhere keep their own scopes');
  assert.deepEqual(await appliedState(db.sql, { revisions: false }), await fullWithFleet(), 'after a one-location commit');

  // A script that names one agent: that agent is decided again wherever it is enrolled.
  await repo.commit({ 'scripts/windows/berlin-only.yaml': 'apiVersion: pswm/v1\nkind: Script\nmetadata: { name: berlin-only }\nspec:\n  shell: cmd\n  content: "echo berlin"\n  targets:\n    agents: [berlin-ws-1]\n' }, 'a script for one agent');
  const named = await reconcile();
  assert.deepEqual(named.changedScopes, ['contoso/berlin/berlin-ws-1']);
  assert.equal(named.decidedAgents, 1, 'only the agent it names');
  assert.deepEqual(await appliedState(db.sql, { revisions: false }), await fullWithFleet(), 'after a script naming one agent');

  await repo.commit({ 'scripts/windows/berlin-only.yaml': null }, 'drop it again');
  await reconcile();
  assert.deepEqual(await appliedState(db.sql, { revisions: false }), await fullWithFleet(), 'after removing it');
});
