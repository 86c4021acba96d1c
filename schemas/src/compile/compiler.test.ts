import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { AgentIdentity, Policy, RepoFile } from '../model.ts';
import { canonicalJson, sha256Hex } from '../canonical-json.ts';
import { loadPolicy } from '../validate/load-policy.ts';
import { readPolicyDir } from '../source/dir.ts';
import { generatePolicyRepo } from '../../../bench/generate-policy.ts';
import { createCompiler } from './compiler.ts';
import { assembleDocument, documentDigest } from './assemble.ts';
import { compileGroup, policyContents } from './compile-group.ts';
import { sampleAgents } from './test-agents.ts';
import { policyOf, type TestDocument } from './test-policy.ts';

const documents: TestDocument[] = [
  { kind: 'Settings', name: 'global', spec: { settings: { scripts: { timeout_seconds: 300 }, external_facts: { max_output_bytes: 4096 } } } },
  { kind: 'Organization', name: 'acme', spec: {} },
  { kind: 'Location', name: 'paris', spec: { organization: 'acme', settings: { scripts: { timeout_seconds: 120 } } } },
  { kind: 'Location', name: 'lyon', spec: { organization: 'acme' } },
  { kind: 'AgentOverride', name: 'kiosk', spec: { agent: 'KIOSK', location: 'acme/paris', settings: { agent: { interval_seconds: 60 } } } },
  { kind: 'Script', name: 'base', spec: { shell: 'sh', file: 'base.sh', check: { content: 'true' } } },
  { kind: 'Script', name: 'quick', spec: { shell: 'sh', content: 'q', timeout_seconds: 5 } },
  { kind: 'ExternalFact', name: 'inventory', spec: { shell: 'sh', content: 'echo {}' } },
  { kind: 'ChocoDeployment', name: 'tools', spec: { packages: [{ name: 'git' }], targets: { locations: ['acme/paris'] } } },
];
const contents = { 'Script/base': 'echo base', 'Script/base#check': 'true', 'Script/quick': 'q', 'ExternalFact/inventory': 'echo {}' };
const agent = (name: string, location = 'paris'): AgentIdentity => ({ name, organization: 'acme', location, facts: {} });

test('agents of one location share both parts; an overridden agent shares only the resources part', () => {
  const compiler = createCompiler(policyOf(documents, contents));
  const [pc1, pc2, kiosk] = ['PC-1', 'PC-2', 'KIOSK'].map((name) => compiler.compileParts(agent(name)));
  assert.deepEqual(pc1, pc2);
  assert.equal(kiosk.resources.sha256, pc1.resources.sha256);
  assert.notEqual(kiosk.settings.sha256, pc1.settings.sha256);
  assert.notEqual(kiosk.sha256, pc1.sha256);
  assert.notEqual(compiler.compileParts(agent('PC-3', 'lyon')).resources.sha256, pc1.resources.sha256, 'lyon lacks the paris deployment');
});

test('a script content change changes the resources part and the document id, not the settings part', () => {
  const before = createCompiler(policyOf(documents, contents)).compileParts(agent('PC-1'));
  const after = createCompiler(policyOf(documents, { ...contents, 'Script/base': 'echo changed' })).compileParts(agent('PC-1'));
  assert.equal(after.settings.sha256, before.settings.sha256);
  assert.notEqual(after.resources.sha256, before.resources.sha256);
  assert.notEqual(after.sha256, before.sha256);
});

test('an override changes only the settings part of its agent', () => {
  const edited = documents.map((d) => (d.name === 'kiosk' ? { ...d, spec: { agent: 'KIOSK', location: 'acme/paris', settings: { agent: { interval_seconds: 90 } } } } : d)) as TestDocument[];
  const before = createCompiler(policyOf(documents, contents));
  const after = createCompiler(policyOf(edited, contents));
  assert.equal(after.compileParts(agent('KIOSK')).resources.sha256, before.compileParts(agent('KIOSK')).resources.sha256);
  assert.notEqual(after.compileParts(agent('KIOSK')).settings.sha256, before.compileParts(agent('KIOSK')).settings.sha256);
  assert.deepEqual(after.compileParts(agent('PC-1')), before.compileParts(agent('PC-1')), 'other agents keep their parts');
});

test('parts hold no content and only the limits a spec sets; assembling fills content and limits from settings', () => {
  const policy = policyOf(documents, contents);
  const parts = createCompiler(policy).compileParts(agent('PC-1'));
  const resources = JSON.parse(parts.resources.json);
  assert.equal(parts.resources.json.includes('echo base'), false);
  assert.deepEqual(resources.scripts.map((s: Record<string, unknown>) => [s.name, s.timeout_seconds ?? null, s.max_output_bytes ?? null]), [['base', null, null], ['quick', 5, null]]);
  assert.deepEqual(Object.keys(JSON.parse(parts.settings.json)), ['provenance', 'settings']);

  const { state } = assembleDocument(parts.settings.json, parts.resources.json, policyContents(policy));
  const byName = Object.fromEntries(state.scripts.map((s) => [s.name, s]));
  assert.equal(byName.base.timeout_seconds, 120, 'from the location');
  assert.equal(byName.base.max_output_bytes, 65536, 'schema default');
  assert.equal(byName.quick.timeout_seconds, 5, 'the spec wins');
  assert.deepEqual(byName.base.check, { shell: 'sh', content: 'true', sha256: sha256Hex('true') });
  assert.equal(byName.base.content, 'echo base');
  assert.deepEqual(state.external_facts.map((f) => [f.content, f.timeout_seconds, f.max_output_bytes]), [['echo {}', 60, 4096]]);
});

