// Agent authentication. Decorates the root instance with `requireAgent`, a preHandler that checks the
// agent access token in "Authorization: Bearer <token>" (signature, expiry, revocation: no database
// round trip) and sets `request.agent`, or answers 401 saying why.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { AgentAuthority, AgentPrincipal } from '../agents/access-token.ts';
import { bearerToken } from './auth.ts';
import { apiError } from './errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    requireAgent: preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    agent: AgentPrincipal | null;
  }
}

const REFUSALS = {
  malformed: () => apiError('INVALID_TOKEN', 'The bearer token is not an agent access token.'),
  forged: () => apiError('INVALID_TOKEN', 'The agent access token\'s signature is not valid.'),
  expired: () => apiError('TOKEN_EXPIRED'),
  revoked: () => apiError('AGENT_REVOKED'),
} as const;

async function agentAuthPlugin(app: FastifyInstance, opts: { authority: AgentAuthority }): Promise<void> {
  app.decorateRequest('agent', null);
  app.decorate('requireAgent', async (request: FastifyRequest) => {
    const result = opts.authority.check(bearerToken(request));
    if (!result.ok) throw REFUSALS[result.reason]();
    request.agent = result.principal;
  });
}

export const agentAuth = fp(agentAuthPlugin, { name: 'pswm-agent-auth' });
