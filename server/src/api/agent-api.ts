// Everything agents and their administration need on an app: the requireAgent decorator (register
// it before any route that uses it), enrollment and token exchange, the admin routes, reports and
// heartbeats, and the fleet read API. `markAgentSeen` is decorated on the app for every agent route
// (last_seen_at is written in batches by one LastSeenBatcher per server, flushed on close).
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import type { AgentAuthority } from '../agents/access-token.ts';
import type { ServerKeys } from '../agents/server-secret.ts';
import { createLastSeenBatcher } from '../reports/last-seen.ts';
import type { LastSeenBatcher } from '../reports/last-seen.ts';
import { agentAuth } from './agent-auth.ts';
import { agentReleaseRoutes } from './agent-releases.ts';
import { agentReportRoutes } from './agent-reports.ts';
import { agentsAdminRoutes } from './agents-admin.ts';
import { agentsReadRoutes } from './agents-read.ts';
import { API_PREFIX } from './app.ts';
import { enrollRoutes } from './enroll.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Records that an agent made a request; agents.last_seen_at is written in batches. */
    markAgentSeen(agentId: string): void;
  }
}

export interface AgentApiOptions {
  sql: postgres.Sql;
  authority: AgentAuthority;
  keys: ServerKeys;
  /** How often last_seen_at is written (default 5 s). */
  lastSeenIntervalMs?: number;
  /** Heartbeats kept per agent (default 1,440). */
  metricsHistory?: number;
  /** Called after a stored report changed some of the agent's facts, with their keys (the reconciler
   * checks whether the agent's document changes). Only changed values count: an agent reports every
   * fact with every report, and each one re-decided the agent's scope under the reconcile lock. */
  onAgentFacts?: (agentId: string, changedFactKeys: string[]) => void;
  /** The agent's current document id from memory (the document map), when this instance knows it. */
  cachedDocumentOf?: (agentId: string) => string | undefined;
}

export async function registerAgentApi(app: FastifyInstance, opts: AgentApiOptions): Promise<void> {
  const { sql, authority } = opts;
  const lastSeen: LastSeenBatcher = createLastSeenBatcher(sql, app.log, { intervalMs: opts.lastSeenIntervalMs });
  app.decorate('markAgentSeen', lastSeen.markSeen);
  app.addHook('onClose', () => lastSeen.close());
  await app.register(agentAuth, { authority });
  await app.register(enrollRoutes, { prefix: API_PREFIX, sql, authority, nonceSecret: opts.keys.enrollmentNonce });
  await app.register(agentsAdminRoutes, { prefix: API_PREFIX, sql, authority });
  await app.register(agentReportRoutes, { prefix: API_PREFIX, sql, lastSeen, metricsHistory: opts.metricsHistory, cachedDocumentOf: opts.cachedDocumentOf, onAgentFacts: opts.onAgentFacts });
  await app.register(agentsReadRoutes, { prefix: API_PREFIX, sql });
  await app.register(agentReleaseRoutes, { prefix: API_PREFIX, sql });
}
