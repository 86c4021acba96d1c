// Applies server/src/db/migrations/NNN_name.sql in order. Everything happens in one transaction that
// first takes an advisory lock, so two instances starting at once apply each migration exactly once:
// the second waits, then finds nothing left to do.
import { readdir, readFile } from 'node:fs/promises';
import type postgres from 'postgres';
import type { Logger } from '../logger.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const MIGRATION_FILE = /^(\d{3})_[a-z0-9_]+\.sql$/;
// An arbitrary constant shared by every pswm-server; pg_advisory_xact_lock takes a bigint.
const MIGRATION_LOCK_KEY = 7_301_955_001;

export async function listMigrations(): Promise<string[]> {
  const files = await readdir(MIGRATIONS_DIR);
  return files.filter((f) => MIGRATION_FILE.test(f)).sort();
}

export async function migrate(sql: postgres.Sql, log: Logger): Promise<{ applied: string[] }> {
  const files = await listMigrations();
  const applied = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
    await tx`create table if not exists schema_migrations (
      version text primary key,
      applied_at timestamptz not null default now()
    )`;
    const done = new Set((await tx<{ version: string }[]>`select version from schema_migrations`).map((r) => r.version));
    const pending = files.filter((f) => !done.has(f));
    for (const file of pending) {
      const text = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8');
      try {
        await tx.unsafe(text);
      } catch (error) {
        throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      await tx`insert into schema_migrations (version) values (${file})`;
    }
    return pending;
  });
  log.info({ applied }, applied.length ? 'database migrations applied' : 'database schema is up to date');
  return { applied };
}
