import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readPolicyRevision } from './git.ts';

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada Admin',
  GIT_AUTHOR_EMAIL: 'ada@example.test',
  GIT_AUTHOR_DATE: '2024-05-06T07:08:09Z',
  GIT_COMMITTER_NAME: 'Ada Admin',
  GIT_COMMITTER_EMAIL: 'ada@example.test',
  GIT_COMMITTER_DATE: '2024-05-06T07:08:09Z',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: os.tmpdir(),
};
let root = '';
let repo = '';
const commits: string[] = [];

function gitIn(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }).trim();
}

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pswm-git-'));
  repo = path.join(root, 'work');
  fs.mkdirSync(path.join(repo, 'scripts'), { recursive: true });
  gitIn(repo, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'settings.yaml'), 'kind: Settings\n');
  fs.writeFileSync(path.join(repo, 'scripts', 'a.ps1'), 'Write-Output "é"\n');
  fs.symlinkSync('../settings.yaml', path.join(repo, 'scripts', 'link.yaml'));
  gitIn(repo, 'add', '.');
  gitIn(repo, 'commit', '-q', '-m', 'first policy');
  commits.push(gitIn(repo, 'rev-parse', 'HEAD'));
  gitIn(repo, 'tag', '-a', 'v1', '-m', 'release one');
  fs.writeFileSync(path.join(repo, 'settings.yaml'), 'kind: Settings # edited\n');
  fs.rmSync(path.join(repo, 'scripts', 'a.ps1'));
  gitIn(repo, 'add', '-A');
  gitIn(repo, 'commit', '-q', '-m', 'second policy\n\nwith a body');
  commits.push(gitIn(repo, 'rev-parse', 'HEAD'));
  gitIn(repo, 'clone', '-q', '--bare', repo, path.join(root, 'bare.git'));
  // Uncommitted edits must not leak into what a revision holds.
  fs.writeFileSync(path.join(repo, 'settings.yaml'), 'dirty working tree\n');
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

test('a branch name reads the files of its tip commit, with commit metadata', async () => {
  const revision = await readPolicyRevision(repo, 'main');
  assert.equal(revision.revision, commits[1]);
  assert.deepEqual(revision.files, [
    { path: 'scripts/link.yaml', symlinkTarget: '../settings.yaml', size: 16, oid: gitIn(repo, 'rev-parse', 'main:scripts/link.yaml') },
    { path: 'settings.yaml', text: 'kind: Settings # edited\n', size: 24, oid: gitIn(repo, 'rev-parse', 'main:settings.yaml') },
  ]);
  assert.deepEqual(revision.commit, { author: 'Ada Admin', email: 'ada@example.test', message: 'second policy\n\nwith a body\n', time: '2024-05-06T07:08:09.000Z' });
});

test('an abbreviated commit id, HEAD~1 and an annotated tag resolve to the first commit', async () => {
  const cache = {};
  for (const ref of [commits[0].slice(0, 7), 'HEAD~1', 'main^', 'v1', commits[0]]) {
    const revision = await readPolicyRevision(repo, ref, cache);
    assert.equal(revision.revision, commits[0], ref);
  }
  const first = await readPolicyRevision(repo, 'v1', cache);
  assert.deepEqual(first.files.find((f) => f.path === 'scripts/a.ps1'), { path: 'scripts/a.ps1', text: 'Write-Output "é"\n', size: 18, oid: gitIn(repo, 'rev-parse', 'v1:scripts/a.ps1') });
});

test('a bare repository is read through its git directory', async () => {
  const revision = await readPolicyRevision(path.join(root, 'bare.git'), 'main');
  assert.equal(revision.revision, commits[1]);
  assert.equal(revision.files.length, 2);
});

test('an unknown revision or a directory that is not a repository is an error naming it', async () => {
  await assert.rejects(readPolicyRevision(repo, 'no-such-branch'), /revision "no-such-branch" not found/);
  await assert.rejects(readPolicyRevision(repo, 'deadbeef'), /revision "deadbeef" not found/);
  await assert.rejects(readPolicyRevision(repo, 'HEAD~5'), /has no parent/);
  await assert.rejects(readPolicyRevision(path.join(root, 'work', 'scripts'), 'main'), /not a git repository/);
});

