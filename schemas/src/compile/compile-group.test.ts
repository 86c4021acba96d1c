import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentIdentity } from '../model.ts';
import { compileGroup } from './compile-group.ts';
import { groupKey, referencedFactPaths } from './group-key.ts';
import { explainSettings } from './explain.ts';
import { mergeSettings } from './settings.ts';
import { policyOf, type TestDocument } from './test-policy.ts';
import { sha256Hex } from '../canonical-json.ts';

const layered: TestDocument[] = [
  { kind: 'Settings', name: 'global', spec: { settings: { agent: { interval_seconds: 1000, jitter_seconds: 10 }, logging: { level: 'warn' } } } },
  { kind: 'Organization', name: 'acme', spec: { settings: { agent: { interval_seconds: 2000 }, logging: { retention_days: 30 } } } },
  { kind: 'Location', name: 'paris', spec: { organization: 'acme', settings: { agent: { interval_seconds: 3000 }, scripts: { timeout_seconds: 120 } } } },
  { kind: 'Location', name: 'lyon', spec: { organization: 'acme' } },
  { kind: 'AgentOverride', name: 'kiosk', spec: { agent: 'KIOSK', location: 'acme/paris', settings: { agent: { interval_seconds: 4000 } } } },
];

const agent = (name: string, location = 'paris', facts: Record<string, unknown> = {}, organization = 'acme'): AgentIdentity => ({ name, organization, location, facts });

test('settings layer global, organization, location, then the agent override, the later winning', () => {
  const policy = policyOf(layered);
  assert.equal(compileGroup(policy, agent('KIOSK')).state.settings.agent.interval_seconds, 4000);
  assert.equal(compileGroup(policy, agent('PC-1')).state.settings.agent.interval_seconds, 3000);
  assert.equal(compileGroup(policy, agent('PC-2', 'lyon')).state.settings.agent.interval_seconds, 2000);
  assert.equal(compileGroup(policy, agent('PC-3', 'oslo', {}, 'other')).state.settings.agent.interval_seconds, 1000);
});

test('deep merge keeps sibling keys from earlier layers and schema defaults', () => {
  const { settings } = compileGroup(policyOf(layered), agent('KIOSK')).state;
  assert.deepEqual(settings.agent, { interval_seconds: 4000, jitter_seconds: 10, heartbeat_seconds: 60 });
  assert.deepEqual(settings.logging, { level: 'warn', retention_days: 30, max_file_mb: 10 });
});

test('arrays and scalars replace rather than merge', () => {
  const merged = mergeSettings([
    { document: 'default', block: { x: { list: [1, 2, 3], nested: { a: 1 } } } as never },
    { document: 'Settings/g', block: { x: { list: [9], nested: 'flat' } } as never },
  ]);
  assert.deepEqual(merged.settings, { x: { list: [9], nested: 'flat' } });
  assert.deepEqual([...merged.history.keys()].sort(), ['x.list', 'x.nested']);
});

test('provenance names the document and file that set each leaf, and "default" for schema defaults', () => {
  const { provenance } = compileGroup(policyOf(layered), agent('KIOSK')).state;
  assert.deepEqual(provenance['agent.interval_seconds'], { document: 'AgentOverride/kiosk', file: 'agentoverride/kiosk.yaml' });
  assert.deepEqual(provenance['agent.jitter_seconds'], { document: 'Settings/global', file: 'settings/global.yaml' });
  assert.deepEqual(provenance['logging.retention_days'], { document: 'Organization/acme', file: 'organization/acme.yaml' });
  assert.deepEqual(provenance['scripts.timeout_seconds'], { document: 'Location/acme/paris', file: 'location/paris.yaml' });
  assert.deepEqual(provenance['agent.heartbeat_seconds'], { document: 'default' });
  assert.equal(Object.keys(provenance).length, 24, 'one entry per settings leaf');
});

test('an override scoped to another location does not apply', () => {
  const state = compileGroup(policyOf(layered), agent('KIOSK', 'lyon')).state;
  assert.equal(state.settings.agent.interval_seconds, 2000);
});

test('explain shows the winning line and the layers it overrode', () => {
  const explained = explainSettings(policyOf(layered), agent('KIOSK'));
  const interval = explained.find((e) => e.key === 'agent.interval_seconds')!;
  // Synthetic positions: document line 1 + depth 4 of ["spec","settings","agent","interval_seconds"].
  assert.deepEqual(
    { value: interval.value, document: interval.document, file: interval.file, line: interval.line },
    { value: 4000, document: 'AgentOverride/kiosk', file: 'agentoverride/kiosk.yaml', line: 5 },
  );
  assert.deepEqual(interval.overridden.map((o) => [o.document, o.value]), [
    ['default', 1800],
    ['Settings/global', 1000],
    ['Organization/acme', 2000],
    ['Location/acme/paris', 3000],
  ]);
  const heartbeat = explained.find((e) => e.key === 'agent.heartbeat_seconds')!;
  assert.deepEqual(heartbeat, { key: 'agent.heartbeat_seconds', value: 60, document: 'default', overridden: [] });
});

