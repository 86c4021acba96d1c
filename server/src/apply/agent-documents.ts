// Which document each enrolled agent receives, read from the applied state: its own scope
// ("org/location/name": an AgentOverride pins it, or its facts or a `targets.agents` entry make its
// document differ from its location's) if it has one, else its location's scope ("org/location").
// The map is derived from scope_documents rather than stored beside it, so it cannot disagree with
// the documents the reconcile wrote, and every instance loads it with one query.
import type postgres from 'postgres';

type Queryable = postgres.Sql | postgres.TransactionSql;

/** What the applied documents are at: every write to them bumps documentsVersion. */
export interface DocumentsState {
  /** The applied policy revision (null before the first apply). */
  revision: string | null;
  /** policy_state.documents_version: moves with every write to the applied documents. */
  documentsVersion: number;
}

export interface AgentDocuments extends DocumentsState {
  /** agent id → document id, for active agents that have a document. */
  documents: Map<string, string>;
}

/** Whose documents to read: every active agent, or only those of `agentIds` or of agents whose
 * location scope or own scope is one of `scopes` (a write's changed scopes: only their agents'
 * documents can have changed, so a one-location commit reads that location's agents, not the fleet). */
export type AgentDocumentFilter = 'all' | { agentIds: string[] } | { scopes: string[] };

/** Every active agent's document, or those the filter names. */
export async function readAgentDocuments(sql: Queryable, filter: AgentDocumentFilter = 'all'): Promise<AgentDocuments> {
  const state = await readDocumentsState(sql);
  const rows = await sql<Array<{ id: string; document: string }>>`${agentDocumentsQuery(sql, filter)}`;
  return { ...state, documents: new Map(rows.map((row) => [row.id, row.document])) };
}

/** The select behind readAgentDocuments (exported for the test that checks its plan). */
export function agentDocumentsQuery(sql: Queryable, filter: AgentDocumentFilter) {
  const only = filter === 'all'
    ? sql``
    : 'agentIds' in filter
      ? sql`and a.id = any(${filter.agentIds}::uuid[])`
      : sql`and (a.organization || '/' || a.location = any(${filter.scopes}::text[])
             or (a.name = any(${ownScopeNames(filter.scopes)}::text[]) and a.organization || '/' || a.location || '/' || a.name = any(${filter.scopes}::text[])))`;
  return sql`${agentDocumentSelect(sql)} ${only}`;
}

/** The agent names in agents' own scopes ("org/location/name"): names are unique, so each arm of the
 * filter is an index lookup (agents_scope_path, the name's) instead of a pass over every agent. */
function ownScopeNames(scopes: string[]): string[] {
  return scopes.map((scope) => scope.split('/')).filter((parts) => parts.length === 3).map((parts) => parts[2]);
}

/** Rows per batch when every agent is read in the background. */
const BACKGROUND_BATCH_ROWS = 2_000;

/**
 * Every active agent's document, handed to `visit` in batches with the event loop free between them:
 * at 30,000 agents one result was a ~50-ms stall of the server that read it (the document map's
 * safety net). The state is read before the rows, so a write committed meanwhile makes the returned
 * version older than the rows, never newer: whoever keeps it re-reads rather than misses a change.
 */
export async function visitEveryAgentDocument(sql: postgres.Sql, visit: (agentId: string, document: string) => void, batchRows = BACKGROUND_BATCH_ROWS): Promise<DocumentsState> {
  const state = await readDocumentsState(sql);
  await sql<Array<{ id: string; document: string }>>`${agentDocumentSelect(sql)}`.cursor(batchRows, async (rows) => {
    for (const row of rows) visit(row.id, row.document);
    await new Promise((resolve) => setImmediate(resolve));
  });
  return state;
}

export async function readDocumentsState(sql: Queryable): Promise<DocumentsState> {
  const [state] = await sql<Array<{ applied_revision: string | null; documents_version: string }>>`select applied_revision, documents_version from policy_state`;
  return { revision: state?.applied_revision ?? null, documentsVersion: Number(state?.documents_version ?? 0) };
}

/** One agent's document and the applied revision, in one query; undefined when it has none. */
export async function readAgentDocument(sql: Queryable, agentId: string): Promise<{ document: string; revision: string | null } | undefined> {
  const [row] = await sql<Array<{ document: string; revision: string | null }>>`
    select document, (select applied_revision from policy_state) as revision
    from (${agentDocumentSelect(sql)} and a.id = ${agentId}) agent`;
  return row;
}

function agentDocumentSelect(sql: Queryable) {
  return sql`
    select a.id, coalesce(own.document_sha256, location.document_sha256) as document
    from agents a
    left join scope_documents own on own.scope = a.organization || '/' || a.location || '/' || a.name
    left join scope_documents location on location.scope = a.organization || '/' || a.location
    where a.status = 'active' and coalesce(own.document_sha256, location.document_sha256) is not null`;
}

/** The agents whose document differs between two maps (changed, gained or lost one). */
export function changedAgents(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed = new Set<string>();
  for (const [id, document] of after) if (before.get(id) !== document) changed.add(id);
  for (const id of before.keys()) if (!after.has(id)) changed.add(id);
  return [...changed].sort();
}
