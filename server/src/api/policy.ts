// Read-only listings of the applied policy (the per-kind views of policy_objects) and the compiled
// documents by id. A document is assembled from its stored parts and contents (document-store.ts);
// its ETag is the document id, which names the parts, not a hash of the bytes served.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { apiError } from './errors.ts';
import { createDocumentStore, type DocumentStore } from '../apply/document-store.ts';

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

export async function policyRoutes(app: FastifyInstance, opts: { sql: postgres.Sql; documents?: DocumentStore }): Promise<void> {
  const { sql } = opts;
  const documents = opts.documents ?? createDocumentStore(sql);

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
      const etag = `"${sha256}"`;
      const json = await documents.read(sha256);
      if (json === undefined) throw apiError('NOT_FOUND', `No document with id ${sha256} in the applied state.`);
      reply.header('etag', etag);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('application/json').send(json);
    },
  );
}
