// The fleet as viewers read it (console, `pswm-server agent list|show --server`): agents with their
// applied vs desired document and drift, and per agent its runs with output, facts, packages,
// metrics and drift.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { findAgent } from '../agents/agents.ts';
import type { AgentStatus } from '../agents/agents.ts';
import { POLICY_NAME_SCHEMA } from '../agents/scope.ts';
import { agentMetrics, listDrift, listFacts, listPackages, listRuns, parseRunCursor } from '../reports/agent-history.ts';
import { agentDetail, listAgentSummaries } from '../reports/agent-summary.ts';
import type { DriftStatus } from '../../../schemas/src/agent-wire.ts';
import { apiError } from './errors.ts';

const DRIFT_STATUSES = ['in_sync', 'changed', 'failed', 'drifted', 'skipped'] as const;
const limit = (max: number, fallback: number) => ({ type: 'integer', minimum: 1, maximum: max, default: fallback }) as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    organization: POLICY_NAME_SCHEMA,
    location: POLICY_NAME_SCHEMA,
    status: { type: 'string', enum: ['pending', 'active', 'revoked'] },
    drift: { type: 'string', enum: ['with_drift', 'in_sync'] },
    q: { type: 'string', minLength: 1, maxLength: 253 },
    after: { type: 'string', maxLength: 253 },
    limit: limit(5000, 500),
  },
} as const;
const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 253 } } } as const;
const runsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: { type: 'string', enum: ['script', 'choco'] },
    script: { type: 'string', minLength: 1, maxLength: 253 },
    before: { type: 'string', maxLength: 100 },
    limit: limit(500, 50),
  },
} as const;
const metricsQuery = { type: 'object', additionalProperties: false, properties: { limit: limit(10_000, 60) } } as const;
const driftQuery = { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: DRIFT_STATUSES } } } as const;

interface ListQuery { organization?: string; location?: string; status?: AgentStatus; drift?: 'with_drift' | 'in_sync'; q?: string; after?: string; limit: number }
type ByName<Q = unknown> = { Params: { name: string }; Querystring: Q };

export async function agentsReadRoutes(app: FastifyInstance, opts: { sql: postgres.Sql }): Promise<void> {
  const { sql } = opts;
  const viewer = app.requireRole('viewer');

  /** The agent a path names (by name, or by id), or 404. */
  const agentIdOf = async (name: string): Promise<string> => {
    const agent = await findAgent(sql, name);
    if (!agent) throw apiError('NOT_FOUND', `No agent named "${name}".`);
    return agent.id;
  };

  app.get<{ Querystring: ListQuery }>('/agents', { preHandler: viewer, schema: { querystring: listQuery } }, async (request) => {
    const agents = await listAgentSummaries(sql, request.query);
    const { limit: pageSize } = request.query;
    return { agents, ...(agents.length === pageSize ? { nextAfter: agents.at(-1)!.name } : {}) };
  });

  app.get<ByName>('/agents/:name', { preHandler: viewer, schema: { params: nameParams } }, async (request) => {
    const detail = await agentDetail(sql, await agentIdOf(request.params.name));
    if (!detail) throw apiError('NOT_FOUND', `No agent named "${request.params.name}".`);
    return detail;
  });

  app.get<ByName<{ type?: 'script' | 'choco'; script?: string; before?: string; limit: number }>>(
    '/agents/:name/runs', { preHandler: viewer, schema: { params: nameParams, querystring: runsQuery } },
    async (request) => {
      const { before: cursor, ...query } = request.query;
      const before = cursor === undefined ? undefined : parseRunCursor(cursor);
      if (cursor !== undefined && !before) throw apiError('VALIDATION_FAILED', 'querystring/before must be the nextBefore of a previous page.');
      return listRuns(sql, await agentIdOf(request.params.name), { ...query, before });
    },
  );

  app.get<ByName>('/agents/:name/facts', { preHandler: viewer, schema: { params: nameParams } }, async (request) => ({
    facts: await listFacts(sql, await agentIdOf(request.params.name)),
  }));

  app.get<ByName>('/agents/:name/packages', { preHandler: viewer, schema: { params: nameParams } }, async (request) => ({
    packages: await listPackages(sql, await agentIdOf(request.params.name)),
  }));

  app.get<ByName<{ limit: number }>>(
    '/agents/:name/metrics', { preHandler: viewer, schema: { params: nameParams, querystring: metricsQuery } },
    async (request) => agentMetrics(sql, await agentIdOf(request.params.name), request.query.limit),
  );

  app.get<ByName<{ status?: DriftStatus }>>(
    '/agents/:name/drift', { preHandler: viewer, schema: { params: nameParams, querystring: driftQuery } },
    async (request) => ({ items: await listDrift(sql, await agentIdOf(request.params.name), request.query.status) }),
  );
}
