import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { LoadResult, Policy, RepoFile } from '../model.ts';
import { DEFAULT_POLICY_LIMITS, loadPolicy } from './load-policy.ts';

function file(path: string, text: string): RepoFile {
  return { path, text, size: Buffer.byteLength(text, 'utf8') };
}

function link(path: string, symlinkTarget: string): RepoFile {
  return { path, symlinkTarget, size: symlinkTarget.length };
}

function loaded(result: LoadResult): Policy {
  if (!result.ok) assert.fail(`expected the policy to load:\n${result.errors.map((e) => `${e.file}:${e.line}:${e.col} ${e.code} ${e.message}`).join('\n')}`);
  return result.policy;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

const ORGANIZATIONS = `apiVersion: pswm/v1
kind: Organization
metadata: { name: acme }
spec:
  settings:
    agent:
      interval_seconds: 900
---
apiVersion: pswm/v1
kind: Location
metadata:
  name: paris
spec:
  organization: acme
---
apiVersion: pswm/v1
kind: Organization
metadata: { name: globex }
spec: {}
`;

const deployment = (name: string, packages: string, targets = '') =>
  `apiVersion: pswm/v1\nkind: ChocoDeployment\nmetadata: { name: ${name} }\nspec:\n  packages:\n${packages}${targets}`;

test('a valid multi-file policy loads with its documents, contents and positions', () => {
  const cleanup = '#!/bin/sh\nrm -rf /tmp/pswm-*\n';
  const policy = loaded(
    loadPolicy([
      file('settings.yaml', 'apiVersion: pswm/v1\nkind: Settings\nmetadata: { name: global }\nspec:\n  settings:\n    choco: { upgrade_all: true }\n'),
      file('organizations/all.yaml', ORGANIZATIONS),
      file('scripts/cleanup.yaml', [
        'apiVersion: pswm/v1',
        'kind: Script',
        'metadata: { name: cleanup }',
        'spec:',
        '  shell: sh',
        '  file: files/cleanup.sh',
        '  check: { content: "test ! -e /tmp/pswm-x" }',
        '  run: schedule',
        '  schedule: "0 18 * * MON-FRI"',
        '  targets: { locations: [acme/paris] }',
        '',
      ].join('\n')),
      file('scripts/files/cleanup.sh', cleanup),
      file('packages.yml', deployment('tools', '    - name: git\n    - name: 7zip\n      pin: true\n', '  targets:\n    organizations: [acme, globex]\n')),
      file('README.md', '# not policy'),
    ]),
  );
  assert.equal(policy.settings?.id, 'global');
  assert.deepEqual([...policy.organizations.keys()], ['acme', 'globex']);
  assert.deepEqual([...policy.locations.keys()], ['acme/paris']);
  assert.deepEqual([...policy.scripts.keys()], ['cleanup']);
  assert.deepEqual(policy.chocoDeployments.get('tools')?.spec.packages[1], { name: '7zip', pin: true });
  assert.deepEqual(policy.contents.get('Script/cleanup'), { content: cleanup, sha256: sha256(cleanup), file: 'scripts/files/cleanup.sh' });
  assert.deepEqual(policy.contents.get('Script/cleanup#check'), { content: 'test ! -e /tmp/pswm-x', sha256: sha256('test ! -e /tmp/pswm-x') });

  const acme = policy.organizations.get('acme')!;
  assert.deepEqual(acme.source, { file: 'organizations/all.yaml', line: 1, col: 1 });
  assert.deepEqual(acme.positionOf(['spec', 'settings', 'agent', 'interval_seconds']), { file: 'organizations/all.yaml', line: 7, col: 25 });
  // A path that is not in the document falls back to its nearest ancestor that is.
  assert.deepEqual(acme.positionOf(['spec', 'settings', 'agent', 'jitter_seconds']), { file: 'organizations/all.yaml', line: 6, col: 5 });
  const paris = policy.locations.get('acme/paris')!;
  assert.deepEqual(paris.source, { file: 'organizations/all.yaml', line: 9, col: 1 });
  assert.deepEqual(paris.positionOf(['spec', 'organization']), { file: 'organizations/all.yaml', line: 14, col: 17 });
  const tools = policy.chocoDeployments.get('tools')!;
  assert.deepEqual(tools.positionOf(['spec', 'packages', 1, 'pin']), { file: 'packages.yml', line: 8, col: 12 });
});

test('files in dot-folders and CI definitions are not read as policy', () => {
  const result = loadPolicy([
    file('.gitlab-ci.yml', 'stages: [validate\n'),
    file('.github/workflows/policy.yml', 'on: push\n'),
    file('docs/.hidden/x.yaml', 'kind: Nope\n'),
    file('org.yaml', ORGANIZATIONS),
  ]);
  assert.deepEqual([...loaded(result).organizations.keys()], ['acme', 'globex']);
});

test('a symlink inside the repository is followed, for a file and for a folder', () => {
  const script = 'echo shared\n';
  const policy = loaded(
    loadPolicy([
      file('shared/run.sh', script),
      link('scripts/run.sh', '../shared/run.sh'),
      link('scripts/lib', '../shared'),
      file('scripts/s.yaml', [
        'apiVersion: pswm/v1\nkind: Script\nmetadata: { name: by-file-link }\nspec: { shell: sh, file: run.sh }',
        'apiVersion: pswm/v1\nkind: Script\nmetadata: { name: by-folder-link }\nspec: { shell: sh, file: lib/run.sh }',
        'apiVersion: pswm/v1\nkind: ExternalFact\nmetadata: { name: dotted }\nspec: { shell: sh, file: ./lib/../lib/run.sh }',
      ].join('\n---\n')),
    ]),
  );
  for (const key of ['Script/by-file-link', 'Script/by-folder-link', 'ExternalFact/dotted']) {
    assert.deepEqual(policy.contents.get(key), { content: script, sha256: sha256(script), file: 'shared/run.sh' }, key);
  }
});

test('identical package declarations in two deployments are not a conflict', () => {
  const policy = loaded(
    loadPolicy([
      file('a.yaml', deployment('base', '    - name: git\n      ensure: present\n')),
      file('b.yaml', deployment('dev', '    - name: GIT\n    - name: vscode\n')),
    ]),
  );
  assert.equal(policy.chocoDeployments.size, 2);
});

test('different declarations at different specificities are not a conflict', () => {
  const result = loadPolicy([
    file('org.yaml', ORGANIZATIONS),
    file('a.yaml', deployment('everyone', '    - name: firefox\n')),
    file('b.yaml', deployment('acme', '    - name: firefox\n      pin: true\n', '  targets: { organizations: [acme] }\n')),
    file('c.yaml', deployment('paris', '    - name: firefox\n      ensure: latest\n', '  targets: { locations: [acme/paris] }\n')),
    file('d.yaml', deployment('one-agent', '    - name: firefox\n      ensure: absent\n', '  targets: { agents: [ws-001] }\n')),
    file('e.yaml', deployment('globex', '    - name: firefox\n      version: "115.0"\n', '  targets: { organizations: [globex] }\n')),
    // Facts selectors depend on the agent: the compiler decides those per group.
    file('f.yaml', deployment('windows-11', '    - name: firefox\n      source: internal\n', '  targets: { facts: { os.version: "11" } }\n')),
  ]);
  assert.equal(loaded(result).chocoDeployments.size, 6);
});

test('AgentOverrides of one agent with disjoint scopes are allowed', () => {
  const override = (name: string, scope: string) => `apiVersion: pswm/v1\nkind: AgentOverride\nmetadata: { name: ${name} }\nspec:\n  agent: ws-001\n${scope}`;
  const policy = loaded(
    loadPolicy([
      file('org.yaml', ORGANIZATIONS),
      file('o.yaml', [override('in-acme', '  location: acme/paris\n'), override('in-globex', '  organization: globex\n')].join('---\n')),
    ]),
  );
  assert.deepEqual([...policy.overrides.keys()], ['in-acme', 'in-globex']);
});

test('YAML merge keys and anchors within the limit are expanded', () => {
  const packages = '    - &pinned { name: git, pin: true, source: internal }\n    - <<: *pinned\n      name: 7zip\n';
  const policy = loaded(loadPolicy([file('d.yaml', deployment('tools', packages))]));
  assert.deepEqual(policy.chocoDeployments.get('tools')?.spec.packages, [
    { name: 'git', pin: true, source: 'internal' },
    { name: '7zip', pin: true, source: 'internal' },
  ]);
});

test('an empty repository loads as an empty policy; defaults apply without Settings', () => {
  const policy = loaded(loadPolicy([file('empty.yaml', '# nothing yet\n---\n')]));
  assert.equal(policy.settings, undefined);
  assert.equal(policy.organizations.size, 0);
});

test('default limits are the documented ones', () => {
  assert.deepEqual(DEFAULT_POLICY_LIMITS, {
    maxFileBytes: 1048576,
    maxDocumentBytes: 262144,
    maxDocuments: 100000,
    maxAliasCount: 100,
    maxScriptBytes: 1048576,
  });
});

test('a script file above the script size limit is refused', () => {
  const result = loadPolicy(
    [file('s.yaml', 'apiVersion: pswm/v1\nkind: Script\nmetadata: { name: big }\nspec: { shell: sh, file: big.sh }\n'), file('big.sh', 'x'.repeat(100))],
    { maxScriptBytes: 50 },
  );
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.errors, [
    { code: 'FILE_TOO_LARGE', message: 'Script "big": file big.sh is 100 bytes; script files may be at most 50 bytes', file: 's.yaml', line: 4, col: 26 },
  ]);
});

test('a script chosen only by agent-reported facts is valid but warned about; trusted facts or named scopes are not', () => {
  const script = (name: string, targets: string) => `apiVersion: pswm/v1
kind: Script
metadata: { name: ${name} }
spec:
  shell: bash
  content: echo hi
  targets:
${targets}
`;
  const result = loadPolicy([
    file('orgs.yaml', ORGANIZATIONS),
    file('scripts.yaml', [
      script('by-os', '    facts:\n      os.family: linux'),
      script('by-org', '    organizations: [acme]\n    facts:\n      os.family: linux'),
      script('by-trusted', '    facts:\n      trusted.organization: acme\n      os.family: linux'),
      script('everyone', '    organizations: []'),
    ].join('---\n')),
  ]);
  assert.ok(result.ok);
  assert.deepEqual(result.warnings.map((w) => [w.code, w.file, w.line]), [['UNTRUSTED_SELECTION', 'scripts.yaml', 8]]);
  assert.match(result.warnings[0].message, /^Script "by-os" runs as the agent's account \(root\/SYSTEM\) on every agent that reports os\.family; /);
});
