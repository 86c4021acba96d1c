import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planWrites, type DesiredRows, type ObjectRow, type ScopeRow, type StoredInventory } from './plan-writes.ts';
import { checkDeletionBudget } from './deletion-budget.ts';

const object = (kind: string, id: string, sha256: string, line = 1): ObjectRow => ({ kind, id, sha256, file: `${id}.yaml`, line, metadata: { name: id }, spec: {} });
const scope = (key: string, documentSha256: string): ScopeRow => ({ scope: key, organization: 'acme', location: key.split('/')[1], agent: null, documentSha256 });

function desiredOf(objects: ObjectRow[], scopes: ScopeRow[], contents: string[] = []): DesiredRows {
  return {
    objects: new Map(objects.map((o) => [`${o.kind}/${o.id}`, o])),
    contents: new Map(contents.map((sha) => [sha, { sha256: sha, content: `content ${sha}` }])),
    documents: new Map(scopes.map((s) => [s.documentSha256, { sha256: s.documentSha256, json: `{"doc":"${s.documentSha256}"}` }])),
    scopes: new Map(scopes.map((s) => [s.scope, s])),
  };
}

function storedOf(desired: DesiredRows, revision = 'r1'): StoredInventory {
  return {
    revision,
    objects: new Map([...desired.objects].map(([key, o]) => [key, { sha256: o.sha256, file: o.file, line: o.line }])),
    contentShas: new Set(desired.contents.keys()),
    scopes: new Map([...desired.scopes].map(([key, s]) => [key, s.documentSha256])),
  };
}

const base = desiredOf(
  [object('Organization', 'acme', 'o1'), object('Location', 'acme/paris', 'l1'), object('Location', 'acme/berlin', 'l2')],
  [scope('acme/paris', 'd1'), scope('acme/berlin', 'd1')],
  ['c1'],
);

test('an unchanged revision plans no writes', () => {
  const plan = planWrites(storedOf(base), base);
  assert.deepEqual(plan.counts, { added: 0, changed: 0, removed: 0 });
  assert.equal(plan.objects.upsert.length + plan.objects.delete.length + plan.scopes.upsert.length + plan.documents.insert.length, 0);
  assert.deepEqual(plan.changedScopes, []);
});

test('a changed object and a changed document are written; equal ones are not', () => {
  const head = desiredOf(
    [object('Organization', 'acme', 'o1'), object('Location', 'acme/paris', 'l1-new'), object('Location', 'acme/berlin', 'l2')],
    [scope('acme/paris', 'd2'), scope('acme/berlin', 'd1')],
    ['c1'],
  );
  const plan = planWrites(storedOf(base), head);
  assert.deepEqual(plan.counts, { added: 0, changed: 1, removed: 0 });
  assert.deepEqual(plan.objects.upsert.map((o) => o.id), ['acme/paris']);
  assert.deepEqual(plan.scopes.upsert.map((s) => s.scope), ['acme/paris']);
  assert.deepEqual(plan.documents.insert.map((d) => d.sha256), ['d2']);
  assert.deepEqual(plan.documents.delete, [], 'd1 is still used by berlin');
  assert.deepEqual(plan.changedScopes, ['acme/paris']);
});

test('a moved object is rewritten for its position but not counted as changed', () => {
  const head = desiredOf([object('Organization', 'acme', 'o1', 7), ...[...base.objects.values()].slice(1)], [...base.scopes.values()], ['c1']);
  const plan = planWrites(storedOf(base), head);
  assert.deepEqual(plan.counts, { added: 0, changed: 0, removed: 0 });
  assert.deepEqual(plan.objects.upsert.map((o) => o.line), [7]);
});

test('removed objects, scopes, documents and contents are deleted; ids with slashes survive the key', () => {
  const head = desiredOf([object('Organization', 'acme', 'o1'), object('Location', 'acme/paris', 'l1')], [scope('acme/paris', 'd3')], ['c2']);
  const plan = planWrites(storedOf(base), head);
  assert.deepEqual(plan.counts, { added: 0, changed: 0, removed: 1 });
  assert.deepEqual(plan.objects.delete, [{ kind: 'Location', id: 'acme/berlin' }]);
  assert.deepEqual(plan.scopes.delete, ['acme/berlin']);
  assert.deepEqual(plan.documents.delete, ['d1']);
  assert.deepEqual(plan.contents, { insert: [{ sha256: 'c2', content: 'content c2' }], delete: ['c1'] });
  assert.deepEqual(plan.changedScopes, ['acme/berlin', 'acme/paris']);
});

test('the deletion budget refuses removing more than its share unless mass deletion is allowed', () => {
  const guard = { deletion_budget_percent: 25, allow_mass_deletion: false };
  assert.equal(checkDeletionBudget({ added: 0, changed: 0, removed: 25 }, 100, guard).ok, true);
  const refused = checkDeletionBudget({ added: 0, changed: 0, removed: 26 }, 100, guard);
  assert.equal(refused.ok, false);
  assert.match(!refused.ok ? refused.message : '', /26 of 100 .*allow_mass_deletion/);
  assert.equal(checkDeletionBudget({ added: 0, changed: 0, removed: 26 }, 100, { ...guard, allow_mass_deletion: true }).ok, true);
  assert.equal(checkDeletionBudget({ added: 5, changed: 0, removed: 0 }, 0, guard).ok, true, 'a first apply removes nothing');
});
