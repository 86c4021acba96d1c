// Liveness (/health: the process answers) and readiness (/ready: it can do its job). Readiness is
// pluggable: other parts push checks onto `app.readinessChecks` (e.g. "a revision has been applied");
// with none registered, a reachable database is enough.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { isDatabaseUnavailable } from '../db/availability.ts';
import { RETRY_AFTER_SECONDS } from './errors.ts';

export interface ReadinessCheck {
  name: string;
  /** Resolves with a failure reason, or undefined when ready. Throwing counts as not ready. */
  check(): Promise<string | undefined>;
}

declare module 'fastify' {
  interface FastifyInstance {
    readinessChecks: ReadinessCheck[];
  }
}

interface CheckResult { name: string; ready: boolean; message?: string }

/** A check that has not answered by then counts as not ready, so /ready itself never hangs. */
export const CHECK_TIMEOUT_MS = 2000;

async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    const failure = await Promise.race([check.check(), timeout]);
    return failure ? { name: check.name, ready: false, message: failure } : { name: check.name, ready: true };
  } catch (error) {
    return { name: check.name, ready: false, message: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

async function healthPlugin(app: FastifyInstance, opts: { sql: postgres.Sql }): Promise<void> {
  const database: ReadinessCheck = {
    name: 'database',
    async check() {
      try {
        await opts.sql`select 1`;
        return undefined;
      } catch (error) {
        const { message } = error as Error;
        return isDatabaseUnavailable(error) ? `database unreachable: ${message}` : `database query failed: ${message}`;
      }
    },
  };
  app.decorate('readinessChecks', [database]);

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (_request, reply) => {
    const checks = await Promise.all(app.readinessChecks.map(runCheck));
    const ready = checks.every((c) => c.ready);
    if (!ready) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
}

export const health = fp(healthPlugin, { name: 'pswm-health' });
