// The WebSocket hub: one socket per agent on GET /api/v1/agent/ws, used to wake agents
// ({ type: 'reconcile' }), to tell them they were revoked, and by attached channels (the remote
// console and on-demand runs, server/src/console/) that send and receive their own messages on it. Signals travel over the bus, so a signal
// requested on any instance reaches the instance that holds the agent's socket. Memory per socket is
// bounded: sockets that stop answering pings are terminated, and sockets whose send buffer grows past
// a threshold are closed instead of queueing more.
import websocket from '@fastify/websocket';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import type { WebSocket } from 'ws';
import type { AgentAuthority, AgentPrincipal } from '../agents/access-token.ts';
import { apiError } from '../api/errors.ts';
import type { Logger } from '../logger.ts';
import type { Bus, BusPayloads } from './bus.ts';
import { clientLeft } from './abandoned-upgrade.ts';
import { textFrame, writeFrame } from './frames.ts';
import { spreadSweep } from './keepalive.ts';
import { publishSignal } from './publish-signal.ts';
import { throttledLog } from './throttled-log.ts';
import { DEFAULT_WAKE_RATE, wakeSpreadMs } from './wake-spread.ts';
import type { SocketClaims, SocketPeer } from './socket-claims.ts';

/** `spread_ms`: start the answer after a random share of this many milliseconds (wake-spread.ts). */
export type HubMessage = { type: 'reconcile'; reason: string; spread_ms?: number } | { type: 'revoked' };

export const CLOSE_CODES = {
  /** Server shutting down; the agent reconnects elsewhere. */
  goingAway: 1001,
  /** The agent did not read fast enough; it reconnects and polls. */
  slowConsumer: 1013,
  revoked: 4401,
  /** The same agent connected again; only the newest socket is kept. */
  replaced: 4409,
  /** The same agent identity connects from two machines (socket-claims.ts): the displaced one stops for long. */
  duplicateIdentity: 4410,
} as const;

/** Headers the agent sends on the upgrade: its process's random id and its host name (socket-claims.ts). */
const INSTANCE_HEADER = 'x-pswm-agent-instance';
const HOSTNAME_HEADER = 'x-pswm-agent-hostname';
const INSTANCE_ID = /^[A-Za-z0-9-]{8,64}$/;

export interface HubOptions {
  pingIntervalMs: number;
  /** How often a slice of the keepalive sweep runs (the sweep is spread over pingIntervalMs). A ping
   * costs ~0.1 ms of kernel write on loopback; at 100 ms a tick pings 1/300 of the sockets: 50, ~5 ms,
   * at 15,000 (at 1 s it was 500 pings, a 55-ms tick). */
  pingTickMs: number;
  /** Agent sockets this instance accepts; more get 503 + Retry-After (see capacity.ts). */
  socketCapacity: number;
  /** Past this many unsent bytes a socket is closed rather than given more. */
  maxBufferedBytes: number;
  /** Agents this instance wakes at once; a signal to more asks them to spread their answers (wake-spread.ts). 0: never. */
  wakeRate: number;
}

const DEFAULT_OPTIONS: HubOptions = { pingIntervalMs: 30_000, pingTickMs: 100, socketCapacity: Number.POSITIVE_INFINITY, maxBufferedBytes: 256 * 1024, wakeRate: DEFAULT_WAKE_RATE };
/** Agents refused for capacity retry after about this long (they add their own jitter). */
const CAPACITY_RETRY_AFTER_SECONDS = 60;
const WARNING_EVERY_MS = 10_000;
const MAX_INBOUND_BYTES = 64 * 1024;
/** A peer that does not read will not answer our close frame either: cut it after this long. */
const CLOSE_GRACE_MS = 1000;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

export type DisconnectReason = 'replaced' | 'revoked' | 'slow' | 'dead' | 'closed' | 'shutdown';

/** Another user of the agent sockets: sees what the hub does not handle, and sockets coming and going. */
export interface HubChannel {
  connected(agentId: string): void;
  message(agentId: string, data: Buffer, isBinary: boolean): void;
  gone(agentId: string, reason: DisconnectReason): void;
}