test('blob texts read once are reused by the next read and hold only the blobs of the last revision', async () => {
  const blobTexts = new Map<string, string>();
  const first = await readPolicyRevision(repo, 'v1', {}, blobTexts);
  assert.deepEqual([...blobTexts.keys()].sort(), first.files.map((f) => f.oid).sort());
  // A planted text proves a read takes texts from the map instead of the object store.
  const settingsOid = first.files.find((f) => f.path === 'settings.yaml')!.oid!;
  const planted = new Map([...blobTexts, [settingsOid, 'kind: Settings # from the map\n']]);
  const again = await readPolicyRevision(repo, 'v1', {}, planted);
  assert.equal(again.files.find((f) => f.path === 'settings.yaml')!.text, 'kind: Settings # from the map\n');
  const second = await readPolicyRevision(repo, 'main', {}, blobTexts);
  assert.deepEqual(second.files, (await readPolicyRevision(repo, 'main')).files);
  assert.deepEqual([...blobTexts.keys()].sort(), second.files.map((f) => f.oid).sort());
  const reread = await readPolicyRevision(repo, 'v1', {}, blobTexts);
  assert.deepEqual(reread.files, (await readPolicyRevision(repo, 'v1')).files);
});

test('a blob that is not UTF-8 keeps its byte size when read through the blob texts', async () => {
  const binaryRepo = path.join(root, 'binary');
  fs.mkdirSync(binaryRepo);
  gitIn(binaryRepo, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(binaryRepo, 'logo.bin'), Buffer.from([0xff, 0x41]));
  gitIn(binaryRepo, 'add', '.');
  gitIn(binaryRepo, 'commit', '-q', '-m', 'binary');
  const blobTexts = new Map<string, string>();
  const first = await readPolicyRevision(binaryRepo, 'main', {}, blobTexts);
  const second = await readPolicyRevision(binaryRepo, 'main', {}, blobTexts);
  assert.equal(first.files[0].size, 2); // decoded, the text "\uFFFDA" would be 4 bytes
  assert.deepEqual(second.files, first.files);
});

test('reads with kept blob texts after edits, renames, copies and deletions equal reads from scratch', async () => {
  const treeRepo = path.join(root, 'trees');
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(treeRepo, file)), { recursive: true });
    fs.writeFileSync(path.join(treeRepo, file), text);
  };
  const commit = (message: string) => {
    gitIn(treeRepo, 'add', '-A');
    gitIn(treeRepo, 'commit', '-q', '-m', message);
    return gitIn(treeRepo, 'rev-parse', 'HEAD');
  };
  fs.mkdirSync(treeRepo);
  gitIn(treeRepo, 'init', '-q', '-b', 'main');
  write('a/x.yaml', 'x: 1\n');
  write('a/b/y.yaml', 'y: 1\n');
  write('c/z.yaml', 'z: 1\n');
  const revisions = [commit('first')];
  write('a/b/y.yaml', 'y: 2\n');
  revisions.push(commit('edit deep'));
  fs.renameSync(path.join(treeRepo, 'c'), path.join(treeRepo, 'd'));
  revisions.push(commit('rename folder'));
  fs.cpSync(path.join(treeRepo, 'd'), path.join(treeRepo, 'e'), { recursive: true });
  fs.rmSync(path.join(treeRepo, 'a/x.yaml'));
  revisions.push(commit('copy folder, delete file'));
  const blobTexts = new Map<string, string>();
  for (const revision of [...revisions, revisions[0], revisions[3], revisions[1]]) {
    const kept = await readPolicyRevision(treeRepo, revision, {}, blobTexts);
    const fresh = await readPolicyRevision(treeRepo, revision);
    assert.deepEqual(kept.files, fresh.files, revision);
  }
  const last = await readPolicyRevision(treeRepo, revisions[3], {}, blobTexts);
  assert.deepEqual(last.files.map((f) => f.path), ['a/b/y.yaml', 'd/z.yaml', 'e/z.yaml']);
  last.files[0].text = 'edited by the caller';
  assert.equal((await readPolicyRevision(treeRepo, revisions[3], {}, blobTexts)).files[0].text, 'y: 2\n');
});
