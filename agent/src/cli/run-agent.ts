// What `pswm agent` and `pswm service` share: the log, the enrolled setup, then one iteration or
// the loop until a signal (or a revocation) ends it.
import { EXIT } from '@pswm/schemas/cli-usage';
import { openLogger } from '../logs/logger.ts';
import { initialSettings, NotEnrolledError, setUpAgent } from '../loop/agent-setup.ts';
import type { IterationContext } from '../loop/iteration.ts';
import { EXIT_BUSY, EXIT_REVOKED, runOnce } from '../loop/run-once.ts';
import { DataFolderBusyError, lockDataFolder } from '../platform/data-lock.ts';
import { startLoop } from '../loop/run-loop.ts';
import { dataPaths } from '../paths.ts';
import { runningBuild } from '../service/build-identity.ts';
import { beginRestart, overdueReason, type PendingUpdate, type RestartJudgement } from '../service/restart-trial.ts';
import type { AgentSession } from '../api/session.ts';
import type { Logger } from '../logs/logger.ts';

export interface RunAgentOptions {
  dataDir: string;
  once: boolean;
  dryRun: boolean;
  /** --external-facts-dir (else config.json's external_facts_dir, else <data>/external_facts). */
  externalFactsDir?: string;
  /** Also show the log here (the foreground agent); the service logs to files only. */
  echo?: NodeJS.WritableStream;
  /** Follow settings.agent_update (the service only: a foreground agent never replaces itself). */
  selfUpdate?: boolean;
}

/** PSWM_FAILPOINT=after-outbox-write holds the agent right after a report reached the outbox and
 * before any send, so the crash test can `kill -9` it at exactly that point. */
const FAILPOINT_AFTER_OUTBOX_WRITE = 'after-outbox-write';
/** PSWM_FAILPOINT=crash-on-trial / hang-on-trial: a service start of a build under its post-restart
 * trial (restart-trial.ts) throws, or never gets to its loop — the update test's bad new builds. The
 * pre-restart trial (`agent --once`) is not affected, so such a build is swapped in and restarted into. */
const FAILPOINT_CRASH_ON_TRIAL = 'crash-on-trial';
const FAILPOINT_HANG_ON_TRIAL = 'hang-on-trial';
/** The platform of the releases this build updates from. */
const UPDATE_PLATFORM = process.platform === 'win32' ? 'windows' : 'linux';

