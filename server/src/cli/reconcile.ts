// `pswm-server reconcile`: ask a running server (--server URL, PSWM_ADMIN_TOKEN) to reconcile and
// wait for it, or run one reconcile against the configured database and exit. `reconcile status`:
// what is applied, what was last attempted and why it was refused, from the server or the database.
// Exit 0 when the revision is applied (or already was), 1 when it is rejected or failed.
import { formatError } from '../../../schemas/src/errors.ts';
import { openPolicySource } from '../git/source.ts';
import { oneRunAtATime, reconcileOnce, type ReconcileOutcome } from '../reconcile/reconcile.ts';
import { readRevisionStatus, type RevisionStatus } from '../reconcile/status.ts';
import { ConfigError } from '../config/config.ts';
import { EXIT_FAILURE, EXIT_OK } from './command.ts';
import type { CommandContext, LeafCommand } from './command.ts';
import { stderrLogger, withDatabase } from './local-database.ts';
import { callServer, SERVER_URL_OPTION, serverOrDatabase, serverUrl } from './remote.ts';

export const reconcileCommand: LeafCommand = {
  summary: 'Reconcile the policy repository now and print the outcome (exit 1 when rejected or failed); '
    + '"reconcile status" prints the applied vs the last attempted revision and its errors (exit 1 when that attempt was not applied).',
  args: '[status]',
  options: [SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
    const [what, ...rest] = ctx.positionals;
    if (rest.length || (what !== undefined && what !== 'status')) throw new ConfigError('BAD_ARGUMENTS', `unexpected argument "${what}" (only "status")`);
    if (what === 'status') return printStatus(ctx, await serverOrDatabase(ctx, () => callServer<RevisionStatus>(ctx, 'GET', '/api/v1/revision'), (db) => readRevisionStatus(db.sql)));
    const outcome = serverUrl(ctx)
      ? await callServer<ReconcileOutcome>(ctx, 'POST', '/api/v1/reconcile')
      : await reconcileLocally(ctx);
    printOutcome(ctx, outcome);
    return outcome.status === 'applied' || outcome.status === 'no-op' ? EXIT_OK : EXIT_FAILURE;
  },
};

async function reconcileLocally(ctx: CommandContext): Promise<ReconcileOutcome> {
  const log = stderrLogger(ctx);
  return withDatabase(ctx, async (db) => {
    const source = await openPolicySource(ctx.config(), log);
    try {
      return await reconcileOnce({ sql: db.sql, source, log, trigger: 'cli', oneAtATime: oneRunAtATime(db) });
    } finally {
      await source.close();
    }
  });
}

function printOutcome(ctx: CommandContext, outcome: ReconcileOutcome): void {
  const { added, changed, removed } = outcome.counts;
  ctx.stdout(`${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}: ${outcome.message}`);
  if (outcome.status === 'applied') ctx.stdout(`${added} added, ${changed} changed, ${removed} removed`);
  for (const error of outcome.errors) ctx.stdout(formatError(error));
}

function printStatus(ctx: CommandContext, status: RevisionStatus): number {
  const { applied, lastAttempted } = status;
  const at = (time: Date | string | null) => (time ? ` at ${new Date(time).toISOString()}` : '');
  ctx.stdout(`applied:   ${applied.revision ?? 'none'}${at(applied.at)}`);
  const outcome = lastAttempted.status ? `${lastAttempted.status}${lastAttempted.reason ? ` (${lastAttempted.reason})` : ''}` : 'in progress';
  ctx.stdout(`attempted: ${lastAttempted.revision ?? 'none'}${at(lastAttempted.at)}: ${lastAttempted.revision ? outcome : 'nothing yet'}`);
  if (lastAttempted.message) ctx.stdout(`  ${lastAttempted.message}`);
  for (const error of lastAttempted.errors) ctx.stdout(`  ${formatError(error)}`);
  return lastAttempted.status === 'rejected' || lastAttempted.status === 'failed' ? EXIT_FAILURE : EXIT_OK;
}
