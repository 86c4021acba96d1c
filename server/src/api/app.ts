// The fastify application: shared decorators (auth, readiness, metrics), one error vocabulary, and the
// platform routes. Callers may register more route plugins on the returned instance before listen().
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Ajv } from 'ajv';
import type { ServerConfig } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { auth } from './auth.ts';
import { closeConnectionsWhenClosing } from './closing-connections.ts';
import { isStorableDateTime } from './date-time-format.ts';
import { apiError, RETRY_AFTER_SECONDS, toErrorResponse } from './errors.ts';
import { health } from './health.ts';
import { inputRules } from './input-rules.ts';
import { credentialRateLimit, trustProxySetting } from './rate-limit.ts';
import { metrics } from './metrics.ts';
import { tokenRoutes } from './tokens.ts';
import { reportFileLimit } from '../file-limit.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Database;
    config: ServerConfig;
  }
}

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Every request is answered within this time: a handler still running then gets a 503 TIMED_OUT. */
export const REQUEST_DEADLINE_MS = 30_000;
export const API_PREFIX = '/api/v1';

export async function buildApp(deps: { db: Database; config: ServerConfig; log: Logger }): Promise<FastifyInstance> {
  const { db, config, log } = deps;
  const https = config.tlsCert && config.tlsKey
    ? { https: { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } }
    : {};
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: BODY_LIMIT_BYTES,
    handlerTimeout: REQUEST_DEADLINE_MS,
    trustProxy: trustProxySetting(config.trustProxy),
    // A path that does not decode (%E0%A4%A, a lone surrogate) is answered before routing: same error body.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const { status, body } = toErrorResponse(error);
      reply.code(status).send(body);
    },
    // fastify's default silently drops unknown properties; a typo in a request should be an error.
    ajv: { customOptions: { removeAdditional: false }, onCreate: (ajv: Ajv) => ajv.addFormat('date-time', isStorableDateTime) },
    ...https,
  }) as unknown as FastifyInstance;

  app.decorate('db', db);
  app.decorate('config', config);

  app.setErrorHandler(async (error, request, reply) => {
    const { status, body } = toErrorResponse(error as Error);
    if (status === 503) request.log.warn({ code: body.error.code, cause: (error as Error).message }, 'request failed: service unavailable');
    else if (status >= 500 && !reportFileLimit(request.log, error, `answering ${request.method} ${request.routeOptions.url ?? 'an unmatched route'}`)) request.log.error({ err: error }, 'request failed');
    if (status === 401) reply.header('www-authenticate', 'Bearer');
    if (status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler(async (request) => {
    throw apiError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`);
  });

  await app.register(closeConnectionsWhenClosing);
  await app.register(inputRules);
  await app.register(credentialRateLimit, { perMinute: config.rateLimit });
  await app.register(metrics);
  // Operators' token checks on the control client: an admin's request is not queued behind agents'.
  await app.register(auth, { sql: db.control });
  await app.register(health, { sql: db.sql });
  await app.register(tokenRoutes, { prefix: API_PREFIX, sql: db.sql });
  return app;
}
