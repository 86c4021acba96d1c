import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../../test/support/temp-dir.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const pswm = (args: string[], home: string) => spawnSync(process.execPath, [MAIN, ...args], { env: { ...process.env, PSWM_HOME: home }, encoding: 'utf8' });

const COMMANDS = ['gencert', 'enroll', 'agent', 'service', 'status', 'facts', 'install_svc', 'uninstall_svc'];

test('every subcommand answers --help with its usage and exit status 0', async (t) => {
  const home = await makeTempDir(t);
  const overview = pswm(['--help'], home);
  assert.equal(overview.status, 0);
  for (const command of COMMANDS) {
    assert.match(overview.stdout, new RegExp(`^  ${command} `, 'm'), `the overview lists ${command}`);
    const help = pswm([command, '--help'], home);
    assert.equal(help.status, 0, `${command}: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`^Usage: pswm ${command}`), command);
    assert.equal(pswm([command, '-h'], home).stdout, help.stdout, `${command} -h`);
  }
});

test('--version prints the agent package version', async (t) => {
  const home = await makeTempDir(t);
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const result = pswm(['--version'], home);
  assert.equal(result.status, 0);
  assert.equal(result.stdout.trim(), `pswm ${version} (node ${process.versions.node})`);
});

test('usage mistakes exit 2 with a hint; an unenrolled agent exits 1 and says what to do', async (t) => {
  const home = await makeTempDir(t);
  const unknown = pswm(['agent', '--twice'], home);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Run "pswm agent --help" for usage/);
  const twoMethods = pswm(['enroll', '--server', 'http://127.0.0.1:1', '--token', 't', '--queue'], home);
  assert.equal(twoMethods.status, 2);
  assert.match(twoMethods.stderr, /exactly one of --token, --code or --queue/);
  const notEnrolled = pswm(['agent', '--once'], home);
  assert.equal(notEnrolled.status, 1);
  assert.match(notEnrolled.stderr, /not enrolled .* run "pswm enroll/);
});

test('gencert keeps an existing key unless --force, and imports an installer key with --key', async (t) => {
  const home = await makeTempDir(t);
  assert.equal(pswm(['gencert'], home).status, 0);
  const again = pswm(['gencert'], home);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already exists/);
  const other = await makeTempDir(t);
  assert.equal(pswm(['gencert'], other).status, 0);
  const imported = pswm(['gencert', '--force', '--key', `${other}/agent.key`], home);
  assert.equal(imported.status, 0, imported.stderr);
  assert.equal(readFileSync(`${home}/agent.pub`, 'utf8'), readFileSync(`${other}/agent.pub`, 'utf8'), 'the public key is derived from the imported private key');
});
