// The signal bus between server instances: PostgreSQL LISTEN/NOTIFY on a real database, in-process
// delivery in embedded mode (one process by definition, and LISTEN does not work through
// pglite-socket; REFERENCE.md). Every message also reaches the publishing instance's own subscribers,
// exactly once.
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';

/** What each channel carries. Subscribers receive parsed JSON from other instances: check before trusting. */
export interface BusPayloads {
  /** Wake these agents, or every agent (each instance delivers to the sockets it holds). */
  pswm_signal: { agentIds: string[]; reason: string } | { all: true; reason: string };
  /** This agent was revoked: refuse its tokens and close its socket. */
  pswm_agent_revoked: { agentId: string; [key: string]: unknown };
  /** The agent → document map changed: for `agentIds` (re-read those), or for anyone (`reload`). */
  pswm_documents: { [key: string]: unknown };
  /** Remote console and on-demand run traffic between the operator's instance and the agent's (console/relay.ts). */
  pswm_console: { [key: string]: unknown };
  /** Agents that just sent a heartbeat or a report, and new enrollment requests (the web console's live view). */
  pswm_fleet: { heartbeats: string[]; reports: string[]; queued: number };
  /** A socket of this agent was claimed with this generation: every instance closes its older one. */
  pswm_agent_socket: { agentId: string; generation: number; duplicate: boolean };
}

export type BusChannel = keyof BusPayloads;
/** One message of publishAll: a channel and what it carries. */
export type BusMessage = { [C in BusChannel]: { channel: C; payload: BusPayloads[C] } }[BusChannel];
export const BUS_CHANNELS: readonly BusChannel[] = ['pswm_signal', 'pswm_agent_revoked', 'pswm_documents', 'pswm_console', 'pswm_fleet', 'pswm_agent_socket'];

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;

export interface Bus {
  /** Resolves once every instance's bus has the message (sent to PostgreSQL, or delivered in process). */
  publish<C extends BusChannel>(channel: C, payload: BusPayloads[C]): Promise<void>;
  /** The messages in this order: to this instance's subscribers at once, and to the others' in one
   * round trip (one transaction's notifications arrive in the order they were sent), so a change of
   * documents and the signal that follows it cost one round trip and arrive in that order. */
  publishAll(messages: BusMessage[]): Promise<void>;
  /**
   * `onResync` runs when the bus reconnected after losing its PostgreSQL connection: messages sent
   * meanwhile are lost, so a subscriber that keeps state (revocations, documents) reloads it then.
   */
  subscribe<C extends BusChannel>(channel: C, fn: (payload: BusPayloads[C]) => void, onResync?: () => void): () => void;
  close(): Promise<void>;
}

interface Subscriber {
  fn: (payload: never) => void;
  onResync?: () => void;
}

/** On the wire: the publishing bus's id, so it can skip its own message when NOTIFY echoes it back. */
interface Envelope {
  origin: string;
  payload: object;
}

/** Listens on `db.sql` (postgres.js gives LISTEN a connection of its own) and sends on `db.control`,
 * so a message never waits in the pool's queue. */
