import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CompiledScript } from '@pswm/schemas';
import { makeTempDir } from '../../../test/support/temp-dir.ts';
import { convergeScripts } from './converge-scripts.ts';
import { planScripts } from './plan.ts';
import { runScript } from './run-script.ts';
import { nextScheduleTime } from './schedule.ts';
import { emptyScriptsState, loadScriptsState, saveScriptsState, type ScriptsState } from './state.ts';
import { compiledScript, withCheck } from './testdata/scripts.ts';

const posixOnly = { skip: process.platform === 'win32' ? 'POSIX shells' : false };
const NOW = new Date(2025, 0, 15, 12, 0);

async function workspace(t: TestContext) {
  const dir = await makeTempDir(t);
  const converge = (scripts: CompiledScript[], state: ScriptsState, dryRun: boolean) =>
    convergeScripts({
      decisions: planScripts({ scripts, platform: 'linux', state, now: NOW, nextScheduleTime }),
      state,
      dryRun,
      now: NOW,
      execute: (job) => runScript({ ...job, cwd: dir, scriptsDir: path.join(dir, 'scripts_cache') }),
    });
  return { dir, converge };
}

test('a failing check is drifted in dry run, changed after apply and in sync next time', posixOnly, async (t) => {
  const { dir, converge } = await workspace(t);
  const script = withCheck(compiledScript({ name: 'marker', content: 'touch marker' }), 'test -f marker');

  const dry = await converge([script], emptyScriptsState(), true);
  assert.deepEqual(dry.items, [{ kind: 'script', name: 'marker', status: 'drifted', reason: 'check exited 1', wouldChange: true }]);
  assert.deepEqual(dry.runs.map((r) => r.phase), ['check']);
  assert.equal(existsSync(path.join(dir, 'marker')), false);

  const applied = await converge([script], dry.state, false);
  assert.deepEqual(applied.items, [{ kind: 'script', name: 'marker', status: 'changed' }]);
  assert.deepEqual(applied.runs.map((r) => [r.phase, r.exitCode]), [['check', 1], ['script', 0]]);

  const again = await converge([script], applied.state, false);
  assert.deepEqual(again.items, [{ kind: 'script', name: 'marker', status: 'in_sync' }]);
  assert.deepEqual(again.runs.map((r) => r.phase), ['check']);
});

test('a dry run starts no script that has no check', posixOnly, async (t) => {
  const { dir, converge } = await workspace(t);
  const result = await converge([compiledScript({ name: 'touch', content: 'touch marker' })], emptyScriptsState(), true);
  assert.deepEqual(result.items, [{ kind: 'script', name: 'touch', status: 'skipped', reason: 'dry run: would run (no check script)', wouldChange: true }]);
  assert.deepEqual(result.runs, []);
  assert.equal(existsSync(path.join(dir, 'marker')), false);
});

test('a failing script is reported with its output and the next script still runs', posixOnly, async (t) => {
  const { converge } = await workspace(t);
  const scripts = [compiledScript({ name: 'a-bad', content: 'echo broken >&2; exit 4' }), compiledScript({ name: 'b-good', content: 'echo fine' })];
  const result = await converge(scripts, emptyScriptsState(), false);
  assert.deepEqual(result.items, [
    { kind: 'script', name: 'a-bad', status: 'failed', reason: 'exited 4' },
    { kind: 'script', name: 'b-good', status: 'changed' },
  ]);
  assert.equal(result.runs[0].stderr, 'broken\n');
  assert.equal(result.runs[0].sha256, scripts[0].sha256);
  assert.equal(result.runs[1].stdout, 'fine\n');
});

test('a single_run script stays done across a restart (state file reloaded)', posixOnly, async (t) => {
  const { dir, converge } = await workspace(t);
  const stateFile = path.join(dir, 'state', 'scripts.json');
  const script = compiledScript({ name: 'once', run: 'single_run', content: 'echo x >> ran.log' });

  const first = await converge([script], await loadScriptsState(stateFile), false);
  assert.equal(first.items[0].status, 'changed');
  await saveScriptsState(stateFile, first.state);

  const second = await converge([script], await loadScriptsState(stateFile), false);
  assert.deepEqual(second.items, [{ kind: 'script', name: 'once', status: 'skipped', reason: 'already ran this content (single_run)' }]);
  assert.deepEqual(second.runs, []);
});

test('a damaged state file is an error, not a silent reset', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'scripts.json');
  await writeFile(file, '{"version": 7}');
  await assert.rejects(loadScriptsState(file), /unrecognised state/);
});

test('a script whose shell is missing here is skipped, not failed', async (t) => {
  const { converge } = await workspace(t);
  const script = compiledScript({ name: 'ps', shell: 'powershell', platforms: ['linux'], content: 'Write-Output hi' });
  const result = await converge([script], emptyScriptsState(), false);
  assert.deepEqual(result.items, [{ kind: 'script', name: 'ps', status: 'skipped', reason: 'shell powershell is only available on windows, this is linux' }]);
});
