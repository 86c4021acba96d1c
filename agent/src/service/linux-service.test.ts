import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { installService, uninstallService, type ServiceOptions, type ServiceReport } from './service.ts';
import { SERVICE_NODE_FLAGS } from './unit-files.ts';

const posixOnly = { skip: process.platform === 'win32' ? 'POSIX file modes' : false };
const command = { execPath: '/usr/local/bin/node', entry: '/opt/pswm agent/bin/pswm.js', nodeFlags: SERVICE_NODE_FLAGS };

/** A root prefix where systemd runs (its runtime folder exists) unless `systemd: false`. */
async function options(t: import('node:test').TestContext, over: Partial<ServiceOptions> = {}, systemd = true): Promise<ServiceOptions> {
  const root = await makeTempDir(t, 'pswm-root-');
  if (systemd) await mkdir(path.join(root, 'run/systemd/system'), { recursive: true });
  return { root, platform: 'linux', dataDir: '/var/lib/pswm', ...command, ...over };
}

const statusOf = (report: ServiceReport, step: string) => report.actions.filter((a) => a.step === step).map((a) => a.status);
const mode = async (file: string) => (await stat(file)).mode & 0o777;

test('install_svc writes the systemd unit, the restricted data folder and the PATH script under the root prefix', posixOnly, async (t) => {
  const opts = await options(t);
  const root = opts.root!;
  const report = await installService(opts);
  assert.equal(report.ok, true);
  assert.equal(await readFile(path.join(root, 'etc/systemd/system/pswm.service'), 'utf8'), await readFile(new URL('./testdata/pswm.service', import.meta.url), 'utf8'));
  assert.equal(await mode(path.join(root, 'var/lib/pswm')), 0o750);
  for (const sub of ['logs', 'scripts_cache', 'external_facts', 'outbox', 'state', 'cache']) assert.equal(await mode(path.join(root, 'var/lib/pswm', sub)), 0o700, sub);
  assert.match(await readFile(path.join(root, 'etc/profile.d/pswm.sh'), 'utf8'), /PATH="\$PATH:"'\/var\/lib\/pswm'; export PATH/);
  assert.equal(await readFile(path.join(root, 'var/lib/pswm/pswm'), 'utf8'), `#!/bin/sh\n# Managed by pswm install_svc; removed by pswm uninstall_svc.\nexec '/usr/local/bin/node' '/opt/pswm agent/bin/pswm.js' "$@"\n`);
  // under a prefix the commands are reported, not run
  assert.deepEqual(
    report.actions.filter((a) => a.status === 'would run').map((a) => a.target),
    ['systemctl daemon-reload', 'systemctl enable --now pswm.service'],
  );
});

test('a second install_svc changes nothing and reports every file unchanged', posixOnly, async (t) => {
  const opts = await options(t);
  await installService(opts);
  const unitBefore = await stat(path.join(opts.root!, 'etc/systemd/system/pswm.service'));
  const second = await installService(opts);
  const fileActions = second.actions.filter((a) => a.status !== 'would run');
  assert.ok(fileActions.length >= 10);
  assert.deepEqual([...new Set(fileActions.map((a) => a.status))], ['unchanged']);
  // daemon-reload every time: a run that failed at enable must not leave a unit the next run trusts
  assert.deepEqual(second.actions.filter((a) => a.status === 'would run').map((a) => a.target), ['systemctl daemon-reload', 'systemctl enable --now pswm.service']);
  assert.equal((await stat(path.join(opts.root!, 'etc/systemd/system/pswm.service'))).mtimeMs, unitBefore.mtimeMs);
});

test('install_svc repairs a data folder left with loose permissions', posixOnly, async (t) => {
  const opts = await options(t);
  await mkdir(path.join(opts.root!, 'var/lib/pswm'), { recursive: true, mode: 0o777 });
  const report = await installService(opts);
  assert.deepEqual(statusOf(report, 'data folder, owner and group only'), ['updated']);
  assert.equal(await mode(path.join(opts.root!, 'var/lib/pswm')), 0o750);
});

