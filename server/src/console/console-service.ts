// The remote console and on-demand runs on one server instance: the relay to agents (on this
// instance or another), the operator and run routes, session retention, and ending this instance's
// sessions when it shuts down.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import type { ServerConfig } from '../config/config.ts';
import type { Bus } from '../hub/bus.ts';
import type { Hub } from '../hub/hub.ts';
import type { Role } from '../auth/tokens.ts';
import type { Logger } from '../logger.ts';
import { consoleRoutes } from './console-routes.ts';
import { DEFAULT_CONSOLE_OPTIONS, type ConsoleServiceOptions, type RunningSession } from './operator-session.ts';
import { createConsoleRelay, type ConsoleRelay } from './relay.ts';
import { pruneSessions } from './session-store.ts';
import { createOnDemandRuns } from '../runs/on-demand-runs.ts';
import { runRoutes } from '../runs/run-routes.ts';

const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface ConsoleService {
  relay: ConsoleRelay;
  /** Registers the /console and /runs routes; register it with the API prefix. */
  routes(app: FastifyInstance): Promise<void>;
  close(): Promise<void>;
}

export function consoleOptionsFrom(config: Pick<ServerConfig, 'consoleIdleLimitSeconds' | 'consoleDurationLimitSeconds' | 'consoleTranscriptMaxBytes'>): ConsoleServiceOptions {
  return {
    ...DEFAULT_CONSOLE_OPTIONS,
    maxIdleSeconds: config.consoleIdleLimitSeconds,
    maxDurationSeconds: config.consoleDurationLimitSeconds,
    transcriptMaxBytes: config.consoleTranscriptMaxBytes,
  };
}

export function createConsoleService(deps: { sql: postgres.Sql; hub: Hub; bus: Bus; log: Logger; options: ConsoleServiceOptions; retentionDays: number; transcriptReaders: Role }): ConsoleService {
  const { sql, log } = deps;
  const relay = createConsoleRelay({ hub: deps.hub, bus: deps.bus, log });
  const sessions = new Set<RunningSession>();
  const runs = createOnDemandRuns({ sql, relay, log });
  const prune = () => void pruneSessions(sql, deps.retentionDays)
    .then((dropped) => dropped && log.info({ dropped }, 'console sessions past retention dropped'))
    .catch((error) => log.warn({ err: error }, 'console retention failed'));
  prune();
  const pruner = setInterval(prune, PRUNE_EVERY_MS).unref();
  return {
    relay,
    async routes(app) {
      await consoleRoutes(app, { sql, relay, log, options: deps.options, sessions, transcriptReaders: deps.transcriptReaders });
      await runRoutes(app, { sql, runs });
    },
    async close() {
      clearInterval(pruner);
      runs.close();
      for (const session of [...sessions]) session.end('server-shutdown');
      relay.close();
    },
  };
}
