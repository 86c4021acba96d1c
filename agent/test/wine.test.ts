// pswm.exe as a Windows program: the single-file Windows build (Node 22 under Wine, see
// support/wine.ts) enrolled against a real pswm-server on Linux, converging a policy of cmd and
// PowerShell scripts in a Job Object (pswm-native.exe), its key stored with DPAPI, its critical
// events handed to eventcreate.exe (a stand-in: Wine has none), and the service installer's registry
// and SCM steps against Wine's. Skipped when wine is not installed (.ci/run installs wine64 and
// mingw-w64). What Wine cannot exercise is listed in docs/agent-operations.md "Tested on".
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { compileWindowsProgram } from '../scripts/native-helper.ts';
import { startFleet, type Fleet } from './support/fleet.ts';
import { makeTempDir } from './support/temp-dir.ts';
import { startWine, wineAvailable, wineBuild, winePath, type Wine } from './support/wine.ts';

const skip = wineAvailable() ? false : 'wine is not installed (apt-get install wine64)';
const REPO = path.resolve(import.meta.dirname, '..', '..');
let wine: Wine;
let exe: string;
let digest: string;
/** What the eventcreate.exe stand-in was called with, one command line per line. */
let eventcreateLog: string;

before(async () => {
  if (skip) return;
  const [w, build] = await Promise.all([startWine(), wineBuild()]);
  wine = w;
  exe = build.executable;
  digest = build.digest;
  const system32 = path.join(wine.prefix, 'drive_c', 'windows', 'system32');
  await compileWindowsProgram(path.join(import.meta.dirname, 'eventcreate', 'eventcreate.c'), path.join(system32, 'eventcreate.exe'));
  eventcreateLog = path.join(system32, 'eventcreate.log');
}, { timeout: 600_000 });

after(async () => {
  await wine?.close();
});

/** The detached child's ping count: its command line tells it apart from every other process. */
const DETACHED_PINGS = 47;

/** Wine processes (Linux pid, command line) whose command line has `needle`. */
async function processesWith(needle: string): Promise<Array<{ pid: number; cmdline: string }>> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (cmdline.includes(needle)) found.push({ pid: Number(name), cmdline });
  }
  return found;
}

async function waitFor(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return condition();
}

/** A policy repository for Windows machines of organization "wine": one cmd script writing a file
 * to a folder whose name has a space and an ampersand, one PowerShell script, one cmd script that
 * starts a detached child and outlives its timeout, and one that exits 7. */
