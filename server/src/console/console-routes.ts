// The remote console's API (admin only): GET /console/ws opens a session (a WebSocket: binary frames
// are terminal bytes, text frames JSON control messages), GET /console/sessions lists sessions, and
// GET /console/sessions/:id/transcript returns one as asciicast v2.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { clampSize } from '@pswm/schemas/console-wire';
import { apiError } from '../api/errors.ts';
import { actorOf } from '../api/tokens.ts';
import { findAgent } from '../agents/agents.ts';
import { UUID } from '../auth/tokens.ts';
import type { Logger } from '../logger.ts';
import { runOperatorSession, type ConsoleServiceOptions, type RunningSession } from './operator-session.ts';
import type { ConsoleRelay } from './relay.ts';
import { listSessions, readSession, readTranscript } from './session-store.ts';

const openQuery = {
  type: 'object',
  required: ['agent', 'reason'],
  additionalProperties: false,
  properties: {
    agent: { type: 'string', minLength: 1, maxLength: 200 },
    reason: { type: 'string', minLength: 1, maxLength: 500 },
    cols: { type: 'integer', minimum: 1, maximum: 1000 },
    rows: { type: 'integer', minimum: 1, maximum: 1000 },
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    agent: { type: 'string', minLength: 1, maxLength: 200 },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;

export interface ConsoleRoutesOptions {
  sql: postgres.Sql;
  relay: ConsoleRelay;
  log: Logger;
  options: ConsoleServiceOptions;
  sessions: Set<RunningSession>;
}

export async function consoleRoutes(app: FastifyInstance, opts: ConsoleRoutesOptions): Promise<void> {
  const { sql } = opts;

  app.get<{ Querystring: { agent: string; reason: string; cols?: number; rows?: number } }>(
    '/console/ws',
    { websocket: true, preValidation: app.requireRole('admin'), schema: { querystring: openQuery } },
    (socket, request) => {
      const { agent, reason } = request.query;
      runOperatorSession(opts, socket, { agent, reason, ...clampSize(request.query.cols, request.query.rows), actor: actorOf(request.principal) });
    },
  );

  app.get<{ Querystring: { agent?: string; limit: number } }>(
    '/console/sessions',
    { preHandler: app.requireRole('admin'), schema: { querystring: listQuery } },
    async (request) => {
      let agentId: string | undefined;
      if (request.query.agent) {
        const agent = await findAgent(sql, request.query.agent);
        if (!agent) throw apiError('NOT_FOUND', `No agent named "${request.query.agent}".`);
        agentId = agent.id;
      }
      return { sessions: await listSessions(sql, { agentId, limit: request.query.limit }) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/console/sessions/:id/transcript',
    { preHandler: app.requireRole('admin'), schema: { params: idParams } },
    async (request, reply) => {
      if (!UUID.test(request.params.id)) throw apiError('BAD_REQUEST', `"${request.params.id}" is not a session id.`);
      const session = await readSession(sql, request.params.id);
      if (!session) throw apiError('NOT_FOUND', `No console session ${request.params.id}.`);
      return reply.type('application/x-asciicast').send(await readTranscript(sql, session));
    },
  );
}
