// `pswm agent --once`: send what earlier runs left behind, run one iteration, send its report.
// Each record gets one attempt per pass: a one-shot run never waits on a down server, and whatever
// is not sent stays in the outbox for the next run. Once the server failed, the rest of the run
// does not contact it again before its backoff has passed (the desired state comes from the cache).
import { isRevoked } from '../api/session.ts';
import type { AgentSetup } from './agent-setup.ts';
import { formatDryRun } from './dry-run-output.ts';
import { AgentRevokedError, runIteration } from './iteration.ts';
import type { Logger } from '../logs/logger.ts';

const ONE_ATTEMPT = { attempts: 1 };

export const EXIT_REVOKED = 3;
/** One or more items (scripts, packages, external facts) failed; the iteration itself completed. */
export const EXIT_ITEMS_FAILED = 4;
/** Another pswm process holds the data folder's lock; nothing was done. */
export const EXIT_BUSY = 5;

export async function runOnce(setup: AgentSetup, opts: { dryRun: boolean; log: Logger; out: NodeJS.WritableStream }): Promise<number> {
  const revoked = () => {
    opts.log.critical('this agent has been revoked by the server; stopping');
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
  if (opts.dryRun) opts.out.write(formatDryRun(outcome.items));
  if (isRevoked((await setup.deliver(ONE_ATTEMPT)).error)) return revoked();
  return outcome.last.result === 'failed' ? 1 : 0;
}
