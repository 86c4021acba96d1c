import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEmptyPlan, planWrites, storedAfter, type DesiredRows, type ObjectRow, type PartRow, type ScopeRow, type StoredInventory } from './plan-writes.ts';

const object = (kind: string, id: string, sha256: string, line = 1): ObjectRow => ({ kind, id, sha256, file: `${id}.yaml`, line, metadata: { name: id }, spec: {} });
const scope = (key: string, documentSha256: string): ScopeRow => ({ scope: key, organization: 'acme', location: key.split('/')[1], agent: null, documentSha256 });

// Document "dN" is made of settings part "dN-s" and the resources part every document shares, "r".
function desiredOf(objects: ObjectRow[], scopes: ScopeRow[], contents: string[] = []): DesiredRows {
  const documents = scopes.map((s) => ({ sha256: s.documentSha256, settingsSha256: `${s.documentSha256}-s`, resourcesSha256: 'r' }));
  return {
    objects: new Map(objects.map((o) => [`${o.kind}/${o.id}`, o])),
    contents: new Map(contents.map((sha) => [sha, { sha256: sha, content: `content ${sha}` }])),
    documents: new Map(documents.map((d) => [d.sha256, d])),
    parts: new Map([
      ...documents.map((d): PartRow => ({ sha256: d.settingsSha256, kind: 'settings', body: `{"s":"${d.sha256}"}` })),
      { sha256: 'r', kind: 'resources', body: '{"r":1}' } satisfies PartRow,
    ].map((part) => [part.sha256, part])),
    scopes: new Map(scopes.map((s) => [s.scope, s])),
  };
}

function storedOf(desired: DesiredRows, revision = 'r1'): StoredInventory {
  return {
    revision,
    documentsVersion: 0,
    objects: new Map([...desired.objects].map(([key, o]) => [key, { sha256: o.sha256, file: o.file, line: o.line }])),
    contentShas: new Set(desired.contents.keys()),
    scopes: new Map([...desired.scopes].map(([key, s]) => [key, s.documentSha256])),
    documents: new Map([...desired.documents].map(([key, d]) => [key, { settingsSha256: d.settingsSha256, resourcesSha256: d.resourcesSha256 }])),
    partShas: new Set(desired.parts.keys()),
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
  assert.ok(isEmptyPlan(plan));
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
  assert.deepEqual(plan.objects.update.map((o) => o.id), ['acme/paris']);
  assert.deepEqual(plan.objects.insert, []);
  assert.deepEqual(plan.scopes.update.map((s) => s.scope), ['acme/paris']);
  assert.deepEqual(plan.scopes.insert, []);
  assert.deepEqual(plan.documents.insert.map((d) => d.sha256), ['d2']);
  assert.deepEqual(plan.documents.delete, [], 'd1 is still used by berlin');
  assert.deepEqual(plan.parts.insert.map((p) => p.sha256), ['d2-s'], 'the shared resources part is not written again');
  assert.deepEqual(plan.parts.delete, []);
  assert.deepEqual(plan.changedScopes, ['acme/paris']);
});

test('a scope not recompiled keeps the document the applied state holds', () => {
  const head = desiredOf([...base.objects.values()], [scope('acme/paris', 'd2')], ['c1']);
  // Berlin was not recompiled: its row points at d1, which only the applied state knows.
  head.scopes.set('acme/berlin', scope('acme/berlin', 'd1'));
  const plan = planWrites(storedOf(base), head);
  assert.deepEqual(plan.scopes.update.map((s) => s.scope), ['acme/paris']);
  assert.deepEqual(plan.documents.delete, []);
  assert.deepEqual(plan.parts.delete, []);
  const after = storedAfter(storedOf(base), head, plan, 'r2', 1);
  assert.deepEqual([...after.documents.keys()].sort(), ['d1', 'd2']);
  assert.deepEqual([...after.partShas].sort(), ['d1-s', 'd2-s', 'r']);
  assert.equal(after.scopes.get('acme/paris'), 'd2');
  assert.equal(after.revision, 'r2');
});

test('a scope pointing at a document nobody compiled is a bug, not a silent dangling row', () => {
  const head = desiredOf([...base.objects.values()], [...base.scopes.values()], ['c1']);
  head.scopes.set('acme/rome', scope('acme/rome', 'd9'));
  assert.throws(() => planWrites(storedOf(base), head), /document d9/);
});

test('a moved object is rewritten for its position but not counted as changed', () => {
  const head = desiredOf([object('Organization', 'acme', 'o1', 7), ...[...base.objects.values()].slice(1)], [...base.scopes.values()], ['c1']);
  const plan = planWrites(storedOf(base), head);
  assert.deepEqual(plan.counts, { added: 0, changed: 0, removed: 0 });
  assert.deepEqual(plan.objects.update.map((o) => o.line), [7]);
  assert.equal(isEmptyPlan(plan), false);
});

test('removed objects, scopes, documents and contents are deleted; ids with slashes survive the key', () => {
  const head = desiredOf([object('Organization', 'acme', 'o1'), object('Location', 'acme/paris', 'l1')], [scope('acme/paris', 'd3')], ['c2']);
  const plan = planWrites(storedOf(base), head);
  assert.deepEqual(plan.counts, { added: 0, changed: 0, removed: 1 });
  assert.deepEqual(plan.objects.delete, [{ kind: 'Location', id: 'acme/berlin' }]);
  assert.deepEqual(plan.scopes.delete, ['acme/berlin']);
  assert.deepEqual(plan.documents.delete, ['d1']);
  assert.deepEqual(plan.parts, { insert: [{ sha256: 'd3-s', kind: 'settings', body: '{"s":"d3"}' }], delete: ['d1-s'] });
  assert.deepEqual(plan.contents, { insert: [{ sha256: 'c2', content: 'content c2' }], delete: ['c1'] });
  assert.deepEqual(plan.changedScopes, ['acme/berlin', 'acme/paris']);
});

test('rows the applied state lacks are inserts, rows it holds with other values are updates', () => {
  const head = desiredOf([...base.objects.values(), object('Location', 'acme/rome', 'l3')], [...base.scopes.values(), scope('acme/rome', 'd1')], ['c1']);
  const plan = planWrites(storedOf(base), head);
  assert.deepEqual(plan.objects.insert.map((o) => o.id), ['acme/rome']);
  assert.deepEqual(plan.objects.update, []);
  assert.deepEqual(plan.scopes.insert.map((s) => s.scope), ['acme/rome']);
  assert.deepEqual(plan.documents.insert, [], 'rome shares d1');
  assert.deepEqual(plan.counts, { added: 1, changed: 0, removed: 0 });
});
