// Everything agents and their administration need on an app: the requireAgent decorator (register
// it before any route that uses it), enrollment and token exchange, and the admin routes.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import type { AgentAuthority } from '../agents/access-token.ts';
import { agentAuth } from './agent-auth.ts';
import { agentsAdminRoutes } from './agents-admin.ts';
import { API_PREFIX } from './app.ts';
import { enrollRoutes } from './enroll.ts';

export async function registerAgentApi(app: FastifyInstance, opts: { sql: postgres.Sql; authority: AgentAuthority }): Promise<void> {
  await app.register(agentAuth, { authority: opts.authority });
  await app.register(enrollRoutes, { prefix: API_PREFIX, ...opts });
  await app.register(agentsAdminRoutes, { prefix: API_PREFIX, ...opts });
}
