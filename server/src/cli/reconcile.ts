// `pswm-server reconcile`: ask a running server (--server URL, PSWM_ADMIN_TOKEN) to reconcile and
// wait for it, or run one reconcile against the configured database and exit.
// Exit 0 when the revision is applied (or already was), 1 when it is rejected or failed.
import { formatError } from '../../../schemas/src/errors.ts';
import { openPolicySource } from '../git/source.ts';
import { reconcileOnce, type ReconcileOutcome } from '../reconcile/reconcile.ts';
import { EXIT_FAILURE, EXIT_OK } from './command.ts';
import type { CommandContext, LeafCommand } from './command.ts';
import { stderrLogger, withDatabase } from './local-database.ts';
import { callServer, SERVER_URL_OPTION, serverUrl } from './remote.ts';

export const reconcileCommand: LeafCommand = {
  summary: 'Reconcile the policy repository now and print the outcome (exit 1 when rejected or failed).',
  options: [SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
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
      return await reconcileOnce({ sql: db.sql, source, log, trigger: 'cli' });
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
