import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { openPolicySource } from '../src/git/source.ts';
import type { PolicySourceConfig } from '../src/git/source.ts';
import { startConnectProxy } from './support/connect-proxy.ts';
import type { ConnectProxy } from './support/connect-proxy.ts';
import { commitFiles, gitWorkspace, runGit, startGitHttpServer } from './support/git-http-server.ts';
import type { GitHttpServer } from './support/git-http-server.ts';

const log = pino({ level: 'silent' });
const temps: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
after(() => Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true }))));

function config(overrides: Partial<PolicySourceConfig> & { dataDir: string }): PolicySourceConfig {
  return { policyBranch: 'main', ...overrides };
}

function fileMap(files: Array<{ path: string; text?: string }>): Record<string, string | undefined> {
  return Object.fromEntries(files.map((file) => [file.path, file.text]));
}

describe('remote source over smart HTTP with basic auth', () => {
  let server: GitHttpServer;
  before(async () => {
    server = await startGitHttpServer({ username: 'alice', password: 's3cret' });
    await server.createRepo('policy.git');
  });
  after(() => server.stop());

  test('clones, then sees a commit pushed with the git CLI and reads its files', async () => {
    const writer = await gitWorkspace(server.authenticatedUrl('policy.git'));
    const first = await writer.commitFiles({ 'settings.yaml': 'one\n', 'scripts/a.sh': 'echo a\n' }, 'first policy');
    await writer.push();

    const dataDir = await tempDir('pswm-remote-');
    const source = await openPolicySource(config({ dataDir, policyRepo: server.url('policy.git'), gitUsername: 'alice', gitToken: 's3cret' }), log);
    assert.equal(source.local, false);
    assert.equal(await source.sync(), first);
    const snapshot = await source.read(first);
    assert.deepEqual(fileMap(snapshot.files), { 'scripts/a.sh': 'echo a\n', 'settings.yaml': 'one\n' });
    assert.equal(snapshot.commit.message.trim(), 'first policy');
    assert.equal(snapshot.commit.author, 'Test Author');

    const second = await writer.commitFiles({ 'settings.yaml': 'two\n', 'scripts/a.sh': null }, 'second policy');
    await writer.push();
    assert.equal(await source.sync(), second);
    assert.deepEqual(fileMap((await source.read(second)).files), { 'settings.yaml': 'two\n' });
    await source.close();

    // A restarted server reuses the clone in the data directory (one per repository URL).
    const clones = await readdir(path.join(dataDir, 'git'));
    const reopened = await openPolicySource(config({ dataDir, policyRepo: server.url('policy.git'), gitUsername: 'alice', gitToken: 's3cret' }), log);
    assert.equal(await reopened.sync(), second);
    assert.deepEqual(await readdir(path.join(dataDir, 'git')), clones);
    assert.equal(clones.length, 1);
    await reopened.close();
    await writer.remove();
  });

  test('follows a force-pushed branch whose old head is gone from the history', async () => {
    await server.createRepo('rewritten.git');
    const writer = await gitWorkspace(server.authenticatedUrl('rewritten.git'));
    await writer.commitFiles({ 'a.yaml': 'a\n' }, 'base');
    await writer.commitFiles({ 'b.yaml': 'b\n' }, 'to be rewritten');
    await writer.push();
    const source = await openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), policyRepo: server.url('rewritten.git'), gitUsername: 'alice', gitToken: 's3cret' }), log);
    await source.sync();

    await runGit(['reset', '--quiet', '--hard', 'HEAD~1'], writer.dir);
    const rewritten = await writer.commitFiles({ 'c.yaml': 'c\n' }, 'rewritten');
    await runGit(['push', '--quiet', '--force', 'origin', 'HEAD:refs/heads/main'], writer.dir);
    assert.equal(await source.sync(), rewritten);
    assert.deepEqual(fileMap((await source.read(rewritten)).files), { 'a.yaml': 'a\n', 'c.yaml': 'c\n' });
    await writer.remove();
  });

  test('a remote whose HEAD names a branch that does not exist: the tracked branch is cloned and followed', async () => {
    // As on self-hosted servers whose default branch was never pushed: git then advertises no HEAD.
    await server.createRepo('headless.git', { head: 'master' });
    const writer = await gitWorkspace(server.authenticatedUrl('headless.git'), { branch: 'policy' });
    const first = await writer.commitFiles({ 'a.yaml': 'a\n' }, 'first');
    await writer.push();
    const source = await openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), policyRepo: server.url('headless.git'), policyBranch: 'policy', gitUsername: 'alice', gitToken: 's3cret' }), log);
    assert.equal(await source.sync(), first);
    const second = await writer.commitFiles({ 'a.yaml': 'b\n' }, 'second');
    await writer.push();
    assert.equal(await source.sync(), second);
    assert.deepEqual(fileMap((await source.read(second)).files), { 'a.yaml': 'b\n' });
    await source.close();
    await writer.remove();
  });

  test('credentials in the URL work and are never stored in the clone or the description', async () => {
    const dataDir = await tempDir('pswm-remote-');
    const source = await openPolicySource(config({ dataDir, policyRepo: server.authenticatedUrl('policy.git') }), log);
    await source.sync();
    assert.doesNotMatch(source.description, /s3cret/);
    const [clone] = await readdir(path.join(dataDir, 'git'));
    const gitConfig = await readFile(path.join(dataDir, 'git', clone, '.git', 'config'), 'utf8');
    assert.match(gitConfig, /url = http:\/\/127\.0\.0\.1/);
    assert.doesNotMatch(gitConfig, /s3cret|alice/);
  });

  test('wrong credentials fail with GIT_AUTH_FAILED and no token in the message', async () => {
    const dataDir = await tempDir('pswm-remote-');
    const source = await openPolicySource(config({ dataDir, policyRepo: server.url('policy.git'), gitUsername: 'alice', gitToken: 'wrong-token' }), log);
    const error = await source.sync().then(() => assert.fail('sync should fail'), (e: unknown) => e as Error & { code: string });
    assert.equal(error.code, 'GIT_AUTH_FAILED');
    assert.match(error.message, /refused the credentials/);
    assert.doesNotMatch(error.message, /wrong-token/);
    assert.ok(error.cause, 'the isomorphic-git error is kept as the cause');
    // A failed clone leaves nothing behind that a later start would mistake for a clone.
    assert.deepEqual(await readdir(path.join(dataDir, 'git')), []);
  });

  test('no credentials at all fail with GIT_AUTH_FAILED', async () => {
    const source = await openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), policyRepo: server.url('policy.git') }), log);
    await assert.rejects(source.sync(), { code: 'GIT_AUTH_FAILED' });
  });

  test('a repository that does not exist fails with GIT_REPOSITORY_NOT_FOUND', async () => {
    const source = await openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), policyRepo: server.url('missing.git'), gitUsername: 'alice', gitToken: 's3cret' }), log);
    await assert.rejects(source.sync(), { code: 'GIT_REPOSITORY_NOT_FOUND' });
  });

  test('a branch that does not exist fails with GIT_BRANCH_NOT_FOUND', async () => {
    const source = await openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), policyRepo: server.url('policy.git'), policyBranch: 'nope', gitUsername: 'alice', gitToken: 's3cret' }), log);
    await assert.rejects(source.sync(), { code: 'GIT_BRANCH_NOT_FOUND' });
  });

  test('an unreachable server fails with GIT_UNREACHABLE naming the network error', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const source = await openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), policyRepo: `http://127.0.0.1:${closedPort}/policy.git` }), log);
    await assert.rejects(source.sync(), (error: Error & { code: string }) => {
      assert.equal(error.code, 'GIT_UNREACHABLE');
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });
});

