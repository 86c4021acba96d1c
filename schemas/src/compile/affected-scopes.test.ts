import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentIdentity, Policy } from '../model.ts';
import { affectedScopes, type Scope } from './affected-scopes.ts';
import { policyOf, type TestDocument } from './test-policy.ts';
import { createCompiler } from './compiler.ts';
import { inventory } from '../plan/inventory.ts';
import { loadPolicy } from '../validate/load-policy.ts';
import { generatePolicyRepo, MUTATION_KINDS, mutatePolicyRepo } from '../../../bench/generate-policy.ts';

const base: TestDocument[] = [
  { kind: 'Settings', name: 'global', spec: { settings: { agent: { interval_seconds: 1000 } } } },
  { kind: 'Organization', name: 'acme', spec: {} },
  { kind: 'Organization', name: 'other', spec: {} },
  { kind: 'Location', name: 'paris', spec: { organization: 'acme' } },
  { kind: 'Location', name: 'lyon', spec: { organization: 'acme' } },
  { kind: 'Location', name: 'oslo', spec: { organization: 'other' } },
  { kind: 'AgentOverride', name: 'kiosk', spec: { agent: 'KIOSK', location: 'acme/paris', settings: { agent: { interval_seconds: 60 } } } },
  { kind: 'AgentOverride', name: 'server', spec: { agent: 'SRV', location: 'other/oslo' } },
  { kind: 'Script', name: 'everyone', spec: { shell: 'sh', content: 'a' } },
  { kind: 'Script', name: 'acme-only', spec: { shell: 'sh', content: 'b', targets: { organizations: ['acme'] } } },
  { kind: 'Script', name: 'linux', spec: { shell: 'sh', content: 'c', targets: { facts: { 'os.family': 'linux' } } } },
  { kind: 'ExternalFact', name: 'lyon-fact', spec: { shell: 'sh', content: 'd', targets: { locations: ['acme/lyon'] } } },
  { kind: 'ChocoDeployment', name: 'kiosk-apps', spec: { packages: [{ name: 'vlc' }], targets: { agents: ['KIOSK'], facts: { 'os.family': 'windows' } } } },
];

const at = (name: string, organization: string, location: string): AgentIdentity => ({ name, organization, location, facts: {} });
const SCOPES: Scope[] = [
  { key: 'acme/paris', agent: at('', 'acme', 'paris') },
  { key: 'acme/lyon', agent: at('', 'acme', 'lyon') },
  { key: 'other/oslo', agent: at('', 'other', 'oslo') },
  { key: 'acme/paris/KIOSK', agent: at('KIOSK', 'acme', 'paris') },
  { key: 'other/oslo/SRV', agent: at('SRV', 'other', 'oslo') },
];

/** The head revision: `base` with the named documents replaced (same kind and name) or added. */
function headWith(...replacements: TestDocument[]): Policy {
  const replaced = (d: TestDocument) => replacements.find((r) => r.kind === d.kind && r.name === d.name) ?? d;
  const added = replacements.filter((r) => !base.some((d) => d.kind === r.kind && d.name === r.name));
  return policyOf([...base.map(replaced), ...added]);
}

const affected = (head: Policy, keys: string[]) => {
  const result = affectedScopes(policyOf(base), head, keys, SCOPES);
  return result === 'all' ? result : [...result].sort();
};

test('a Settings change reaches every scope', () => {
  assert.equal(affected(policyOf(base), ['Settings/global']), 'all');
});

test('an Organization change reaches the scopes in that organization only', () => {
  assert.deepEqual(affected(headWith({ kind: 'Organization', name: 'other', spec: { display_name: 'x' } }), ['Organization/other']), ['other/oslo', 'other/oslo/SRV']);
});

test('a Location change reaches the location scope and the agent scopes inside it', () => {
  assert.deepEqual(affected(headWith({ kind: 'Location', name: 'paris', spec: { organization: 'acme', display_name: 'x' } }), ['Location/acme/paris']), ['acme/paris', 'acme/paris/KIOSK']);
});

