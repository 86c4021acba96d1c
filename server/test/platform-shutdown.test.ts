// A SIGTERM must always end pswm-server: a graceful shutdown that cannot finish (here: a client that
// sent half a request body and went quiet, which the HTTP server waits for) is cut short by the
// --shutdown-timeout deadline, or at once by a second signal.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { freshDatabase } from './support/database.ts';
import { startServerProcess } from './support/server-process.ts';
import type { ServerProcess } from './support/server-process.ts';

/** A POST whose body never arrives in full: the request stays in flight until the socket closes. */
async function halfSentRequest(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.write(`POST /api/v1/agent/enroll HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"token":`);
  return socket;
}

/** Sends `signal` (if any) and waits at most `ms` for the process to end. */
async function exitWithin(server: ServerProcess, ms: number, signal?: NodeJS.Signals): Promise<{ code: number | null; afterMs: number }> {
  const started = Date.now();
  if (signal) process.kill(server.pid, signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms)));
  const code = await Promise.race([server.exited, timeout]).finally(() => clearTimeout(timer));
  return { code, afterMs: Date.now() - started };
}

async function startBlockedServer(t: TestContext, args: string[] = []): Promise<ServerProcess> {
  const db = await freshDatabase(t);
  const dataDir = await mkdtemp(join(tmpdir(), 'pswm-shutdown-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const server = await startServerProcess({ args, dataDir, env: { DATABASE_URL: db.url } });
  t.after(() => server.stop('SIGKILL'));
  const socket = await halfSentRequest(server.url);
  t.after(() => socket.destroy());
  process.kill(server.pid, 'SIGTERM');
  assert.ok(await aliveAfter(server.pid, 1000), 'the graceful shutdown waits for the request in flight');
  return server;
}

async function aliveAfter(pid: number, ms: number): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a shutdown blocked by a request in flight ends at the deadline', async (t) => {
  const server = await startBlockedServer(t, ['--shutdown-timeout', '2']);
  const { code } = await exitWithin(server, 5000);
  assert.equal(code, 1);
  assert.match(server.logs(), /shutdown did not finish within 2 s; exiting without finishing the shutdown/);
});

test('a second signal during a blocked shutdown exits at once', async (t) => {
  const server = await startBlockedServer(t);
  const { code, afterMs } = await exitWithin(server, 3000, 'SIGTERM');
  assert.equal(code, 1);
  assert.ok(afterMs < 3000, `exited ${afterMs} ms after the second signal`);
  assert.match(server.logs(), /second SIGTERM during shutdown; exiting without finishing the shutdown/);
});
