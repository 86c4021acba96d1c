import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePolicyRepo, mutatePolicyRepo } from '../../../bench/generate-policy.ts';
import type { LoadResult, PolicyDocument, RepoFile } from '../model.ts';
import { loadPolicy } from './load-policy.ts';
import { createParseCache } from './parse-cache.ts';

const SMALL = { organizations: 3, locations: 6, overrides: 12, scripts: 10, deployments: 6 };

/** Everything a load returns, with positionOf sampled (functions cannot be compared). */
function comparable(result: LoadResult): unknown {
  if (!result.ok) return { ok: false, errors: result.errors };
  const { settings, contents, ...maps } = result.policy;
  const document = (d: PolicyDocument | undefined) =>
    d && {
      kind: d.kind,
      id: d.id,
      metadata: d.metadata,
      spec: d.spec,
      source: d.source,
      positions: [['metadata', 'name'], ['spec'], ['spec', 'settings', 'agent'], ['spec', 'packages', 0, 'name']].map((path) => d.positionOf(path)),
    };
  const kinds = Object.fromEntries(Object.entries(maps).map(([kind, map]) => [kind, [...map].map(([id, d]) => [id, document(d)])]));
  return { ok: true, settings: document(settings), kinds, contents: [...contents] };
}

function assertSameAsUncached(cached: LoadResult, files: RepoFile[]): void {
  assert.deepEqual(comparable(cached), comparable(loadPolicy(files)));
}

function withText(files: RepoFile[], path: string, edit: (text: string) => string): RepoFile[] {
  return files.map((file) => {
    if (file.path !== path) return file;
    const text = edit(file.text!);
    return { path, text, size: Buffer.byteLength(text) };
  });
}

test('a cached load after edits returns what an uncached load returns', () => {
  const cache = createParseCache();
  let files = generatePolicyRepo(SMALL);
  assertSameAsUncached(loadPolicy(files, {}, cache), files);
  for (const kind of ['one-location-setting', 'one-organization-setting', 'one-script-content', 'add-script'] as const) {
    files = mutatePolicyRepo(files, kind);
    const result = loadPolicy(files, {}, cache);
    assert.equal(result.ok, true);
    assertSameAsUncached(result, files);
  }
});

test('an edited file is parsed again while unchanged files are reused', () => {
  const cache = createParseCache();
  const files = generatePolicyRepo(SMALL);
  const first = loadPolicy(files, {}, cache);
  const edited = mutatePolicyRepo(files, 'one-location-setting');
  const second = loadPolicy(edited, {}, cache);
  assert.ok(first.ok && second.ok);
  const [changedId, changed] = [...second.policy.locations].find(([id, location]) => first.policy.locations.get(id) !== location)!;
  assert.notDeepEqual(changed.spec, first.policy.locations.get(changedId)!.spec);
  assert.equal(second.policy.organizations.get('org-001'), first.policy.organizations.get('org-001'), 'an unchanged document is the cached object');
});

test('renamed and deleted files are seen by a cached load and dropped from the cache', () => {
  const cache = createParseCache();
  const files = generatePolicyRepo(SMALL);
  loadPolicy(files, {}, cache);
  const renamed = files.map((file) => (file.path === 'overrides/agent-00003.yaml' ? { ...file, path: 'overrides/moved/agent-00003.yaml' } : file));
  assertSameAsUncached(loadPolicy(renamed, {}, cache), renamed);
  assert.ok(cache.files.has('overrides/moved/agent-00003.yaml'));
  assert.ok(!cache.files.has('overrides/agent-00003.yaml'));
  // Deleting an organization leaves its locations pointing at nothing: the cross-document checks
  // run again even though every remaining file is cached.
  const deleted = renamed.filter((file) => file.path !== 'organizations/org-002/organization.yaml');
  const result = loadPolicy(deleted, {}, cache);
  assert.equal(result.ok, false);
  assertSameAsUncached(result, deleted);
  assert.ok(!result.ok && result.errors.some((e) => e.code === 'MISSING_REFERENCE' && e.message.includes('"org-002"')));
  assert.equal(cache.files.size, deleted.filter((file) => file.path.endsWith('.yaml')).length);
});

test('a file that becomes invalid reports its errors through the cache, and recovers', () => {
  const cache = createParseCache();
  const files = generatePolicyRepo(SMALL);
  const path = 'overrides/agent-00001.yaml';
  assert.equal(loadPolicy(files, {}, cache).ok, true);
  const broken = withText(files, path, (text) => text.replace('interval_seconds: 300', 'interval_seconds: fast'));
  const syntax = withText(files, path, (text) => `${text}  : : [\n`);
  for (const invalid of [broken, syntax]) {
    const result = loadPolicy(invalid, {}, cache);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.errors.every((e) => e.file === path));
    assertSameAsUncached(result, invalid);
  }
  assertSameAsUncached(loadPolicy(files, {}, cache), files);
});

test('blob ids identify content when given, so the same text under a new id is read again', () => {
  const cache = createParseCache();
  const files = generatePolicyRepo(SMALL).map((file, i) => ({ ...file, oid: `oid-${i}` }));
  const first = loadPolicy(files, {}, cache);
  const reread = loadPolicy(files.map((file) => ({ ...file, oid: `${file.oid}-new` })), {}, cache);
  assert.ok(first.ok && reread.ok);
  assert.notEqual(reread.policy.organizations.get('org-001'), first.policy.organizations.get('org-001'));
  assert.deepEqual(comparable(reread), comparable(first));
});

test('other limits do not reuse results computed under the old ones', () => {
  const cache = createParseCache();
  const files = generatePolicyRepo(SMALL);
  assert.equal(loadPolicy(files, {}, cache).ok, true);
  const strict = loadPolicy(files, { maxFileBytes: 100 }, cache);
  assert.equal(strict.ok, false);
  assert.deepEqual(comparable(strict), comparable(loadPolicy(files, { maxFileBytes: 100 })));
  assert.ok(!strict.ok && strict.errors.every((e) => e.code === 'FILE_TOO_LARGE'));
});
