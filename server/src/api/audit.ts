// GET /audit (viewer): the audit log, newest first, filtered and paged by id. `nextBefore` is the
// cursor for the next page (absent on the last one); ids only grow, so pages never shift under a reader.
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { apiError } from './errors.ts';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    actor: { type: 'string', minLength: 1, maxLength: 200 },
    // Exact, or a prefix when it ends in "*": "agent.*".
    action: { type: 'string', minLength: 1, maxLength: 200 },
    target: { type: 'string', minLength: 1, maxLength: 500 },
    outcome: { type: 'string', enum: ['success', 'failure'] },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    before: { type: 'integer', minimum: 1 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  },
} as const;

interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  outcome?: 'success' | 'failure';
  since?: string;
  until?: string;
  before?: number;
  limit: number;
}

export async function auditRoutes(app: FastifyInstance, opts: { sql: postgres.Sql }): Promise<void> {
  const { sql } = opts;
  app.get<{ Querystring: AuditQuery }>(
    '/audit',
    { preHandler: app.requireRole('viewer'), schema: { querystring: auditQuery } },
    async (request) => {
      const { actor, action, target, outcome, since, until, before, limit } = request.query;
      if (since && until && Date.parse(since) > Date.parse(until)) throw apiError('BAD_REQUEST', '"since" is later than "until".');
      const conditions = [
        actor !== undefined && sql`actor = ${actor}`,
        action !== undefined && (action.endsWith('*') ? sql`starts_with(action, ${action.slice(0, -1)})` : sql`action = ${action}`),
        target !== undefined && sql`target = ${target}`,
        outcome !== undefined && sql`outcome = ${outcome}`,
        since !== undefined && sql`at >= ${since}::timestamptz`,
        until !== undefined && sql`at < ${until}::timestamptz`,
        before !== undefined && sql`id < ${before}`,
      ].filter((condition) => condition !== false);
      const where = conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`);
      const rows = await sql<{ id: string; at: Date; actor: string; action: string; target: string | null; outcome: string; details: object }[]>`
        select id, at, actor, action, target, outcome, details from audit_log
        where ${where}
        order by id desc
        limit ${limit}`;
      const entries = rows.map((row) => ({ ...row, id: Number(row.id) }));
      return { entries, ...(entries.length === limit ? { nextBefore: entries.at(-1)!.id } : {}) };
    },
  );
}
