// Every folder under testdata/broken/ is a tiny policy repository that must fail to load with
// exactly the errors in its expected.json (code, file, line, col, message), in that order.
// Optional limits.json lowers PolicyLimits for the case; symlinks.json ({ path: target }) adds
// symbolic-link entries, since links in git fixtures are fragile across checkouts and OSes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPolicyDir } from '../source/dir.ts';
import type { RepoFile } from '../model.ts';
import { loadPolicy } from './load-policy.ts';

const BROKEN = new URL('./testdata/broken/', import.meta.url);
const CASE_FILES = new Set(['expected.json', 'limits.json', 'symlinks.json']);

export async function readCase(name: string): Promise<{ files: RepoFile[]; limits: object }> {
  const folder = new URL(`${name}/`, BROKEN);
  const optional = (file: string): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(new URL(file, folder), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  };
  const files = (await readPolicyDir(folder.pathname)).filter((file) => !CASE_FILES.has(file.path));
  for (const [path, symlinkTarget] of Object.entries(optional('symlinks.json'))) {
    files.push({ path, symlinkTarget: String(symlinkTarget), size: String(symlinkTarget).length });
  }
  return { files, limits: optional('limits.json') };
}

const cases = readdirSync(BROKEN, { withFileTypes: true }).filter((entry) => entry.isDirectory());

test('the corpus holds at least 35 broken policies', () => {
  assert.ok(cases.length >= 35, `only ${cases.length} cases`);
});

for (const { name } of cases) {
  test(`broken policy "${name}" fails with exactly the expected errors`, async () => {
    const { files, limits } = await readCase(name);
    const expected = JSON.parse(readFileSync(new URL(`${name}/expected.json`, BROKEN), 'utf8'));
    const result = loadPolicy(files, limits);
    assert.equal(result.ok, false, 'the policy loaded although it is broken');
    if (result.ok) return;
    const actual = result.errors.map(({ code, file, line, col, message }) => ({ code, file, line, col, message }));
    assert.deepEqual(actual, expected);
  });
}