const scripted: TestDocument[] = [
  ...layered,
  { kind: 'Script', name: 'zeta', spec: { shell: 'powershell', file: 'z.ps1', order: 10, check: { content: 'exit 0' } } },
  { kind: 'Script', name: 'alpha', spec: { shell: 'bash', file: 'a.sh', order: 10, timeout_seconds: 5 } },
  { kind: 'Script', name: 'early', spec: { shell: 'pwsh', content: 'x', order: 1, run: 'interval', interval_hours: 6 } },
  { kind: 'Script', name: 'batch', spec: { shell: 'cmd', content: 'y', platforms: ['windows'] } },
  { kind: 'Script', name: 'lyon-only', spec: { shell: 'sh', content: 'z', targets: { locations: ['acme/lyon'] } } },
  { kind: 'ExternalFact', name: 'inventory', spec: { shell: 'sh', file: 'inv.sh', timeout_seconds: 7 } },
];
const scriptContents = {
  'Script/zeta': 'Write-Output zeta',
  'Script/zeta#check': 'exit 0',
  'Script/alpha': 'echo alpha',
  'Script/early': 'x',
  'Script/batch': 'y',
  'Script/lyon-only': 'z',
  'ExternalFact/inventory': 'echo {}',
};

test('scripts are the matching ones, sorted by order then name, with defaults from shell and settings', () => {
  const { scripts, external_facts } = compileGroup(policyOf(scripted, scriptContents), agent('PC-1')).state;
  assert.deepEqual(scripts.map((s) => s.name), ['early', 'alpha', 'zeta', 'batch']);
  const byName = Object.fromEntries(scripts.map((s) => [s.name, s]));
  assert.deepEqual(byName.zeta.platforms, ['windows']);
  assert.deepEqual(byName.alpha.platforms, ['linux', 'darwin']);
  assert.deepEqual(byName.early.platforms, ['windows', 'linux', 'darwin']);
  assert.equal(byName.zeta.timeout_seconds, 120, 'from the location settings');
  assert.equal(byName.alpha.timeout_seconds, 5, 'the script spec wins over settings');
  assert.equal(byName.zeta.max_output_bytes, 65536);
  assert.equal(byName.batch.order, 100);
  assert.equal(byName.batch.run, 'every_iteration');
  assert.equal(byName.early.interval_hours, 6);
  assert.deepEqual(byName.zeta.check, { shell: 'powershell', content: 'exit 0', sha256: sha256Hex('exit 0') });
  assert.equal(byName.zeta.content, 'Write-Output zeta');
  assert.equal('schedule' in byName.zeta, false, 'absent optional fields stay absent');
  assert.deepEqual(external_facts.map((f) => [f.name, f.timeout_seconds, f.max_output_bytes]), [['inventory', 7, 65536]]);
});

test('a changed script file changes the script sha256 and the document hash', () => {
  const before = compileGroup(policyOf(scripted, scriptContents), agent('PC-1'));
  const after = compileGroup(policyOf(scripted, { ...scriptContents, 'Script/alpha': 'echo beta' }), agent('PC-1'));
  assert.notEqual(before.sha256, after.sha256);
  assert.notEqual(before.state.scripts.find((s) => s.name === 'alpha')!.sha256, after.state.scripts.find((s) => s.name === 'alpha')!.sha256);
});

test('a line-only edit keeps the document hash', () => {
  const moved = scripted.map((d) => ({ ...d, line: (d.line ?? 1) + 7 }));
  assert.equal(compileGroup(policyOf(scripted, scriptContents), agent('KIOSK')).sha256, compileGroup(policyOf(moved, scriptContents), agent('KIOSK')).sha256);
});

test('json is the canonical text of the state and sha256 a hex digest (of the parts, see compiler.test.ts)', () => {
  const compiled = compileGroup(policyOf(scripted, scriptContents), agent('PC-1'));
  assert.deepEqual(JSON.parse(compiled.json), compiled.state);
  assert.match(compiled.sha256, /^[0-9a-f]{64}$/);
  assert.equal(compiled.json.includes(' "'), false);
});

