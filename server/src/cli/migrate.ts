import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { EXIT_OK } from './command.ts';
import type { LeafCommand } from './command.ts';
import { stderrLogger } from './local-database.ts';

export const migrateCommand: LeafCommand = {
  summary: 'Apply pending database migrations and exit (start does this too).',
  options: [],
  usesServerConfig: true,
  async run(ctx) {
    const log = stderrLogger(ctx);
    const db = await openDatabase(ctx.config(), log);
    try {
      const { applied } = await migrate(db.sql, log);
      ctx.stdout(applied.length ? `applied: ${applied.join(', ')}` : 'up to date');
    } finally {
      await db.close();
    }
    return EXIT_OK;
  },
};
