// A test agent's WebSocket to /api/v1/agent/ws: connects with a bearer token, records what it
// receives, and resolves waits for messages, pings and the close.
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';

export interface AgentSocket {
  socket: WebSocket;
  messages: unknown[];
  pings(): number;
  /** Resolves with the nth message (1-based) once it has arrived. */
  message(n: number): Promise<unknown>;
  pingCount(n: number): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

export function agentSocketUrl(serverUrl: string): string {
  return `${serverUrl.replace(/^http/, 'ws')}/api/v1/agent/ws`;
}

/** Connects, or rejects with the HTTP status the upgrade was refused with ("HTTP 401"). */
export function connectAgentSocket(serverUrl: string, token: string | undefined, options: ClientOptions = {}): Promise<AgentSocket> {
  // options.headers, when given, replace the bearer header (to send malformed ones).
  const clientOptions: ClientOptions = { headers: token ? { authorization: `Bearer ${token}` } : {}, ...options };
  const socket = new WebSocket(agentSocketUrl(serverUrl), clientOptions);
  const messages: unknown[] = [];
  let pings = 0;
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((wake) => wake());
  const until = (ready: () => boolean) => new Promise<void>((resolve) => {
    const check = () => (ready() ? resolve() : waiters.push(check));
    check();
  });
  // The agent reads only text frames (a binary one is an unknown message to it), so a binary frame is
  // kept as what it is and never equals the message a test expects.
  socket.on('message', (data, isBinary) => {
    messages.push(isBinary ? { binaryFrame: data.toString() } : JSON.parse(data.toString()));
    notify();
  });
  socket.on('ping', () => {
    pings++;
    notify();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({
      socket,
      messages,
      pings: () => pings,
      message: async (n) => {
        await until(() => messages.length >= n);
        return messages[n - 1];
      },
      pingCount: (n) => until(() => pings >= n),
      closed,
    }));
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`HTTP ${response.statusCode}`));
      socket.terminate();
    });
    socket.once('error', reject);
  });
}
