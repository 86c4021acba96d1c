// The agent's end of /api/v1/agent/ws. `reconcile` wakes the loop; `revoked` or close 4401 ends the
// agent; close 4410 (this identity is connected from another machine) logs a critical event and
// waits 30 to 60 minutes before the next attempt; every other message (consoles, on-demand runs) goes to `onOther`, which may answer with
// send(). Any other loss reconnects after a full-jitter delay of its own (so a restarted server is
// not hit by the whole fleet in the same second, and an upgrade refused for good is not retried in
// a loop), and then only when the shared server backoff lets it: a connection attempt is one more
// probe of a server that may be down.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import WebSocket from 'ws';
import { headerValue, parseRetryAfter, ServerError } from '../api/http.ts';
import { backoffDelayMs, type ServerBackoff } from '../api/server-backoff.ts';
import { recordOutcome } from '../api/session.ts';
import { recordCriticalEvent } from '../service/event-log.ts';
import type { Timers } from './scheduler.ts';

export const CLOSE_REVOKED = 4401;
export const CLOSE_REPLACED = 4409;
export const CLOSE_DUPLICATE = 4410;

/** This process, as the server tells it apart from another machine presenting the same identity:
 * a reconnect of this process never counts as a takeover by someone else. */
const PROCESS_INSTANCE = randomUUID();

export interface WakeSocketLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  critical(message: string, fields?: Record<string, unknown>): void;
}