const deployments: TestDocument[] = [
  ...layered,
  { kind: 'ChocoDeployment', name: 'baseline', spec: { packages: [{ name: 'git' }, { name: '7zip', version: '1.0' }] } },
  { kind: 'ChocoDeployment', name: 'acme', spec: { packages: [{ name: 'git', ensure: 'latest' }], targets: { organizations: ['acme'] } } },
  { kind: 'ChocoDeployment', name: 'paris', spec: { packages: [{ name: '7zip', version: '2.0', pin: true }], targets: { locations: ['acme/paris'] } } },
  { kind: 'ChocoDeployment', name: 'kiosk', spec: { packages: [{ name: 'git', ensure: 'absent' }], targets: { agents: ['KIOSK'] } } },
  { kind: 'ChocoDeployment', name: 'win', spec: { packages: [{ name: 'vlc', version: '3' }], targets: { facts: { 'os.family': 'windows' } } } },
  { kind: 'ChocoDeployment', name: 'x64', spec: { packages: [{ name: 'vlc', version: '4' }], targets: { facts: { 'cpu.arch': ['x64', 'amd64'] } } } },
  { kind: 'ChocoDeployment', name: 'same', spec: { packages: [{ name: 'vlc', version: '3' }], targets: { facts: { 'os.family': 'windows', 'os.release': '11' } } } },
];

test('the most specific deployment wins each package: agent > location > organization > all', () => {
  const policy = policyOf(deployments);
  const packages = (a: AgentIdentity) => compileGroup(policy, a).state.packages.map((p) => [p.name, p.ensure, p.version ?? null, p.pin, p.deployment]);
  assert.deepEqual(packages(agent('KIOSK')), [
    ['7zip', 'present', '2.0', true, 'paris'],
    ['git', 'absent', null, false, 'kiosk'],
  ]);
  assert.deepEqual(packages(agent('PC-2', 'lyon')), [
    ['7zip', 'present', '1.0', false, 'baseline'],
    ['git', 'latest', null, false, 'acme'],
  ]);
  assert.deepEqual(packages(agent('PC-3', 'oslo', {}, 'other')), [
    ['7zip', 'present', '1.0', false, 'baseline'],
    ['git', 'present', null, false, 'baseline'],
  ]);
});

test('fact-selected deployments that disagree at equal specificity leave the package out as a conflict', () => {
  const policy = policyOf(deployments);
  const both = compileGroup(policy, agent('PC-1', 'paris', { os: { family: 'windows' }, cpu: { arch: 'amd64' } })).state;
  assert.equal(both.packages.some((p) => p.name === 'vlc'), false);
  assert.deepEqual(both.conflicts, [{ package: 'vlc', documents: ['ChocoDeployment/win', 'ChocoDeployment/x64'] }]);

  const windowsOnly = compileGroup(policy, agent('PC-1', 'paris', { os: { family: 'windows', release: 11 } })).state;
  assert.deepEqual(windowsOnly.conflicts, [], 'identical declarations at equal specificity agree');
  assert.deepEqual(windowsOnly.packages.find((p) => p.name === 'vlc'), { name: 'vlc', ensure: 'present', version: '3', pin: false, deployment: 'same' });
});

test('fact paths referenced by any selector are collected once, sorted', () => {
  assert.deepEqual(referencedFactPaths(policyOf(deployments)), ['cpu.arch', 'os.family', 'os.release']);
});

test('agents with equal group keys get identical documents', () => {
  const policy = policyOf([...deployments, ...scripted.slice(layered.length), { kind: 'Script', name: 'named', spec: { shell: 'sh', content: 'n', targets: { agents: ['PC-7'] } } }], {
    ...scriptContents,
    'Script/named': 'n',
  });
  const agents: AgentIdentity[] = [];
  const factVariants = [{}, { os: { family: 'windows' } }, { os: { family: 'linux' }, cpu: { arch: 'x64' } }, { os: { family: 'windows', release: '11' }, hostname: 'x' }, { 'os.family': 'windows', cpu: { arch: 'arm64' } }];
  for (const name of ['PC-1', 'PC-2', 'KIOSK', 'PC-7']) {
    for (const location of ['paris', 'lyon']) for (const facts of factVariants) agents.push(agent(name, location, facts));
  }
  const documentByKey = new Map<string, string>();
  for (const a of agents) {
    const key = groupKey(policy, a);
    const { sha256 } = compileGroup(policy, a);
    if (documentByKey.has(key)) assert.equal(sha256, documentByKey.get(key), `agents sharing key ${key} must share a document`);
    documentByKey.set(key, sha256);
  }
  assert.ok(documentByKey.size < agents.length, 'some agents share groups');
  const unnamedAgents = new Set(agents.filter((a) => a.name === 'PC-1' || a.name === 'PC-2').map((a) => groupKey(policy, a)));
  assert.equal(unnamedAgents.size, 10, 'agent names nobody targets do not split groups');
});

test('the group key ignores facts no selector reads and separates agents a selector tells apart', () => {
  const policy = policyOf(deployments);
  assert.equal(groupKey(policy, agent('A', 'paris', { hostname: 'a' })), groupKey(policy, agent('B', 'paris', { hostname: 'b' })));
  assert.notEqual(groupKey(policy, agent('A', 'paris', { os: { family: 'windows' } })), groupKey(policy, agent('A', 'paris', { os: { family: 'linux' } })));
  assert.notEqual(groupKey(policy, agent('KIOSK')), groupKey(policy, agent('PC-1')));
});
