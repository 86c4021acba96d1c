// Console login and logout. A browser form posts an API token (viewer or admin) once; the answer is
// an httpOnly, SameSite=Strict cookie naming a server-side session that reads as a viewer. Both are
// audited. These are the only requests the console makes that are not GETs, and they live under
// /api/v1, not among the console's pages (which refuse every non-GET).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type postgres from 'postgres';
import { audit } from '../audit.ts';
import { authenticateToken } from '../auth/tokens.ts';
import { apiError } from '../api/errors.ts';
import { CREDENTIAL_RATE_LIMIT } from '../api/rate-limit.ts';
import { clearedSessionCookie, closeSession, cookieValue, openSession, SESSION_COOKIE, sessionCookie, sessionPrincipal } from './sessions.ts';

const loginBody = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', minLength: 1, maxLength: 200 }, next: { type: 'string', maxLength: 2000 } },
} as const;

/** Where to go after login: a path on this site only (never "//host" or a URL). */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}

const isForm = (request: FastifyRequest) => (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

/** A browser names the page that posted; a cross-site post is refused (SameSite covers the cookie, this covers login). */
function checkOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin && origin !== 'null' && new URL(origin).host !== request.headers.host) {
    throw apiError('FORBIDDEN', `Cross-site request from ${origin} refused.`);
  }
}

export async function consoleSessionRoutes(app: FastifyInstance, opts: { sql: postgres.Sql; secureCookies: boolean }): Promise<void> {
  const { sql, secureCookies } = opts;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.acceptViewerSessions(async (request) => {
    const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
    return value ? sessionPrincipal(sql, value) : undefined;
  });

  // Each attempt checks a token and writes an audit row: rate limited like the other credential endpoints.
  app.post<{ Body: { token: string; next?: string } }>('/login', { schema: { body: loginBody }, config: CREDENTIAL_RATE_LIMIT }, async (request, reply) => {
    checkOrigin(request);
    const principal = await authenticateToken(sql, request.body.token.trim());
    if (!principal) {
      await audit(sql, { actor: 'anonymous', action: 'web.login', outcome: 'failure', details: { reason: 'unknown or revoked token' } });
      if (isForm(request)) return redirect(reply, `/login?error=invalid&next=${encodeURIComponent(safeNext(request.body.next))}`);
      throw apiError('INVALID_TOKEN');
    }
    const session = await openSession(sql, principal.tokenId);
    await audit(sql, { actor: `token:${principal.name}`, action: 'web.login', target: principal.tokenId, outcome: 'success', details: { role: principal.role, expires_at: session.expiresAt } });
    reply.header('set-cookie', sessionCookie(session.value, session.expiresAt, secureCookies));
    if (isForm(request)) return redirect(reply, safeNext(request.body.next));
    return { name: principal.name, role: 'viewer', expiresAt: session.expiresAt };
  });

  app.post('/logout', async (request, reply) => {
    checkOrigin(request);
    const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const principal = value ? await sessionPrincipal(sql, value) : undefined;
    if (value && await closeSession(sql, value)) {
      await audit(sql, { actor: principal ? `token:${principal.name}` : 'anonymous', action: 'web.logout', target: principal?.tokenId, outcome: 'success' });
    }
    reply.header('set-cookie', clearedSessionCookie(secureCookies));
    return isForm(request) || !request.headers['content-type'] ? redirect(reply, '/login') : { loggedOut: true };
  });
}

function redirect(reply: FastifyReply, location: string) {
  return reply.code(303).header('location', location).send();
}
