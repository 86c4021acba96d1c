// Bearer-token authentication. Decorates the root instance with `requireRole(role)`, a preHandler that
// sets `request.principal` or answers 401 (no, unknown or revoked token) / 403 (role too weak).
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type postgres from 'postgres';
import { authenticateToken, roleAllows } from '../auth/tokens.ts';
import type { Principal, Role } from '../auth/tokens.ts';
import { apiError } from './errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    requireRole(role: Role): preHandlerAsyncHookHandler;
    /** Lets viewer GET routes also accept a console session (a request without an Authorization header). */
    acceptViewerSessions(authenticate: (request: FastifyRequest) => Promise<Principal | undefined>): void;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of an "Authorization: Bearer <token>" header; 401 UNAUTHENTICATED when missing or malformed. */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw apiError('UNAUTHENTICATED');
  const match = BEARER.exec(header);
  if (!match) throw apiError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>".');
  return match[1];
}

async function authPlugin(app: FastifyInstance, opts: { sql: postgres.Sql }): Promise<void> {
  app.decorateRequest('principal', null);
  let viewerSession: ((request: FastifyRequest) => Promise<Principal | undefined>) | undefined;
  app.decorate('acceptViewerSessions', (authenticate: typeof viewerSession) => { viewerSession = authenticate; });
  app.decorate('requireRole', (role: Role): preHandlerAsyncHookHandler => async (request: FastifyRequest) => {
    // A session never reaches an admin route or changes anything: only viewer reads accept one.
    const fromSession = role === 'viewer' && viewerSession && request.method === 'GET' && !request.headers.authorization
      ? await viewerSession(request)
      : undefined;
    const principal = fromSession ?? await authenticateToken(opts.sql, bearerToken(request));
    if (!principal) throw apiError('INVALID_TOKEN');
    if (!roleAllows(principal.role, role)) {
      throw apiError('FORBIDDEN', `This request needs the ${role} role; the token "${principal.name}" has the ${principal.role} role.`);
    }
    request.principal = principal;
  });
}

export const auth = fp(authPlugin, { name: 'pswm-auth' });
