// Token administration over HTTP (admin) and `whoami` (any valid token), so the CLI can manage tokens
// of a running server with `--server URL` and PSWM_ADMIN_TOKEN.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { createToken, listTokens, revokeToken, ROLES } from '../auth/tokens.ts';
import type { Principal } from '../auth/tokens.ts';
import { apiError } from './errors.ts';

export function actorOf(principal: Principal | null): string {
  return principal ? `token:${principal.name}` : 'anonymous';
}

const createBody = {
  type: 'object',
  required: ['role'],
  additionalProperties: false,
  properties: {
    role: { type: 'string', enum: [...ROLES] },
    name: { type: 'string', minLength: 1, maxLength: 100 },
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;

export async function tokenRoutes(app: FastifyInstance, opts: { sql: postgres.Sql }): Promise<void> {
  const { sql } = opts;

  app.get('/whoami', { preHandler: app.requireRole('viewer') }, async (request) => request.principal);

  app.get('/tokens', { preHandler: app.requireRole('admin') }, async () => ({ tokens: await listTokens(sql) }));

  app.post<{ Body: { role: 'admin' | 'viewer'; name?: string } }>(
    '/tokens',
    { preHandler: app.requireRole('admin'), schema: { body: createBody } },
    async (request, reply) => {
      const { role, name = `${role}-token` } = request.body;
      const { token, record } = await sql.begin((tx) => createToken(tx, { role, name, actor: actorOf(request.principal) }));
      return reply.code(201).send({ token, ...record });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/tokens/:id',
    { preHandler: app.requireRole('admin'), schema: { params: idParams } },
    async (request) => {
      const record = await sql.begin((tx) => revokeToken(tx, request.params.id, actorOf(request.principal)));
      if (!record) throw apiError('NOT_FOUND', `No token with id ${request.params.id}.`);
      return record;
    },
  );
}
