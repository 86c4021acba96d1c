// The read endpoints the console's pages are built from (viewer role; a console session counts as a
// viewer): the overview aggregate, the filterable fleet list, rollout progress, compliance history,
// the enrollment queue as viewers may see it, an agent's settings explained, and the live stream.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { findAgent } from '../agents/agents.ts';
import { listRequests } from '../agents/queue.ts';
import { POLICY_NAME_SCHEMA } from '../agents/scope.ts';
import { apiError } from '../api/errors.ts';
import { explainSettings } from '../../../schemas/src/compile/explain.ts';
import type { Policy } from '../../../schemas/src/model.ts';
import { complianceHistory, fleetAttention, rollout } from './fleet-attention.ts';
import type { FleetEvents } from './fleet-events.ts';
import { AGENT_STATES, fleetOverview, listFleet, SORTS } from './fleet-state.ts';
import type { FleetListQuery, StateThresholds } from './fleet-state.ts';
import { settingsProvenance } from './settings-provenance.ts';
import { withoutJit } from './no-jit.ts';

export interface FleetRouteOptions {
  sql: postgres.Sql;
  events: FleetEvents;
  thresholds: StateThresholds;
  /** The applied policy, when this instance holds it in memory (settings with line numbers). */
  appliedPolicy: () => Policy | undefined;
}

const overviewQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { stale_days: { type: 'integer', minimum: 1, maximum: 365, default: 7 } },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    organization: POLICY_NAME_SCHEMA,
    location: POLICY_NAME_SCHEMA,
    state: { type: 'string', enum: [...AGENT_STATES] },
    platform: { type: 'string', minLength: 1, maxLength: 64 },
    q: { type: 'string', minLength: 1, maxLength: 253 },
    sort: { type: 'string', enum: [...SORTS], default: 'name' },
    order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
    page: { type: 'integer', minimum: 1, default: 1 },
    per_page: { type: 'integer', minimum: 1, maximum: 10_000, default: 50 },
  },
} as const;

const rolloutQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { revision: { type: 'string', pattern: '^[0-9a-f]{7,64}$' } },
} as const;

const complianceQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { days: { type: 'integer', minimum: 1, maximum: 90, default: 14 } },
} as const;

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 253 } } } as const;

type ListQuerystring = Omit<FleetListQuery, 'perPage'> & { per_page: number };

export async function fleetRoutes(app: FastifyInstance, opts: FleetRouteOptions): Promise<void> {
  const { sql, thresholds } = opts;
  const viewer = app.requireRole('viewer');

  app.get<{ Querystring: { stale_days: number } }>('/fleet/overview', { preHandler: viewer, schema: { querystring: overviewQuery } }, async (request) => {
    const [{ oldRevisionAgents, ...overview }, attention] = await withoutJit(sql, async (tx) => [
      await fleetOverview(tx, thresholds),
      await fleetAttention(tx, { staleDays: request.query.stale_days }),
    ] as const);
    return { ...overview, attention: { ...attention, oldRevision: oldRevisionAgents }, offlineAfterSeconds: thresholds.offlineAfterSeconds, staleDays: request.query.stale_days };
  });

  app.get<{ Querystring: ListQuerystring }>('/fleet/agents', { preHandler: viewer, schema: { querystring: listQuery } }, async (request) => {
    const { per_page: perPage, ...query } = request.query;
    const { total, agents } = await withoutJit(sql, (tx) => listFleet(tx, { ...query, perPage }, thresholds));
    return { total, page: query.page, perPage, agents };
  });

  app.get<{ Querystring: { revision?: string } }>('/fleet/rollout', { preHandler: viewer, schema: { querystring: rolloutQuery } }, async (request) =>
    withoutJit(sql, (tx) => rollout(tx, request.query.revision)));

  app.get<{ Querystring: { days: number } }>('/fleet/compliance', { preHandler: viewer, schema: { querystring: complianceQuery } }, async (request) =>
    ({ days: await withoutJit(sql, (tx) => complianceHistory(tx, request.query.days)) }));

  // Viewers see who waits and since when; the public key and the decision stay with the admin API.
  app.get('/fleet/queue', { preHandler: viewer }, async () => ({
    requests: (await listRequests(sql, 'pending')).map(({ id, name, hostname, facts, createdAt }) => ({
      id, name, hostname, createdAt, os: (facts.os as { name?: string; family?: string } | undefined) ?? null,
    })),
  }));

  app.get<{ Params: { name: string } }>('/agents/:name/settings', { preHandler: viewer, schema: { params: nameParams } }, async (request) => {
    const agent = await findAgent(sql, request.params.name);
    if (!agent) throw apiError('NOT_FOUND', `No agent named "${request.params.name}".`);
    const policy = opts.appliedPolicy();
    if (policy) {
      const facts = Object.fromEntries((await sql<Array<{ key: string; value: unknown }>>`
        select fact_key as key, value from agent_facts where agent_id = ${agent.id}`).map(({ key, value }) => [key, value]));
      const identity = { name: agent.name, organization: agent.organization, location: agent.location, facts: { ...agent.facts, ...facts } };
      return { source: 'policy', settings: explainSettings(policy, identity) };
    }
    return { source: 'document', settings: await settingsProvenance(sql, agent) };
  });

  app.get('/fleet/events', { preHandler: viewer }, async (request, reply) => {
    reply.hijack();
    opts.events.attach(reply.raw);
  });
}
