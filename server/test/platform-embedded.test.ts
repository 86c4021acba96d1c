// `pswm-server start` with no DATABASE_URL: PGlite in the data directory, as a real child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loggedEntries, runServerCommand, startServerProcess } from './support/server-process.ts';

/** TCP ports process `pid` listens on (Linux: its socket fds matched with /proc/net/tcp{,6}). */
async function listeningTcpPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && inodes.has(fields[9])) ports.push(parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
}

test('embedded mode: first start issues an owner-only admin token file, logs its path not the token, and survives a restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'pswm-embedded-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));

  const first = await startServerProcess({ dataDir });
  t.after(() => first.stop('SIGKILL'));
  assert.deepEqual(await (await fetch(`${first.url}/health`)).json(), { status: 'ok' });
  assert.match(first.logs(), /created the embedded database from the prepared template/, 'no initdb on the first start (npm install prepared a template)');
  assert.match(first.logs(), /"stage":"opening the database"/, 'each start-up stage is logged');

  // The embedded database is reachable only by this user: an owner-only Unix socket, no TCP port but the API's.
  const socketPath = join(dataDir, 'run', '.s.PGSQL.5432');
  assert.ok(first.logs().includes(`"socket":"${socketPath}"`));
  const socket = await stat(socketPath);
  assert.ok(socket.isSocket());
  assert.equal(socket.mode & 0o777, 0o600);
  assert.equal((await stat(join(dataDir, 'run'))).mode & 0o777, 0o700);
  if (process.platform === 'linux') assert.deepEqual(await listeningTcpPorts(first.pid), [Number(new URL(first.url).port)]);

  const tokenPath = join(dataDir, 'initial-admin-token');
  assert.equal((await stat(tokenPath)).mode & 0o777, 0o600);
  const token = (await readFile(tokenPath, 'utf8')).trim();
  const whoami = await fetch(`${first.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(whoami.status, 200);
  assert.equal((await whoami.json()).role, 'admin');
  assert.ok(first.logs().includes(tokenPath), 'the log names the token file');

  // Admin commands reach a running embedded server through its API (the database is single-process).
  const remote = await runServerCommand(['token', 'create', '--role', 'viewer', '--server', first.url], { PSWM_ADMIN_TOKEN: token });
  assert.equal(remote.code, 0, remote.stderr);
  const viewerToken = remote.stdout.trim();
  const direct = await runServerCommand(['token', 'list', '--data-dir', dataDir]);
  assert.equal(direct.code, 1);
  assert.match(direct.stderr, /in use by process \d+.*--server URL/);

  assert.equal(await first.stop('SIGTERM'), 0, 'graceful shutdown exits 0');
  assert.doesNotMatch(first.logs(), new RegExp(token), 'the token never appears in the logs');
  assert.match(first.logs(), /pswm-server stopped/);
  const [{ stepsMs }] = loggedEntries<{ stepsMs: Record<string, number> }>(first, 'shutdown steps');
  assert.deepEqual(Object.keys(stepsMs), ['reconciler', 'retention', 'consoles', 'hub', 'http', 'bus', 'policy source', 'database']);

  const second = await startServerProcess({ dataDir });
  t.after(() => second.stop('SIGKILL'));
  for (const [t0, role] of [[token, 'admin'], [viewerToken, 'viewer']]) {
    const response = await fetch(`${second.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${t0}` } });
    assert.equal(response.status, 200, `${role} token still valid after restart`);
  }
  assert.equal((await readFile(tokenPath, 'utf8')).trim(), token, 'the token file is not rewritten');
  assert.doesNotMatch(second.logs(), /initial admin token written/);
  assert.equal(await second.stop(), 0);
  await assert.rejects(stat(socketPath), { code: 'ENOENT' }, 'the socket is removed on shutdown');
});
