// Rate limits on the endpoints anyone can call and that check a credential (enrollment, its nonce and
// status, the token exchange, the git webhook, the console login): each was good for ~600 requests/s
// from one address, each writing an audit row. A route opts in with `config: CREDENTIAL_RATE_LIMIT`;
// every such route counts each client address (request.ip: see the trustProxy option) separately, per
// minute, in this process. The limit answers before the body is read, so a limited request costs no
// parsing and no audit row.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { apiError } from './errors.ts';

const WINDOW_MS = 60_000;

/** Route config of a rate-limited route: the server-wide limit (--rate-limit), counted per route. */
export const CREDENTIAL_RATE_LIMIT = { rateLimit: {} } as const;

async function credentialRateLimitPlugin(app: FastifyInstance, opts: { perMinute: number }): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    max: opts.perMinute,
    timeWindow: WINDOW_MS,
    // 0 turns the limit off; the plugin's own 0 would refuse everything.
    ...(opts.perMinute === 0 ? { allowList: () => true } : {}),
    errorResponseBuilder: (request, context) => apiError(
      'TOO_MANY_REQUESTS',
      `More than ${context.max} requests a minute from ${request.ip} to ${request.routeOptions.url}; retry in ${Math.ceil(context.ttl / 1000)} seconds.`,
    ),
  });
}

export const credentialRateLimit = fp(credentialRateLimitPlugin, { name: 'pswm-credential-rate-limit' });

/**
 * The trustProxy option as fastify takes it: 'true' trusts any proxy, a number that many hops, anything
 * else is a comma-separated list of proxy addresses or CIDRs. Unset: request.ip is the connecting address.
 */
export function trustProxySetting(text: string | undefined): boolean | string[] | ((address: string, hop: number) => boolean) {
  const value = text?.trim();
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops; // what proxy-addr does with a hop count
  }
  return value.split(',').map((part) => part.trim()).filter(Boolean);
}