export async function createBus(db: Pick<Database, 'sql' | 'control' | 'embedded'>, log: Logger): Promise<Bus> {
  const origin = randomUUID();
  const subscribers = new Map<BusChannel, Set<Subscriber>>(BUS_CHANNELS.map((channel) => [channel, new Set()]));
  let closed = false;

  const deliver = (channel: BusChannel, payload: object) => {
    for (const subscriber of subscribers.get(channel) ?? []) {
      try {
        subscriber.fn(payload as never);
      } catch (error) {
        log.error({ err: error, channel }, 'bus subscriber failed');
      }
    }
  };
  const resync = (channel: BusChannel) => {
    for (const subscriber of subscribers.get(channel) ?? []) {
      try {
        subscriber.onResync?.();
      } catch (error) {
        log.error({ err: error, channel }, 'bus resync failed');
      }
    }
  };

  const transport = db.embedded ? IN_PROCESS : await notifyTransport(db.sql, db.control, origin, deliver, resync, log);

  const publishAll = async (messages: BusMessage[]) => {
    const sent = messages.map(({ channel, payload }) => {
      if (closed) throw new Error(`bus closed: cannot publish on ${channel}`);
      const text = JSON.stringify({ origin, payload } satisfies Envelope);
      const bytes = Buffer.byteLength(text);
      if (bytes > MAX_PAYLOAD_BYTES) throw new Error(`bus message on ${channel} is ${bytes} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
      return { channel, text };
    });
    // Here without waiting for PostgreSQL's answer (bench:fleet at 30,000: 200–400 ms under load,
    // so a signal woke the publishing instance's agents after the other instance's), but once the
    // NOTIFY is on its way: this delivery can be a send loop over every socket held here (~160 ms at
    // 15,000), and run first it holds up the other instances' by as much. postgres.js writes a short
    // query from a setImmediate it queues a few microtasks after the call: the first setImmediate
    // below can run before it (then the NOTIFY waited for the whole local delivery), the second,
    // queued from the first, runs in the next turn of the loop, after it. A failed send still
    // rejects, and the other instances catch up as after any lost message (resync, the document
    // maps' safety net, agents' polls); delivered nowhere instead, this instance would have to
    // catch up the same way.
    if (!sent.length) return;
    const sending = transport.send(sent);
    sending.catch(() => {}); // rejects to the caller below, not as unhandled while this waits
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    for (const { channel, payload } of messages) deliver(channel, payload);
    await sending;
  };

  return {
    publish: (channel, payload) => publishAll([{ channel, payload } as BusMessage]),
    publishAll,
    subscribe(channel, fn, onResync) {
      const subscriber: Subscriber = { fn, onResync };
      subscribers.get(channel)!.add(subscriber);
      return () => void subscribers.get(channel)!.delete(subscriber);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const set of subscribers.values()) set.clear();
      await transport.close();
    },
  };
}

/**
 * One statement: its notifications are queued in the rows' order and sent at its commit. The texts
 * are in it as literals, not parameters: postgres.js sends a statement with parameters that is new
 * to a connection in two round trips (its parameter types first), and the second went out only once
 * this instance's event loop read the first answer — after publishAll's local delivery, which for a
 * fleet-wide signal is a send loop over every socket held here: the other instances' wake-ups waited
 * for it (bench:fleet at 30,000: their first delivery 204–257 ms after the publish). Dollar quotes
 * take the text as it is, whatever standard_conforming_strings says.
 */
export function notifyStatement(messages: Array<{ channel: BusChannel; text: string }>): string {
  const rows = messages.map(({ channel, text }) => `(${dollarQuoted(channel)}, ${dollarQuoted(text)})`);
  return `select pg_notify(m.channel, m.text) from (values ${rows.join(', ')}) as m(channel, text)`;
}

function dollarQuoted(text: string): string {
  let tag = 'bus';
  while (text.includes(`$${tag}$`)) tag = `bus${randomUUID().replaceAll('-', '')}`;
  return `$${tag}$${text}$${tag}$`;
}

interface Transport {
  /** In this order, in one transaction. */
  send(messages: Array<{ channel: BusChannel; text: string }>): Promise<void>;
  close(): Promise<void>;
}

/** Embedded mode is one process: the local delivery in publishAll() is all there is. */
const IN_PROCESS: Transport = { send: async () => {}, close: async () => {} };

async function notifyTransport(
  sql: postgres.Sql,
  sender: postgres.Sql,
  origin: string,
  deliver: (channel: BusChannel, payload: object) => void,
  resync: (channel: BusChannel) => void,
  log: Logger,
): Promise<Transport> {
  const receive = (channel: BusChannel) => (text: string) => {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      log.warn({ channel }, 'bus: ignoring a notification that is not JSON');
      return;
    }
    if (envelope.origin === origin) return; // delivered locally when it was published
    if (typeof envelope.payload !== 'object' || envelope.payload === null) return;
    deliver(channel, envelope.payload);
  };
  const listening = await Promise.all(BUS_CHANNELS.map(async (channel) => {
    let connected = false;
    // postgres.js calls onlisten on the first LISTEN and again after every reconnect.
    const onListen = () => {
      if (connected) {
        log.info({ channel }, 'bus: listening again after a reconnect; subscribers resync');
        resync(channel);
      }
      connected = true;
    };
    return sql.listen(channel, receive(channel), onListen);
  }));
  return {
    async send(messages) {
      await sender.unsafe(notifyStatement(messages), [], { prepare: false });
    },
    async close() {
      // A session that is gone (PostgreSQL down, the client already ended) has no LISTEN left to
      // undo: closing must not fail for it, or a shutdown while the database is away reports an error.
      await Promise.all(listening.map((listen) => listen.unlisten().catch((error: unknown) => log.debug({ err: error }, 'bus: UNLISTEN failed; the session is gone'))));
    },
  };
}
