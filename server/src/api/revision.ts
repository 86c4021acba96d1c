// GET /revision: the applied revision and the last attempted one, side by side (Flux's
// lastAppliedRevision vs lastAttemptedRevision), the last attempt's errors, and the reconciler's conditions. Also makes
// /ready wait for a first applied revision.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { readPolicyState, readRevisionStatus } from '../reconcile/status.ts';

export async function revisionRoutes(app: FastifyInstance, opts: { sql: postgres.Sql }): Promise<void> {
  const { sql } = opts;

  app.readinessChecks.push({
    name: 'policy',
    async check() {
      const state = await readPolicyState(sql);
      return state.appliedRevision ? undefined : 'no policy revision has been applied yet';
    },
  });

  app.get('/revision', { preHandler: app.requireRole('viewer') }, async () => readRevisionStatus(sql));
}
