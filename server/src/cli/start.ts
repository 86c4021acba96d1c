import { createLogger } from '../logger.ts';
import { closeOnSignal, startServer } from '../server.ts';
import { EXIT_OK } from './command.ts';
import type { LeafCommand } from './command.ts';

export const start: LeafCommand = {
  summary: 'Start the server: migrate the database, reconcile the policy repository, serve the API.',
  options: [],
  usesServerConfig: true,
  async run(ctx) {
    const config = ctx.config();
    const log = createLogger(config);
    const server = await startServer(config, log);
    await closeOnSignal(server, log, config.shutdownTimeoutSeconds);
    return EXIT_OK;
  },
};
