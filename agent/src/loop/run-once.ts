// `pswm agent --once`: send what earlier runs left behind, run one iteration, send its report.
// Each record gets one attempt per pass: a one-shot run never waits on a down server, and whatever
// is not sent stays in the outbox for the next run. Once the server failed, the rest of the run
// does not contact it again before its backoff has passed (the desired state comes from the cache).
import { isRevoked } from '../api/session.ts';
import type { AgentSetup } from './agent-setup.ts';
import { formatApplied, formatDryRun } from './dry-run-output.ts';
import { AgentRevokedError, runIteration } from './iteration.ts';
import type { Logger } from '../logs/logger.ts';
import { recordCriticalEvent, REVOKED_MESSAGE } from '../service/event-log.ts';

const ONE_ATTEMPT = { attempts: 1 };

/** The iteration itself failed (converge could not run); not enrolled. */
export const EXIT_FAILED = 1;
export const EXIT_REVOKED = 3;
/** One or more items (scripts, packages, external facts) failed; the iteration itself completed. */
export const EXIT_ITEMS_FAILED = 4;
/** Another pswm process holds the data folder's lock; nothing was done. */
export const EXIT_BUSY = 5;

export async function runOnce(setup: AgentSetup, opts: { dryRun: boolean; log: Logger; out: NodeJS.WritableStream }): Promise<number> {
  const revoked = async () => {
    await recordCriticalEvent(opts.log, REVOKED_MESSAGE);
    return EXIT_REVOKED;
  };
  if (isRevoked((await setup.deliver(ONE_ATTEMPT)).error)) return revoked();
  opts.log.info('iteration started', { trigger: 'once', dry_run: opts.dryRun });
  let outcome;
  try {
    outcome = await runIteration(setup.iteration, { dryRun: opts.dryRun });
  } catch (error) {
    if (error instanceof AgentRevokedError) return revoked();
    throw error;
  }
  opts.log.info('iteration finished', { result: outcome.last.result, report: outcome.report.id, revision: outcome.last.revision, ...outcome.last.counts });
  opts.out.write(opts.dryRun ? formatDryRun(outcome.items) : formatApplied(outcome.items, outcome.last.counts ?? {}));
  const delivery = await setup.deliver(ONE_ATTEMPT);
  if (isRevoked(delivery.error)) return revoked();
  if (delivery.remaining) opts.out.write(`reports: ${delivery.remaining} waiting in the outbox (${String((delivery.error as Error | undefined)?.message ?? 'not sent yet')})\n`);
  if (outcome.last.result === 'failed') {
    opts.out.write(`iteration failed: ${outcome.last.error}\n`);
    return EXIT_FAILED;
  }
  return outcome.last.failed_items?.length ? EXIT_ITEMS_FAILED : 0;
}
