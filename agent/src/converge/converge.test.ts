import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { DesiredState } from '@pswm/schemas';
// the schema files are the source of the defaults; imported directly, not through the package index (it loads the whole loader)
import { settingsDefaults } from '../../../schemas/src/json-schema.ts';
import { makeChocoStandin } from '../../test/support/choco-standin.ts';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { converge } from './converge.ts';
import { compiledScript, withCheck } from './scripts/testdata/scripts.ts';

const posixOnly = { skip: process.platform === 'win32' ? 'POSIX shells' : false };
const NOW = new Date(2025, 0, 15, 12, 0);

async function setUp(t: TestContext) {
  const dataDir = await makeTempDir(t);
  const standin = await makeChocoStandin(t, { installed: { chocolatey: '2.4.1' } });
  const desired: DesiredState = {
    apiVersion: 'pswm/v1',
    settings: settingsDefaults(),
    provenance: {},
    scripts: [
      withCheck(compiledScript({ name: 'marker', content: 'touch "$PSWM_TEST_DIR/marker"' }), 'test -f "$PSWM_TEST_DIR/marker"'),
      compiledScript({ name: 'once', run: 'single_run', content: 'echo once' }),
      compiledScript({ name: 'windows-only', shell: 'powershell', platforms: ['windows'] }),
    ],
    packages: [{ name: 'git', ensure: 'present', version: '2.47.0', pin: true, deployment: 'dev-tools' }],
    external_facts: [],
    conflicts: [],
  };
  const run = (dryRun: boolean) => converge({ desired, dataDir, dryRun, now: NOW, platform: 'linux', env: { ...standin.env, PSWM_TEST_DIR: dataDir } });
  return { dataDir, standin, run };
}

const summary = (items: { kind: string; name: string; status: string }[]) => items.map((i) => `${i.kind}/${i.name}: ${i.status}`);

test('a dry run reports what would change and changes neither the machine nor the agent state', posixOnly, async (t) => {
  const { dataDir, standin, run } = await setUp(t);
  const result = await run(true);
  assert.deepEqual(summary(result.items), ['script/marker: drifted', 'script/once: skipped', 'script/windows-only: skipped', 'package/git: drifted']);
  assert.deepEqual(result.chocoRuns, []);
  assert.equal(existsSync(path.join(dataDir, 'marker')), false);
  assert.equal(existsSync(path.join(dataDir, 'state')), false);
  assert.deepEqual((await standin.readState()).installed, { chocolatey: '2.4.1' });
});

test('a real run converges scripts and packages, and the next one is in sync', posixOnly, async (t) => {
  const { dataDir, run } = await setUp(t);
  const first = await run(false);
  assert.deepEqual(summary(first.items), ['script/marker: changed', 'script/once: changed', 'script/windows-only: skipped', 'package/git: changed']);
  assert.deepEqual(first.chocoPackages, [
    { name: 'chocolatey', version: '2.4.1', pinned: false },
    { name: 'git', version: '2.47.0', pinned: true },
  ]);
  assert.deepEqual((await readdir(path.join(dataDir, 'state'))).sort(), ['choco.json', 'scripts.json']);

  const second = await run(false);
  assert.deepEqual(summary(second.items), ['script/marker: in_sync', 'script/once: skipped', 'script/windows-only: skipped', 'package/git: in_sync']);
  assert.deepEqual(second.chocoRuns, []);
});
