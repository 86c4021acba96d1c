// A fresh, migrated PostgreSQL database per test file on the local server (127.0.0.1:5432, user
// postgres), dropped when the test (or file) ends.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createLogger } from '../../src/logger.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/database.ts';

export const POSTGRES_ADMIN_URL = process.env.PSWM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  sql: postgres.Sql;
  drop(): Promise<void>;
}

interface AfterHook { after(fn: () => Promise<void>): void }

/** The migrated database scripts/run-tests.ts prepares for its run (templateDatabase below): each
 * fresh database is then a copy of it (CREATE DATABASE … TEMPLATE) rather than an empty one
 * migrated again, about a second less per database. Without it, each one is migrated. */
const TEMPLATE = process.env.PSWM_TEST_TEMPLATE_DATABASE;

export async function freshDatabase(t?: AfterHook, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `pswm_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  const copy = options.migrate !== false && TEMPLATE !== undefined && /^pswm_test_template_[0-9a-f]+$/.test(TEMPLATE);
  await admin.unsafe(copy ? `create database ${name} template ${TEMPLATE}` : `create database ${name}`);
  const url = databaseUrl(name);
  const sql = postgres(url, { max: 5, onnotice: () => {} });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await sql.end({ timeout: 5 });
    // WITH (FORCE) ends connections that child processes may have left behind.
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end({ timeout: 5 });
  };
  t?.after(drop);
  if (options.migrate !== false && !copy) await migrate(sql, createLogger({ logLevel: 'silent' }));
  return { url, sql, drop };
}

function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A database migrated once, for a whole test run to copy (the name goes to the test processes in
 * PSWM_TEST_TEMPLATE_DATABASE); `drop` removes it at the end of the run. Nothing stays connected to
 * it: PostgreSQL copies a template only while no session uses it. */
export async function templateDatabase(): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `pswm_test_template_${randomBytes(6).toString('hex')}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
    const sql = postgres(databaseUrl(name), { max: 1, onnotice: () => {} });
    try {
      await migrate(sql, createLogger({ logLevel: 'silent' }));
    } finally {
      await sql.end({ timeout: 5 });
    }
  } catch (error) {
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end({ timeout: 5 });
    throw error;
  }
  return {
    name,
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/** A Database whose clients (pool, control, reconciler) are all this one, closed by its owner. */
export function oneClientDatabase(sql: postgres.Sql): Database {
  return { sql, control: sql, reconciler: sql, embedded: false, close: async () => {} };
}