test('no PATH script when /etc/environment already has the data folder on PATH', posixOnly, async (t) => {
  const opts = await options(t);
  await mkdir(path.join(opts.root!, 'etc'), { recursive: true });
  await writeFile(path.join(opts.root!, 'etc/environment'), 'PATH="/usr/local/sbin:/usr/bin:/var/lib/pswm/"\n');
  const report = await installService(opts);
  assert.deepEqual(statusOf(report, 'data folder on PATH'), ['unchanged']);
  await assert.rejects(stat(path.join(opts.root!, 'etc/profile.d/pswm.sh')), { code: 'ENOENT' });
});

test('uninstall_svc removes the unit and the PATH script, keeps the data folder, and is idempotent', posixOnly, async (t) => {
  const opts = await options(t);
  await installService(opts);
  const report = await uninstallService(opts);
  assert.equal(report.ok, true);
  assert.deepEqual(statusOf(report, 'systemd unit'), ['removed']);
  assert.deepEqual(statusOf(report, 'data folder on PATH'), ['removed']);
  assert.deepEqual(
    report.actions.filter((a) => a.status === 'would run').map((a) => a.target),
    ['systemctl disable --now pswm.service', 'systemctl daemon-reload'],
  );
  await assert.rejects(stat(path.join(opts.root!, 'etc/systemd/system/pswm.service')), { code: 'ENOENT' });
  await assert.rejects(stat(path.join(opts.root!, 'etc/profile.d/pswm.sh')), { code: 'ENOENT' });
  assert.ok((await stat(path.join(opts.root!, 'var/lib/pswm/outbox'))).isDirectory());
  const again = await uninstallService(opts);
  assert.deepEqual(statusOf(again, 'systemd unit'), ['absent']);
  assert.equal(again.actions.some((a) => a.status === 'would run' || a.status === 'removed'), false);
});

test('uninstall_svc leaves a unit file it did not write', posixOnly, async (t) => {
  const opts = await options(t);
  await mkdir(path.join(opts.root!, 'etc/systemd/system'), { recursive: true });
  await writeFile(path.join(opts.root!, 'etc/systemd/system/pswm.service'), '[Service]\nExecStart=/bin/true\n');
  const report = await uninstallService(opts);
  assert.deepEqual(statusOf(report, 'systemd unit'), ['kept']);
  assert.equal(await readFile(path.join(opts.root!, 'etc/systemd/system/pswm.service'), 'utf8'), '[Service]\nExecStart=/bin/true\n');
});

test('a dry run reports what install_svc would do and writes nothing', posixOnly, async (t) => {
  const opts = await options(t, { dryRun: true });
  const report = await installService(opts);
  assert.deepEqual(statusOf(report, 'systemd unit'), ['would create']);
  await assert.rejects(stat(path.join(opts.root!, 'var')), { code: 'ENOENT' });
  await assert.rejects(stat(path.join(opts.root!, 'etc')), { code: 'ENOENT' });
});

test('without systemd, install_svc says so before writing anything, and a second run does the same', posixOnly, async (t) => {
  const opts = await options(t, {}, false);
  for (const run of [1, 2]) {
    const report = await installService(opts);
    assert.equal(report.ok, false, `run ${run}`);
    assert.deepEqual(report.actions.map((a) => [a.step, a.status]), [['check the service manager', 'failed']]);
    assert.match(report.actions[0].detail!, /systemd is not running on this machine .*Nothing was changed/);
    await assert.rejects(stat(path.join(opts.root!, 'var')), { code: 'ENOENT' });
    await assert.rejects(stat(path.join(opts.root!, 'etc')), { code: 'ENOENT' });
  }
});

test('the unit does not restart an agent the server revoked (exit 3)', posixOnly, async (t) => {
  const opts = await options(t);
  await installService(opts);
  assert.match(await readFile(path.join(opts.root!, 'etc/systemd/system/pswm.service'), 'utf8'), /^Restart=on-failure\nRestartSec=10\nRestartPreventExitStatus=3$/m);
});
