import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { FILE_LIMIT_HINT, fileLimitCode } from '../src/file-limit.ts';
import { refReadError } from '../src/git/errors.ts';
import { freshDatabase } from './support/database.ts';
import { startServerProcess } from './support/server-process.ts';
import { templateRepo, until } from './reconcile-fixtures.ts';

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

test('a server whose descriptors run out under a flood of connections logs EMFILE with the hint and keeps serving once they close', async (t) => {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pswm-file-limit-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const limit = 320;
  const server = await startServerProcess({ dataDir, openFileLimit: limit, args: ['--policy-repo', repo.dir, '--poll-interval', '3600', '--listen-backlog', '1000'], env: { DATABASE_URL: db.url } });
  t.after(() => server.stop());
  const { hostname, port } = new URL(server.url);
  // The listen queue asked for (ss shows a listening socket's backlog as Send-Q).
  const somaxconn = Number(await readFile('/proc/sys/net/core/somaxconn', 'utf8'));
  const { stdout: listening } = await run('ss', ['-Hltn', `sport = :${port}`]);
  assert.equal(Number(listening.trim().split(/\s+/)[2]), Math.min(1000, somaxconn), listening);
  // Plain TCP connections that send nothing: each holds one of the server's descriptors. Opened
  // until the server holds its limit (read from /proc, not assumed: a loaded machine accepts late),
  // then kept open while the server's probe (every 10 s) finds it out of descriptors.
  const flood: Socket[] = [];
  t.after(() => flood.forEach((socket) => socket.destroy()));
  const openFiles = async () => (await readdir(`/proc/${server.pid}/fd`)).length;
  const connected = { count: 0 };
  while (flood.length < 4 * limit && await openFiles() < limit - 1) {
    for (let i = 0; i < 50; i++) {
      const socket = connect(Number(port), hostname, () => connected.count++);
      socket.on('error', () => {});
      flood.push(socket);
    }
    await sleep(200);
  }
  const deadline = Date.now() + 40_000;
  while (!/out of file descriptors \(EMFILE\)/.test(server.logs()) && Date.now() < deadline) await sleep(250);
  const alarms = server.logs().split('\n').filter((line) => line.includes('out of file descriptors (EMFILE)'));
  const state = `${flood.length} opened, ${connected.count} connected; the server holds ${await openFiles()} of ${limit} descriptors`;
  assert.equal(alarms.length, 1, `${state}\n${server.logs().slice(-3000)}`);
  assert.ok(alarms[0].includes(FILE_LIMIT_HINT));
  assert.equal(JSON.parse(alarms[0]).level, 50);
  for (const socket of flood.splice(0)) socket.destroy();
  await until('the server to answer again', async () => (await fetch(`${server.url}/health`).catch(() => undefined))?.status === 200, 30_000, 250);
  assert.equal(server.exited !== undefined && (await Promise.race([server.exited, sleep(100).then(() => 'running')])), 'running');
});
