import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompiledPackage } from '@pswm/schemas';
import { buildChocoArgs } from './command-line.ts';
import { planChoco, type ChocoInventory, type ChocoPlanInput } from './plan.ts';

const NOW = new Date('2025-01-15T12:00:00Z');
const pkg = (name: string, over: Partial<CompiledPackage> = {}): CompiledPackage => ({ name, ensure: 'present', pin: false, deployment: 'base', ...over });
const inventory = (over: Partial<ChocoInventory> = {}): ChocoInventory => ({ installed: [], outdated: [], pins: [], ...over });

function plan(packages: CompiledPackage[], inv: ChocoInventory, over: Partial<ChocoPlanInput> = {}) {
  const result = planChoco({ packages, inventory: inv, upgradeAll: { enabled: false, intervalHours: 24, skipPinned: true }, now: NOW, ...over });
  return {
    packages: Object.fromEntries(result.packages.map((p) => [p.package.name, { commands: p.operations.map((o) => buildChocoArgs(o).join(' ')), drift: p.drift }])),
    upgradeAll: result.upgradeAll && buildChocoArgs(result.upgradeAll).join(' '),
  };
}

test('present installs what is missing and leaves any installed version alone', () => {
  const result = plan([pkg('git'), pkg('vlc')], inventory({ installed: [{ name: 'vlc', version: '3.0.20' }], outdated: [{ name: 'vlc', current: '3.0.20', available: '3.0.21', pinned: false }] }));
  assert.deepEqual(result.packages, {
    git: { commands: ['install git -y --no-progress -r'], drift: ['not installed'] },
    vlc: { commands: [], drift: [] },
  });
});

test('an exact version installs, upgrades or downgrades to that version', () => {
  const result = plan(
    [pkg('a', { version: '2.0.0' }), pkg('b', { version: '2.0.0' }), pkg('c', { version: '2.0.0' }), pkg('d', { version: '2.0.0' })],
    inventory({ installed: [{ name: 'b', version: '1.0.0' }, { name: 'c', version: '3.0.0' }, { name: 'd', version: '2.0.0' }] }),
  );
  assert.deepEqual(result.packages, {
    a: { commands: ['install a --version=2.0.0 -y --no-progress -r'], drift: ['not installed'] },
    b: { commands: ['upgrade b --version=2.0.0 --allow-downgrade -y --no-progress -r'], drift: ['1.0.0 installed, 2.0.0 wanted'] },
    c: { commands: ['upgrade c --version=2.0.0 --allow-downgrade -y --no-progress -r'], drift: ['3.0.0 installed, 2.0.0 wanted'] },
    d: { commands: [], drift: [] },
  });
});

test('latest upgrades only what choco reports outdated', () => {
  const result = plan(
    [pkg('git', { ensure: 'latest' }), pkg('vlc', { ensure: 'latest' }), pkg('new', { ensure: 'latest' })],
    inventory({ installed: [{ name: 'Git', version: '2.46.0' }, { name: 'vlc', version: '3.0.21' }], outdated: [{ name: 'git', current: '2.46.0', available: '2.47.0', pinned: false }] }),
  );
  assert.deepEqual(result.packages, {
    git: { commands: ['upgrade git -y --no-progress -r'], drift: ['2.46.0 installed, 2.47.0 available'] },
    vlc: { commands: [], drift: [] },
    new: { commands: ['install new -y --no-progress -r'], drift: ['not installed'] },
  });
});

test('absent uninstalls, removing a pin first', () => {
  const result = plan([pkg('a', { ensure: 'absent' }), pkg('b', { ensure: 'absent' }), pkg('c', { ensure: 'absent' })], inventory({ installed: [{ name: 'a', version: '1.0' }, { name: 'b', version: '2.0' }], pins: [{ name: 'b', version: '2.0' }] }));
  assert.deepEqual(result.packages, {
    a: { commands: ['uninstall a -y --no-progress -r'], drift: ['1.0 installed, should be absent'] },
    b: { commands: ['pin remove -n=b -r', 'uninstall b -y --no-progress -r'], drift: ['2.0 installed, should be absent'] },
    c: { commands: [], drift: [] },
  });
});

test('pins are added and removed to match the declaration', () => {
  const result = plan(
    [pkg('new', { pin: true }), pkg('unpinned', { pin: true }), pkg('pinned', { pin: true }), pkg('loose')],
    inventory({ installed: [{ name: 'unpinned', version: '1.0' }, { name: 'pinned', version: '1.0' }, { name: 'loose', version: '1.0' }], pins: [{ name: 'pinned', version: '1.0' }, { name: 'loose', version: '1.0' }] }),
  );
  assert.deepEqual(result.packages, {
    new: { commands: ['install new -y --no-progress -r', 'pin add -n=new -r'], drift: ['not installed', 'not pinned'] },
    unpinned: { commands: ['pin add -n=unpinned -r'], drift: ['not pinned'] },
    pinned: { commands: [], drift: [] },
    loose: { commands: ['pin remove -n=loose -r'], drift: ['pinned, should not be'] },
  });
});

