import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentIdentity, Policy } from '../model.ts';
import { affectedScopes, type Scope } from './affected-scopes.ts';
import { policyOf, type TestDocument } from './test-policy.ts';

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
