import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../src/logger.ts';
import { listMigrations, migrate } from '../src/db/migrate.ts';
import { freshDatabase } from './support/database.ts';
import { runServerCommand } from './support/server-process.ts';

const silent = createLogger({ logLevel: 'silent' });

test('migrations apply once; a second run finds nothing to do', async (t) => {
  const db = await freshDatabase(t, { migrate: false });
  const all = await listMigrations();
  assert.deepEqual((await migrate(db.sql, silent)).applied, all);
  assert.deepEqual((await migrate(db.sql, silent)).applied, []);
  const rows = await db.sql<{ version: string }[]>`select version from schema_migrations order by version`;
  assert.deepEqual(rows.map((r) => r.version), all);
});

test('two migrate processes started at once on a fresh database apply each migration exactly once', async (t) => {
  const db = await freshDatabase(t, { migrate: false });
  const env = { DATABASE_URL: db.url, PSWM_LOG_LEVEL: 'warn' };
  const [a, b] = await Promise.all([runServerCommand(['migrate'], env), runServerCommand(['migrate'], env)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  // One of them applied everything, the other waited on the lock and found the schema up to date.
  const outputs = [a.stdout.trim(), b.stdout.trim()].sort();
  assert.deepEqual(outputs, [`applied: ${(await listMigrations()).join(', ')}`, 'up to date']);
  const [{ count }] = await db.sql<{ count: number }[]>`select count(*)::int as count from schema_migrations`;
  assert.equal(count, (await listMigrations()).length);
});

test('a failing migration names its file and leaves no trace', async (t) => {
  const db = await freshDatabase(t);
  await db.sql`drop table api_tokens`;
  await db.sql`delete from schema_migrations where version = '001_core.sql'`;
  // 001 now fails on "create table audit_log" (it still exists): the whole transaction rolls back.
  await assert.rejects(migrate(db.sql, silent), /migration 001_core\.sql failed: .*audit_log/);
  const [{ exists }] = await db.sql<{ exists: boolean }[]>`select to_regclass('api_tokens') is not null as exists`;
  assert.equal(exists, false);
});
