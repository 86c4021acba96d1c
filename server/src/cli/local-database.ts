// Admin subcommands without --server work on the configured database directly, migrated first so
// they also work before the first `start`. Logs go to stderr: stdout is the command's output.
import { userInfo } from 'node:os';
import { pino } from 'pino';
import { openDatabase } from '../db/database.ts';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createLogger } from '../logger.ts';
import type { Logger } from '../logger.ts';
import type { CommandContext } from './command.ts';

/** Who acts, in the audit log, when an admin runs a subcommand against the database directly. */
export function cliActor(): string {
  return `cli:${userInfo().username}`;
}

export function stderrLogger(ctx: CommandContext): Logger {
  return createLogger(ctx.config(), pino.destination(2));
}

export async function withDatabase<T>(ctx: CommandContext, fn: (db: Database) => Promise<T>): Promise<T> {
  const log = stderrLogger(ctx);
  const db = await openDatabase(ctx.config(), log);
  try {
    await migrate(db.sql, log);
    return await fn(db);
  } finally {
    await db.close();
  }
}