export interface WakeSocketOptions {
  server: string;
  accessToken: () => Promise<string>;
  /** The server refused the token on upgrade: get a new one before the next attempt. */
  invalidateToken: () => void;
  onReconcile: (reason: string, spreadMs: number) => void;
  onRevoked: () => void;
  /** The socket is up: the server is reachable again. */
  onConnected?: () => void;
  /** Messages other than reconcile/revoked, and the socket closing (remote/remote-link.ts). */
  onOther?: (data: Buffer, isBinary: boolean) => void;
  onDisconnected?: () => void;
  log: WakeSocketLog;
  timers: Timers;
  /** The backoff every call to this server shares. */
  backoff: ServerBackoff;
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** A socket open this long was a working connection: the next loss starts the delays over. */
export const STABLE_CONNECTION_MS = 60_000;
/** Cap of the delay after the server replaced this socket with another of the same agent: two
 * machines sharing one identity (a cloned VM) would otherwise take the socket from each other
 * forever. */
export const REPLACED_MAX_DELAY_MS = 900_000;
/** After close 4410 the server has seen this identity on two machines: the socket waits this long
 * (uniformly jittered), so the two share it in turns of half an hour or more instead of flapping.
 * Polls, reports and heartbeats go on meanwhile. */
export const DUPLICATE_MIN_DELAY_MS = 1_800_000;
export const DUPLICATE_MAX_DELAY_MS = 3_600_000;
export const DUPLICATE_IDENTITY_MESSAGE = 'this agent identity is in use on another machine (the server saw two machines take the WebSocket from each other, such as a cloned VM); '
  + 'the WebSocket waits 30 to 60 minutes before it reconnects. On the machine that should not have this identity, run '
  + '"pswm gencert --force --reenroll", then "pswm enroll --force" under its own name';

/** Pure: the delay after close 4410, between the minimum and maximum. */
export function duplicateDelayMs(random: () => number): number {
  return DUPLICATE_MIN_DELAY_MS + Math.floor(random() * (DUPLICATE_MAX_DELAY_MS - DUPLICATE_MIN_DELAY_MS));
}

/** `spreadMs`: the server asked the woken agents to start at random within this many milliseconds
 * (0: at once); see spread-wake.ts. */
export type ServerMessage = { type: 'reconcile'; reason?: string; spreadMs: number } | { type: 'revoked' } | { type: 'unknown' };

export function parseServerMessage(text: string): ServerMessage {
  try {
    const message = JSON.parse(text);
    if (message?.type === 'reconcile') return { type: 'reconcile', reason: typeof message.reason === 'string' ? message.reason : undefined, spreadMs: boundedSpreadMs(message.spread_ms) };
    if (message?.type === 'revoked') return { type: 'revoked' };
  } catch {
    // not JSON: ignored like any unknown message, newer servers may send more
  }
  return { type: 'unknown' };
}

/** A wake is never put off for longer than this, whatever a server asks (a fleet of 100,000 on four
 * instances at the default rate spreads over 25 s). */
export const MAX_WAKE_SPREAD_MS = 900_000;

function boundedSpreadMs(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.min(Math.round(value), MAX_WAKE_SPREAD_MS) : 0;
}

export function wakeSocketUrl(server: string): string {
  const url = new URL('/api/v1/agent/ws', server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export interface WakeSocket {
  /** Sends on the socket if it is open; false otherwise. */
  send(data: string | Buffer): boolean;
  bufferedAmount(): number;
  close(): void;
}

export function openWakeSocket(opts: WakeSocketOptions): WakeSocket {
  const random = opts.random ?? Math.random;
  const baseDelayMs = opts.baseDelayMs ?? 1000;
  const maxDelayMs = opts.maxDelayMs ?? 60_000;
  const closing = new AbortController();
  let attempt = 0;
  let replaced = false;
  let socket: WebSocket | undefined;
  let timer: unknown;
  let stableTimer: unknown;
  const closed = () => closing.signal.aborted;

  const reconnectLater = (atLeastMs = 0) => {
    if (closed()) return;
    const delay = Math.max(atLeastMs, backoffDelayMs(attempt++, baseDelayMs, replaced ? REPLACED_MAX_DELAY_MS : maxDelayMs, random));
    timer = opts.timers.setTimeout(() => void connectWhenAllowed(), delay);
  };
  const revoked = () => {
    closing.abort();
    opts.onRevoked();
  };
  const connectWhenAllowed = async () => {
    try {
      do await opts.backoff.whenOpen(closing.signal);
      while (!opts.backoff.tryAcquire());
    } catch {
      return; // closing
    }
    await connect();
  };

  /** Runs holding the backoff's turn: every path below reports the outcome exactly once. */
  const connect = async () => {
    let reported = false;
    const outcome = (error?: unknown) => {
      if (reported) return;
      reported = true;
      recordOutcome(opts.backoff, error);
    };
    let token: string;
    try {
      token = await opts.accessToken();
    } catch (error) {
      outcome(error);
      if ((error as { code?: string }).code === 'AGENT_REVOKED') return revoked();
      opts.log.warn('WebSocket: no access token, will retry', { error: (error as Error).message });
      return reconnectLater();
    }
    if (closed()) return outcome();
    const ws = new WebSocket(wakeSocketUrl(opts.server), {
      headers: { authorization: `Bearer ${token}`, 'x-pswm-agent-instance': PROCESS_INSTANCE, 'x-pswm-agent-hostname': hostname() },
      handshakeTimeout: 30_000,
    });
    socket = ws;
    ws.on('open', () => {
      outcome();
      opts.log.info('WebSocket connected');
      stableTimer = opts.timers.setTimeout(() => {
        attempt = 0;
        replaced = false;
      }, STABLE_CONNECTION_MS);
      opts.onConnected?.();
    });
    ws.on('unexpected-response', (_request, response) => {
      if (response.statusCode === 401) opts.invalidateToken();
      const retryAfter = parseRetryAfter(headerValue(response.headers, 'retry-after'), Date.now());
      outcome(new ServerError(response.statusCode ?? 0, `HTTP_${response.statusCode}`, 'WebSocket upgrade refused', retryAfter));
      opts.log.warn('WebSocket upgrade refused', { status: response.statusCode });
      ws.terminate();
    });
    ws.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const message = isBinary ? { type: 'unknown' as const } : parseServerMessage(bytes.toString());
      if (message.type === 'reconcile') opts.onReconcile(message.reason ?? 'reconcile', message.spreadMs);
      else if (message.type === 'revoked') revoked();
      else opts.onOther?.(bytes, isBinary);
    });
    ws.on('error', (error) => {
      outcome(error);
      opts.log.warn('WebSocket error', { error: error.message });
    });
    ws.on('close', (code) => {
      outcome(new Error('WebSocket closed before it opened'));
      if (socket === ws) socket = undefined;
      opts.onDisconnected?.();
      if (stableTimer !== undefined) opts.timers.clearTimeout(stableTimer);
      if (code === CLOSE_REVOKED) return revoked();
      if (closed()) return;
      if (code === CLOSE_DUPLICATE) {
        replaced = true;
        const delayMs = duplicateDelayMs(random);
        void recordCriticalEvent(opts.log, DUPLICATE_IDENTITY_MESSAGE, { fields: { code, reconnectInSeconds: Math.round(delayMs / 1000) } });
        return reconnectLater(delayMs);
      }
      if (code === CLOSE_REPLACED) {
        replaced = true;
        opts.log.warn('WebSocket taken over by another connection of this agent (a second machine with this identity, such as a cloned VM?); backing off', { code });
      } else {
        opts.log.info('WebSocket closed, reconnecting', { code });
      }
      reconnectLater();
    });
  };

  void connectWhenAllowed();
  return {
    send(data) {
      if (socket?.readyState !== WebSocket.OPEN) return false;
      socket.send(data);
      return true;
    },
    bufferedAmount: () => socket?.bufferedAmount ?? 0,
    close() {
      closing.abort();
      if (timer !== undefined) opts.timers.clearTimeout(timer);
      if (stableTimer !== undefined) opts.timers.clearTimeout(stableTimer);
      socket?.close(1000, 'agent stopping');
    },
  };
}
