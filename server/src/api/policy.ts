// Read-only listings of the applied policy (the per-kind views of policy_objects) and the compiled
// documents by digest. Documents are served as stored, byte for byte, so their sha256 checks out.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { apiError } from './errors.ts';

// URL segment → view. Views are fixed names from 002_policy.sql, never user input.
const LISTINGS = {
  organizations: 'organizations',
  locations: 'locations',
  overrides: 'agent_overrides',
  scripts: 'scripts',
  'external-facts': 'external_facts',
  packages: 'choco_deployments',
  settings: 'settings',
} as const;
type Listing = keyof typeof LISTINGS;

const listingQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
    offset: { type: 'integer', minimum: 0, default: 0 },
  },
} as const;

const documentParams = {
  type: 'object',
  required: ['sha256'],
  properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
} as const;

export async function policyRoutes(app: FastifyInstance, opts: { sql: postgres.Sql }): Promise<void> {
  const { sql } = opts;

  for (const listing of Object.keys(LISTINGS) as Listing[]) {
    app.get<{ Querystring: { limit: number; offset: number } }>(
      `/policy/${listing}`,
      { preHandler: app.requireRole('viewer'), schema: { querystring: listingQuery } },
      async (request) => {
        const view = sql(LISTINGS[listing]);
        const { limit, offset } = request.query;
        const [{ total }] = await sql<Array<{ total: number }>>`select count(*)::int as total from ${view}`;
        const items = await sql`select * from ${view} order by file, line, name limit ${limit} offset ${offset}`;
        return { total, items };
      },
    );
  }

  app.get<{ Params: { sha256: string } }>(
    '/policy/documents/:sha256',
    { preHandler: app.requireRole('viewer'), schema: { params: documentParams } },
    async (request, reply) => {
      const { sha256 } = request.params;
      const [row] = await sql<Array<{ canonical_json: string }>>`select canonical_json from desired_documents where sha256 = ${sha256}`;
      if (!row) throw apiError('NOT_FOUND', `No document with sha256 ${sha256} in the applied state.`);
      return reply.type('application/json').header('etag', `"${sha256}"`).send(row.canonical_json);
    },
  );
}
