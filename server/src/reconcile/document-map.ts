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
// While an update for a change is queued or running, the copy may be stale for the agents it names,
// so their lookups fall through to the database: the writer publishes the change before it signals
// agents, and notifications arrive in commit order, so an agent woken by a signal never gets a 304
// from an instance that has not heard of its change. Every other agent is still answered from memory:
// when a one-location commit made the whole copy count as stale, every poll of the fleet (500 a second
// at 30,000 agents) went to the database, through the pool, until the update's own read got through
// that pool behind them; bench:fleet saw the 75 woken agents fetch 1–25 s after their wake-up. A
// change whose update failed leaves the copy untrusted (every lookup falls through) until a full
// reload succeeds. The minute's safety-net reload knows of no change, so polls
// keep using the copy while it runs (at 15,000 agents a fall-through there sent every poll of that
// moment to the database).
//
// The safety net reads one row first: every write to the applied documents bumps documents_version,
// so when it has not moved since the last full reload there is nothing a lost notification could have
// carried, and the fleet is not re-read (at 30,000 agents, two instances re-reading every agent each
// minute were the steady state's worst moments: both servers and PostgreSQL busy at once, 30–45 ms
// scavenges). A full reload updates the entries in place: an unchanged document keeps its string, so
// the rows it read die young instead of 30,000 new strings surviving into the old generation. Each
// instance draws its own period, so two instances started together do not reload together.
import type postgres from 'postgres';
import type { Bus, BusMessage } from '../hub/bus.ts';
import type { Logger } from '../logger.ts';
import { UUID } from '../auth/tokens.ts';
import { chunkAgentIds } from '../hub/publish-signal.ts';
import { readAgentDocument, readAgentDocuments, readDocumentsState, visitEveryAgentDocument, type AgentDocuments } from '../apply/agent-documents.ts';

export interface AgentDocument {
  document: string;
  revision: string | null;
}

export interface DocumentMap {
  /** From memory only; undefined when this instance does not know the agent or may be stale for it. */
  cached(agentId: string): AgentDocument | undefined;
  /** Whether the copy has the agent at all, stale or not: an agent it lacks is newly enrolled. */
  knows(agentId: string): boolean;
  /** From the database (an agent enrolled since the last reload, or an update under way); remembered. */
  lookup(agentId: string): Promise<AgentDocument | undefined>;
  close(): void;
}

/** The safety net's period: 45–75 s, drawn once per instance. */
const RELOAD_EVERY_MS = 45_000;
const RELOAD_SPREAD_MS = 30_000;
/** Above this many agents one full reload is cheaper than re-reading each by id. */
const PARTIAL_MAX = 2_000;

/** What the next update reads: every agent, or these; `change`: it follows a change of documents. */
interface Update {
  all: boolean;
  agentIds: Set<string>;
  change: boolean;
}

/** One agent's entry; `pass`: the last full reload that saw it (the others are swept after one). */
interface Entry {
  document: string;
  pass: number;
}

export async function createDocumentMap(deps: {
  sql: postgres.Sql; bus: Pick<Bus, 'subscribe'>; log: Pick<Logger, 'warn'>;
  /** The safety net's period; by default drawn between 45 and 75 s. */
  safetyNetMs?: number;
}): Promise<DocumentMap> {
  const { sql, bus, log } = deps;
  const entries = new Map<string, Entry>();
  let pass = 0;
  const keep = (agentId: string, document: string) => {
    const entry = entries.get(agentId);
    if (!entry) entries.set(agentId, { document, pass });
    else {
      if (entry.document !== document) entry.document = document;
      entry.pass = pass;
    }
  };
  const keepAll = (loaded: AgentDocuments) => {
    for (const [agentId, document] of loaded.documents) keep(agentId, document);
    return loaded;
  };
  let { revision, documentsVersion: fullyReadAt } = keepAll(await readAgentDocuments(sql));
  let queued: Update | undefined;
  let running: Update | undefined;
  let untrusted = false;
  // Bumped by every update: a lookup that raced one must not write its older answer over it.
  let generation = 0;

  const stale = (agentId: string) => untrusted || awaits(queued, agentId) || awaits(running, agentId);

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
    if (update.all) return reloadAll(update.change);
    const ids = [...update.agentIds];
    const loaded = await readAgentDocuments(sql, { agentIds: ids });
    generation++;
    revision = loaded.revision;
    // An agent missing from the answer was revoked or has no document any more.
    for (const id of ids) {
      const document = loaded.documents.get(id);
      if (document === undefined) entries.delete(id);
      else keep(id, document);
    }
  };

  const reloadAll = async (change: boolean) => {
    if (!change && !untrusted) {
      const now = await readDocumentsState(sql);
      if (now.documentsVersion === fullyReadAt && now.revision === revision) return;
    }
    pass++;
    // A change's full reload is read at once (lookups wait for it); the safety net's in the background.
    const state = change ? keepAll(await readAgentDocuments(sql)) : await visitEveryAgentDocument(sql, keep);
    // Not seen by this pass: revoked, or no document any more.
    for (const [agentId, entry] of entries) if (entry.pass !== pass) entries.delete(agentId);
    generation++;
    revision = state.revision;
    fullyReadAt = state.documentsVersion;
  };

  const unsubscribe = bus.subscribe('pswm_documents', (message) => request(namedAgents(message) ?? 'all', true), () => request('all', true));
  // The safety net never piles up behind a slow database.
  const period = deps.safetyNetMs ?? RELOAD_EVERY_MS + Math.floor(Math.random() * RELOAD_SPREAD_MS);
  const timer = setInterval(() => running || queued || request('all', false), period).unref();

  return {
    cached(agentId) {
      if (stale(agentId)) return undefined;
      const entry = entries.get(agentId);
      return entry === undefined ? undefined : { document: entry.document, revision };
    },
    knows: (agentId) => entries.has(agentId),
    async lookup(agentId) {
      const startedIn = generation;
      const found = await readAgentDocument(sql, agentId);
      if (found && !stale(agentId) && generation === startedIn) keep(agentId, found.document);
      return found;
    },
    close() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}

/** The bus messages saying that these agents' documents changed (without ids, or more than
 * PARTIAL_MAX: anyone's). The bus delivers them to this instance too, which queues its update at once. */
export function documentChangeMessages(agentIds?: string[]): BusMessage[] {
  if (!agentIds || agentIds.length > PARTIAL_MAX) return [{ channel: 'pswm_documents', payload: { reload: true } }];
  const chunks = agentIds.length ? chunkAgentIds([...new Set(agentIds)]) : [[]];
  return chunks.map((chunk) => ({ channel: 'pswm_documents', payload: { agentIds: chunk } }));
}

/** Whether this update follows a change of the agent's document (it names the agent, or every agent). */
function awaits(update: Update | undefined, agentId: string): boolean {
  return Boolean(update?.change && (update.all || update.agentIds.has(agentId)));
}

/** The agents a change message names; undefined (reload everything) for anything else. */
function namedAgents(message: { [key: string]: unknown }): string[] | undefined {
  const { agentIds } = message;
  return Array.isArray(agentIds) && agentIds.every((id) => typeof id === 'string' && UUID.test(id)) ? agentIds : undefined;
}
