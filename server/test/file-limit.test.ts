import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { FILE_LIMIT_HINT, fileLimitCode } from '../src/file-limit.ts';
import { refReadError } from '../src/git/errors.ts';
import { freshDatabase } from './support/database.ts';
import { templateRepo } from './reconcile-fixtures.ts';

const FIXTURE = fileURLToPath(new URL('./support/reconcile-out-of-files.ts', import.meta.url));
const run = promisify(execFile);

test('a reconcile in a process out of file descriptors fails with EMFILE and the hint, not "the tracked branch does not exist"', async (t) => {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  // A real process with a real limit: node, the database connection and the repository fit in 64
  // descriptors; the fixture takes the rest before it reconciles.
  const { stdout } = await run('bash', ['-c', 'ulimit -n 64 && exec "$0" "$@"', process.execPath, FIXTURE, repo.dir, db.url], { timeout: 60_000, killSignal: 'SIGKILL' });
  const outcomeLine = stdout.split('\n').find((line) => line.startsWith('OUTCOME '));
  assert.ok(outcomeLine, stdout);
  const outcome = JSON.parse(outcomeLine.slice('OUTCOME '.length)) as { held: number; status: string; reason: string; message: string; row: { status: string; reason: string; detail: string } };
  assert.ok(outcome.held > 0, 'the fixture held descriptors');
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.reason, 'FetchFailed');
  for (const text of [outcome.message, outcome.row.detail]) {
    assert.match(text, /EMFILE/);
    assert.match(text, /ran out of file descriptors/);
    assert.doesNotMatch(text, /does not exist/);
  }
  const errors = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string; code?: string });
  const alarms = errors.filter((entry) => entry.level === 50 && entry.code === 'EMFILE');
  assert.equal(alarms.length, 1, stdout);
  assert.ok(alarms[0].msg.includes(FILE_LIMIT_HINT), alarms[0].msg);
});

test('a ref that is really missing is still "does not exist"; other read failures name their cause', () => {
  const missing = Object.assign(new Error('Could not find refs/heads/nope.'), { code: 'NotFoundError' });
  assert.equal(refReadError(missing, 'nope in /repo').code, 'GIT_BRANCH_NOT_FOUND');
  const eio = Object.assign(new Error('EIO: i/o error, open \'/repo/.git/packed-refs\''), { code: 'EIO', errno: -5, syscall: 'open' });
  const failed = refReadError(eio, 'main in /repo');
  assert.equal(failed.code, 'GIT_READ_FAILED');
  assert.match(failed.message, /EIO/);
  const wrapped = new Error('outer', { cause: Object.assign(new Error('too many'), { code: 'ENFILE' }) });
  assert.equal(fileLimitCode(wrapped), 'ENFILE');
  assert.equal(refReadError(wrapped, 'main in /repo').code, 'GIT_OUT_OF_FILES');
});
