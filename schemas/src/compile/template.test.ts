// The example repository compiled for three sample agents must equal the reviewed expectation
// files in testdata/expected/. After an intended change, regenerate them with
//   PSWM_UPDATE_EXPECTED=1 npx node --test schemas/src/compile/template.test.ts
// and review the diff line by line before committing: they are the specification.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { AgentIdentity, Policy } from '../model.ts';
import { loadPolicy } from '../validate/load-policy.ts';
import { readPolicyDir } from '../source/dir.ts';
import { compileGroup } from './compile-group.ts';
import { groupKey } from './group-key.ts';
import { explainSettings } from './explain.ts';

const TEMPLATE = new URL('../../../policy-repo-template/', import.meta.url);
const EXPECTED = new URL('./testdata/expected/', import.meta.url);

const SAMPLE_AGENTS: AgentIdentity[] = [
  { name: 'PARIS-KIOSK-01', organization: 'contoso', location: 'paris', facts: { os: { family: 'windows', release: '10.0.19045' } } },
  { name: 'BERLIN-PC-07', organization: 'contoso', location: 'berlin', facts: { os: { family: 'windows', release: '10.0.22631' } } },
  { name: 'LAB-BUILD-03', organization: 'fabrikam', location: 'lab-linux', facts: { os: { family: 'linux', release: '6.1.0' } } },
];

async function templatePolicy(): Promise<Policy> {
  const result = loadPolicy(await readPolicyDir(TEMPLATE.pathname));
  assert.ok(result.ok, `the template must validate: ${JSON.stringify(!result.ok && result.errors, null, 2)}`);
  return result.policy;
}

for (const agent of SAMPLE_AGENTS) {
  test(`the template compiles for ${agent.name} (${agent.organization}/${agent.location}) to the reviewed expectation`, async () => {
    const compiled = compileGroup(await templatePolicy(), agent);
    const file = new URL(`${agent.name}.json`, EXPECTED);
    if (process.env.PSWM_UPDATE_EXPECTED === '1') fs.writeFileSync(file, `${JSON.stringify(compiled.state, null, 2)}\n`);
    const expected = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepStrictEqual(compiled.state, expected);
  });
}

test('the three sample agents fall into three different groups with three different documents', async () => {
  const policy = await templatePolicy();
  assert.equal(new Set(SAMPLE_AGENTS.map((agent) => groupKey(policy, agent))).size, 3);
  assert.equal(new Set(SAMPLE_AGENTS.map((agent) => compileGroup(policy, agent).sha256)).size, 3);
});

test('a second Windows machine in Berlin shares BERLIN-PC-07\'s group and document', async () => {
  const policy = await templatePolicy();
  const other = { ...SAMPLE_AGENTS[1], name: 'BERLIN-PC-12', facts: { os: { family: 'windows', release: '10.0.26100' }, hostname: 'berlin-pc-12' } };
  assert.equal(groupKey(policy, other), groupKey(policy, SAMPLE_AGENTS[1]));
  assert.equal(compileGroup(policy, other).sha256, compileGroup(policy, SAMPLE_AGENTS[1]).sha256);
});

test('an edit that only moves lines keeps every document hash but moves explain\'s line numbers', async () => {
  const files = await readPolicyDir(TEMPLATE.pathname);
  const shifted = files.map((file) =>
    file.path === 'organizations/contoso/paris.yaml' ? { ...file, text: `# a comment\n\n${file.text}`, size: file.size + 13 } : file,
  );
  const before = loadPolicy(files);
  const after = loadPolicy(shifted);
  assert.ok(before.ok && after.ok);
  const kiosk = SAMPLE_AGENTS[0];
  assert.equal(compileGroup(after.policy, kiosk).sha256, compileGroup(before.policy, kiosk).sha256);
  const lineOf = (policy: Policy) => explainSettings(policy, kiosk).find((e) => e.key === 'agent.interval_seconds')!.overridden.at(-1)!.line!;
  assert.equal(lineOf(after.policy), lineOf(before.policy) + 2);
});
