import { createLogger } from '../logger.ts';
import { EXIT_OK } from './command.ts';
import type { LeafCommand } from './command.ts';

export const start: LeafCommand = {
  summary: 'Start the server: migrate the database, reconcile the policy repository, serve the API.',
  options: [],
  usesServerConfig: true,
  async run(ctx) {
    const config = ctx.config();
    const log = createLogger(config);
    // Loading the server's modules takes a moment on a small machine: say so before, not after.
    log.info({ stage: 'loading the server', sinceStartMs: Math.round(performance.now()) }, 'start-up: loading the server');
    const { closeOnSignal, startServer } = await import('../server.ts');
    const server = await startServer(config, log);
    await closeOnSignal(server, log, config.shutdownTimeoutSeconds);
    return EXIT_OK;
  },
};
