// Everything the console needs on a server, registered with one call: its sessions (login, logout,
// the cookie accepted on viewer reads), its read endpoints under /api/v1, the live stream fed by the
// bus, and the built pages at /.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { API_PREFIX } from '../api/app.ts';
import type { Bus } from '../hub/bus.ts';
import type { Logger } from '../logger.ts';
import type { Policy } from '../../../schemas/src/model.ts';
import { createFleetEvents } from './fleet-events.ts';
import { fleetRoutes } from './fleet-routes.ts';
import type { StateThresholds } from './fleet-state.ts';
import { serveConsole } from './serve-console.ts';
import { consoleSessionRoutes } from './session-routes.ts';

export interface ConsoleDeps {
  sql: postgres.Sql;
  bus: Bus;
  log: Logger;
  appliedPolicy: () => Policy | undefined;
  /** Send the session cookie with `Secure` (the server speaks HTTPS). */
  secureCookies: boolean;
  thresholds?: StateThresholds;
  /** Where the built console is (default console/dist). */
  dist?: string;
}

export const DEFAULT_THRESHOLDS: StateThresholds = { offlineAfterSeconds: 30 * 60 };

// Agent requests whose success the live view reports (route → what happened).
const ACTIVITY: Record<string, { status: number; kind: 'heartbeat' | 'report' | 'queued' }> = {
  [`${API_PREFIX}/agent/heartbeat`]: { status: 204, kind: 'heartbeat' },
  [`${API_PREFIX}/agent/reports`]: { status: 201, kind: 'report' },
  [`${API_PREFIX}/enroll`]: { status: 202, kind: 'queued' },
};

export async function registerConsole(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const thresholds = deps.thresholds ?? DEFAULT_THRESHOLDS;
  const events = createFleetEvents({ sql: deps.sql, bus: deps.bus, log: deps.log, thresholds });
  app.addHook('onClose', async () => events.close());
  app.addHook('onResponse', async (request, reply) => {
    const activity = ACTIVITY[request.routeOptions.url ?? ''];
    if (!activity || reply.statusCode !== activity.status) return;
    if (activity.kind === 'queued') events.enrollmentQueued();
    else if (request.agent) (activity.kind === 'heartbeat' ? events.agentHeartbeat : events.agentReported)(request.agent.agentId);
  });
  await app.register(consoleSessionRoutes, { prefix: API_PREFIX, sql: deps.sql, secureCookies: deps.secureCookies });
  await app.register(fleetRoutes, { prefix: API_PREFIX, sql: deps.sql, events, thresholds, appliedPolicy: deps.appliedPolicy });
  await serveConsole(app, { log: deps.log, dist: deps.dist });
}
