// Each instance's in-memory copy of the agent → document map, so that a desired-state poll whose
// If-None-Match still names the agent's document is answered without a database round trip. It is
// loaded at start and reloaded whenever the applied documents change: by this instance after its own
// writes, by the others when the bus channel 'pswm_documents' says so (the message is only
// "reload", so it stays far below NOTIFY's 8000 bytes whatever the fleet size), after a bus
// reconnect, and every minute in case a notification was lost.
//
// While a reload for a change is under way the copy may be stale, so lookups fall through to the
// database: the writer publishes the reload before it signals agents, and notifications arrive in
// commit order, so an agent woken by a signal never gets a 304 from an instance that has not heard of
// its change. The minute's safety-net reload knows of no change, so polls keep using the copy while
// it runs (at 15,000 agents a fall-through there sent every poll of that moment to the database).
import type postgres from 'postgres';
import type { Bus } from '../hub/bus.ts';
import type { Logger } from '../logger.ts';
import { readAgentDocument, readAgentDocuments } from '../apply/agent-documents.ts';

export interface AgentDocument {
  document: string;
  revision: string | null;
}

export interface DocumentMap {
  /** From memory only; undefined when this instance does not know the agent or is reloading. */
  cached(agentId: string): AgentDocument | undefined;
  /** Whether the copy has the agent at all, reload or not: an agent it lacks is newly enrolled. */
  knows(agentId: string): boolean;
  /** From the database (an agent enrolled since the last reload, or a reload under way); remembered. */
  lookup(agentId: string): Promise<AgentDocument | undefined>;
  /** Has every instance (this one included) reload its copy. */
  changed(): Promise<void>;
  close(): void;
}

const RELOAD_EVERY_MS = 60_000;

export async function createDocumentMap(deps: { sql: postgres.Sql; bus: Pick<Bus, 'publish' | 'subscribe'>; log: Pick<Logger, 'warn'> }): Promise<DocumentMap> {
  const { sql, bus, log } = deps;
  let documents = new Map<string, string>();
  let revision: string | null = null;
  let reloadsRunning = 0;
  let reloadsInFlight = 0;
  // Bumped by every reload: a lookup that raced a reload must not write its older answer over it,
  // and a reload that a newer one overtook must not either.
  let generation = 0;

  /** `afterChange`: documents changed, so until the new copy is in, lookups go to the database. */
  const reload = async (afterChange: boolean) => {
    if (afterChange) reloadsRunning++;
    reloadsInFlight++;
    const mine = ++generation;
    try {
      const loaded = await readAgentDocuments(sql);
      if (mine !== generation) return;
      documents = loaded.documents;
      revision = loaded.revision;
    } finally {
      reloadsInFlight--;
      if (afterChange) reloadsRunning--;
    }
  };
  const reloadQuietly = (afterChange: boolean) => void reload(afterChange).catch((error) => log.warn({ err: error }, 'cannot reload the agent document map; lookups go to the database'));
  // The safety net never piles up behind a slow database.
  const reloadPeriodically = () => reloadsInFlight === 0 && reloadQuietly(false);

  await reload(true);
  // A bus (re)connect may have missed notifications: treated as a change.
  const unsubscribe = bus.subscribe('pswm_documents', () => reloadQuietly(true), () => reloadQuietly(true));
  const timer = setInterval(reloadPeriodically, RELOAD_EVERY_MS).unref();

  return {
    cached(agentId) {
      if (reloadsRunning > 0) return undefined;
      const document = documents.get(agentId);
      return document === undefined ? undefined : { document, revision };
    },
    knows: (agentId) => documents.has(agentId),
    async lookup(agentId) {
      const startedIn = generation;
      const found = await readAgentDocument(sql, agentId);
      if (found && reloadsRunning === 0 && generation === startedIn) documents.set(agentId, found.document);
      return found;
    },
    async changed() {
      // The bus delivers to this instance too, which starts its reload before publish returns.
      await bus.publish('pswm_documents', { reload: true });
    },
    close() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
