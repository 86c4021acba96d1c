// A scripted operator for console tests: the same WebSocket the `pswm-server console` client uses,
// with the output collected so a test can wait for text in it.
import WebSocket from 'ws';

export interface ScriptedOperator {
  socket: WebSocket;
  /** Terminal output received so far (UTF-8). */
  output(): string;
  /** JSON control messages received so far. */
  messages(): Array<Record<string, any>>;
  type(text: string): void;
  resize(cols: number, rows: number): void;
  waitForOutput(pattern: RegExp, timeoutMs?: number, fromOffset?: number): Promise<RegExpExecArray>;
  waitForMessage(type: string, timeoutMs?: number): Promise<Record<string, any>>;
  closed: Promise<void>;
}

export function openOperator(server: string, token: string, query: { agent: string; reason: string; cols?: number; rows?: number }): ScriptedOperator {
  const url = new URL('/api/v1/console/ws', server);
  url.protocol = 'ws:';
  for (const [key, value] of Object.entries({ cols: 80, rows: 24, ...query })) url.searchParams.set(key, String(value));
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const chunks: Buffer[] = [];
  const messages: Array<Record<string, any>> = [];
  const listeners = new Set<() => void>();
  socket.on('message', (data: Buffer, isBinary) => {
    if (isBinary) chunks.push(data);
    else messages.push(JSON.parse(data.toString()));
    listeners.forEach((listener) => listener());
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  const output = () => Buffer.concat(chunks).toString('utf8');
  const waitUntil = <T>(found: () => T | undefined, timeoutMs: number, what: string) => new Promise<T>((resolve, reject) => {
    const check = () => {
      const value = found();
      if (value === undefined) return;
      cleanup();
      resolve(value);
    };
    const timer = setTimeout(() => (cleanup(), reject(new Error(`no ${what} within ${timeoutMs} ms; output so far:\n${output()}\nmessages: ${JSON.stringify(messages)}`))), timeoutMs);
    const cleanup = () => (clearTimeout(timer), listeners.delete(check));
    listeners.add(check);
    check();
  });
  const send = (data: string | Buffer, binary: boolean) => {
    const go = () => socket.send(data, { binary });
    if (socket.readyState === WebSocket.OPEN) go();
    else socket.once('open', go);
  };
  return {
    socket,
    output,
    messages: () => messages,
    type: (text) => send(Buffer.from(text), true),
    resize: (cols, rows) => send(JSON.stringify({ type: 'resize', cols, rows }), false),
    waitForOutput: (pattern, timeoutMs = 15_000, fromOffset = 0) => waitUntil(() => pattern.exec(output().slice(fromOffset)) ?? undefined, timeoutMs, String(pattern)),
    waitForMessage: (type, timeoutMs = 15_000) => waitUntil(() => messages.find((m) => m.type === type), timeoutMs, `"${type}" message`),
    closed,
  };
}
