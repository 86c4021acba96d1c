import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { gitWorkspace, parseCgiHeaders, runGit, startGitHttpServer } from './support/git-http-server.ts';
import type { GitHttpServer } from './support/git-http-server.ts';

let server: GitHttpServer;
before(async () => {
  server = await startGitHttpServer({ username: 'alice', password: 's3cret' });
});
after(() => server.stop());

test('a request without credentials gets 401 with a basic challenge', async () => {
  await server.createRepo('challenge.git');
  const response = await fetch(`${server.url('challenge.git')}/info/refs?service=git-upload-pack`);
  assert.equal(response.status, 401);
  assert.match(response.headers.get('www-authenticate') ?? '', /^Basic /);
});

test('git clone without credentials fails', async () => {
  await server.createRepo('private.git');
  const dir = await mkdtemp(path.join(tmpdir(), 'pswm-clone-'));
  try {
    await assert.rejects(runGit(['clone', '--quiet', server.url('private.git'), path.join(dir, 'x')]), /Authentication failed|could not read Username/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a commit pushed with the git CLI can be cloned back', async () => {
  await server.createRepo('roundtrip.git');
  const writer = await gitWorkspace(server.authenticatedUrl('roundtrip.git'));
  const revision = await writer.commitFiles({ 'settings.yaml': 'kind: Settings\n', 'scripts/a.sh': 'echo a\n' }, 'first');
  await writer.push();
  await writer.commitFiles({ 'scripts/a.sh': null }, 'remove a');
  await writer.push();

  const reader = await gitWorkspace(server.authenticatedUrl('roundtrip.git'));
  try {
    assert.equal(await readFile(path.join(reader.dir, 'settings.yaml'), 'utf8'), 'kind: Settings\n');
    assert.equal(await runGit(['rev-parse', 'HEAD~1'], reader.dir), revision);
    await assert.rejects(readFile(path.join(reader.dir, 'scripts/a.sh')));
  } finally {
    await writer.remove();
    await reader.remove();
  }
});

test('a clone whose negotiation request git gzips (many wanted branches) succeeds', async () => {
  await server.createRepo('branches.git');
  const writer = await gitWorkspace(server.authenticatedUrl('branches.git'));
  // 40 wants of ~50 bytes exceed the 1 KiB above which git gzips the upload-pack request.
  for (let i = 0; i < 40; i++) {
    await writer.commitFiles({ [`file-${i}.txt`]: `${i}\n` }, `commit ${i}`);
    await runGit(['branch', `branch-${i}`], writer.dir);
  }
  await runGit(['push', '--quiet', 'origin', 'refs/heads/*:refs/heads/*'], writer.dir);

  const reader = await gitWorkspace(server.authenticatedUrl('branches.git'));
  try {
    const branches = await runGit(['branch', '--remotes'], reader.dir);
    assert.equal(branches.split('\n').filter((line) => line.includes('origin/branch-')).length, 40);
  } finally {
    await writer.remove();
    await reader.remove();
  }
});

test('CGI headers give the status line and the response headers', () => {
  assert.deepEqual(parseCgiHeaders('Status: 404 Not Found\r\nContent-Type: text/plain\r\nExpires: Fri, 01 Jan 1980 00:00:00 GMT'), {
    status: 404,
    headers: { 'Content-Type': 'text/plain', Expires: 'Fri, 01 Jan 1980 00:00:00 GMT' },
  });
  assert.deepEqual(parseCgiHeaders('Content-Type: application/x-git-upload-pack-advertisement'), {
    status: 200,
    headers: { 'Content-Type': 'application/x-git-upload-pack-advertisement' },
  });
});
