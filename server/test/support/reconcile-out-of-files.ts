// Run by file-limit.test.ts in a process started with a low `ulimit -n`: opens the policy repository
// and the database, then takes every free descriptor (as 15,000 agent sockets would) and reconciles.
// Prints the server's log lines, then one line `OUTCOME <json>` with the reconcile's outcome and the
// reconciliation row it recorded. Usage: node reconcile-out-of-files.ts <repo dir> <database url>
import { openSync } from 'node:fs';
import postgres from 'postgres';
import { openLocalSource } from '../../src/git/local-source.ts';
import { createLogger } from '../../src/logger.ts';
import { reconcileOnce } from '../../src/reconcile/reconcile.ts';

const [repoDir, databaseUrl] = process.argv.slice(2);
const log = createLogger({ logLevel: 'info' });
const source = await openLocalSource(repoDir, 'main', log);
const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
await sql`select 1`; // the one connection is open before the descriptors run out

const held: number[] = [];
for (;;) {
  try {
    held.push(openSync('/dev/null', 'r'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EMFILE') throw error;
    break;
  }
}
const outcome = await reconcileOnce({ sql, source, log, trigger: 'test' });
const [row] = await sql<{ status: string; reason: string; detail: string }[]>`select status, reason, detail from reconciliations order by id desc limit 1`;
process.stdout.write(`OUTCOME ${JSON.stringify({ held: held.length, status: outcome.status, reason: outcome.reason, message: outcome.message, row })}\n`);
await sql.end({ timeout: 5 });
process.exit(0);
