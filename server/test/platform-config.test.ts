import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import { SERVER_OPTIONS } from '../src/config/options.ts';
import { runServerCommand } from './support/server-process.ts';

const configDirs: string[] = [];
after(() => Promise.all(configDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function configFile(content: object): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pswm-config-'));
  configDirs.push(dir);
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify(content));
  return path;
}

test('defaults apply when nothing is configured', () => {
  const config = loadConfig([], {});
  assert.deepEqual(config, {
    dataDir: resolve('./data'), host: '127.0.0.1', port: 8080, policyBranch: 'main', pollIntervalSeconds: 60, logLevel: 'info', shutdownTimeoutSeconds: 10,
    consoleIdleLimitSeconds: 86400, consoleDurationLimitSeconds: 86400, consoleTranscriptMaxBytes: 4194304, consoleRetentionDays: 90, consoleTranscriptReaders: 'viewer',
    rateLimit: 300, enrollQueueMax: 1000, retentionDays: 30, reconciliationRetentionDays: 90, auditRetentionDays: 365,
    duplicateIdentityTakeovers: 3, duplicateIdentityWindowSeconds: 600, duplicateIdentityQuietSeconds: 10800, listenBacklog: 1024, wakeRate: 1000,
  });
});

test('flags beat environment, environment beats the config file, the file beats defaults', async () => {
  const path = await configFile({ port: 1001, host: '10.0.0.1', policyBranch: 'file-branch', pollIntervalSeconds: 5 });
  const env = { PSWM_CONFIG: path, PSWM_PORT: '1002', PSWM_HOST: '10.0.0.2' };
  const config = loadConfig(['--port', '1003'], env);
  assert.equal(config.port, 1003);
  assert.equal(config.host, '10.0.0.2');
  assert.equal(config.policyBranch, 'file-branch');
  assert.equal(config.pollIntervalSeconds, 5);
  assert.equal(config.logLevel, 'info');
});

test('--config on the command line wins over PSWM_CONFIG', async () => {
  const fromEnv = await configFile({ policyBranch: 'env-file' });
  const fromFlag = await configFile({ policyBranch: 'flag-file' });
  assert.equal(loadConfig(['--config', fromFlag], { PSWM_CONFIG: fromEnv }).policyBranch, 'flag-file');
});

test('secrets come from the environment and have no flags', () => {
  const config = loadConfig([], { DATABASE_URL: 'postgres://x@h/db', PSWM_GIT_TOKEN: 't', PSWM_WEBHOOK_SECRET: 's' });
  assert.equal(config.databaseUrl, 'postgres://x@h/db');
  assert.equal(config.gitToken, 't');
  assert.equal(config.webhookSecret, 's');
  assert.throws(() => loadConfig(['--git-token', 't'], {}), { code: 'BAD_ARGUMENTS' });
});

test('bad values are refused with a message naming their source', async () => {
  assert.throws(() => loadConfig(['--port', 'eighty'], {}), { code: 'BAD_OPTION', message: /--port: expected an integer/ });
  assert.throws(() => loadConfig([], { PSWM_PORT: '70000' }), { code: 'BAD_OPTION', message: /PSWM_PORT: must be at most 65535/ });
  assert.throws(() => loadConfig(['--log-level', 'loud'], {}), { code: 'BAD_OPTION', message: /one of fatal/ });
  assert.throws(() => loadConfig(['--tls-cert', 'a.pem'], {}), { code: 'BAD_OPTION', message: /both/ });
  assert.throws(() => loadConfig(['--nope'], {}), ConfigError);
  const typo = await configFile({ prot: 1 });
  assert.throws(() => loadConfig(['--config', typo], {}), { code: 'BAD_CONFIG_FILE', message: /unknown keys: prot/ });
  const wrongType = await configFile({ port: 'x' });
  assert.throws(() => loadConfig(['--config', wrongType], {}), { message: /: port: expected an integer/ });
});

test('start --help lists every option with its flag or variable and its default', async () => {
  const { code, stdout } = await runServerCommand(['start', '--help']);
  assert.equal(code, 0);
  for (const option of SERVER_OPTIONS) {
    const line = stdout.split('\n').find((l) => l.includes(option.flag ? `--${option.flag} ` : `(${option.env})`));
    assert.ok(line, `${option.key} is missing from --help`);
    if (option.default !== undefined) assert.match(line, new RegExp(`default ${option.default}\\]`));
  }
});

test('every subcommand answers --help, and unknown commands exit with usage status 2', async () => {
  for (const args of [['--help'], ['migrate', '--help'], ['token', '--help'], ['token', 'create', '--help'], ['token', 'list', '--help'], ['token', 'revoke', '--help']]) {
    const { code, stdout } = await runServerCommand(args);
    assert.equal(code, 0, args.join(' '));
    assert.match(stdout, /^Usage: pswm-server/, args.join(' '));
  }
  const short = await runServerCommand(['start', '-h']);
  assert.equal(short.code, 0);
  assert.match(short.stdout, /^Usage: pswm-server start/);
  const unknown = await runServerCommand(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});

test('--version and -V print the server package version and the Node version', async () => {
  const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const { code, stdout } = await runServerCommand([flag]);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), `pswm-server ${version} (node ${process.versions.node})`);
  }
});