test('the assembled document is canonical JSON and its id is the digest of its two parts', () => {
  const policy = policyOf(documents, contents);
  const parts = createCompiler(policy).compileParts(agent('KIOSK'));
  const assembled = assembleDocument(parts.settings.json, parts.resources.json, policyContents(policy));
  assert.equal(assembled.json, canonicalJson(assembled.state));
  assert.equal(assembled.sha256, parts.sha256);
  assert.equal(parts.sha256, documentDigest(sha256Hex(parts.settings.json), sha256Hex(parts.resources.json)));
  assert.equal(parts.sha256, sha256Hex(`pswm-desired-state/v1\n${parts.settings.sha256}\n${parts.resources.sha256}`));
  assert.deepEqual(compileGroup(policy, agent('KIOSK')), assembled);
});

test('assembling with a content store that lacks a script names the missing sha256', () => {
  const policy = policyOf(documents, contents);
  const parts = createCompiler(policy).compileParts(agent('PC-1'));
  const missing = sha256Hex('echo base');
  assert.throws(
    () => assembleDocument(parts.settings.json, parts.resources.json, (sha) => (sha === missing ? undefined : policyContents(policy)(sha))),
    (error: Error) => error.message.includes(missing) && error.message.includes('Script/base'),
  );
});

// ---------------------------------------------------------------------------------------------
// Against the compiler this one replaced, and against itself without memoized state.

const SMALL_REPO = { organizations: 3, locations: 7, overrides: 12, scripts: 25, deployments: 15, externalFacts: 3, seed: 7 };
const TEMPLATE = new URL('../../../policy-repo-template/', import.meta.url);

function loaded(files: RepoFile[]): Policy {
  const result = loadPolicy(files);
  assert.ok(result.ok);
  return result.policy;
}

const repositories = async (): Promise<Array<[string, Policy]>> => [
  ['generated', loaded(generatePolicyRepo(SMALL_REPO))],
  ['template', loaded(await readPolicyDir(TEMPLATE.pathname))],
];

test('assembled documents equal, byte for byte, those of the compiler before parts', async () => {
  // sha256 of the canonical state the previous compiler produced, per sample agent (recorded once
  // before the change; the document id changed meaning, the document did not).
  const recorded = JSON.parse(fs.readFileSync(new URL('./testdata/pre-parts-digests.json', import.meta.url), 'utf8'));
  for (const [label, policy] of await repositories()) {
    const agents = sampleAgents(policy);
    assert.equal(agents.length, Object.keys(recorded[label]).length);
    for (const sample of agents) assert.equal(sha256Hex(compileGroup(policy, sample).json), recorded[label][canonicalJson(sample)], `${label} ${canonicalJson(sample)}`);
  }
});

/** mulberry32, so a failure names a seed that reproduces it. */
function random(seed: number): (max: number) => number {
  let state = seed >>> 0;
  return (max) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % max;
  };
}

function randomAgents(policy: Policy, count: number, seed: number): AgentIdentity[] {
  const pick = random(seed);
  const places = [...policy.locations.values()].map((l) => [l.spec.organization, l.metadata.name]);
  places.push(['nowhere', 'unknown']);
  const names = ['', 'someone', ...[...policy.overrides.values()].map((o) => o.spec.agent), ...sampleAgents(policy).map((a) => a.name)];
  const facts = [{}, { os: { family: 'windows' } }, { os: { family: 'linux' }, cpu: { arch: 'x64' } }, { 'os.family': 'windows' }, { os: { family: 'darwin', release: 11 } }];
  return Array.from({ length: count }, () => {
    const [organization, location] = places[pick(places.length)];
    return { name: names[pick(names.length)], organization, location, facts: facts[pick(facts.length)] };
  });
}

test('one compiler for many agents gives what a fresh compiler gives each agent', async () => {
  const conflicting = policyOf([
    ...documents,
    { kind: 'ChocoDeployment', name: 'win', spec: { packages: [{ name: 'vlc', version: '3' }], targets: { facts: { 'os.family': 'windows' } } } },
    { kind: 'ChocoDeployment', name: 'x64', spec: { packages: [{ name: 'vlc', version: '4' }], targets: { facts: { 'cpu.arch': 'x64' } } } },
    { kind: 'ChocoDeployment', name: 'named', spec: { packages: [{ name: 'git', ensure: 'absent' }], targets: { agents: ['someone', 'KIOSK'] } } },
  ], contents);
  for (const [label, policy] of [...(await repositories()), ['conflicting', conflicting] as [string, Policy]]) {
    const shared = createCompiler(policy);
    for (const [i, sample] of randomAgents(policy, 150, 42).entries()) {
      const fresh = createCompiler(policy);
      assert.deepEqual(shared.compileParts(sample), fresh.compileParts(sample), `${label} agent #${i} ${canonicalJson(sample)}`);
      assert.equal(shared.groupKey(sample), fresh.groupKey(sample));
    }
  }
});

test('agents with equal group keys get equal parts, and parts are canonical JSON', async () => {
  for (const [label, policy] of await repositories()) {
    const compiler = createCompiler(policy);
    const partsByKey = new Map<string, string>();
    for (const sample of randomAgents(policy, 200, 7)) {
      const parts = compiler.compileParts(sample);
      for (const part of [parts.settings, parts.resources]) {
        assert.equal(canonicalJson(JSON.parse(part.json)), part.json, label);
        assert.equal(sha256Hex(part.json), part.sha256);
      }
      const key = compiler.groupKey(sample);
      if (partsByKey.has(key)) assert.equal(parts.sha256, partsByKey.get(key), `${label}: ${key}`);
      partsByKey.set(key, parts.sha256);
    }
  }
});
