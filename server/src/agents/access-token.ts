// Agent access tokens are signed, not stored: `pswm-agent.<payload>.<hmac>` where payload is
// base64url JSON { sub, name, org, loc, exp } and the HMAC-SHA256 key is derived from the server's
// secret key (server-secret.ts), which is not in the database. Checking one is a few microseconds with no database round trip; what a signature cannot
// say — that the agent was revoked since — comes from an in-memory set loaded at start, spread between
// instances on the bus channel 'pswm_agent_revoked', and reloaded on bus resync and every 30 seconds
// in case a notification was lost.
import type postgres from 'postgres';
import type { Bus } from '../hub/bus.ts';
import { hmacTag, hmacTagMatches } from './server-secret.ts';

export interface AgentPrincipal {
  agentId: string;
  name: string;
  organization: string;
  location: string;
}

export type TokenCheck =
  | { ok: true; principal: AgentPrincipal; expiresAt: Date }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' | 'revoked' };

export interface AgentAuthority {
  issue(agent: AgentPrincipal): { token: string; expiresAt: Date };
  verify(token: string): AgentPrincipal | undefined;
  /** verify(), with the reason a token is refused (for a clear 401). */
  check(token: string): TokenCheck;
  isRevoked(agentId: string): boolean;
  /** Refuses the agent's tokens here at once and on every other instance through the bus. */
  revoke(agentId: string): Promise<void>;
  close(): void;
}

export type RevocationBus = Pick<Bus, 'publish' | 'subscribe'>;

const ACCESS_TOKEN_SECONDS = 15 * 60;
const TOKEN_PREFIX = 'pswm-agent';
const RELOAD_REVOKED_MS = 30_000;
/** Agents call with one token for up to 15 minutes: a token that verified is remembered until it
 * expires, so each later call costs a map lookup instead of an HMAC and a JSON parse (at 15,000
 * agents ~1 % of a core for heartbeats and reports alone). Only verified tokens are remembered, so the
 * map holds at most the fleet's live tokens; past this many it starts again. */
const REMEMBERED_TOKENS = 100_000;

interface TokenPayload { sub: string; name: string; org: string; loc: string; exp: number }

/** What tells every instance an agent was revoked; also used by the CLI, which has a bus but no authority. */
export function publishRevocation(bus: RevocationBus, agentId: string): Promise<void> {
  return bus.publish('pswm_agent_revoked', { agentId });
}

export async function createAgentAuthority(
  sql: postgres.Sql,
  bus: RevocationBus,
  secret: Buffer,
  options: { now?: () => number } = {},
): Promise<AgentAuthority> {
  const now = options.now ?? Date.now;
  let revoked = new Set<string>();
  const reloadRevoked = async () => {
    const rows = await sql<{ id: string }[]>`select id from agents where status = 'revoked'`;
    // Merge: a revocation heard on the bus may not be visible to this read yet.
    revoked = new Set([...revoked, ...rows.map((row) => row.id)]);
  };
  const reloadQuietly = () => void reloadRevoked().catch(() => {});
  await reloadRevoked();
  const unsubscribe = bus.subscribe('pswm_agent_revoked', (payload) => {
    if (typeof payload?.agentId === 'string') revoked.add(payload.agentId);
  }, reloadQuietly);
  const timer = setInterval(reloadQuietly, RELOAD_REVOKED_MS).unref();

  let verified = new Map<string, TokenCheck & { ok: true }>();
  const check = (token: string): TokenCheck => {
    const known = verified.get(token);
    if (known) {
      // expiry and revocation are checked on every call, as for a token seen for the first time
      if (known.expiresAt.getTime() <= now()) return { ok: false, reason: 'expired' };
      if (revoked.has(known.principal.agentId)) return { ok: false, reason: 'revoked' };
      return known;
    }
    const checked = verifySignedToken(token);
    if (checked.ok) {
      if (verified.size >= REMEMBERED_TOKENS) verified = new Map();
      verified.set(token, checked);
    }
    return checked;
  };
  const verifySignedToken = (token: string): TokenCheck => {
    const [prefix, body, tag, ...rest] = token.split('.');
    if (prefix !== TOKEN_PREFIX || !body || !tag || rest.length) return { ok: false, reason: 'malformed' };
    if (!hmacTagMatches(secret, `${prefix}.${body}`, tag)) return { ok: false, reason: 'forged' };
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
    if (payload.exp * 1000 <= now()) return { ok: false, reason: 'expired' };
    if (revoked.has(payload.sub)) return { ok: false, reason: 'revoked' };
    return {
      ok: true,
      principal: { agentId: payload.sub, name: payload.name, organization: payload.org, location: payload.loc },
      expiresAt: new Date(payload.exp * 1000),
    };
  };

  return {
    issue(agent) {
      const exp = Math.floor(now() / 1000) + ACCESS_TOKEN_SECONDS;
      const payload: TokenPayload = { sub: agent.agentId, name: agent.name, org: agent.organization, loc: agent.location, exp };
      const signed = `${TOKEN_PREFIX}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return { token: `${signed}.${hmacTag(secret, signed)}`, expiresAt: new Date(exp * 1000) };
    },
    check,
    verify(token) {
      const result = check(token);
      return result.ok ? result.principal : undefined;
    },
    isRevoked: (agentId) => revoked.has(agentId),
    async revoke(agentId) {
      revoked.add(agentId);
      await publishRevocation(bus, agentId);
    },
    close() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
