import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { CompiledPackage } from '@pswm/schemas';
import { makeChocoStandin, type StandinState } from '../../../test/support/choco-standin.ts';
import { findChoco } from './choco-runner.ts';
import { convergeChoco, type ChocoState, type ConvergeChocoInput } from './converge-choco.ts';

const NOW = new Date('2025-01-15T12:00:00Z');
const pkg = (name: string, over: Partial<CompiledPackage> = {}): CompiledPackage => ({ name, ensure: 'present', pin: false, deployment: 'base', ...over });

const DESIRED: CompiledPackage[] = [
  pkg('git', { ensure: 'latest' }),
  pkg('vlc', { pin: true }),
  pkg('7zip', { ensure: 'absent' }),
  pkg('googlechrome', { version: '130.0.6723.117', pin: true }),
  pkg('failing-package'),
  pkg('reboot-package'),
  pkg('notepadplusplus'),
];

const MACHINE: StandinState = {
  installed: { chocolatey: '2.4.1', git: '2.46.0', vlc: '3.0.20', '7zip': '23.1.0', notepadplusplus: '8.6.9' },
  pins: { vlc: '3.0.20', notepadplusplus: '8.6.9' },
};

async function setUp(t: TestContext, machine: StandinState = MACHINE) {
  const standin = await makeChocoStandin(t, machine);
  const choco = await findChoco({ cwd: standin.dir, env: standin.env, maxOutputBytes: 65536 });
  const converge = (over: Partial<ConvergeChocoInput> & { state?: ChocoState } = {}) =>
    convergeChoco({ packages: DESIRED, settings: { upgrade_all: true, upgrade_interval_hours: 24, skip_pinned: true }, state: {}, now: NOW, dryRun: false, choco, ...over });
  return { standin, converge };
}

const statuses = (items: { name: string; status: string }[]) => Object.fromEntries(items.map((i) => [i.name, i.status]));

test('present, latest, absent and pins converge; a failing install does not stop the others; the second run is in sync', async (t) => {
  const { standin, converge } = await setUp(t);
  const first = await converge();
  assert.deepEqual(statuses(first.items), {
    git: 'changed',
    vlc: 'in_sync',
    '7zip': 'changed',
    googlechrome: 'changed',
    'failing-package': 'failed',
    'reboot-package': 'changed',
    notepadplusplus: 'changed',
    all: 'changed',
  });
  const failing = first.items.find((i) => i.name === 'failing-package');
  assert.equal(failing?.reason, 'choco install failing-package exited 1');
  const failedRun = first.runs.find((r) => r.package === 'failing-package');
  assert.match(failedRun?.output ?? '', /was not successful\. Exit code was '1603'/);

  const machine = await standin.readState();
  assert.deepEqual(machine.installed, {
    chocolatey: '2.4.1',
    git: '2.47.0',
    vlc: '3.0.20', // pinned: upgrade all left it alone
    googlechrome: '130.0.6723.117', // held at its version by --except (and its pin)
    'reboot-package': '1.1.0',
    notepadplusplus: '8.7.0', // unpinned, then upgraded by upgrade all
  });
  assert.deepEqual(machine.pins, { vlc: '3.0.20', googlechrome: '130.0.6723.117' });
  const upgradeAll = machine.calls.find((c) => c[0] === 'upgrade' && c[1] === 'all');
  assert.deepEqual(upgradeAll, ['upgrade', 'all', '-y', '--no-progress', '-r', "--except='googlechrome'"]);
  assert.ok(machine.calls.every((c) => !c.includes('--ignore-pinned')));

  assert.deepEqual(first.inventory, [
    { name: 'chocolatey', version: '2.4.1', pinned: false },
    { name: 'git', version: '2.47.0', pinned: false },
    { name: 'googlechrome', version: '130.0.6723.117', pinned: true },
    { name: 'notepadplusplus', version: '8.7.0', pinned: false },
    { name: 'reboot-package', version: '1.1.0', pinned: false },
    { name: 'vlc', version: '3.0.20', pinned: true },
  ]);
  assert.equal(first.state.lastUpgradeAllAt, NOW.toISOString());

  const second = await converge({ state: first.state });
  assert.deepEqual(statuses(second.items), {
    git: 'in_sync',
    vlc: 'in_sync',
    '7zip': 'in_sync',
    googlechrome: 'in_sync',
    'failing-package': 'failed',
    'reboot-package': 'in_sync',
    notepadplusplus: 'in_sync',
  });
  assert.deepEqual(second.runs.map((r) => `${r.operation} ${r.package}`), ['install failing-package']);
});

