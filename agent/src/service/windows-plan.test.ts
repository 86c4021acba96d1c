import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addPathEntry, pathHasEntry, removePathEntry } from './path-entry.ts';
import { formatCommand } from './report.ts';
import { installService, uninstallService } from './service.ts';
import { SERVICE_NODE_FLAGS } from './unit-files.ts';
import { winswXml } from './winsw-config.ts';
import { parseRegQueryValue, readSystemPath, windowsInstallPlan, windowsUninstallPlan, type SystemPathReading } from './windows-plan.ts';

const opts = { execPath: 'C:\\Program Files\\pswm\\pswm.exe', dataDir: 'C:\\ProgramData\\pswm-reborn' };
const ENV_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment';
const SYSTEM_PATH = '%SystemRoot%\\system32;%SystemRoot%;C:\\Tools';
const readable = (value: string): SystemPathReading => ({ ok: true, value });
const lines = (plan: ReturnType<typeof windowsInstallPlan>) => plan.map((cmd) => [cmd.command, ...cmd.args]);

test('install on a fresh Windows: ACL first, then the wrapper files, the service through WinSW with growing restart delays, PATH, start', () => {
  assert.deepEqual(lines(windowsInstallPlan(opts, { serviceExists: false, systemPath: readable(SYSTEM_PATH) })), [
    ['icacls.exe', 'C:\\ProgramData\\pswm-reborn', '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F'],
    ['icacls.exe', 'C:\\ProgramData\\pswm-reborn\\*', '/reset', '/T', '/C', '/Q'],
    ['pswm', 'write', 'pswm-service.exe', 'pswm-service.xml', 'pswm.cmd'],
    ['reg.exe', 'add', ENV_KEY, '/v', 'Path', '/t', 'REG_EXPAND_SZ', '/d', `${SYSTEM_PATH};C:\\ProgramData\\pswm-reborn`, '/f'],
    ['sc.exe', 'create', 'pswm', 'binPath=', '"C:\\ProgramData\\pswm-reborn\\pswm-service.exe"', 'start=', 'auto', 'DisplayName=', 'pswm agent'],
    ['sc.exe', 'description', 'pswm', 'pswm agent: converges this machine to its policy and reports back'],
    ['sc.exe', 'failure', 'pswm', 'reset=', '86400', 'actions=', 'restart/10000/restart/60000/restart/300000'],
    ['sc.exe', 'failureflag', 'pswm', '1'],
    ['sc.exe', 'start', 'pswm'],
  ]);
});

test('the WinSW configuration: the agent with its data folder, automatic start, growing restart delays, a stop timeout', () => {
  const xml = winswXml({ ...opts, execPath: 'C:\\Program Files\\pswm & co\\pswm.exe', dataDir: 'C:\\Data 100%\\pswm' });
  assert.match(xml, /<executable>C:\\Program Files\\pswm &amp; co\\pswm.exe<\/executable>\r\n  <argument>service<\/argument>/);
  assert.match(xml, /<env name="PSWM_HOME" value="C:\\Data 100%%\\pswm"\/>/);
  assert.match(xml, /<startmode>Automatic<\/startmode>/);
  assert.match(xml, /<stoptimeout>15 sec<\/stoptimeout>/);
  assert.deepEqual([...xml.matchAll(/<onfailure action="restart" delay="(\d+) sec"\/>/g)].map((m) => Number(m[1])), [10, 60, 300]);
  assert.match(xml, /<resetfailure>1 day<\/resetfailure>/);
  const node = winswXml({ execPath: 'C:\\node\\node.exe', entry: 'C:\\pswm\\main.js', nodeFlags: SERVICE_NODE_FLAGS, dataDir: opts.dataDir });
  assert.deepEqual([...node.matchAll(/<argument>([^<]*)<\/argument>/g)].map((m) => m[1]), ['--lite-mode', '--max-semi-space-size=1', 'C:\\pswm\\main.js', 'service']);
});

test('install again: the existing service is reconfigured and a PATH that has the folder is left alone', () => {
  const plan = windowsInstallPlan(opts, { serviceExists: true, systemPath: readable(`${SYSTEM_PATH};c:\\programdata\\PSWM-REBORN\\`) });
  assert.deepEqual(plan.find((cmd) => cmd.args[0] === 'config')?.args, ['config', 'pswm', 'binPath=', '"C:\\ProgramData\\pswm-reborn\\pswm-service.exe"', 'start=', 'auto']);
  assert.equal(plan.some((cmd) => cmd.args[0] === 'create'), false);
  assert.equal(plan.some((cmd) => cmd.command === 'reg.exe'), false);
});

