// The simulators' HTTP client: keep-alive HTTP/1.1 over plain sockets, one request at a time per
// connection. A simulator stands for thousands of machines on a core it shares with the servers it
// measures, so what it spends per request is taken from them. Once warm, undici's request() took
// 77 µs of CPU per request and this 54 µs, of which ~15 µs is the sending timer's
// (`npm run bench:fleet-http`; undici builds a Request, runs a wasm parser and a body stream per
// call, and took 130–230 µs until its JIT warmed up). It speaks only what pswm-server answers: a
// status line, headers, and a body of Content-Length or chunked; anything else fails the request
// with EPROTO.
import net from 'node:net';

export interface LeanResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

export interface LeanRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Fails with an Error whose `code` says why (ECONNRESET, ETIMEDOUT, EPROTO, ...), as undici's do. */
export class LeanPool {
  readonly #host: string;
  readonly #port: number;
  readonly #size: number;
  readonly #timeoutMs: number;
  readonly #idle: Connection[] = [];
  readonly #connections = new Set<Connection>();
  /** One sweep for the pool: a timer per request (socket.setTimeout) cost as much as the request. */
  readonly #sweep: NodeJS.Timeout;
  readonly #waiting: Array<{ request: string; done: Done }> = [];
  #destroyed = false;

  constructor(origin: string, options: { connections: number; timeoutMs: number }) {
    const url = new URL(origin);
    if (url.protocol !== 'http:') throw new Error(`LeanPool speaks plain http, not ${url.protocol}`);
    this.#host = url.hostname;
    this.#port = Number(url.port || 80);
    this.#size = options.connections;
    this.#timeoutMs = options.timeoutMs;
    this.#sweep = setInterval(() => {
      const late = performance.now() - this.#timeoutMs;
      for (const connection of this.#connections) {
        if (connection.busy && connection.sentAt < late) connection.close(failure('ETIMEDOUT', `no answer in ${this.#timeoutMs} ms`));
      }
    }, 1000).unref();
  }

  request(options: LeanRequest): Promise<LeanResponse> {
    if (this.#destroyed) return Promise.reject(failure('EDESTROYED', 'the pool is destroyed'));
    const request = serialize(this.#host, this.#port, options);
    return new Promise((resolve, reject) => {
      const done: Done = (error, response) => (error ? reject(error) : resolve(response!));
      const connection = this.#idle.pop();
      if (connection) connection.send(request, done);
      else if (this.#connections.size < this.#size) this.#connect().send(request, done);
      else this.#waiting.push({ request, done });
    });
  }

  destroy(): Promise<void> {
    this.#destroyed = true;
    clearInterval(this.#sweep);
    for (const { done } of this.#waiting.splice(0)) done(failure('EDESTROYED', 'the pool is destroyed'));
    this.#idle.length = 0;
    for (const connection of this.#connections) connection.close(failure('EDESTROYED', 'the pool is destroyed'));
    return Promise.resolve();
  }

  #connect(): Connection {
    const connection = new Connection(this.#host, this.#port, {
      free: (connection) => {
        const next = this.#waiting.shift();
        if (next) connection.send(next.request, next.done);
        else this.#idle.push(connection);
      },
      gone: (connection) => {
        this.#connections.delete(connection);
        const index = this.#idle.indexOf(connection);
        if (index >= 0) this.#idle.splice(index, 1);
        // A request that waited for a connection gets a new one rather than the closed one's fate.
        const next = !this.#destroyed && this.#waiting.shift();
        if (next) this.#connect().send(next.request, next.done);
      },
    });
    this.#connections.add(connection);
    return connection;
  }
}

type Done = (error: Error | null, response?: LeanResponse) => void;

interface PoolSide {
  /** The connection's answer is in: it takes the next waiting request or waits idle. */
  free(connection: Connection): void;
  gone(connection: Connection): void;
}

export function failure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function serialize(host: string, port: number, { method, path, headers = {}, body }: LeanRequest): string {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  if (body !== undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  return `${head}\r\n${body ?? ''}`;
}

/** One read buffer for every connection of the process: a read is parsed before the next one. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

class Connection {
  readonly #socket: net.Socket;
  readonly #pool: PoolSide;
  #done?: Done;
  /** When the request in flight was sent (performance.now()), for the pool's timeout sweep. */
  sentAt = 0;
  /** The part of an answer read so far, copied out of READ_BUFFER; empty between answers. */
  #partial: Buffer = Buffer.alloc(0);

  constructor(host: string, port: number, pool: PoolSide) {
    this.#pool = pool;
    // onread hands each read to #onRead straight from the socket, without a stream's 'data' event.
    const onread = { buffer: READ_BUFFER, callback: (bytes: number) => this.#onRead(READ_BUFFER.subarray(0, bytes)) };
    this.#socket = net.connect({ host, port, noDelay: true, onread });
    this.#socket.on('error', (error) => this.#fail(error));
    this.#socket.on('close', () => {
      this.#fail(failure('ECONNRESET', 'the server closed the connection'));
      pool.gone(this);
    });
  }

  get busy(): boolean {
    return this.#done !== undefined;
  }

  send(request: string, done: Done): void {
    this.#done = done;
    this.sentAt = performance.now();
    this.#socket.write(request);
  }

  close(error?: Error): void {
    this.#socket.destroy(error);
  }

  #fail(error: Error): void {
    const done = this.#done;
    this.#done = undefined;
    done?.(error);
  }

  /** Always true: go on reading (false would pause the socket). */
  #onRead(chunk: Buffer): true {
    this.#take(chunk);
    return true;
  }

  #take(chunk: Buffer): void {
    if (!this.#done) return void this.close(failure('EPROTO', 'data with no request in flight'));
    const data = this.#partial.length ? Buffer.concat([this.#partial, chunk]) : chunk;
    let parsed: { response: LeanResponse; keepAlive: boolean } | undefined;
    try {
      parsed = parseResponse(data);
    } catch (error) {
      return void this.close(error as Error);
    }
    if (!parsed) {
      this.#partial = Buffer.from(data);
      return;
    }
    this.#partial = Buffer.alloc(0);
    const done = this.#done;
    this.#done = undefined;
    if (parsed.keepAlive) this.#pool.free(this);
    else this.#socket.end();
    done(null, parsed.response);
  }
}

