// Carries console and run traffic between the instance an operator is connected to and the instance
// that holds the agent's socket. Same instance: handed over in memory. Different instances: over the
// bus channel 'pswm_console' (PostgreSQL NOTIFY, already shared by every instance), in order per
// session and direction, terminal bytes coalesced into messages under NOTIFY's size limit.
//
// The agent's instance also guards the sessions: it remembers which agent each session was opened
// on, so an agent can only write into its own sessions, and it ends them when the agent's socket goes.
import type { AgentToServer, ServerToAgent } from '@pswm/schemas/console-wire';
import { AGENT_TO_SERVER_TYPES, decodeTerminalFrame, encodeTerminalFrame, isUuid, parseControl } from '@pswm/schemas/console-wire';
import type { Bus } from '../hub/bus.ts';
import type { DisconnectReason, Hub } from '../hub/hub.ts';
import type { Logger } from '../logger.ts';

/** What the operator's side of a session receives: the agent's messages, and the relay's own word
 * that the open request reached the agent's instance. */
export type RelayedMessage = AgentToServer | { type: 'relay.delivered'; session: string };

export interface OperatorEnd {
  message(message: RelayedMessage): void;
  output(data: Buffer): void;
}

export type RunMessage = Extract<AgentToServer, { type: `run.${string}` }>;

export interface ConsoleRelay {
  /** Operator side: from now on, what the agent sends in `session` goes to `end`. */
  listen(session: string, end: OperatorEnd): () => void;
  toAgent(agentId: string, message: ServerToAgent): void;
  input(agentId: string, session: string, data: Buffer): void;
  /** Agent side: run messages from the agents connected here, and agents (re)connecting here. */
  onRunMessage(fn: (agentId: string, message: RunMessage) => void): void;
  onAgentConnected(fn: (agentId: string) => void): void;
  close(): void;
}

interface Envelope {
  to: 'agent' | 'operator';
  session?: string;
  agentId?: string;
  message?: ServerToAgent | RelayedMessage;
  /** base64 terminal bytes */
  data?: string;
}

/** Raw bytes per bus message: base64 (4/3) plus the envelope stays under NOTIFY's 8000 bytes. */
const MAX_DATA_PER_MESSAGE = 5000;
/** Output queued for the bus past this: the agent is asked to pause the PTY until it drains. */
const QUEUE_HIGH_BYTES = 256 * 1024;
const QUEUE_LOW_BYTES = 64 * 1024;

export function createConsoleRelay(deps: { hub: Pick<Hub, 'sendToAgent' | 'attach'>; bus: Pick<Bus, 'publish' | 'subscribe'>; log: Logger }): ConsoleRelay {
  const { hub, bus, log } = deps;
  const operators = new Map<string, OperatorEnd>();
  /** Sessions whose agent is connected here: session → agent id. */
  const agentSessions = new Map<string, string>();
  const runHandlers: Array<(agentId: string, message: RunMessage) => void> = [];
  const connectHandlers: Array<(agentId: string) => void> = [];
  const queue = createOrderedPublisher((envelope) => bus.publish('pswm_console', envelope as unknown as { [key: string]: unknown }), log);

  const toOperator = (session: string, item: { message?: RelayedMessage; data?: Buffer }) => {
    const end = operators.get(session);
    if (end) {
      if (item.message) end.message(item.message);
      if (item.data) end.output(item.data);
      return;
    }
    const agentId = agentSessions.get(session);
    queue.push(`operator:${session}`, { to: 'operator', session }, item);
    if (agentId && item.data) pauseWhileQueued(session, agentId);
  };

  // Bus backpressure, decided here where the agent's socket is: pause the PTY while the queue is long.
  const pausedForQueue = new Set<string>();
  const pauseWhileQueued = (session: string, agentId: string) => {
    if (pausedForQueue.has(session) || queue.pendingBytes(`operator:${session}`) < QUEUE_HIGH_BYTES) return;
    pausedForQueue.add(session);
    hub.sendToAgent(agentId, JSON.stringify({ type: 'console.pause', session, by: 'relay' }));
    queue.whenBelow(`operator:${session}`, QUEUE_LOW_BYTES, () => {
      pausedForQueue.delete(session);
      if (agentSessions.get(session) === agentId) hub.sendToAgent(agentId, JSON.stringify({ type: 'console.resume', session, by: 'relay' }));
    });
  };

  /** Delivers to the agent if its socket is here; true when it was. */
  const deliverHere = (agentId: string, item: { session?: string; message?: ServerToAgent; data?: Buffer }): boolean => {
    const payload = item.data && item.session ? encodeTerminalFrame(item.session, item.data) : JSON.stringify(item.message);
    if (!hub.sendToAgent(agentId, payload)) return false;
    const message = item.message;
    if (message?.type === 'console.open') {
      agentSessions.set(message.session, agentId);
      toOperator(message.session, { message: { type: 'relay.delivered', session: message.session } });
    } else if (message?.type === 'console.close') {
      agentSessions.delete(message.session);
    }
    return true;
  };

  const toAgent = (agentId: string, item: { session?: string; message?: ServerToAgent; data?: Buffer }) => {
    if (deliverHere(agentId, item)) return;
    const key = `agent:${item.session ?? (item.message && 'run' in item.message ? item.message.run : agentId)}`;
    queue.push(key, { to: 'agent', agentId, session: item.session }, { message: item.message, data: item.data });
  };

  const unsubscribe = bus.subscribe('pswm_console', (payload) => {
    const envelope = payload as unknown as Envelope;
    const data = typeof envelope.data === 'string' ? Buffer.from(envelope.data, 'base64') : undefined;
    if (envelope.to === 'agent' && isUuid(envelope.agentId)) {
      deliverHere(envelope.agentId, { session: envelope.session, message: envelope.message as ServerToAgent | undefined, data });
    } else if (envelope.to === 'operator' && isUuid(envelope.session)) {
      const end = operators.get(envelope.session);
      if (!end) return;
      if (envelope.message) end.message(envelope.message as RelayedMessage);
      if (data) end.output(data);
    }
  });

  const endAgentSessions = (agentId: string, reason: DisconnectReason) => {
    for (const [session, owner] of [...agentSessions]) {
      if (owner !== agentId) continue;
      agentSessions.delete(session);
      toOperator(session, { message: { type: 'console.ended', session, end: reason === 'revoked' ? 'revoked' : 'agent-disconnected' } });
    }
  };

  const detach = hub.attach({
    connected: (agentId) => connectHandlers.forEach((fn) => fn(agentId)),
    gone: endAgentSessions,
    message(agentId, data, isBinary) {
      if (isBinary) {
        const frame = decodeTerminalFrame(data);
        if (frame && agentSessions.get(frame.session) === agentId) toOperator(frame.session, { data: frame.data });
        return;
      }
      const message = parseControl<AgentToServer>(data.toString(), AGENT_TO_SERVER_TYPES);
      if (!message) return;
      if (message.type.startsWith('run.')) return runHandlers.forEach((fn) => fn(agentId, message as RunMessage));
      const { session } = message as { session: string };
      if (agentSessions.get(session) !== agentId) return; // not a session of this agent
      if (message.type === 'console.ended' || message.type === 'console.refused') agentSessions.delete(session);
      toOperator(session, { message });
    },
  });

  return {
    listen(session, end) {
      operators.set(session, end);
      return () => void operators.delete(session);
    },
    toAgent: (agentId, message) => toAgent(agentId, { message, session: 'session' in message ? message.session : undefined }),
    input: (agentId, session, data) => toAgent(agentId, { session, data }),
    onRunMessage: (fn) => void runHandlers.push(fn),
    onAgentConnected: (fn) => void connectHandlers.push(fn),
    close() {
      detach();
      unsubscribe();
    },
  };
}