test('uninstall stops and deletes the service and takes only its entry out of PATH', () => {
  const plan = windowsUninstallPlan(opts, { serviceExists: true, systemPath: readable(`%SystemRoot%;C:\\ProgramData\\pswm-reborn;C:\\Tools`) });
  assert.deepEqual(lines(plan), [
    ['reg.exe', 'add', ENV_KEY, '/v', 'Path', '/t', 'REG_EXPAND_SZ', '/d', '%SystemRoot%;C:\\Tools', '/f'],
    ['sc.exe', 'stop', 'pswm'],
    ['sc.exe', 'delete', 'pswm'],
  ]);
  assert.deepEqual(plan[1].okExitCodes, [1062]);
});

test('uninstall when already uninstalled has nothing to run', () => {
  assert.deepEqual(windowsUninstallPlan(opts, { serviceExists: false, systemPath: readable(SYSTEM_PATH) }), []);
});

test('the system PATH is read from reg.exe query output', () => {
  const output = '\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment\r\n    Path    REG_EXPAND_SZ    %SystemRoot%\\system32;C:\\Program Files\\Git\\cmd\r\n\r\n';
  assert.equal(parseRegQueryValue(output), '%SystemRoot%\\system32;C:\\Program Files\\Git\\cmd');
  assert.deepEqual(readSystemPath({ exitCode: 0, stdout: output, stderr: '' }), readable('%SystemRoot%\\system32;C:\\Program Files\\Git\\cmd'));
  assert.equal(parseRegQueryValue('ERROR: The system was unable to find the specified registry key or value.\r\n'), undefined);
});

const UNREADABLE = { exitCode: 1, stdout: '', stderr: 'ERROR: Access is denied.\r\n' };
const UNPARSABLE = { exitCode: 0, stdout: 'HKEY_LOCAL_MACHINE\\...\\Environment\r\n    Path    REG_BINARY    0A0B\r\n', stderr: '' };

test('an unreadable or unparsable system PATH: install and uninstall refuse before changing anything, and say why', () => {
  const unreadable = readSystemPath(UNREADABLE);
  assert.deepEqual(unreadable, { ok: false, reason: 'reg.exe query of the system PATH failed (exit code 1): ERROR: Access is denied.' });
  const unparsable = readSystemPath(UNPARSABLE);
  assert.equal(unparsable.ok, false);
  assert.match((unparsable as { reason: string }).reason, /cannot parse the system PATH from reg.exe output: .*REG_BINARY/);
  assert.equal(readSystemPath({ exitCode: 0, stdout: '    Path    REG_EXPAND_SZ    \r\n', stderr: '' }).ok, false, 'an empty PATH is never taken as the truth');
  for (const systemPath of [unreadable, unparsable]) {
    for (const plan of [windowsInstallPlan(opts, { serviceExists: false, systemPath }), windowsUninstallPlan(opts, { serviceExists: true, systemPath })]) {
      assert.equal(plan.length, 1, 'one refused step and nothing else');
      assert.match(plan[0].refused!, /^refusing to change the system PATH, and so anything else: /);
      assert.equal(plan.some((cmd) => cmd.args.includes('add')), false, 'no reg add');
    }
  }
});

test('PATH entries compare like the OS does: case and trailing separator on Windows, exact on Linux', () => {
  assert.equal(pathHasEntry('C:\\A;c:\\programdata\\pswm-reborn\\', 'C:\\ProgramData\\pswm-reborn', 'windows'), true);
  assert.equal(pathHasEntry('/usr/bin:/VAR/lib/pswm', '/var/lib/pswm', 'linux'), false);
  assert.equal(addPathEntry('', '/var/lib/pswm', 'linux'), '/var/lib/pswm');
  assert.equal(addPathEntry('C:\\A;', 'C:\\B', 'windows'), 'C:\\A;C:\\B');
  assert.equal(removePathEntry('C:\\B;C:\\A;c:\\b\\', 'C:\\B', 'windows'), 'C:\\A');
});

test('off Windows, install_svc and uninstall_svc for windows report the plan and run nothing', async () => {
  const report = await installService({ platform: 'windows', root: '/', dryRun: true, ...opts });
  assert.deepEqual([...new Set(report.actions.map((a) => a.status))], ['would run']);
  assert.equal(report.actions[4].target, 'sc.exe create pswm binPath= "\\"C:\\ProgramData\\pswm-reborn\\pswm-service.exe\\"" start= auto DisplayName= "pswm agent"');
  assert.equal(formatCommand({ command: 'sc.exe', args: ['start', 'pswm'] }), 'sc.exe start pswm');
  const removal = await uninstallService({ platform: 'windows', root: '/', dryRun: true, ...opts });
  assert.equal(removal.ok, true);
});
