// Each instance's in-memory copy of the agent → document map, so that a desired-state poll whose
// If-None-Match still names the agent's document is answered without a database round trip. It is
// loaded at start and brought up to date whenever the applied documents change: by this instance after
// its own writes, by the others when the bus channel 'pswm_documents' says so, after a bus reconnect,
// and every minute in case a notification was lost.
//
// A change names the agents whose document changed (a reconcile or a scope refresh knows them), so
// every instance re-reads those agents only: a one-location commit is ~75 rows, not the whole fleet
// (at 30,000 agents each instance re-read 30,000 rows per commit and per enrolment batch). A change
// naming more agents than PARTIAL_MAX, or none in particular, reloads everything. Updates run one
// at a time in arrival order, so an older read never lands over a newer one.
//
// While an update for a change is queued or running, the copy may be stale, so lookups fall through
// to the database: the writer publishes the change before it signals agents, and notifications arrive
// in commit order, so an agent woken by a signal never gets a 304 from an instance that has not heard
// of its change. A change whose update failed leaves the copy untrusted (lookups keep falling
// through) until a full reload succeeds. The minute's safety-net reload knows of no change, so polls
// keep using the copy while it runs (at 15,000 agents a fall-through there sent every poll of that
// moment to the database).
import type postgres from 'postgres';
import type { Bus } from '../hub/bus.ts';
import type { Logger } from '../logger.ts';
import { UUID } from '../auth/tokens.ts';
import { chunkAgentIds } from '../hub/publish-signal.ts';
import { readAgentDocument, readAgentDocuments, readEveryAgentDocumentInBatches } from '../apply/agent-documents.ts';

export interface AgentDocument {
  document: string;
  revision: string | null;
}

export interface DocumentMap {
  /** From memory only; undefined when this instance does not know the agent or may be stale. */
  cached(agentId: string): AgentDocument | undefined;
  /** Whether the copy has the agent at all, stale or not: an agent it lacks is newly enrolled. */
  knows(agentId: string): boolean;
  /** From the database (an agent enrolled since the last reload, or an update under way); remembered. */
  lookup(agentId: string): Promise<AgentDocument | undefined>;
  /** Has every instance (this one included) update its copy: for these agents, or for every agent. */
  changed(agentIds?: string[]): Promise<void>;
  close(): void;
}

const RELOAD_EVERY_MS = 60_000;
/** Above this many agents one full reload is cheaper than re-reading each by id. */
const PARTIAL_MAX = 2_000;

/** What the next update reads: every agent, or these; `change`: it follows a change of documents. */
interface Update {
  all: boolean;
  agentIds: Set<string>;
  change: boolean;
}

export async function createDocumentMap(deps: { sql: postgres.Sql; bus: Pick<Bus, 'publish' | 'subscribe'>; log: Pick<Logger, 'warn'> }): Promise<DocumentMap> {
  const { sql, bus, log } = deps;
  let { documents, revision } = await readAgentDocuments(sql);
  let queued: Update | undefined;
  let running: Update | undefined;
  let untrusted = false;
  // Bumped by every update: a lookup that raced one must not write its older answer over it.
  let generation = 0;

  const stale = () => untrusted || Boolean(queued?.change || running?.change);

  const request = (agentIds: Iterable<string> | 'all', change: boolean) => {
    const update = (queued ??= { all: false, agentIds: new Set(), change: false });
    if (agentIds === 'all') update.all = true;
    else if (!update.all) for (const id of agentIds) update.agentIds.add(id);
    if (update.agentIds.size > PARTIAL_MAX) update.all = true;
    if (update.all) update.agentIds.clear();
    update.change ||= change;
    if (!running) void drain();
  };

  const drain = async () => {
    while (queued) {
      running = queued;
      queued = undefined;
      try {
        await apply(running);
        if (running.all) untrusted = false;
      } catch (error) {
        if (running.change) untrusted = true;
        log.warn({ err: error }, 'cannot update the agent document map; lookups go to the database until a full reload succeeds');
      }
    }
    running = undefined;
  };

  const apply = async (update: Update) => {
    const ids = [...update.agentIds];
    // A change's full reload is read at once (lookups wait for it); the safety net's in the background.
    const loaded = update.all && !update.change ? await readEveryAgentDocumentInBatches(sql) : await readAgentDocuments(sql, update.all ? 'all' : { agentIds: ids });
    generation++;
    revision = loaded.revision;
    if (update.all) {
      documents = loaded.documents;
      return;
    }
    // An agent missing from the answer was revoked or has no document any more.
    for (const id of ids) {
      const document = loaded.documents.get(id);
      if (document === undefined) documents.delete(id);
      else documents.set(id, document);
    }
  };

  const unsubscribe = bus.subscribe('pswm_documents', (message) => request(namedAgents(message) ?? 'all', true), () => request('all', true));
  // The safety net never piles up behind a slow database.
  const timer = setInterval(() => running || queued || request('all', false), RELOAD_EVERY_MS).unref();

  return {
    cached(agentId) {
      if (stale()) return undefined;
      const document = documents.get(agentId);
      return document === undefined ? undefined : { document, revision };
    },
    knows: (agentId) => documents.has(agentId),
    async lookup(agentId) {
      const startedIn = generation;
      const found = await readAgentDocument(sql, agentId);
      if (found && !stale() && generation === startedIn) documents.set(agentId, found.document);
      return found;
    },
    async changed(agentIds) {
      // The bus delivers to this instance too, which queues its update before publish returns.
      if (!agentIds || agentIds.length > PARTIAL_MAX) return bus.publish('pswm_documents', { reload: true });
      const chunks = agentIds.length ? chunkAgentIds([...new Set(agentIds)]) : [[]];
      await Promise.all(chunks.map((chunk) => bus.publish('pswm_documents', { agentIds: chunk })));
    },
    close() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}

/** The agents a change message names; undefined (reload everything) for anything else. */
function namedAgents(message: { [key: string]: unknown }): string[] | undefined {
  const { agentIds } = message;
  return Array.isArray(agentIds) && agentIds.every((id) => typeof id === 'string' && UUID.test(id)) ? agentIds : undefined;
}