test('a pinned package moved to a new exact version is unpinned, changed and pinned again', () => {
  const result = plan([pkg('git', { version: '2.47.0', pin: true })], inventory({ installed: [{ name: 'git', version: '2.46.0' }], pins: [{ name: 'git', version: '2.46.0' }] }));
  assert.deepEqual(result.packages.git.commands, ['pin remove -n=git -r', 'upgrade git --version=2.47.0 --allow-downgrade -y --no-progress -r', 'pin add -n=git -r']);
  assert.deepEqual(result.packages.git.drift, ['2.46.0 installed, 2.47.0 wanted']);
});

test('source, install arguments and timeout go to the command', () => {
  const result = planChoco({
    packages: [pkg('app', { source: 'https://repo.example/a;https://repo.example/b', install_args: '/S /D=C:\\Apps', timeout_seconds: 900 })],
    inventory: inventory(),
    upgradeAll: { enabled: false, intervalHours: 24, skipPinned: true },
    now: NOW,
  });
  const [install] = result.packages[0].operations;
  assert.deepEqual(buildChocoArgs(install), ['install', 'app', '-y', '--no-progress', '-r', "-s='https://repo.example/a;https://repo.example/b'", "--install-arguments='/S /D=C:\\Apps'"]);
  assert.equal('timeoutSeconds' in install && install.timeoutSeconds, 900);
});

test('upgrade all runs on its interval, excepts packages held at an exact version and never ignores pins', () => {
  const packages = [pkg('zeta', { version: '1.0' }), pkg('alpha', { version: '2.0' }), pkg('free'), pkg('held', { pin: true })];
  const inv = inventory({ installed: [{ name: 'zeta', version: '1.0' }, { name: 'alpha', version: '2.0' }, { name: 'free', version: '1' }, { name: 'held', version: '1' }], pins: [{ name: 'held', version: '1' }] });
  const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
  const upgradeAll = (lastRunAt?: string, enabled = true) => plan(packages, inv, { upgradeAll: { enabled, intervalHours: 24, lastRunAt, skipPinned: true } }).upgradeAll;

  assert.equal(upgradeAll(undefined), "upgrade all -y --no-progress -r --except='alpha,zeta'");
  assert.equal(upgradeAll(hoursAgo(23)), undefined);
  assert.equal(upgradeAll(hoursAgo(24)), "upgrade all -y --no-progress -r --except='alpha,zeta'");
  assert.equal(upgradeAll(undefined, false), undefined);
  assert.equal(plan([pkg('free')], inv, { upgradeAll: { enabled: true, intervalHours: 24, skipPinned: true } }).upgradeAll, 'upgrade all -y --no-progress -r');
});

test('with pins respected no planned command carries --ignore-pinned', () => {
  const packages = [pkg('a', { ensure: 'latest', pin: true }), pkg('b', { version: '1', pin: true }), pkg('c', { ensure: 'absent' })];
  const inv = inventory({ installed: [{ name: 'a', version: '1' }, { name: 'b', version: '2' }, { name: 'c', version: '1' }], outdated: [{ name: 'a', current: '1', available: '2', pinned: true }], pins: [{ name: 'a', version: '1' }, { name: 'b', version: '2' }, { name: 'c', version: '1' }] });
  const result = plan(packages, inv, { upgradeAll: { enabled: true, intervalHours: 1, skipPinned: true } });
  const all = [...Object.values(result.packages).flatMap((p) => p.commands), result.upgradeAll ?? ''];
  assert.ok(all.length > 5);
  for (const command of all) assert.doesNotMatch(command, /ignore-pinned/);
});

test('skip_pinned: false upgrades machine pins with upgrade all, still holding what the policy pins or fixes', () => {
  const packages = [pkg('fixed', { version: '1.0' }), pkg('policy-pinned', { pin: true }), pkg('free')];
  const inv = inventory({ installed: [{ name: 'fixed', version: '1.0' }, { name: 'policy-pinned', version: '1' }, { name: 'free', version: '1' }, { name: 'local', version: '1' }], pins: [{ name: 'policy-pinned', version: '1' }, { name: 'local', version: '1' }] });
  assert.equal(plan(packages, inv, { upgradeAll: { enabled: true, intervalHours: 24, skipPinned: false } }).upgradeAll, "upgrade all -y --no-progress -r --ignore-pinned --except='fixed,policy-pinned'");
  assert.equal(plan(packages, inv, { upgradeAll: { enabled: true, intervalHours: 24, skipPinned: true } }).upgradeAll, "upgrade all -y --no-progress -r --except='fixed'");
});

test('a version spelled differently from what choco reports is in sync, not drifted forever', () => {
  const result = plan([pkg('7zip', { version: '24.08' }), pkg('git', { ensure: 'latest' })], inventory({
    installed: [{ name: '7zip', version: '24.8.0' }, { name: 'git', version: '2.47.0' }],
    outdated: [{ name: 'git', current: '2.47.0', available: '2.47.0.0', pinned: false }],
  }));
  assert.deepEqual(result.packages['7zip'], { commands: [], drift: [] });
  assert.deepEqual(result.packages.git, { commands: [], drift: [] });
});
