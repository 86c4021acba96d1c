// Each instance's in-memory copy of the agent → document map, so that a desired-state poll whose
// If-None-Match still names the agent's document is answered without a database round trip. It is
// loaded at start and reloaded whenever the applied documents change: by this instance after its own
// writes, by the others when the bus channel 'pswm_documents' says so (the message is only
// "reload", so it stays far below NOTIFY's 8000 bytes whatever the fleet size), after a bus
// reconnect, and every minute in case a notification was lost.
//
// While a reload is under way the copy may be stale, so lookups fall through to the database: the
// writer publishes the reload before it signals agents, and notifications arrive in commit order,
// so an agent woken by a signal never gets a 304 from an instance that has not heard of its change.
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
  // Bumped by every reload: a lookup that raced a reload must not write its older answer over it.
  let generation = 0;

  const reload = async () => {
    reloadsRunning++;
    generation++;
    try {
      const loaded = await readAgentDocuments(sql);
      documents = loaded.documents;
      revision = loaded.revision;
    } finally {
      reloadsRunning--;
    }
  };
  const reloadQuietly = () => void reload().catch((error) => log.warn({ err: error }, 'cannot reload the agent document map; lookups go to the database'));

  await reload();
  const unsubscribe = bus.subscribe('pswm_documents', reloadQuietly, reloadQuietly);
  const timer = setInterval(reloadQuietly, RELOAD_EVERY_MS).unref();

  return {
    cached(agentId) {
      if (reloadsRunning > 0) return undefined;
      const document = documents.get(agentId);
      return document === undefined ? undefined : { document, revision };
    },
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