/** undefined: not all of it yet. Throws (code EPROTO) on what this client does not speak. */
export function parseResponse(data: Buffer): { response: LeanResponse; keepAlive: boolean } | undefined {
  const head = parseHead(data);
  if (!head) return undefined;
  const { status, headers, bodyStart } = head;
  const keepAlive = headers.connection?.toLowerCase() !== 'close';
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { response: { status, headers, body: '' }, keepAlive };
  }
  if (headers['transfer-encoding']) {
    if (headers['transfer-encoding'].toLowerCase() !== 'chunked') throw failure('EPROTO', `transfer-encoding ${headers['transfer-encoding']} is not supported`);
    const body = dechunk(data, bodyStart);
    return body === undefined ? undefined : { response: { status, headers, body }, keepAlive };
  }
  const length = Number(headers['content-length'] ?? NaN);
  if (!Number.isSafeInteger(length) || length < 0) throw failure('EPROTO', `a ${status} answer with neither a Content-Length nor chunked encoding`);
  if (data.length < bodyStart + length) return undefined;
  return { response: { status, headers, body: data.toString('utf8', bodyStart, bodyStart + length) }, keepAlive };
}

/** An answer's status line and headers; undefined until all of them are in. `bodyStart`: the offset
 * of what follows them. Throws (code EPROTO) on what is not HTTP/1.x. */
export function parseHead(data: Buffer): { status: number; headers: Record<string, string>; bodyStart: number } | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const lines = data.toString('latin1', 0, headEnd).split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!statusLine) throw failure('EPROTO', `not an HTTP/1.x status line: ${JSON.stringify(lines[0].slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon > 0) headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
  }
  return { status: Number(statusLine[1]), headers, bodyStart: headEnd + 4 };
}

function dechunk(data: Buffer, start: number): string | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.toString('latin1', at, lineEnd), 16);
    if (!Number.isSafeInteger(size) || size < 0) throw failure('EPROTO', 'a malformed chunk size');
    if (size === 0) return data.indexOf('\r\n\r\n', lineEnd) === lineEnd ? Buffer.concat(parts).toString('utf8') : data.length >= lineEnd + 4 ? failTrailers() : undefined;
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

function failTrailers(): never {
  throw failure('EPROTO', 'chunked trailers are not supported');
}
