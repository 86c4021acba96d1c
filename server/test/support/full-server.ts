// The whole server as `pswm-server start` composes it (every route: agents, reports, read API, audit,
// policy, reconciler, webhook, hub), in this process on a fresh database, with the demo policy
// repository applied (contoso/paris exists), an admin and a viewer token, and a raw client that sends
// any bytes. Closed (server, then database, then data directory) when the test ends.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { createToken } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer } from '../../src/server.ts';
import { freshDatabase } from './database.ts';

const APPLIED_TIMEOUT_MS = 30_000;

export interface RawAnswer { status: number; headers: Record<string, string | string[] | undefined>; body: any; text: string }

export async function startFullServer(t: { after(fn: () => Promise<void>): void }, argv: string[] = []) {
  const db = await freshDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'pswm-full-server-'));
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  t.after(async () => {
    await server?.close();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });
  const config = loadConfig(['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--poll-interval', '3600', ...argv], { DATABASE_URL: db.url });
  server = await startServer(config, createLogger({ logLevel: 'silent' }));
  const tokenOf = async (role: 'admin' | 'viewer') => (await db.sql.begin((tx) => createToken(tx, { role, name: `test-${role}`, actor: 'test' }))).token;
  const adminToken = await tokenOf('admin');
  const viewerToken = await tokenOf('viewer');

  // undici's request rather than fetch: a fuzz sends thousands, and fetch costs several times more CPU.
  const pool = new Pool(server.url, { connections: 32 });
  t.after(() => pool.close());
  /** Any request: `path` is sent as written (percent-escapes and all), `body` as given. */
  const send = async (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> => {
    const response = await pool.request({ method: method as Dispatcher.HttpMethod, path, headers: init.headers, body: init.body });
    const text = await response.body.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch { /* not JSON: keep the text */ }
    return { status: response.statusCode, headers: response.headers as Record<string, string | string[] | undefined>, body, text };
  };

  const deadline = Date.now() + APPLIED_TIMEOUT_MS;
  while (!(await db.sql`select 1 from policy_objects where kind = 'Location' and id = 'contoso/paris'`).length) {
    if (Date.now() > deadline) throw new Error('the demo policy was not applied in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { db, sql: db.sql, url: server.url, adminToken, viewerToken, send };
}
