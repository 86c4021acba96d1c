// POST /runs (admin): run a Script of the applied revision now on the targeted agents it applies to;
// GET /runs/:id (admin): each target's progress and result.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { apiError } from '../api/errors.ts';
import { TARGET_PROPERTIES } from '../api/signal.ts';
import { actorOf } from '../api/tokens.ts';
import { UUID } from '../auth/tokens.ts';
import { isEmptyTarget, type SignalTarget } from '../hub/targets.ts';
import type { OnDemandRuns } from './on-demand-runs.ts';
import { readRun } from './run-store.ts';

const runBody = {
  type: 'object',
  required: ['script', 'reason'],
  additionalProperties: false,
  properties: {
    script: { type: 'string', minLength: 1, maxLength: 200 },
    ...TARGET_PROPERTIES,
    reason: { type: 'string', minLength: 1, maxLength: 500 },
    wait: { type: 'boolean' },
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;

type RunBody = SignalTarget & { script: string; reason: string; wait?: boolean };

export async function runRoutes(app: FastifyInstance, opts: { sql: postgres.Sql; runs: OnDemandRuns }): Promise<void> {
  app.post<{ Body: RunBody }>('/runs', { preHandler: app.requireRole('admin'), schema: { body: runBody } }, async (request, reply) => {
    const { script, reason, wait, ...target } = request.body;
    if (isEmptyTarget(target)) throw apiError('BAD_REQUEST', 'Name where to run: agents, locations ("organization/location"), organizations, or all: true.');
    const accepted = await opts.runs.request({ script, target, reason, wait: wait ?? false, actor: actorOf(request.principal) });
    return reply.code(202).send(accepted);
  });

  app.get<{ Params: { id: string } }>('/runs/:id', { preHandler: app.requireRole('admin'), schema: { params: idParams } }, async (request) => {
    if (!UUID.test(request.params.id)) throw apiError('BAD_REQUEST', `"${request.params.id}" is not a run id.`);
    const found = await readRun(opts.sql, request.params.id);
    if (!found) throw apiError('NOT_FOUND', `No on-demand run ${request.params.id}.`);
    return found;
  });
}