interface Connection {
  socket: WebSocket;
  principal: AgentPrincipal;
  answeredPing: boolean;
  /** From the socket claim; undefined until it is recorded (or without claims). */
  generation?: number;
  /** A newer socket of the agent took over: what still arrives on this one is ignored. */
  displaced?: boolean;
  ended?: boolean;
}

export interface Hub {
  /** Registers GET /agent/ws; register it with the API prefix. */
  plugin(app: FastifyInstance): Promise<void>;
  /** Wakes these agents, or every agent with 'all', on whichever instance holds their sockets. */
  signalAgents(agentIds: string[] | 'all', reason: string): Promise<void>;
  /** Sends on this instance's socket of the agent; false when it has none here (or it was too slow). */
  sendToAgent(agentId: string, data: string | Buffer): boolean;
  attach(channel: HubChannel): () => void;
  disconnect(agentId: string): void;
  connectedCount(): number;
  /** The most agent sockets this instance accepts (Infinity when unbounded). */
  capacity(): number;
  close(): Promise<void>;
}

export function createHub(deps: {
  bus: Bus; authority: Pick<AgentAuthority, 'verify' | 'isRevoked'>; log: Logger; options?: Partial<HubOptions>;
  /** Shared record of each agent's socket: one socket per agent across instances, and duplicate identities. Without it only this instance's sockets are compared. */
  claims?: SocketClaims;
}): Hub {
  const { bus, authority, log, claims } = deps;
  const options = { ...DEFAULT_OPTIONS, ...deps.options };
  const connections = new Map<string, Connection>();
  const principals = new WeakMap<FastifyRequest, AgentPrincipal>();
  let onDisconnect: (reason: DisconnectReason) => void = () => {};
  let onAbandoned: () => void = () => {};
  const channels = new Set<HubChannel>();
  const tell = (fn: (channel: HubChannel) => void) => {
    for (const channel of channels) {
      try {
        fn(channel);
      } catch (error) {
        log.error({ err: error }, 'hub channel failed');
      }
    }
  };

  const drop = (connection: Connection, reason: DisconnectReason, close: (socket: WebSocket) => void) => {
    if (connections.get(connection.principal.agentId) === connection) connections.delete(connection.principal.agentId);
    connection.ended = true;
    // a replaced socket's claim passed to the newer one already; at shutdown close() releases them all at once
    if (reason !== 'replaced' && reason !== 'shutdown') release(connection);
    onDisconnect(reason);
    tell((channel) => channel.gone(connection.principal.agentId, reason));
    // at shutdown one line says how many (15,000 lines per instance per restart said nothing more)
    if (reason !== 'shutdown') log.info({ agent: connection.principal.name, reason }, 'agent socket dropped');
    close(connection.socket);
  };

  /** Whether the socket is open and has room for this many more bytes; a socket past the limit goes. */
  const roomFor = (connection: Connection, bytes: number): boolean => {
    const { socket } = connection;
    if (socket.readyState !== socket.OPEN) return false;
    if (socket.bufferedAmount + bytes <= options.maxBufferedBytes) return true;
    drop(connection, 'slow', (s) => closeFirmly(s, CLOSE_CODES.slowConsumer, 'slow consumer'));
    return false;
  };
  const send = (connection: Connection, message: HubMessage | Buffer | string): boolean => {
    const data = typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message);
    if (!roomFor(connection, Buffer.byteLength(data))) return false;
    connection.socket.send(data);
    return true;
  };

  const unsubscribeSignals = bus.subscribe('pswm_signal', (payload) => {
    if (!isSignal(payload)) return;
    const woken = 'all' in payload ? [...connections.values()] : heldConnections(payload.agentIds);
    const spreadMs = wakeSpreadMs(woken.length, options.wakeRate);
    const message: HubMessage = { type: 'reconcile', reason: payload.reason, ...(spreadMs ? { spread_ms: spreadMs } : {}) };
    // framed once: a fleet-wide signal goes to every socket in this one pass (frames.ts)
    const started = performance.now();
    const frame = textFrame(JSON.stringify(message));
    for (const connection of woken) {
      if (roomFor(connection, frame.length)) writeFrame(connection.socket, frame);
    }
    // A wake-up large enough to be spread is rare (a fleet-wide signal, a policy change reaching
    // most agents) and its pass holds this instance for a while: said on every instance, with how long.
    if (spreadMs) log.info({ reason: payload.reason, sockets: woken.length, spreadMs, sendMs: Math.round(performance.now() - started) }, 'agents woken');
  });
  const heldConnections = (agentIds: string[]): Connection[] => {
    const held: Connection[] = [];
    for (const agentId of agentIds) {
      const connection = connections.get(agentId);
      if (connection) held.push(connection);
    }
    return held;
  };
  const cutOff = (connection: Connection) => {
    send(connection, { type: 'revoked' });
    drop(connection, 'revoked', (s) => closeFirmly(s, CLOSE_CODES.revoked, 'agent revoked'));
  };
  const release = (connection: Connection) => {
    if (!claims || connection.generation === undefined) return;
    claims.release(connection.principal.agentId, connection.generation)
      .catch((error) => log.warn({ err: error, agent: connection.principal.name }, 'agent socket claim not released'));
  };
  const closeDisplaced = (socket: WebSocket, duplicate: boolean) => {
    if (duplicate) closeFirmly(socket, CLOSE_CODES.duplicateIdentity, 'this agent identity is connected from another machine');
    else socket.close(CLOSE_CODES.replaced, 'replaced by a newer connection');
  };
  // A newer socket of the agent was claimed, here or on another instance: an older one held here goes.
  const unsubscribeClaims = bus.subscribe('pswm_agent_socket', (payload) => {
    if (typeof payload?.agentId !== 'string' || typeof payload.generation !== 'number') return;
    const connection = connections.get(payload.agentId);
    if (connection?.generation === undefined || connection.generation >= payload.generation) return;
    connection.displaced = true;
    drop(connection, 'replaced', (s) => closeDisplaced(s, payload.duplicate === true));
  });
  /** Records the new socket; the socket it displaced on this instance is closed once the claim says how. */
  const claim = async (connection: Connection, request: FastifyRequest, displaced: Connection | undefined) => {
    const { agentId, name } = connection.principal;
    if (!claims) {
      if (displaced) closeDisplaced(displaced.socket, false);
      return;
    }
    let duplicate = false;
    // Read from the request before awaiting, so the upgrade's objects need not outlive this turn.
    const origin = socketOrigin(request);
    const address = request.ip;
    try {
      const claimed = await claims.claim(agentId, origin);
      duplicate = claimed.duplicate;
      connection.generation = claimed.generation;
      if (duplicate) log.warn({ agent: name, address }, 'agent identity connected from two machines: the displaced socket is told to stop');
      if (connection.ended) release(connection);
      // only when a socket was open: after a plain reconnect there is nothing to close anywhere
      else if (claimed.displaced) await bus.publish('pswm_agent_socket', { agentId, generation: claimed.generation, duplicate });
    } catch (error) {
      log.warn({ err: error, agent: name }, 'agent socket claim not recorded');
    } finally {
      if (displaced) closeDisplaced(displaced.socket, duplicate);
    }
  };
  const unsubscribeRevocations = bus.subscribe('pswm_agent_revoked', (payload) => {
    const connection = typeof payload?.agentId === 'string' ? connections.get(payload.agentId) : undefined;
    if (connection) cutOff(connection);
  });

  // The ws keepalive: a socket that has not answered the previous ping by the next one is dead.
  // The same sweep catches revocations whose bus message was lost while the bus reconnected: the
  // authority reloads its revoked set from the database on resync and periodically.
  const pinger = spreadSweep(connections, (connection) => {
    if (authority.isRevoked(connection.principal.agentId)) return cutOff(connection);
    if (!connection.answeredPing) return drop(connection, 'dead', (s) => s.terminate());
    connection.answeredPing = false;
    connection.socket.ping();
  }, { intervalMs: options.pingIntervalMs, tickMs: options.pingTickMs });

  const logRefusal = throttledLog(WARNING_EVERY_MS, (refused) => log.warn({ capacity: options.socketCapacity, refused }, 'agent socket capacity reached: refusing new agent sockets (raise the open-file limit or add an instance)'));
  const refuseAtCapacity = (reply: FastifyReply) => {
    logRefusal();
    reply.header('retry-after', String(CAPACITY_RETRY_AFTER_SECONDS));
    throw apiError('SOCKET_CAPACITY', `This server instance holds its maximum of ${options.socketCapacity} agent sockets; retry later or connect to another instance.`);
  };
  const logAbandoned = throttledLog(WARNING_EVERY_MS, (abandoned) => log.warn({ abandoned }, 'agents closed their connections before this instance got to them: they waited in the accept queue past the agents\' handshake timeout (the instance is overloaded; see docs/scaling.md)'));

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    if (await clientLeft(request.raw.socket)) {
      onAbandoned();
      logAbandoned();
      request.raw.socket.destroy();
      return reply.hijack();
    }
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) throw apiError('UNAUTHENTICATED', 'The agent WebSocket needs "Authorization: Bearer <agent access token>".');
    const principal = authority.verify(match[1]);
    if (!principal) throw apiError('INVALID_TOKEN', 'The agent access token is malformed, forged, expired or revoked.');
    // A reconnecting agent replaces its own socket, so it never counts against the capacity.
    if (connections.size >= options.socketCapacity && !connections.has(principal.agentId)) refuseAtCapacity(reply);
    principals.set(request, principal);
  };

  const accept = (socket: WebSocket, request: FastifyRequest) => {
    const principal = principals.get(request)!;
    releaseUpgrade(socket, request);
    const previous = connections.get(principal.agentId);
    if (previous) {
      previous.displaced = true;
      drop(previous, 'replaced', () => {}); // closed by claim() with the code the claim decides
    }
    const connection: Connection = { socket, principal, answeredPing: true };
    connections.set(principal.agentId, connection);
    socket.on('pong', () => (connection.answeredPing = true));
    socket.on('message', (data, isBinary) => {
      if (!connection.displaced) tell((channel) => channel.message(principal.agentId, toBuffer(data), isBinary));
    });
    socket.on('error', (error) => log.warn({ err: error, agent: principal.name }, 'agent socket error'));
    socket.on('close', () => {
      if (connections.get(principal.agentId) === connection) drop(connection, 'closed', () => {});
    });
    tell((channel) => channel.connected(principal.agentId));
    void claim(connection, request, previous);
  };

  return {
    async plugin(app) {
      await registerWebSockets(app);
      new Gauge({
        name: 'pswm_websocket_connections',
        help: 'Agent WebSocket connections open on this instance.',
        registers: [app.metrics],
        collect() {
          this.set(connections.size);
        },
      });
      new Gauge({
        name: 'pswm_websocket_capacity',
        help: 'Agent WebSocket connections this instance accepts before it answers 503 (from the open-file limit or --max-agent-sockets).',
        registers: [app.metrics],
        collect() {
          this.set(Number.isFinite(options.socketCapacity) ? options.socketCapacity : -1);
        },
      });
      const disconnects = new Counter({
        name: 'pswm_websocket_disconnects_total',
        help: 'Agent WebSocket connections ended, by reason (closed, replaced, revoked, slow, dead, shutdown).',
        labelNames: ['reason'],
        registers: [app.metrics],
      });
      onDisconnect = (reason) => disconnects.inc({ reason });
      const abandoned = new Counter({
        name: 'pswm_websocket_upgrades_abandoned_total',
        help: 'Agent WebSocket upgrades dropped unanswered because the agent had closed its connection before this instance got to it (it waited in the accept queue past the handshake timeout: the instance is overloaded).',
        registers: [app.metrics],
      });
      onAbandoned = () => abandoned.inc();
      // At capacity the instance is not ready for more agents: a load balancer sends them elsewhere.
      app.readinessChecks?.push({
        name: 'agent-sockets',
        check: async () => (connections.size >= options.socketCapacity ? `at capacity: ${connections.size} of ${options.socketCapacity} agent sockets in use` : undefined),
      });
      app.get('/agent/ws', { websocket: true, preValidation: authenticate }, accept);
    },
    async signalAgents(agentIds, reason) {
      await publishSignal(bus, agentIds, reason);
    },
    sendToAgent(agentId, data) {
      const connection = connections.get(agentId);
      return connection ? send(connection, data) : false;
    },
    attach(channel) {
      channels.add(channel);
      return () => void channels.delete(channel);
    },
    disconnect(agentId) {
      const connection = connections.get(agentId);
      if (connection) drop(connection, 'closed', (s) => s.close(CLOSE_CODES.goingAway, 'disconnected by the server'));
    },
    connectedCount: () => connections.size,
    capacity: () => options.socketCapacity,
    async close() {
      pinger.stop();
      unsubscribeSignals();
      unsubscribeRevocations();
      unsubscribeClaims();
      const held = [...connections.values()];
      // Firmly: the server's close waits for every socket to end, and a peer that does not answer its
      // close frame would hold it up to ws's 30-s close timeout (bench:fleet at 30,000: a graceful stop
      // took 6–11 s while the agents' processes were short of CPU).
      for (const connection of held) {
        drop(connection, 'shutdown', (s) => closeFirmly(s, CLOSE_CODES.goingAway, 'server shutting down'));
      }
      log.info({ sockets: held.length }, 'agent sockets closed for the shutdown');
      // Released in one statement: claims left held would make each agent's reconnect after a
      // restart look like it displaced an open socket, and announce it on the bus (15,000 messages
      // for a fleet coming back at once).
      const claimed = held.flatMap((c) => (c.generation === undefined ? [] : [{ agentId: c.principal.agentId, generation: c.generation }]));
      await claims?.releaseMany(claimed).catch((error: unknown) => log.warn({ err: error, sockets: claimed.length }, 'agent socket claims not released at shutdown'));
    },
  };
}

