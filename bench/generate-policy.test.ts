import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { RepoFile } from '../schemas/src/model.ts';
import { loadPolicy } from '../schemas/src/validate/load-policy.ts';
import { generatePolicyRepo, MUTATION_KINDS, mutatePolicyRepo, writePolicyRepo } from './generate-policy.ts';

const SMALL = { organizations: 3, locations: 7, overrides: 5, scripts: 12, deployments: 10, externalFacts: 3 };

function kindsOf(files: RepoFile[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const file of files.filter((f) => f.path.endsWith('.yaml'))) {
    const kind = (parse(file.text ?? '') as { kind: string }).kind;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

function changedPaths(before: RepoFile[], after: RepoFile[]): string[] {
  const old = new Map(before.map((f) => [f.path, f.text]));
  return after.filter((f) => old.get(f.path) !== f.text).map((f) => f.path);
}

test('the same options and seed produce byte-identical repositories', () => {
  assert.deepEqual(generatePolicyRepo(SMALL), generatePolicyRepo(SMALL));
});

test('a generated repository validates with no errors and holds every document', () => {
  const result = loadPolicy(generatePolicyRepo(SMALL));
  assert.deepEqual(result.ok ? [] : result.errors, []);
  assert.ok(result.ok);
  const { policy } = result;
  assert.ok(policy.settings);
  assert.equal(policy.organizations.size, SMALL.organizations);
  assert.equal(policy.locations.size, SMALL.locations);
  assert.equal(policy.overrides.size, SMALL.overrides);
  assert.equal(policy.scripts.size, SMALL.scripts);
  assert.equal(policy.externalFacts.size, SMALL.externalFacts);
  assert.equal(policy.chocoDeployments.size, SMALL.deployments);
});

test('every mutation keeps the repository valid', () => {
  for (const kind of MUTATION_KINDS) {
    const result = loadPolicy(mutatePolicyRepo(generatePolicyRepo(SMALL), kind));
    assert.deepEqual(result.ok ? [] : result.errors, [], kind);
  }
});

test('a different seed changes values but not the set of files', () => {
  const a = generatePolicyRepo({ ...SMALL, seed: 1 });
  const b = generatePolicyRepo({ ...SMALL, seed: 2 });
  assert.deepEqual(a.map((f) => f.path), b.map((f) => f.path));
  assert.notDeepEqual(a, b);
});

test('the repository holds the requested number of documents of each kind', () => {
  const counts = kindsOf(generatePolicyRepo(SMALL));
  assert.deepEqual(Object.fromEntries(counts), {
    Settings: 1,
    Organization: 3,
    Location: 7,
    AgentOverride: 5,
    Script: 12,
    ExternalFact: 3,
    ChocoDeployment: 10,
  });
});

test('every file size is its UTF-8 byte length', () => {
  for (const file of generatePolicyRepo(SMALL)) assert.equal(file.size, Buffer.byteLength(file.text ?? ''), file.path);
});

test('scripts mix file references and inline content, and every referenced file exists', () => {
  const files = generatePolicyRepo(SMALL);
  const paths = new Set(files.map((f) => f.path));
  const scripts = files.filter((f) => f.path.startsWith('scripts/') && f.path.endsWith('.yaml')).map((f) => parse(f.text ?? '').spec);
  const withFile = scripts.filter((spec) => spec.file);
  assert.ok(withFile.length > 0 && withFile.length < scripts.length, 'both file and inline scripts');
  for (const spec of withFile) assert.ok(paths.has(`scripts/${spec.file}`), spec.file);
});

test('no package is declared by two deployments', () => {
  const names = generatePolicyRepo(SMALL)
    .filter((f) => f.path.startsWith('packages/'))
    .flatMap((f) => (parse(f.text ?? '').spec.packages as Array<{ name: string }>).map((p) => p.name));
  assert.equal(new Set(names).size, names.length);
});

for (const kind of MUTATION_KINDS) {
  test(`mutation ${kind} changes exactly one file and leaves the input untouched`, () => {
    const files = generatePolicyRepo(SMALL);
    const snapshot = structuredClone(files);
    const once = mutatePolicyRepo(files, kind);
    assert.deepEqual(files, snapshot);
    assert.equal(changedPaths(files, once).length, 1);
    const twice = mutatePolicyRepo(once, kind);
    assert.equal(changedPaths(once, twice).length, 1, 'a second mutation makes a further change');
  });
}

test('the location setting mutation changes only the interval of the first location', () => {
  const files = generatePolicyRepo(SMALL);
  const mutated = mutatePolicyRepo(files, 'one-location-setting');
  const [path] = changedPaths(files, mutated);
  assert.equal(path, 'organizations/org-000/loc-0000.yaml');
  const interval = (list: RepoFile[]): number => parse(list.find((f) => f.path === path)?.text ?? '').spec.settings.agent.interval_seconds;
  assert.equal(interval(mutated), interval(files) + 60);
});

test('writePolicyRepo writes every file under the directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pswm-generated-'));
  try {
    const files = generatePolicyRepo(SMALL);
    await writePolicyRepo(dir, files);
    for (const file of files) assert.equal(await readFile(join(dir, file.path), 'utf8'), file.text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
