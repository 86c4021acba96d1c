// The reconcile history (viewer) and the reconcile trigger (admin): POST /reconcile waits for a run
// that started after the request and returns its outcome, or answers 202 at once with ?wait=false.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import type { ReconcileOutcome } from '../reconcile/reconcile.ts';
import { apiError } from './errors.ts';
import { actorOf } from './tokens.ts';

export interface ReconcileTrigger {
  trigger(reason: string): Promise<ReconcileOutcome | undefined>;
}

const STATUSES = ['applied', 'rejected', 'no-op', 'failed'] as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    status: { type: 'string', enum: [...STATUSES] },
    before: { type: 'integer', minimum: 1 },
  },
} as const;

const RECONCILE_DEADLINE_MS = 300_000;

const triggerQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { wait: { type: 'boolean', default: true } },
} as const;

export async function reconciliationRoutes(app: FastifyInstance, opts: { sql: postgres.Sql; reconciler: ReconcileTrigger }): Promise<void> {
  const { sql, reconciler } = opts;

  app.get<{ Querystring: { limit: number; status?: string; before?: number } }>(
    '/reconciliations',
    { preHandler: app.requireRole('viewer'), schema: { querystring: listQuery } },
    async (request) => {
      const { limit, status, before } = request.query;
      const rows = await sql`
        select id::int, revision, author, message, trigger, status, reason, detail, added, changed, removed,
               duration_ms as "durationMs", errors, repeats, started_at as "startedAt", finished_at as "finishedAt"
        from reconciliations
        where ${status ? sql`status = ${status}` : sql`true`} and ${before ? sql`id < ${before}` : sql`true`}
        order by id desc
        limit ${limit}`;
      return { reconciliations: rows };
    },
  );

  app.post<{ Querystring: { wait: boolean } }>(
    '/reconcile',
    // Waiting for a whole reconcile of a large repository may take longer than other requests.
    { preHandler: app.requireRole('admin'), schema: { querystring: triggerQuery }, handlerTimeout: RECONCILE_DEADLINE_MS },
    async (request, reply) => {
      const reason = `api:${actorOf(request.principal)}`;
      if (!request.query.wait) {
        void reconciler.trigger(reason);
        return reply.code(202).send({ requested: true });
      }
      const outcome = await reconciler.trigger(reason);
      if (!outcome) throw apiError('NOT_READY', 'The reconciler is stopping; no reconcile ran.');
      return outcome;
    },
  );
}