/**
 * WebSocket support, once per server: every WebSocket route (the hub's, the console's) must share one
 * upgrade handler, so the server registers it at the root before them (a plugin registered alone,
 * as in tests, gets its own).
 */
export async function registerWebSockets(app: FastifyInstance): Promise<void> {
  if (!app.hasDecorator('websocketServer')) await app.register(websocket, { options: { maxPayload: MAX_INBOUND_BYTES } });
}

/**
 * Lets the upgrade's objects be collected once the socket is accepted, instead of living as long as the
 * socket (about half of the 8 KB of heap each agent socket took, bench:socket-memory):
 * @fastify/websocket's 'error' listener closes over the fastify request and reply, their child logger and the IncomingMessage with
 * its header strings (the hub's own listener replaces it), and the upgrade's ServerResponse stays
 * attached to the TCP socket as its current message.
 */
function releaseUpgrade(socket: WebSocket, request: FastifyRequest): void {
  socket.removeAllListeners('error');
  const tcp = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null };
  tcp._httpMessage?.detachSocket(tcp);
}

function closeFirmly(socket: WebSocket, code: number, reason: string): void {
  socket.close(code, reason);
  setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
}

/** The agent process behind a socket: its own id when it sends one (older agents do not: their address stands in). */
function socketOrigin(request: FastifyRequest): { instance: string; peer: SocketPeer } {
  const instance = headerText(request.headers[INSTANCE_HEADER]);
  const hostname = headerText(request.headers[HOSTNAME_HEADER])?.replace(/[^\x21-\x7e]/g, '').slice(0, 253);
  return {
    instance: instance && INSTANCE_ID.test(instance) ? instance : `address:${request.ip}`,
    peer: { address: request.ip, ...(hostname ? { hostname } : {}) },
  };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function isSignal(payload: unknown): payload is BusPayloads['pswm_signal'] {
  const signal = payload as { reason?: unknown; all?: unknown; agentIds?: unknown } | undefined;
  if (typeof signal?.reason !== 'string') return false;
  return signal.all === true || (Array.isArray(signal.agentIds) && signal.agentIds.every((id) => typeof id === 'string'));
}