describe('local source', () => {
  test('reads a working tree, follows new commits and fires watch after a git commit', async () => {
    const dir = await tempDir('pswm-local-');
    await runGit(['init', '--quiet', '--initial-branch=main', dir]);
    const first = await commitFiles(dir, { 'settings.yaml': 'one\n' }, 'first');
    const source = await openPolicySource(config({ dataDir: await tempDir('pswm-data-'), policyRepo: dir }), log);
    assert.equal(source.local, true);
    assert.equal(await source.sync(), first);
    assert.deepEqual(fileMap((await source.read(first)).files), { 'settings.yaml': 'one\n' });

    const { promise: changed, resolve } = Promise.withResolvers<void>();
    const stop = await source.watch(resolve);
    const second = await commitFiles(dir, { 'settings.yaml': 'two\n' }, 'second');
    await Promise.race([changed, new Promise((_, reject) => setTimeout(() => reject(new Error('no watch event within 10 s')), 10_000).unref())]);
    assert.equal(await source.sync(), second);
    assert.deepEqual(fileMap((await source.read(second)).files), { 'settings.yaml': 'two\n' });
    await stop();
    await source.close();
  });

  test('reads a bare repository, also given as a file:// URL', async () => {
    const work = await tempDir('pswm-local-');
    const bare = await tempDir('pswm-bare-');
    await runGit(['init', '--quiet', '--initial-branch=main', work]);
    const revision = await commitFiles(work, { 'a.yaml': 'a\n' }, 'first');
    await runGit(['clone', '--quiet', '--bare', work, bare + '/repo.git']);
    for (const policyRepo of [bare + '/repo.git', pathToFileURL(bare + '/repo.git').href]) {
      const source = await openPolicySource(config({ dataDir: await tempDir('pswm-data-'), policyRepo }), log);
      assert.equal(await source.sync(), revision);
      assert.deepEqual(fileMap((await source.read(revision)).files), { 'a.yaml': 'a\n' });
      await source.close();
    }
  });

  test('a directory that is not a repository fails with GIT_NOT_A_REPOSITORY', async () => {
    await assert.rejects(openPolicySource(config({ dataDir: await tempDir('pswm-data-'), policyRepo: await tempDir('pswm-empty-') }), log), { code: 'GIT_NOT_A_REPOSITORY' });
  });

  test('ssh and scp-style remotes are refused with GIT_UNSUPPORTED_REMOTE, naming what is supported', async () => {
    const dataDir = await tempDir('pswm-data-');
    await assert.rejects(openPolicySource(config({ dataDir, policyRepo: 'ssh://git@example.com/policy.git' }), log), {
      code: 'GIT_UNSUPPORTED_REMOTE', message: /^supported are http\(s\) URLs \(smart HTTP\), file:\/\/ URLs and local paths; ssh and git:\/\/ are not: ssh:\/\/example.com/,
    });
    await assert.rejects(openPolicySource(config({ dataDir, policyRepo: 'git@example.com:org/policy.git' }), log), { code: 'GIT_UNSUPPORTED_REMOTE' });
  });
});