async function windowsPolicyRepo(dir: string, marker: string): Promise<string> {
  const repo = path.join(dir, 'policy');
  await mkdir(path.join(repo, 'organizations', 'wine'), { recursive: true });
  await mkdir(path.join(repo, 'scripts'), { recursive: true });
  await cp(path.join(REPO, 'policy-repo-template', 'settings.yaml'), path.join(repo, 'settings.yaml'));
  const doc = (kind: string, name: string, spec: string) => `apiVersion: pswm/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
  await writeFile(path.join(repo, 'organizations', 'wine', 'organization.yaml'), doc('Organization', 'wine', '  display_name: Wine\n'));
  await writeFile(path.join(repo, 'organizations', 'wine', 'lab.yaml'), doc('Location', 'lab', '  organization: wine\n  display_name: Wine lab\n'));
  const markerDir = path.win32.dirname(marker);
  await writeFile(path.join(repo, 'scripts', 'marker.yaml'), doc('Script', 'cmd-marker', [
    '  shell: cmd',
    '  content: |',
    '    @echo off',
    `    if not exist "${markerDir}" mkdir "${markerDir}"`,
    `    echo converged by %USERNAME%> "${marker}"`,
    '    echo wrote the marker',
    '  check:',
    '    content: |',
    `      @if exist "${marker}" (exit /b 0) else (exit /b 1)`,
    '  run: every_iteration',
    '  platforms: [windows]',
    '  order: 10',
    '',
  ].join('\n')));
  await writeFile(path.join(repo, 'scripts', 'ps.yaml'), doc('Script', 'ps-hello', '  shell: powershell\n  content: Write-Output hello\n  run: every_iteration\n  platforms: [windows]\n  order: 20\n'));
  await writeFile(path.join(repo, 'scripts', 'hang.yaml'), doc('Script', 'cmd-hang', [
    '  shell: cmd',
    '  content: |',
    '    @echo off',
    `    start /b ping -n ${DETACHED_PINGS} 127.0.0.1 >nul`,
    '    ping -n 30 127.0.0.1 >nul',
    '  run: every_iteration',
    '  timeout_seconds: 3',
    '  platforms: [windows]',
    '  order: 30',
    '',
  ].join('\n')));
  await writeFile(path.join(repo, 'scripts', 'exit.yaml'), doc('Script', 'cmd-exit-7', '  shell: cmd\n  content: |\n    @echo off\n    exit /b 7\n  run: every_iteration\n  platforms: [windows]\n  order: 40\n'));
  const git = promisify(execFile);
  await git('git', ['init', '-q', '-b', 'main', repo]);
  await git('git', ['-C', repo, 'add', '.']);
  await git('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'windows policy']);
  return repo;
}

test('pswm.exe --help and --version: a Windows program with the sources digest', { skip }, async () => {
  const help = await wine.run(exe, ['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: pswm <command>/);
  assert.match(help.stdout, /install_svc/);
  const version = await wine.run(exe, ['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`^pswm \\S+ \\(single-file windows build, sources sha256 ${digest}, .*\\(node 22\\.`));
  const facts = await wine.run(exe, ['facts'], { env: { PSWM_HOME: winePath(await makeTempDirOnce()) } });
  assert.equal(facts.code, 0, facts.stderr);
  assert.equal(JSON.parse(facts.stdout).os.family, 'windows', 'process.platform is win32 under Wine');
});

let scratch: string | undefined;
async function makeTempDirOnce(): Promise<string> {
  scratch ??= await (await import('node:fs/promises')).mkdtemp(path.join((await import('node:os')).tmpdir(), 'pswm-wine-home-'));
  return scratch;
}
after(async () => {
  if (scratch) await (await import('node:fs/promises')).rm(scratch, { recursive: true, force: true });
});

test('enrolled against a real server, agent --once converges the cmd script and skips PowerShell with the reason', { skip, timeout: 300_000 }, async (t) => {
  const dir = await makeTempDir(t, 'pswm-wine-');
  const marker = winePath(path.join(dir, 'out dir & more', 'marker.txt'));
  const fleet: Fleet = await startFleet(t, { serverArgs: ['--policy-repo', await windowsPolicyRepo(dir, marker)] });
  const created = await fleet.admin(['agent', 'create', 'wine-01', '--org', 'wine', '--location', 'lab']);
  assert.equal(created.code, 0, created.stderr);
  // a data folder whose path has a space: every command line the agent builds is quoted
  const home = path.join(dir, 'agent home');
  const env = { PSWM_HOME: winePath(home) };
  // a key written in clear before DPAPI (or by an installer): protected in place when first read
  const plain = generateKeyPairSync('ed25519');
  await mkdir(home, { recursive: true });
  await writeFile(path.join(home, 'agent.key'), plain.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const enrolled = await wine.run(exe, ['enroll', '--server', fleet.url, '--token', created.stdout.trim()], { env });
  assert.equal(enrolled.code, 0, enrolled.stdout + enrolled.stderr);
  const stored = await readFile(path.join(home, 'agent.key'), 'utf8');
  assert.match(stored, /^pswm-dpapi-machine\/v1\n[A-Za-z0-9+/=]+\n$/, 'the key on disk is a DPAPI blob');
  assert.doesNotMatch(stored, /PRIVATE KEY/);
  const [registered] = await fleet.sql<{ public_key: string }[]>`SELECT public_key FROM agents WHERE name = 'wine-01'`;
  assert.equal(registered.public_key, plain.publicKey.export({ type: 'spki', format: 'pem' }), 'the protected key is the one that was there');
  assert.match(await readFile(eventcreateLog, 'utf8'), /eventcreate\.exe"? \/L APPLICATION \/T INFORMATION \/SO pswm \/ID 100 \/D "enrolled with the server http:\/\/\S+ as wine-01 \(agent id [0-9a-f-]+, token\)"/);

  const once = await wine.run(exe, ['agent', '--once'], { env, timeoutMs: 180_000 });
  const output = once.stdout + once.stderr;
  const marked = await readFile(path.join(dir, 'out dir & more', 'marker.txt'), 'utf8').catch(() => '');
  assert.match(marked, /^converged by /, `the cmd script wrote its marker\n${output}`);
  const { items } = await fleet.get('/api/v1/agents/wine-01/drift');
  const byName = Object.fromEntries(items.map((i: { name: string }) => [i.name, i]));
  assert.equal(byName['cmd-marker']?.status, 'changed', JSON.stringify(items));
  assert.equal(byName['ps-hello']?.status, 'skipped', JSON.stringify(items));
  assert.match(JSON.stringify(byName['ps-hello']), /powershell/i, 'the reason names the missing shell');
  // the script outlives its 3 s timeout: the agent ends pswm-native.exe, closing the Job Object, and
  // Windows ends the script and its `start /b` child (both would run ~30 s more otherwise)
  assert.equal(byName['cmd-hang']?.status, 'failed', JSON.stringify(items));
  assert.match(byName['cmd-hang'].reason, /timed out after 3 s/);
  assert.deepEqual(await processesWith(`-n ${DETACHED_PINGS} 127.0.0.1`), [], 'no survivor of the timed-out script');
  assert.equal(byName['cmd-exit-7']?.status, 'failed', JSON.stringify(items));
  assert.match(byName['cmd-exit-7'].reason, /\b7\b/, 'the exit code crosses the Job Object helper');
  assert.ok(once.ms < 90_000, `agent --once took ${once.ms} ms\n${output}`);

  const status = await wine.run(exe, ['status'], { env });
  assert.match(status.stdout, /^key protection:\s+DPAPI \(machine\) \+ ACL$/m, status.stdout + status.stderr);

  const again = await wine.run(exe, ['agent', '--once'], { env, timeoutMs: 180_000 });
  const second = Object.fromEntries((await fleet.get('/api/v1/agents/wine-01/drift')).items.map((i: { name: string; status: string }) => [i.name, i.status]));
  assert.equal(second['cmd-marker'], 'in_sync', again.stdout + again.stderr);

  // revoked by the server: exit 3 and an Event Log entry
  assert.equal((await fleet.admin(['agent', 'revoke', 'wine-01'])).code, 0);
  const revoked = await wine.run(exe, ['agent', '--once'], { env, timeoutMs: 180_000 });
  assert.equal(revoked.code, 3, revoked.stdout + revoked.stderr);
  assert.match(await readFile(eventcreateLog, 'utf8'), /\/T ERROR \/SO pswm \/ID 100 \/D "this agent has been revoked by the server; stopping"/);

  // a key protected elsewhere (another machine, another entropy) cannot be decrypted: a clear error
  const blob = Buffer.from(stored.split('\n')[1], 'base64');
  blob[blob.length - 1] ^= 0xff;
  await writeFile(path.join(home, 'agent.key'), `pswm-dpapi-machine/v1\n${blob.toString('base64')}\n`);
  const unreadable = await wine.run(exe, ['agent', '--once'], { env, timeoutMs: 180_000 });
  assert.notEqual(unreadable.code, 0);
  assert.match(unreadable.stdout + unreadable.stderr, /agent\.key is protected with DPAPI and cannot be decrypted on this machine .*pswm gencert --force --reenroll/);
});

test('pswm-native.exe jobrun: when the process that started the run ends (a stopped or crashed agent), the run ends with everything it started', { skip, timeout: 90_000 }, async (t) => {
  const helper = winePath(path.join(path.dirname(exe), 'pswm-native.exe'));
  const needle = '-n 53 127.0.0.1';
  // The helper's stderr goes to a file cmd.exe opens for it: the `wine` process started here can end
  // before the Windows processes do (it did once under load, exit 0 after 573 ms), and with it the
  // pipe its output would have come through.
  const stderrFile = path.join(await makeTempDir(t, 'pswm-wine-jobrun-'), 'helper-stderr.txt');
  const starter = wine.run('cmd.exe', ['/d', '/c', `${helper} jobrun 0 ping ${needle} 2>${winePath(stderrFile)}`], { timeoutMs: 60_000 });
  // ping itself, not the command lines that name it (cmd.exe's, the helper's)
  const isRunning = async () => (await processesWith(needle)).some((p) => /^(\S*\\)?ping(\.exe)? /i.test(p.cmdline));
  assert.equal(await waitFor(isRunning, 30_000), true, 'the job started ping');
  const running = await processesWith(needle);
  const cmd = running.find((p) => /^C:\\windows\\system32\\cmd\.exe /i.test(p.cmdline));
  assert.ok(cmd, JSON.stringify(running));
  process.kill(cmd.pid, 'SIGKILL');
  assert.equal(await waitFor(async () => (await processesWith(needle)).length === 0, 15_000), true, `nothing of the run is left: ${JSON.stringify(await processesWith(needle))}`);
  const ended = await starter;
  const said = await readFile(stderrFile, 'utf8').catch(() => '');
  assert.match(said, /pswm-native: the process that started this run ended; ending the run/, JSON.stringify({ running, killed: cmd, ended }));
});

const ENVIRONMENT_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment';

async function systemPath(): Promise<string> {
  const query = await wine.run('reg.exe', ['query', ENVIRONMENT_KEY, '/v', 'Path']);
  assert.equal(query.code, 0, query.stderr);
  return /^\s+Path\s+REG_\w+\s+(.*)$/m.exec(query.stdout)![1].trim();
}

test('install_svc against Wine\'s registry and service manager: PATH appended once and restored, service registered with WinSW', { skip, timeout: 300_000 }, async (t) => {
  const dir = await makeTempDir(t, 'pswm-wine-svc-');
  const dataDir = winePath(path.join(dir, 'Program Data', 'pswm'));
  const before = await systemPath();
  t.after(async () => {
    await wine.run('sc.exe', ['delete', 'pswm']);
  });

  const install = await wine.run(exe, ['install_svc', '--data-dir', dataDir]);
  const report = install.stdout + install.stderr;
  assert.equal(await systemPath(), `${before};${dataDir}`, report);
  assert.match(report, /created\s+file in the data folder: .*pswm-service\.exe/);
  const xml = await readFile(path.join(dir, 'Program Data', 'pswm', 'pswm-service.xml'), 'utf8');
  assert.match(xml, new RegExp(`<executable>${winePath(exe).replace(/\\/g, '\\\\')}</executable>`));
  assert.match(xml, /<argument>service<\/argument>/);
  const query = await wine.run('sc.exe', ['query', 'pswm']);
  assert.equal(query.code, 0, `the service is registered\n${report}`);
  // Wine's sc.exe has no failureflag (nor config/start for a .NET wrapper): the plan stops there,
  // and says so
  assert.match(report, /failed\s+count a non-zero exit as a failure/);
  assert.equal(install.code, 1);

  const again = await wine.run(exe, ['install_svc', '--data-dir', dataDir]);
  assert.equal(await systemPath(), `${before};${dataDir}`, 'added only if absent');
  assert.doesNotMatch(again.stdout, /system PATH/);
  assert.match(again.stdout, /unchanged\s+file in the data folder: .*pswm-service\.xml/);

  const uninstall = await wine.run(exe, ['uninstall_svc', '--data-dir', dataDir]);
  assert.equal(await systemPath(), before, `only its own entry removed\n${uninstall.stdout}${uninstall.stderr}`);
});
