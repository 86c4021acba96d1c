import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { BUILD_INFO_FILE, COMPILED_MAIN, findCompiledCopy, sourceDigests } from './compiled-copy.ts';

test('a compiled copy is used only while every source it was built from is unchanged', async (t) => {
  const root = await makeTempDir(t, 'pswm-sources-');
  const dist = await makeTempDir(t, 'pswm-dist-');
  await mkdir(path.join(root, 'agent/src'), { recursive: true });
  await writeFile(path.join(root, 'agent/src/a.ts'), 'export const a = 1;\n');
  await writeFile(path.join(root, 'agent/src/b.ts'), 'export const b = 2;\n');

  const missing = await findCompiledCopy(dist, root);
  assert.equal(missing.usable, false);
  assert.match(!missing.usable ? missing.reason : '', /no compiled copy .*\(npm run build -w agent\)/);

  const sources = await sourceDigests(root, ['agent/src/b.ts', 'agent/src/a.ts']);
  assert.deepEqual(Object.keys(sources), ['agent/src/a.ts', 'agent/src/b.ts']);
  await writeFile(path.join(dist, BUILD_INFO_FILE), JSON.stringify({ built_at: new Date().toISOString(), sources }));
  assert.deepEqual(await findCompiledCopy(dist, root), { usable: true, main: path.join(dist, COMPILED_MAIN) });

  await writeFile(path.join(root, 'agent/src/b.ts'), 'export const b = 3;\n');
  const stale = await findCompiledCopy(dist, root);
  assert.equal(stale.usable, false);
  assert.match(!stale.usable ? stale.reason : '', /older than agent\/src\/b\.ts/);
});