test('an AgentOverride change reaches the scopes of the agent it names before and after', () => {
  const renamed = headWith({ kind: 'AgentOverride', name: 'kiosk', spec: { agent: 'SRV', location: 'other/oslo' } });
  assert.deepEqual(affected(renamed, ['AgentOverride/kiosk']), ['acme/paris/KIOSK', 'other/oslo/SRV']);
  const removed = policyOf(base.filter((d) => d.name !== 'server'));
  assert.deepEqual(affected(removed, ['AgentOverride/server']), ['other/oslo/SRV'], 'a removed override is looked up in the base');
});

test('a targeted object reaches the scopes its targets select before and after, facts ignored', () => {
  assert.deepEqual(affected(policyOf(base), ['Script/acme-only']), ['acme/lyon', 'acme/paris', 'acme/paris/KIOSK']);
  assert.deepEqual(affected(policyOf(base), ['ExternalFact/lyon-fact']), ['acme/lyon']);
  assert.deepEqual(affected(policyOf(base), ['ChocoDeployment/kiosk-apps']), ['acme/paris/KIOSK'], 'the facts selector does not hide the agent');
  const moved = headWith({ kind: 'ExternalFact', name: 'lyon-fact', spec: { shell: 'sh', content: 'd', targets: { organizations: ['other'] } } });
  assert.deepEqual(affected(moved, ['ExternalFact/lyon-fact']), ['acme/lyon', 'other/oslo', 'other/oslo/SRV']);
});

test('an untargeted or facts-only object reaches every scope, whichever side has it', () => {
  assert.equal(affected(policyOf(base), ['Script/everyone']), 'all');
  assert.equal(affected(policyOf(base), ['Script/linux']), 'all');
  const added = headWith({ kind: 'ChocoDeployment', name: 'new', spec: { packages: [{ name: 'git' }] } });
  assert.equal(affected(added, ['ChocoDeployment/new']), 'all');
});

test('the union of several changes, and nothing for no change', () => {
  assert.deepEqual(affected(policyOf(base), ['Location/acme/lyon', 'AgentOverride/server']), ['acme/lyon', 'other/oslo/SRV']);
  assert.deepEqual(affected(policyOf(base), []), []);
});

test('a kind it does not know reaches every scope rather than none', () => {
  assert.equal(affected(policyOf(base), ['Mystery/x']), 'all');
});

// ---------------------------------------------------------------------------------------------
// The property the reconciler relies on: a scope left out keeps its parts.

/** The scopes the reconciler compiles: every location, and every override's agent in its location. */
function fleetScopes(policy: Policy): Scope[] {
  const scopes: Scope[] = [...policy.locations.values()].map((l) => ({ key: l.id, agent: at('', l.spec.organization, l.metadata.name) }));
  for (const override of policy.overrides.values()) {
    const location = override.spec.location ? policy.locations.get(override.spec.location) : undefined;
    if (location) scopes.push({ key: `${location.id}/${override.spec.agent}`, agent: at(override.spec.agent, location.spec.organization, location.metadata.name) });
  }
  return scopes;
}

function changedKeysBetween(base: Policy, head: Policy): string[] {
  const before = inventory(base);
  const after = inventory(head);
  const changed = [...after].filter(([key, entry]) => before.get(key)?.sha256 !== entry.sha256 || before.get(key)?.file !== entry.file).map(([key]) => key);
  return [...changed, ...[...before.keys()].filter((key) => !after.has(key))];
}

for (const kind of MUTATION_KINDS) {
  test(`after a generated ${kind} commit, every scope left out compiles to the same parts`, () => {
    const files = generatePolicyRepo({ organizations: 3, locations: 9, overrides: 20, scripts: 30, deployments: 20, seed: 3 });
    const [base, head] = [files, mutatePolicyRepo(files, kind)].map((revision) => {
      const result = loadPolicy(revision);
      assert.ok(result.ok);
      return result.policy;
    });
    const scopes = fleetScopes(head);
    const affected = affectedScopes(base, head, changedKeysBetween(base, head), scopes);
    const [before, after] = [createCompiler(base), createCompiler(head)];
    const differing = scopes.filter(({ agent }) => before.compileParts(agent).sha256 !== after.compileParts(agent).sha256).map((scope) => scope.key);
    assert.ok(differing.length > 0, 'the commit changes some scope');
    if (affected !== 'all') for (const key of differing) assert.ok(affected.has(key), `${key} changed but was not listed`);
    if (kind.endsWith('-setting')) assert.notEqual(affected, 'all', 'a setting of one location or organization does not reach everyone');
  });
}
