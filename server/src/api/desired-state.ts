// GET /agent/desired-state: the document of the agent the access token names (no parameter names an
// agent, so an agent can only ever read its own). The ETag is the document id, strong because the id
// names the content; If-None-Match naming it is answered 304 from this instance's memory — token
// checked by the authority (remembered once verified), document id from the in-memory map — without a
// database round trip.
// Agents poll this every iteration, so its request lines are not logged at info (logLevel below):
// at fleet scale they would be most of the log and a good part of the cost of a poll.
import type { FastifyInstance, FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import type { DocumentStore } from '../apply/document-store.ts';
import type { AgentDocument, DocumentMap } from '../reconcile/document-map.ts';
import { REPORT_BODY_LIMIT_BYTES } from './agent-reports.ts';
import { apiError } from './errors.ts';

export interface DesiredStateOptions {
  documents: DocumentStore;
  map: DocumentMap;
  /** Called when the database knows an agent this instance's map did not (newly enrolled): the
   * reconciler checks whether its facts or name need a document of its own. */
  onUnknownAgent?: (agentId: string) => void;
}

export async function desiredStateRoutes(app: FastifyInstance, opts: DesiredStateOptions): Promise<void> {
  const { documents, map } = opts;
  const onRequest = app.requireAgent as unknown as onRequestAsyncHookHandler;

  app.get('/agent/desired-state', { onRequest, logLevel: 'warn' }, async (request, reply) => {
    const { agentId } = request.agent!;
    app.markAgentSeen(agentId);
    const inMemory = map.cached(agentId);
    if (inMemory && matchesEtag(request.headers['if-none-match'], inMemory.document)) return notModified(reply, inMemory);

    const current = inMemory ?? await map.lookup(agentId);
    if (!current) throw noDesiredState();
    if (!inMemory && !map.knows(agentId)) opts.onUnknownAgent?.(agentId);
    if (matchesEtag(request.headers['if-none-match'], current.document)) return notModified(reply, current);
    // A reconcile may have dropped the document between the map's answer and this read: ask again.
    const served = await read(current) ?? await lookupAndRead(agentId);
    if (!served) throw noDesiredState();
    return withHeaders(reply, served.at).type('application/json').send(served.json);
  });

  async function read(at: AgentDocument): Promise<{ at: AgentDocument; json: string } | undefined> {
    const json = await documents.read(at.document);
    return json === undefined ? undefined : { at, json };
  }

  async function lookupAndRead(agentId: string) {
    const at = await map.lookup(agentId);
    return at ? read(at) : undefined;
  }
}

function noDesiredState() {
  return apiError('NO_DESIRED_STATE', 'No desired state has been compiled for this agent yet: the policy is not applied, or the agent\'s location is not in it. Retry later.');
}

function withHeaders(reply: FastifyReply, at: AgentDocument): FastifyReply {
  // the report limit rides along so agents never build a report this server refuses for its size
  return reply.header('etag', `"${at.document}"`).header('x-pswm-revision', at.revision ?? '').header('x-pswm-report-limit', String(REPORT_BODY_LIMIT_BYTES)).header('cache-control', 'no-cache');
}

function notModified(reply: FastifyReply, at: AgentDocument): FastifyReply {
  return withHeaders(reply, at).code(304).send();
}

/** If-None-Match holds one entity tag or a list; a weak tag still names our document (RFC 9110 §13.1.2
 * compares weakly for If-None-Match). */
function matchesEtag(header: string | undefined, document: string): boolean {
  if (!header) return false;
  if (header.length === document.length + 2) return header === `"${document}"`;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === `"${document}"` || tag.trim() === '*');
}
