// The agent's end of /api/v1/agent/ws. `reconcile` wakes the loop; `revoked` or close 4401 ends the
// agent; every other message (consoles, on-demand runs) goes to `onOther`, which may answer with send(). Any other loss reconnects with full-jitter backoff, so a restarted server is
// not hit by the whole fleet in the same second.
import WebSocket from 'ws';
import { backoffDelayMs } from '../report/outbox.ts';
import type { Timers } from './scheduler.ts';

export const CLOSE_REVOKED = 4401;
export const CLOSE_REPLACED = 4409;

export interface WakeSocketLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface WakeSocketOptions {
  server: string;
  accessToken: () => Promise<string>;
  /** The server refused the token on upgrade: get a new one before the next attempt. */
  invalidateToken: () => void;
  onReconcile: (reason: string) => void;
  onRevoked: () => void;
  /** The socket is up: the server is reachable again. */
  onConnected?: () => void;
  /** Messages other than reconcile/revoked, and the socket closing (remote/remote-link.ts). */
  onOther?: (data: Buffer, isBinary: boolean) => void;
  onDisconnected?: () => void;
  log: WakeSocketLog;
  timers: Timers;
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export type ServerMessage = { type: 'reconcile'; reason?: string } | { type: 'revoked' } | { type: 'unknown' };

export function parseServerMessage(text: string): ServerMessage {
  try {
    const message = JSON.parse(text);
    if (message?.type === 'reconcile') return { type: 'reconcile', reason: typeof message.reason === 'string' ? message.reason : undefined };
    if (message?.type === 'revoked') return { type: 'revoked' };
  } catch {
    // not JSON: ignored like any unknown message, newer servers may send more
  }
  return { type: 'unknown' };
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
  let attempt = 0;
  let closed = false;
  let socket: WebSocket | undefined;
  let timer: unknown;

  const reconnectLater = () => {
    if (closed) return;
    const delay = backoffDelayMs(attempt++, baseDelayMs, maxDelayMs, random);
    timer = opts.timers.setTimeout(() => void connect(), delay);
  };
  const revoked = () => {
    closed = true;
    opts.onRevoked();
  };

  const connect = async () => {
    if (closed) return;
    let token: string;
    try {
      token = await opts.accessToken();
    } catch (error) {
      if ((error as { code?: string }).code === 'AGENT_REVOKED') return revoked();
      opts.log.warn('WebSocket: no access token, will retry', { error: (error as Error).message });
      return reconnectLater();
    }
    if (closed) return;
    const ws = new WebSocket(wakeSocketUrl(opts.server), { headers: { authorization: `Bearer ${token}` }, handshakeTimeout: 30_000 });
    socket = ws;
    ws.on('open', () => {
      attempt = 0;
      opts.log.info('WebSocket connected');
      opts.onConnected?.();
    });
    ws.on('unexpected-response', (_request, response) => {
      if (response.statusCode === 401) opts.invalidateToken();
      opts.log.warn('WebSocket upgrade refused', { status: response.statusCode });
      ws.terminate();
    });
    ws.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const message = isBinary ? { type: 'unknown' as const } : parseServerMessage(bytes.toString());
      if (message.type === 'reconcile') opts.onReconcile(message.reason ?? 'reconcile');
      else if (message.type === 'revoked') revoked();
      else opts.onOther?.(bytes, isBinary);
    });
    ws.on('error', (error) => opts.log.warn('WebSocket error', { error: error.message }));
    ws.on('close', (code) => {
      if (socket === ws) socket = undefined;
      opts.onDisconnected?.();
      if (code === CLOSE_REVOKED) return revoked();
      if (closed) return;
      opts.log.info('WebSocket closed, reconnecting', { code });
      reconnectLater();
    });
  };

  void connect();
  return {
    send(data) {
      if (socket?.readyState !== WebSocket.OPEN) return false;
      socket.send(data);
      return true;
    },
    bufferedAmount: () => socket?.bufferedAmount ?? 0,
    close() {
      closed = true;
      if (timer !== undefined) opts.timers.clearTimeout(timer);
      socket?.close(1000, 'agent stopping');
    },
  };
}
