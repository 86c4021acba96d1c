import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readPolicyDir } from './dir.ts';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pswm-dir-'));
  await mkdir(join(dir, 'scripts/nested'), { recursive: true });
  await mkdir(join(dir, '.git/objects'), { recursive: true });
  await mkdir(join(dir, 'node_modules/x'), { recursive: true });
  await writeFile(join(dir, 'org.yaml'), 'kind: Organization\n');
  await writeFile(join(dir, 'scripts/nested/run.ps1'), 'Write-Host "é"\n');
  await writeFile(join(dir, '.git/HEAD'), 'ref: refs/heads/main\n');
  await writeFile(join(dir, 'node_modules/x/index.js'), '');
  await symlink('../org.yaml', join(dir, 'scripts/link.yaml'));
  await symlink('/etc', join(dir, 'etc'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('reads files with POSIX paths relative to the directory, sorted', async () => {
  const files = await readPolicyDir(dir);
  assert.deepEqual(
    files.map((file) => file.path),
    ['etc', 'org.yaml', 'scripts/link.yaml', 'scripts/nested/run.ps1'],
  );
  const script = files.find((file) => file.path === 'scripts/nested/run.ps1');
  assert.equal(script?.text, 'Write-Host "é"\n');
  assert.equal(script?.size, Buffer.byteLength('Write-Host "é"\n'));
});

test('records symbolic links with their target instead of following them', async () => {
  const files = await readPolicyDir(dir);
  assert.deepEqual(files.find((file) => file.path === 'scripts/link.yaml'), { path: 'scripts/link.yaml', symlinkTarget: '../org.yaml', size: 11 });
  const outside = files.find((file) => file.path === 'etc');
  assert.equal(outside?.symlinkTarget, '/etc');
  assert.equal(outside?.text, undefined);
});

test('skips .git and node_modules', async () => {
  const files = await readPolicyDir(dir);
  assert.ok(!files.some((file) => file.path.startsWith('.git/') || file.path.startsWith('node_modules/')));
});

test('lists files above the read cap by size only', async () => {
  const files = await readPolicyDir(dir, 12);
  assert.deepEqual(files.find((file) => file.path === 'scripts/nested/run.ps1'), { path: 'scripts/nested/run.ps1', size: 16 });
  assert.equal(files.find((file) => file.path === 'org.yaml')?.size, 19);
  assert.equal(files.find((file) => file.path === 'org.yaml')?.text, undefined);
});
