// Agent administration over HTTP, so `pswm-server agent|otp|queue --server URL` can manage a running
// server: agents (create with an enrollment token, revoke), OTP codes, the enrollment queue.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import type { AgentAuthority } from '../agents/access-token.ts';
import { createAgent, DEFAULT_ENROLLMENT_TOKEN_SECONDS, revokeAgent } from '../agents/agents.ts';
import { DURATION_PATTERN, parseDurationSeconds } from '../agents/duration.ts';
import { createCode, listCodes, revokeCode } from '../agents/otp.ts';
import { approveRequest, listRequests, rejectRequest } from '../agents/queue.ts';
import type { RequestStatus } from '../agents/queue.ts';
import { AGENT_NAME_SCHEMA, POLICY_NAME_SCHEMA } from '../agents/scope.ts';
import { apiError } from './errors.ts';
import { actorOf } from './tokens.ts';

const placement = { organization: POLICY_NAME_SCHEMA, location: POLICY_NAME_SCHEMA } as const;
const duration = { type: 'string', pattern: DURATION_PATTERN } as const;

const createAgentBody = {
  type: 'object',
  required: ['name', 'organization', 'location'],
  additionalProperties: false,
  properties: { name: AGENT_NAME_SCHEMA, ...placement, expires_in: duration },
} as const;

const createCodeBody = {
  type: 'object',
  required: ['organization', 'location', 'uses', 'expires_in'],
  additionalProperties: false,
  properties: { ...placement, uses: { type: 'integer', minimum: 1, maximum: 1_000_000 }, expires_in: duration },
} as const;

const approveBody = { type: 'object', required: ['organization', 'location'], additionalProperties: false, properties: placement } as const;
const queueQuery = { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['pending', 'approved', 'rejected'] } } } as const;
const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 253 } } } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

type Placement = { organization: string; location: string };

/** "24h" → seconds; the schema's pattern already refused anything else, this refuses zero. */
function durationSeconds(text: string | undefined, fallback?: number): number {
  const seconds = text === undefined ? fallback : parseDurationSeconds(text);
  if (!seconds) throw apiError('VALIDATION_FAILED', `body/expires_in must be a positive duration such as 30m, 24h or 7d, not "${text}".`);
  return seconds;
}

export async function agentsAdminRoutes(app: FastifyInstance, opts: { sql: postgres.Sql; authority: AgentAuthority }): Promise<void> {
  const { sql, authority } = opts;
  const admin = { preHandler: app.requireRole('admin') };

  // GET /agents and /agents/:name (viewer) are in agents-read.ts, with what the agents reported.

  app.post<{ Body: Placement & { name: string; expires_in?: string } }>(
    '/agents', { ...admin, schema: { body: createAgentBody } },
    async (request, reply) => {
      const { name, organization, location, expires_in } = request.body;
      const expiresSeconds = durationSeconds(expires_in, DEFAULT_ENROLLMENT_TOKEN_SECONDS);
      const created = await sql.begin((tx) => createAgent(tx, { name, organization, location, expiresSeconds, actor: actorOf(request.principal) }));
      return reply.code(201).send({ token: created.token, expires_at: created.expiresAt, agent: created.agent });
    },
  );

  app.delete<{ Params: { name: string } }>('/agents/:name', { ...admin, schema: { params: nameParams } }, async (request) => {
    const agent = await sql.begin((tx) => revokeAgent(tx, request.params.name, actorOf(request.principal)));
    if (!agent) throw apiError('NOT_FOUND', `No agent named "${request.params.name}".`);
    await authority.revoke(agent.id);
    return agent;
  });

  app.get('/otp', admin, async () => ({ codes: await listCodes(sql) }));

  app.post<{ Body: Placement & { uses: number; expires_in: string } }>(
    '/otp', { ...admin, schema: { body: createCodeBody } },
    async (request, reply) => {
      const { organization, location, uses, expires_in } = request.body;
      const expiresSeconds = durationSeconds(expires_in);
      const { code, record } = await sql.begin((tx) => createCode(tx, { organization, location, uses, expiresSeconds, actor: actorOf(request.principal) }));
      return reply.code(201).send({ code, ...record });
    },
  );

  app.delete<{ Params: { id: string } }>('/otp/:id', { ...admin, schema: { params: idParams } }, async (request) => {
    const record = await sql.begin((tx) => revokeCode(tx, request.params.id, actorOf(request.principal)));
    if (!record) throw apiError('NOT_FOUND', `No OTP code with id ${request.params.id}.`);
    return record;
  });

  app.get<{ Querystring: { status?: RequestStatus } }>('/enroll/queue', { ...admin, schema: { querystring: queueQuery } }, async (request) => ({
    requests: await listRequests(sql, request.query.status),
  }));

  app.post<{ Params: { id: string }; Body: Placement }>(
    '/enroll/queue/:id/approve', { ...admin, schema: { params: idParams, body: approveBody } },
    async (request) => {
      const decided = await sql.begin((tx) => approveRequest(tx, request.params.id, { ...request.body, actor: actorOf(request.principal) }));
      if (!decided) throw apiError('NOT_FOUND', `No enrollment request ${request.params.id}.`);
      return decided;
    },
  );

  app.post<{ Params: { id: string } }>('/enroll/queue/:id/reject', { ...admin, schema: { params: idParams } }, async (request) => {
    const decided = await sql.begin((tx) => rejectRequest(tx, request.params.id, actorOf(request.principal)));
    if (!decided) throw apiError('NOT_FOUND', `No enrollment request ${request.params.id}.`);
    return decided;
  });
}