export async function runAgent(opts: RunAgentOptions): Promise<number> {
  const paths = dataPaths(opts.dataDir);
  const log = openLogger({ dir: paths.logs, settings: (await initialSettings(paths)).logging, echo: opts.echo });
  try {
    // the service counts this start against an update under trial before anything else can crash
    const restart = opts.selfUpdate ? await beginRestart(opts.dataDir, runningBuild()?.version) : undefined;
    const hooks: Pick<IterationContext, 'afterOutboxWrite'> = process.env.PSWM_FAILPOINT === FAILPOINT_AFTER_OUTBOX_WRITE ? { afterOutboxWrite: holdForever(log) } : {};
    let setup;
    try {
      setup = await setUpAgent(opts.dataDir, log, { ...hooks, ...(opts.externalFactsDir ? { externalFactsDir: opts.externalFactsDir } : {}) });
    } catch (error) {
      if (restart?.judgement.action === 'rollback') return await rollBack(restart, opts.dataDir, log, undefined);
      if (!(error instanceof NotEnrolledError)) throw error;
      process.stderr.write(`pswm: ${error.message}\n`);
      return EXIT.failed;
    }
    log.info('agent starting', { name: setup.config.name, server: setup.config.server, once: opts.once, dry_run: opts.dryRun, pid: process.pid });
    if (opts.once) {
      let lock;
      try {
        lock = await lockDataFolder(paths.root, `pswm agent --once${opts.dryRun ? ' --dry-run' : ''}`);
      } catch (error) {
        if (!(error instanceof DataFolderBusyError)) throw error;
        log.warn('not run: the data folder is busy', { holder_pid: error.holder.pid, holder: error.holder.command });
        process.stderr.write(`pswm agent: ${error.message}\n`);
        return EXIT_BUSY;
      }
      try {
        return await runOnce(setup, { dryRun: opts.dryRun, log, out: process.stdout });
      } finally {
        await lock.release();
      }
    }
    // loaded only by the service: `pswm agent` never replaces itself
    const updates = opts.selfUpdate ? await import('../service/self-update.ts') : undefined;
    if (restart?.judgement.action === 'rollback') return await rollBack(restart, opts.dataDir, log, setup.session);
    const trial = restart?.judgement.action === 'trial' ? watchTrial(restart, opts.dataDir, log, setup.session) : undefined;
    if (trial) {
      if (process.env.PSWM_FAILPOINT === FAILPOINT_CRASH_ON_TRIAL) throw new Error('failpoint crash-on-trial: this build crashes at start');
      if (process.env.PSWM_FAILPOINT === FAILPOINT_HANG_ON_TRIAL) await holdForever(log, `${FAILPOINT_HANG_ON_TRIAL}: this build never gets to its loop`)({ id: '-' });
    }
    for (;;) {
      const loop = await startLoop(setup, { dryRun: opts.dryRun, log, out: process.stdout, onDelivered: trial?.delivered });
      let stopping = false;
      const stop = () => {
        stopping = true;
        void loop.stop();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      let wanted: string | undefined;
      const watcher = updates?.watchForUpdate({ agentId: setup.config.agent_id, pinnedKey: setup.config.release_public_key, dataDir: opts.dataDir, desiredStateFile: setup.iteration.desiredStateFile, log, onWanted: (version) => ((wanted = version), void loop.stop()) });
      const end = await loop.done;
      await trial?.end();
      watcher?.close();
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      if (end === 'revoked') return EXIT_REVOKED;
      if (stopping || !wanted || !updates) return EXIT.ok;
      // the loop stopped for an update: a good build ends this process for the service manager to
      // start it; a refused or rolled-back one leaves this build running
      const outcome = await updates.applyUpdate({ agentId: setup.config.agent_id, server: setup.config.server, session: setup.session, pinnedKey: setup.config.release_public_key!, dataDir: opts.dataDir, executable: process.execPath, platform: UPDATE_PLATFORM, log }, wanted);
      if (outcome === 'applied') return updates.EXIT_UPDATED;
    }
  } finally {
    log.close();
  }
}

/** After the restart the new build failed its trial: put the previous build back and exit for the
 * service manager to start it. Without a session (setup failed) the step is only logged. */
/** This start is the new build's trial after the restart: the first delivered report confirms it; a
 * build that has not delivered one by the deadline is rolled back and ended outright, wherever it is
 * stuck. */
function watchTrial(restart: { judgement: RestartJudgement; pending?: PendingUpdate }, dataDir: string, log: Logger, session: AgentSession) {
  const { judgement, pending } = restart;
  if (judgement.action !== 'trial' || !pending) throw new Error('watchTrial needs a trial');
  log.info('self-update: this build is on trial after the restart', { version: pending.version, start: judgement.starts, deadline: judgement.deadline.toISOString() });
  let confirmation: Promise<void> | undefined;
  const deadline = setTimeout(() => void (async () => {
    const exitCode = await rollBack(restart, dataDir, log, session);
    log.close();
    process.exit(exitCode);
  })(), Math.max(0, judgement.deadline.getTime() - Date.now()));
  deadline.unref(); // a service told to stop does not wait for it
  return {
    delivered() {
      if (confirmation) return;
      clearTimeout(deadline);
      confirmation = import('../service/self-update.ts').then(({ confirmUpdate }) => confirmUpdate({ log, session, dataDir, platform: UPDATE_PLATFORM }, pending));
    },
    /** The loop ended: finish a confirmation under way, and no rollback after the service stopped. */
    async end() {
      clearTimeout(deadline);
      await confirmation;
    },
  };
}

async function rollBack(restart: { judgement: RestartJudgement; pending?: PendingUpdate }, dataDir: string, log: Logger, session: AgentSession | undefined): Promise<number> {
  const { rollBackAfterRestart, EXIT_UPDATED } = await import('../service/self-update.ts');
  const reason = restart.judgement.action === 'rollback' ? restart.judgement.reason : overdueReason(restart.pending!);
  await rollBackAfterRestart({ log, session, dataDir, executable: process.execPath, platform: UPDATE_PLATFORM }, restart.pending!, reason);
  return EXIT_UPDATED;
}

function holdForever(log: { warn(message: string, fields?: Record<string, unknown>): void }, failpoint = `${FAILPOINT_AFTER_OUTBOX_WRITE}: holding before the send`) {
  return async (report: { id: string }) => {
    log.warn(`failpoint ${failpoint}`, { report: report.id });
    setInterval(() => {}, 60_000);
    await new Promise(() => {});
  };
}
