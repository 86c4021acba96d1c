// The remote console's API. GET /console/ws (admin) opens a session (a WebSocket: binary frames are
// terminal bytes, text frames JSON control messages). GET /console/sessions and /console/sessions/:id
// (viewer: the record of who opened what, why and for how long, like the audit log) list and describe
// sessions. GET /console/sessions/:id/transcript returns one as asciicast v2 to the role the server's
// --console-transcript-readers names (viewer by default), and every read is audited (console.replay):
// a transcript holds whatever was typed and printed in the shell.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { clampSize } from '@pswm/schemas/console-wire';
import { apiError } from '../api/errors.ts';
import { actorOf } from '../api/tokens.ts';
import { findAgent } from '../agents/agents.ts';
import { UUID, type Role } from '../auth/tokens.ts';
import type { Logger } from '../logger.ts';
import { runOperatorSession, type ConsoleServiceOptions, type RunningSession } from './operator-session.ts';
import type { ConsoleRelay } from './relay.ts';
import { audit } from '../audit.ts';
import { listSessions, readSession, readTranscript, type SessionRow } from './session-store.ts';

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
    // The operator: `token:NAME` as the audit log has it, or the token's name.
    actor: { type: 'string', minLength: 1, maxLength: 200 },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    page: { type: 'integer', minimum: 1, default: 1 },
  },
} as const;

interface ListQuerystring { agent?: string; actor?: string; since?: string; until?: string; limit: number; page: number }

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;

export interface ConsoleRoutesOptions {
  sql: postgres.Sql;
  relay: ConsoleRelay;
  log: Logger;
  options: ConsoleServiceOptions;
  sessions: Set<RunningSession>;
  /** The least role that may read transcripts. */
  transcriptReaders: Role;
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

  app.get<{ Querystring: ListQuerystring }>(
    '/console/sessions',
    { preHandler: app.requireRole('viewer'), schema: { querystring: listQuery } },
    async (request) => {
      const { agent, actor, since, until, limit, page } = request.query;
      if (since && until && Date.parse(since) > Date.parse(until)) throw apiError('BAD_REQUEST', '"since" is later than "until".');
      let agentId: string | undefined;
      if (agent) {
        const found = await findAgent(sql, agent);
        if (!found) throw apiError('NOT_FOUND', `No agent named "${agent}".`);
        agentId = found.id;
      }
      const { total, sessions } = await listSessions(sql, { agentId, actor, since, until, limit, offset: (page - 1) * limit });
      return { total, page, limit, sessions, transcriptReaders: opts.transcriptReaders };
    },
  );

  const sessionOf = async (id: string): Promise<SessionRow> => {
    if (!UUID.test(id)) throw apiError('BAD_REQUEST', `"${id}" is not a session id.`);
    const session = await readSession(sql, id);
    if (!session) throw apiError('NOT_FOUND', `No console session ${id}.`);
    return session;
  };

  app.get<{ Params: { id: string } }>(
    '/console/sessions/:id',
    { preHandler: app.requireRole('viewer'), schema: { params: idParams } },
    async (request) => ({ session: await sessionOf(request.params.id), transcriptReaders: opts.transcriptReaders }),
  );

  app.get<{ Params: { id: string } }>(
    '/console/sessions/:id/transcript',
    { preHandler: app.requireRole(opts.transcriptReaders), schema: { params: idParams } },
    async (request, reply) => {
      const session = await sessionOf(request.params.id);
      const transcript = await readTranscript(sql, session);
      await audit(sql, {
        actor: actorOf(request.principal), action: 'console.replay', target: session.id, outcome: 'success',
        details: { agent: session.agent_name, operator: session.actor, reason: session.reason, transcript_bytes: Number(session.transcript_bytes) },
      });
      return reply.type('application/x-asciicast').send(transcript);
    },
  );
}
