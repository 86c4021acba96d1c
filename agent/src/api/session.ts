// Access tokens for one enrolled agent: got by a signed assertion (docs/security.md §4), renewed
// before they expire, and renewed once more when the server refuses one anyway (its clock, a
// restart with new secrets).
import type { AgentKeys } from '../identity/key-pair.ts';
import { assertionClaims, buildAssertion } from '../identity/signatures.ts';
import { callServer, isTransient, ServerError, type CallOptions, type JsonResponse } from './http.ts';
import { BackingOffError, createServerBackoff, type ServerBackoff } from './server-backoff.ts';

export interface AccessToken {
  value: string;
  expiresAtMs: number;
}

/** Renew this long before expiry, so a request in flight never carries a token that just expired. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

export function tokenIsFresh(token: AccessToken | undefined, nowMs: number): token is AccessToken {
  return token !== undefined && token.expiresAtMs - TOKEN_REFRESH_MARGIN_MS > nowMs;
}

export interface AgentSession {
  server: string;
  /** A valid access token, asserting for a new one when needed. */
  accessToken(): Promise<string>;
  /** Forget the current token (the server refused it). */
  invalidate(): void;
  /** An authenticated call; a 401 other than AGENT_REVOKED gets one new token and one retry.
   * Throws BackingOffError, without contacting the server, while `backoff` holds calls back. */
  call(method: string, path: string, opts?: CallOptions): Promise<JsonResponse>;
  /** The one backoff of everything that contacts this server. */
  backoff: ServerBackoff;
}

/** Tells the backoff how an attempt ended: any meaningful answer shows the server is there. */
export function recordOutcome(backoff: ServerBackoff, error: unknown): void {
  if (error === undefined || (error instanceof ServerError && !isTransient(error))) backoff.succeeded();
  else backoff.failed(error instanceof ServerError ? error.retryAfterMs : undefined);
}

export function createAgentSession(opts: {
  server: string;
  agentId: string;
  keys: AgentKeys;
  now?: () => number;
  backoff?: ServerBackoff;
  /** The key on disk: after `pswm gencert --rotate` the server refuses the old one, and a running
   * agent goes on with the new one instead of failing until it is restarted. */
  reloadKeys?: () => Promise<AgentKeys>;
}): AgentSession {
  const now = opts.now ?? Date.now;
  const backoff = opts.backoff ?? createServerBackoff();
  let token: AccessToken | undefined;
  let pending: Promise<AccessToken> | undefined;

  let keys = opts.keys;
  const exchange = async (): Promise<AccessToken> => {
    const assertion = buildAssertion(keys.privateKey, assertionClaims(opts.agentId, now()));
    const { body } = await callServer(opts.server, 'POST', '/api/v1/agent/token', { body: { agent_id: opts.agentId, assertion } });
    return { value: body.access_token, expiresAtMs: Date.parse(body.expires_at) };
  };
  const assertForToken = async (): Promise<AccessToken> => {
    try {
      return await exchange();
    } catch (error) {
      if (!(error instanceof ServerError) || error.code !== 'ASSERTION_INVALID' || !opts.reloadKeys) throw error;
      const onDisk = await opts.reloadKeys().catch(() => keys);
      if (onDisk.publicKeyPem === keys.publicKeyPem) throw error;
      keys = onDisk;
      return exchange();
    }
  };
  const accessToken = async () => {
    if (tokenIsFresh(token, now())) return token.value;
    // concurrent callers (loop, heartbeat, socket) share one assertion
    pending ??= assertForToken().finally(() => (pending = undefined));
    token = await pending;
    return token.value;
  };
  const withToken = async (method: string, path: string, callOpts: CallOptions) =>
    callServer(opts.server, method, path, { ...callOpts, headers: { ...callOpts.headers, authorization: `Bearer ${await accessToken()}` } });

  const callRenewingToken = async (method: string, path: string, callOpts: CallOptions) => {
    try {
      return await withToken(method, path, callOpts);
    } catch (error) {
      if (!(error instanceof ServerError) || error.status !== 401 || error.code === 'AGENT_REVOKED') throw error;
      token = undefined;
      return withToken(method, path, callOpts);
    }
  };

  return {
    server: opts.server,
    accessToken,
    invalidate: () => (token = undefined),
    backoff,
    async call(method, path, callOpts = {}) {
      if (!backoff.tryAcquire()) throw new BackingOffError(`${method} ${path}: not sent, the server failed ${backoff.failures()} time(s) in a row; next attempt in ${Math.ceil(backoff.waitMs() / 1000)} s`);
      try {
        const response = await callRenewingToken(method, path, callOpts);
        recordOutcome(backoff, undefined);
        return response;
      } catch (error) {
        recordOutcome(backoff, error);
        throw error;
      }
    },
  };
}

export function isRevoked(error: unknown): boolean {
  return error instanceof ServerError && error.code === 'AGENT_REVOKED';
}