test('reboot exit codes (3010 required, 1641 initiated) are success with the reboot flagged', async (t) => {
  const { converge } = await setUp(t);
  const settings = { upgrade_all: false, upgrade_interval_hours: 24, skip_pinned: true };
  const result = await converge({ packages: [pkg('reboot-package'), pkg('reboot-initiated-package'), pkg('git')], settings });
  assert.deepEqual(statuses(result.items), { 'reboot-package': 'changed', 'reboot-initiated-package': 'changed', git: 'in_sync' });
  assert.deepEqual(
    result.runs.map((r) => ({ operation: r.operation, package: r.package, exitCode: r.exitCode, rebootRequired: r.rebootRequired })),
    [
      { operation: 'install', package: 'reboot-package', exitCode: 3010, rebootRequired: true },
      { operation: 'install', package: 'reboot-initiated-package', exitCode: 1641, rebootRequired: true },
    ],
  );
  assert.equal(result.rebootRequired, true);
  const quiet = await converge({ packages: [pkg('git')], settings });
  assert.equal(quiet.rebootRequired, false, 'nothing ran: no new reboot');
});

test('skip_pinned: false lets upgrade all move a package pinned on the machine', async (t) => {
  const machine = { installed: { chocolatey: '2.4.1', vlc: '3.0.20', notepadplusplus: '8.6.9' }, pins: { vlc: '3.0.20', notepadplusplus: '8.6.9' } };
  const upgradeAll = async (skipPinned: boolean) => {
    const { standin, converge } = await setUp(t, machine);
    const result = await converge({ packages: [pkg('notepadplusplus', { pin: true })], settings: { upgrade_all: true, upgrade_interval_hours: 24, skip_pinned: skipPinned } });
    assert.deepEqual(statuses(result.items), { notepadplusplus: 'in_sync', all: 'changed' });
    return (await standin.readState()).installed;
  };
  assert.equal((await upgradeAll(true)).vlc, '3.0.20', 'pins respected (the default)');
  const upgraded = await upgradeAll(false);
  assert.equal(upgraded.vlc, '3.0.21', 'the machine pin was ignored');
  assert.equal(upgraded.notepadplusplus, '8.6.9', 'the package the policy pins stays');
});

test('a declared version spelled 24.08 is in sync with the 24.8.0 choco reports', async (t) => {
  const { standin, converge } = await setUp(t, { installed: { chocolatey: '2.4.1' } });
  const settings = { upgrade_all: false, upgrade_interval_hours: 24, skip_pinned: true };
  const first = await converge({ packages: [pkg('7zip', { version: '24.08' })], settings });
  assert.deepEqual(statuses(first.items), { '7zip': 'changed' });
  assert.equal((await standin.readState()).installed['7zip'], '24.8.0');
  const second = await converge({ packages: [pkg('7zip', { version: '24.08' })], settings });
  assert.deepEqual(statuses(second.items), { '7zip': 'in_sync' });
  assert.deepEqual(second.runs, []);
});

test('an exact version is installed with --version and pinned', async (t) => {
  const { standin, converge } = await setUp(t, { installed: { chocolatey: '2.4.1' } });
  const result = await converge({ packages: [pkg('git', { version: '2.45.0', pin: true })], settings: { upgrade_all: false, upgrade_interval_hours: 24, skip_pinned: true } });
  assert.deepEqual(result.runs.map((r) => [r.operation, r.package, r.version, r.exitCode]), [
    ['install', 'git', '2.45.0', 0],
    ['pin-add', 'git', undefined, 0],
  ]);
  assert.deepEqual((await standin.readState()).pins, { git: '2.45.0' });
});

test('a dry run reports drift and changes nothing', async (t) => {
  const { standin, converge } = await setUp(t);
  const result = await converge({ dryRun: true });
  assert.deepEqual(
    result.items.map((i) => [i.name, i.status, i.reason]),
    [
      ['git', 'drifted', '2.46.0 installed, 2.47.0 available'],
      ['vlc', 'in_sync', undefined],
      ['7zip', 'drifted', '23.1.0 installed, should be absent'],
      ['googlechrome', 'drifted', 'not installed; not pinned'],
      ['failing-package', 'drifted', 'not installed'],
      ['reboot-package', 'drifted', 'not installed'],
      ['notepadplusplus', 'drifted', 'pinned, should not be'],
      ['all', 'skipped', "dry run: would run choco upgrade all -y --no-progress -r --except='googlechrome'"],
    ],
  );
  assert.deepEqual(result.runs, []);
  assert.deepEqual(result.state, {});
  const machine = await standin.readState();
  assert.deepEqual({ installed: machine.installed, pins: machine.pins }, MACHINE);
  assert.deepEqual(machine.calls, [['list', '-r'], ['pin', 'list', '-r'], ['outdated', '-r']]);
});

test('without choco every package is skipped with the reason', async () => {
  const result = await convergeChoco({
    packages: DESIRED.slice(0, 2),
    settings: { upgrade_all: true, upgrade_interval_hours: 24, skip_pinned: true },
    state: {},
    now: NOW,
    dryRun: false,
    choco: await findChoco({ cwd: '/', env: { PATH: '/nonexistent' }, maxOutputBytes: 1024 }),
  });
  assert.deepEqual(result.items, [
    { kind: 'package', name: 'git', status: 'skipped', reason: 'choco is not installed (not found on PATH)' },
    { kind: 'package', name: 'vlc', status: 'skipped', reason: 'choco is not installed (not found on PATH)' },
  ]);
  assert.equal(result.inventory, undefined);
});