describe('demo repository', () => {
  test('is created once from policy-repo-template and reused on the next start', async () => {
    const dataDir = await tempDir('pswm-data-');
    const source = await openPolicySource(config({ dataDir }), log);
    assert.equal(source.local, true);
    const revision = await source.sync();
    const snapshot = await source.read(revision);
    assert.equal(snapshot.commit.author, 'pswm');
    const template = path.join(import.meta.dirname, '../../policy-repo-template');
    const templateFiles = (await readdir(template, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    assert.equal(snapshot.files.length, templateFiles.length);
    assert.equal(fileMap(snapshot.files)['settings.yaml'], await readFile(path.join(template, 'settings.yaml'), 'utf8'));
    await source.close();

    const again = await openPolicySource(config({ dataDir }), log);
    assert.equal(await again.sync(), revision);
    assert.equal(await runGit(['rev-list', '--count', 'main'], path.join(dataDir, 'policy-repo')), '1');
  });
});

describe('https remote through a proxy, with a private certificate authority', () => {
  let server: GitHttpServer;
  let proxy: ConnectProxy;
  let caFile: string;
  before(async () => {
    const dir = await tempDir('pswm-git-tls-');
    caFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', caFile], { stdio: 'ignore' });
    server = await startGitHttpServer({ username: 'alice', password: 's3cret', tls: { cert: await readFile(caFile), key: await readFile(keyFile) } });
    proxy = await startConnectProxy();
  });
  after(async () => {
    await server?.stop();
    await proxy?.stop();
  });

  test('goes through HTTPS_PROXY unless NO_PROXY names the host; trusts PSWM_GIT_CA_FILE; an unknown CA is GIT_TLS_FAILED', async () => {
    await server.createRepo('tls.git');
    const writer = await gitWorkspace(server.authenticatedUrl('tls.git'), { caFile });
    const first = await writer.commitFiles({ 'a.yaml': 'a\n' }, 'first');
    await writer.push();
    const remote = { policyRepo: server.url('tls.git'), gitUsername: 'alice', gitToken: 's3cret' };
    const proxied = { HTTPS_PROXY: proxy.url };

    const untrusted = await openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), ...remote }), log, proxied);
    await assert.rejects(untrusted.sync(), { code: 'GIT_TLS_FAILED', message: /PSWM_GIT_CA_FILE/ });

    const source = await openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), ...remote, gitCaFile: caFile }), log, proxied);
    const tunnelsBefore = proxy.tunnels.length;
    assert.equal(await source.sync(), first);
    assert.ok(proxy.tunnels.length > tunnelsBefore, 'the fetch went through the proxy');
    assert.ok(proxy.tunnels.every((tunnel) => tunnel === new URL(server.url('tls.git')).host));

    const direct = await openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), ...remote, gitCaFile: caFile }), log, { ...proxied, NO_PROXY: '127.0.0.1' });
    const tunnelsBeforeDirect = proxy.tunnels.length;
    assert.equal(await direct.sync(), first);
    assert.equal(proxy.tunnels.length, tunnelsBeforeDirect, 'NO_PROXY bypasses the proxy');

    await assert.rejects(openPolicySource(config({ dataDir: await tempDir('pswm-remote-'), ...remote, gitCaFile: path.join(path.dirname(caFile), 'key.pem') }), log), { code: 'GIT_CA_FILE_INVALID' });
    await writer.remove();
  });
});
