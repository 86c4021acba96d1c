// Console sessions: a random cookie value → the API token it was opened with. Only the value's
// sha256 is stored (like API tokens: 256 random bits need no slow hash). A session always reads as
// a viewer, whatever the token's role: the console changes nothing, so its cookie can do nothing
// an admin token could.
import { createHash, randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import type { Principal } from '../auth/tokens.ts';

export const SESSION_COOKIE = 'pswm_session';
export const SESSION_TTL_SECONDS = 8 * 60 * 60;

const hash = (value: string) => createHash('sha256').update(value).digest();

/** Opens a session for an authenticated token; returns the cookie value and its expiry. */
export async function openSession(sql: postgres.Sql, tokenId: string, ttlSeconds = SESSION_TTL_SECONDS): Promise<{ value: string; expiresAt: Date }> {
  const value = randomBytes(32).toString('base64url');
  const [row] = await sql<Array<{ expires_at: Date }>>`
    insert into web_sessions (id_hash, token_id, expires_at)
    values (${hash(value)}, ${tokenId}, now() + make_interval(secs => ${ttlSeconds}))
    returning expires_at`;
  // Expired sessions are swept here rather than by a timer: logins are rare, and an expired row
  // is never accepted anyway.
  await sql`delete from web_sessions where expires_at < now() - interval '1 day'`;
  return { value, expiresAt: row.expires_at };
}

/** The viewer principal of a live session (unexpired, token not revoked), else undefined. */
export async function sessionPrincipal(sql: postgres.Sql, value: string): Promise<Principal | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined;
  const [row] = await sql<Array<{ id: string; name: string }>>`
    select t.id, t.name from web_sessions s join api_tokens t on t.id = s.token_id
    where s.id_hash = ${hash(value)} and s.expires_at > now() and t.revoked_at is null`;
  return row && { tokenId: row.id, name: row.name, role: 'viewer' };
}

export async function closeSession(sql: postgres.Sql, value: string): Promise<boolean> {
  const rows = await sql`delete from web_sessions where id_hash = ${hash(value)} returning token_id`;
  return rows.length > 0;
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, expiresAt: Date, secure: boolean): string {
  return [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Expires=${expiresAt.toUTCString()}`, ...(secure ? ['Secure'] : [])].join('; ');
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', new Date(0), secure);
}
