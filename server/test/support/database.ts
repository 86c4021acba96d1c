// A fresh, migrated PostgreSQL database per test file on the local server (127.0.0.1:5432, user
// postgres), dropped when the test (or file) ends.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createLogger } from '../../src/logger.ts';
import { migrate } from '../../src/db/migrate.ts';

export const POSTGRES_ADMIN_URL = process.env.PSWM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  sql: postgres.Sql;
  drop(): Promise<void>;
}

interface AfterHook { after(fn: () => Promise<void>): void }

export async function freshDatabase(t?: AfterHook, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `pswm_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 5, onnotice: () => {} });
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
  if (options.migrate !== false) await migrate(sql, createLogger({ logLevel: 'silent' }));
  return { url: url.toString(), sql, drop };
}
