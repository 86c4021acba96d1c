// Liveness (/health: the process answers) and readiness (/ready: it can do its job). Readiness is
// pluggable: other parts push checks onto `app.readinessChecks` (e.g. "a revision has been applied");
// with none registered, a reachable database is enough.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';

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

async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
  try {
    const failure = await check.check();
    return failure ? { name: check.name, ready: false, message: failure } : { name: check.name, ready: true };
  } catch (error) {
    return { name: check.name, ready: false, message: (error as Error).message };
  }
}

async function healthPlugin(app: FastifyInstance, opts: { sql: postgres.Sql }): Promise<void> {
  const database: ReadinessCheck = {
    name: 'database',
    async check() {
      await opts.sql`select 1`;
      return undefined;
    },
  };
  app.decorate('readinessChecks', [database]);

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/ready', async (_request, reply) => {
    const checks = await Promise.all(app.readinessChecks.map(runCheck));
    const ready = checks.every((c) => c.ready);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
}

export const health = fp(healthPlugin, { name: 'pswm-health' });