interface QueueItem {
  envelope: Envelope;
  message?: ServerToAgent | RelayedMessage;
  data?: Buffer;
}

/**
 * Bus messages in order per key: one publish in flight per key (a pool of connections could
 * otherwise reorder two NOTIFYs), terminal bytes queued meanwhile coalesced into the next message.
 */
function createOrderedPublisher(publish: (envelope: Envelope) => Promise<void>, log: Logger) {
  const queues = new Map<string, { items: QueueItem[]; bytes: number; sending: boolean; waiters: Array<{ below: number; fn: () => void }> }>();

  const pump = async (key: string) => {
    const queue = queues.get(key)!;
    queue.sending = true;
    while (queue.items.length) {
      const item = queue.items.shift()!;
      queue.bytes -= item.data?.length ?? 0;
      try {
        await publish({ ...item.envelope, ...(item.message ? { message: item.message } : {}), ...(item.data ? { data: item.data.toString('base64') } : {}) });
      } catch (error) {
        log.warn({ err: error, key }, 'console relay: a bus message was not sent');
      }
      queue.waiters = queue.waiters.filter((waiter) => (queue.bytes < waiter.below ? (waiter.fn(), false) : true));
    }
    queue.sending = false;
    queue.waiters.forEach((waiter) => waiter.fn());
    queues.delete(key);
  };

  return {
    push(key: string, envelope: Envelope, item: { message?: ServerToAgent | RelayedMessage; data?: Buffer }) {
      let queue = queues.get(key);
      if (!queue) queues.set(key, (queue = { items: [], bytes: 0, sending: false, waiters: [] }));
      if (item.message) queue.items.push({ envelope, message: item.message });
      for (let offset = 0; item.data && offset < item.data.length;) {
        const last = queue.items.at(-1);
        const room = last && !last.message && last.data ? MAX_DATA_PER_MESSAGE - last.data.length : 0;
        if (room > 0 && last?.data) {
          const part = item.data.subarray(offset, offset + room);
          last.data = Buffer.concat([last.data, part]);
          offset += part.length;
          queue.bytes += part.length;
        } else {
          const part = item.data.subarray(offset, offset + MAX_DATA_PER_MESSAGE);
          queue.items.push({ envelope, data: Buffer.from(part) });
          offset += part.length;
          queue.bytes += part.length;
        }
      }
      if (!queue.sending) void pump(key);
    },
    pendingBytes: (key: string) => queues.get(key)?.bytes ?? 0,
    whenBelow(key: string, below: number, fn: () => void) {
      const queue = queues.get(key);
      if (!queue || queue.bytes < below) return fn();
      queue.waiters.push({ below, fn });
    },
  };
}
