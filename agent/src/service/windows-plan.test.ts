import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addPathEntry, pathHasEntry, removePathEntry } from './path-entry.ts';
import { formatCommand } from './report.ts';
import { installService } from './service.ts';
import { SERVICE_NODE_FLAGS } from './unit-files.ts';
import { parseRegQueryValue, windowsInstallPlan, windowsUninstallPlan } from './windows-plan.ts';

const opts = { execPath: 'C:\\Program Files\\nodejs\\node.exe', entry: 'C:\\Program Files\\pswm\\agent\\bin\\pswm.js', dataDir: 'C:\\ProgramData\\pswm-reborn' };
const ENV_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment';
const SYSTEM_PATH = '%SystemRoot%\\system32;%SystemRoot%;C:\\Tools';
const lines = (plan: ReturnType<typeof windowsInstallPlan>) => plan.map((cmd) => [cmd.command, ...cmd.args]);

test('install on a fresh Windows: restrict the folder, create the service with restart on failure, add to PATH, start', () => {
  assert.deepEqual(lines(windowsInstallPlan(opts, { serviceExists: false, systemPath: SYSTEM_PATH })), [
    ['icacls.exe', 'C:\\ProgramData\\pswm-reborn', '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F'],
    ['icacls.exe', 'C:\\ProgramData\\pswm-reborn\\*', '/reset', '/T', '/C', '/Q'],
    ['sc.exe', 'create', 'pswm', 'binPath=', '"C:\\Program Files\\nodejs\\node.exe" "C:\\Program Files\\pswm\\agent\\bin\\pswm.js" service', 'start=', 'auto', 'DisplayName=', 'pswm agent'],
    ['sc.exe', 'description', 'pswm', 'pswm agent: converges this machine to its policy and reports back'],
    ['sc.exe', 'failure', 'pswm', 'reset=', '86400', 'actions=', 'restart/60000/restart/60000/restart/60000'],
    ['sc.exe', 'failureflag', 'pswm', '1'],
    ['reg.exe', 'add', ENV_KEY, '/v', 'Path', '/t', 'REG_EXPAND_SZ', '/d', `${SYSTEM_PATH};C:\\ProgramData\\pswm-reborn`, '/f'],
    ['sc.exe', 'start', 'pswm'],
  ]);
});

test('install again: the existing service is reconfigured and a PATH that has the folder is left alone', () => {
  const plan = windowsInstallPlan(opts, { serviceExists: true, systemPath: `${SYSTEM_PATH};c:\\programdata\\PSWM-REBORN\\` });
  assert.deepEqual(plan.find((cmd) => cmd.args[0] === 'config')?.args, ['config', 'pswm', 'binPath=', '"C:\\Program Files\\nodejs\\node.exe" "C:\\Program Files\\pswm\\agent\\bin\\pswm.js" service', 'start=', 'auto']);
  assert.equal(plan.some((cmd) => cmd.args[0] === 'create'), false);
  assert.equal(plan.some((cmd) => cmd.command === 'reg.exe'), false);
});

test('node options go between node.exe and the entry script; a packaged executable needs neither in binPath', () => {
  const withFlags = windowsInstallPlan({ ...opts, nodeFlags: SERVICE_NODE_FLAGS }, { serviceExists: true, systemPath: SYSTEM_PATH });
  assert.equal(withFlags.find((cmd) => cmd.args[0] === 'config')?.args[3], '"C:\\Program Files\\nodejs\\node.exe" --lite-mode --max-semi-space-size=1 "C:\\Program Files\\pswm\\agent\\bin\\pswm.js" service');
  const plan = windowsInstallPlan({ execPath: 'C:\\Program Files\\pswm\\pswm.exe', nodeFlags: SERVICE_NODE_FLAGS, dataDir: opts.dataDir }, { serviceExists: false, systemPath: undefined });
  assert.equal(plan[2].args[3], '"C:\\Program Files\\pswm\\pswm.exe" service');
  assert.deepEqual(plan.find((cmd) => cmd.command === 'reg.exe')?.args.slice(-2), ['C:\\ProgramData\\pswm-reborn', '/f']);
});

test('uninstall stops and deletes the service and takes only its entry out of PATH', () => {
  const plan = windowsUninstallPlan(opts, { serviceExists: true, systemPath: `%SystemRoot%;C:\\ProgramData\\pswm-reborn;C:\\Tools` });
  assert.deepEqual(lines(plan), [
    ['sc.exe', 'stop', 'pswm'],
    ['sc.exe', 'delete', 'pswm'],
    ['reg.exe', 'add', ENV_KEY, '/v', 'Path', '/t', 'REG_EXPAND_SZ', '/d', '%SystemRoot%;C:\\Tools', '/f'],
  ]);
  assert.deepEqual(plan[0].okExitCodes, [1062]);
});

test('uninstall when already uninstalled has nothing to run', () => {
  assert.deepEqual(windowsUninstallPlan(opts, { serviceExists: false, systemPath: SYSTEM_PATH }), []);
});

test('the system PATH is read from reg.exe query output', () => {
  const output = '\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment\r\n    Path    REG_EXPAND_SZ    %SystemRoot%\\system32;C:\\Program Files\\Git\\cmd\r\n\r\n';
  assert.equal(parseRegQueryValue(output), '%SystemRoot%\\system32;C:\\Program Files\\Git\\cmd');
  assert.equal(parseRegQueryValue('ERROR: The system was unable to find the specified registry key or value.\r\n'), undefined);
});

test('PATH entries compare like the OS does: case and trailing separator on Windows, exact on Linux', () => {
  assert.equal(pathHasEntry('C:\\A;c:\\programdata\\pswm-reborn\\', 'C:\\ProgramData\\pswm-reborn', 'windows'), true);
  assert.equal(pathHasEntry('/usr/bin:/VAR/lib/pswm', '/var/lib/pswm', 'linux'), false);
  assert.equal(addPathEntry('', '/var/lib/pswm', 'linux'), '/var/lib/pswm');
  assert.equal(addPathEntry('C:\\A;', 'C:\\B', 'windows'), 'C:\\A;C:\\B');
  assert.equal(removePathEntry('C:\\B;C:\\A;c:\\b\\', 'C:\\B', 'windows'), 'C:\\A');
});

test('off Windows, install_svc for windows reports the plan for a fresh machine and runs nothing', async () => {
  const report = await installService({ platform: 'windows', root: '/', dryRun: true, ...opts });
  assert.deepEqual([...new Set(report.actions.map((a) => a.status))], ['would run']);
  assert.equal(report.actions[2].target, 'sc.exe create pswm binPath= "\\"C:\\Program Files\\nodejs\\node.exe\\" \\"C:\\Program Files\\pswm\\agent\\bin\\pswm.js\\" service" start= auto DisplayName= "pswm agent"');
  assert.equal(formatCommand({ command: 'sc.exe', args: ['start', 'pswm'] }), 'sc.exe start pswm');
});
