import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import git from 'isomorphic-git';
import { openBlobReader } from './git-objects.ts';

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada Admin',
  GIT_AUTHOR_EMAIL: 'ada@example.test',
  GIT_COMMITTER_NAME: 'Ada Admin',
  GIT_COMMITTER_EMAIL: 'ada@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: os.tmpdir(),
};
let root = '';

function gitIn(dir: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd: dir, env, encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 }).trim();
}

/** A repository whose files change a little in each commit, so packing stores most as deltas. */
function repositoryWithHistory(name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  gitIn(dir, ['init', '-q', '-b', 'main']);
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i}: ${'x'.repeat(i % 50)}`);
  for (let commit = 0; commit < 12; commit++) {
    lines[(commit * 17) % lines.length] = `changed in commit ${commit}`;
    lines.push(`appended ${commit} é`);
    fs.writeFileSync(path.join(dir, 'scripts', 'long.ps1'), lines.join('\n'));
    fs.writeFileSync(path.join(dir, `policy-${commit % 3}.yaml`), `name: p${commit}\n${lines.slice(0, commit * 10).join('\n')}\n`);
    gitIn(dir, ['add', '-A']);
    gitIn(dir, ['commit', '-q', '-m', `commit ${commit}`]);
  }
  return dir;
}

function blobIds(dir: string): string[] {
  const objects = gitIn(dir, ['rev-list', '--objects', '--all']).split('\n').map((line) => line.split(' ')[0]);
  const types = gitIn(dir, ['cat-file', '--batch-check=%(objecttype) %(objectname)'], `${objects.join('\n')}\n`).split('\n');
  return types.filter((line) => line.startsWith('blob ')).map((line) => line.slice(5));
}

async function assertReadsLikeIsomorphicGit(dir: string): Promise<void> {
  const gitdir = path.join(dir, '.git');
  const reader = await openBlobReader(gitdir);
  const ids = blobIds(dir);
  assert.ok(ids.length >= 20, `only ${ids.length} blobs`);
  for (const oid of ids) {
    const ours = await reader.readBlob(oid);
    assert.ok(ours, `blob ${oid} was left to isomorphic-git`);
    const { blob } = await git.readBlob({ fs, gitdir, oid });
    assert.ok(Buffer.from(blob).equals(ours), `blob ${oid} differs`);
  }
}

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pswm-git-objects-'));
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

test('loose blobs read as isomorphic-git reads them', async () => {
  await assertReadsLikeIsomorphicGit(repositoryWithHistory('loose'));
});

test('blobs stored as offset deltas in a pack read as isomorphic-git reads them', async () => {
  const dir = repositoryWithHistory('ofs');
  gitIn(dir, ['repack', '-adfq', '--depth=50', '--window=50']);
  const verify = gitIn(dir, ['verify-pack', '-v', ...fs.readdirSync(path.join(dir, '.git/objects/pack')).filter((f) => f.endsWith('.idx')).map((f) => `.git/objects/pack/${f}`)]);
  assert.match(verify, /chain length = [2-9]/, 'the pack holds delta chains');
  await assertReadsLikeIsomorphicGit(dir);
});

test('blobs stored as reference deltas (as fetched packs may hold) read as isomorphic-git reads them', async () => {
  const dir = repositoryWithHistory('ref');
  gitIn(dir, ['repack', '-adfq', '--depth=50', '--window=50']);
  const objects = gitIn(dir, ['rev-list', '--objects', '--all']);
  const packDir = path.join(dir, '.git/objects/pack');
  const staging = path.join(root, 'ref-staging');
  fs.mkdirSync(staging);
  // Without --delta-base-offset, pack-objects names delta bases by object id (REF_DELTA).
  gitIn(dir, ['pack-objects', '-q', '--window=50', '--depth=50', path.join(staging, 'pack')], `${objects}\n`);
  for (const file of fs.readdirSync(packDir)) fs.rmSync(path.join(packDir, file));
  for (const file of fs.readdirSync(staging)) fs.renameSync(path.join(staging, file), path.join(packDir, file));
  assert.match(gitIn(dir, ['verify-pack', '-v', ...fs.readdirSync(packDir).filter((f) => f.endsWith('.idx')).map((f) => path.join(packDir, f))]), /chain length = [2-9]/);
  await assertReadsLikeIsomorphicGit(dir);
});

test('an object that is not in the store, or not a blob, is left to the caller', async () => {
  const dir = repositoryWithHistory('missing');
  const reader = await openBlobReader(path.join(dir, '.git'));
  assert.equal(await reader.readBlob('0123456789abcdef0123456789abcdef01234567'), undefined);
  assert.equal(await reader.readBlob(gitIn(dir, ['rev-parse', 'HEAD^{tree}'])), undefined);
});
