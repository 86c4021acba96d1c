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

export async function runAgent(opts: RunAgentOptions): Promise<number> {
  const paths = dataPaths(opts.dataDir);
  const log = openLogger({ dir: paths.logs, settings: (await initialSettings(paths)).logging, echo: opts.echo });
  try {
    const hooks: Pick<IterationContext, 'afterOutboxWrite'> = process.env.PSWM_FAILPOINT === FAILPOINT_AFTER_OUTBOX_WRITE ? { afterOutboxWrite: holdForever(log) } : {};
    let setup;
    try {
      setup = await setUpAgent(opts.dataDir, log, { ...hooks, ...(opts.externalFactsDir ? { externalFactsDir: opts.externalFactsDir } : {}) });
    } catch (error) {
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
    for (;;) {
      const loop = await startLoop(setup, { dryRun: opts.dryRun, log, out: process.stdout });
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
      watcher?.close();
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      if (end === 'revoked') return EXIT_REVOKED;
      if (stopping || !wanted || !updates) return EXIT.ok;
      // the loop stopped for an update: a good build ends this process for the service manager to
      // start it; a refused or rolled-back one leaves this build running
      const outcome = await updates.applyUpdate({ agentId: setup.config.agent_id, server: setup.config.server, session: setup.session, pinnedKey: setup.config.release_public_key!, dataDir: opts.dataDir, executable: process.execPath, platform: process.platform === 'win32' ? 'windows' : 'linux', log }, wanted);
      if (outcome === 'applied') return updates.EXIT_UPDATED;
    }
  } finally {
    log.close();
  }
}

function holdForever(log: { warn(message: string, fields?: Record<string, unknown>): void }) {
  return async (report: { id: string }) => {
    log.warn('failpoint after-outbox-write: holding before the send', { report: report.id });
    setInterval(() => {}, 60_000);
    await new Promise(() => {});
  };
}
