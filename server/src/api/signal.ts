// POST /signal (admin): wake agents now — by name, location, organization or all — through the hub,
// so whichever instance holds an agent's socket delivers it. Answers how many agents were signalled.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { isEmptyTarget, signalTargets } from '../hub/targets.ts';
import type { SignalTarget } from '../hub/targets.ts';
import { apiError } from './errors.ts';
import { actorOf } from './tokens.ts';

const MAX_LIST = 1000;
const names = (pattern?: string) => ({
  type: 'array',
  maxItems: MAX_LIST,
  items: { type: 'string', minLength: 1, maxLength: 200, ...(pattern ? { pattern } : {}) },
});

/** The body properties that name agents (SignalTarget), shared by the endpoints that address agents. */
export const TARGET_PROPERTIES = {
  agents: names(),
  locations: names('^[^/]+/.+$'),
  organizations: names(),
  all: { type: 'boolean' },
} as const;

const signalBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...TARGET_PROPERTIES,
    reason: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

type SignalBody = SignalTarget & { reason?: string };

export async function signalRoutes(
  app: FastifyInstance,
  opts: { sql: postgres.Sql; signalAgents: (agentIds: string[] | 'all', reason: string) => Promise<void> },
): Promise<void> {
  app.post<{ Body: SignalBody }>(
    '/signal',
    { preHandler: app.requireRole('admin'), schema: { body: signalBody } },
    async (request, reply) => {
      const { reason, ...target } = request.body;
      if (isEmptyTarget(target)) throw apiError('BAD_REQUEST', 'Name whom to signal: agents, locations ("organization/location"), organizations, or all: true.');
      const actor = actorOf(request.principal);
      // When the request was let in (its token checked) and when the signal left: a slow fleet-wide
      // signal is then placed on one side or the other of the bus.
      const timing = { authorizedMs: Math.round(reply.elapsedTime), publishedMs: Number.NaN };
      const wake = async (agentIds: string[] | 'all', why: string) => {
        await opts.signalAgents(agentIds, why);
        timing.publishedMs = Math.round(reply.elapsedTime);
      };
      const signalled = await signalTargets(opts.sql, wake, { target, reason: reason ?? `requested by ${actor}`, actor });
      request.log.info({ signalled, ...timing }, 'agents signalled');
      return { signalled };
    },
  );
}
