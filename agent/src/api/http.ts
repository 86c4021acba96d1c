// JSON over HTTP with Node's own http/https client. A server answer outside `expect` becomes a
// ServerError carrying the API's `{ error: { code, message } }`; a failure to reach the server stays
// Node's own error (ECONNREFUSED, ENOTFOUND, ...; ETIMEDOUT when the server goes quiet).
//
// Why not undici or fetch: both run HTTP parsing in a WebAssembly llhttp, which stays resident
// (+25-30 MB RSS in an idle agent, docs/BENCHMARKS.md "Agent"); node:http parses in C++.
// Why getBuiltinModule and not `import 'node:http'`: an ES import of node:http builds its module
// namespace, which reads the lazy `http.WebSocket` export and so loads Node's bundled undici anyway
// (+11 MB).
import type * as Http from 'node:http';

const http = process.getBuiltinModule('node:http') as typeof Http;
const https = process.getBuiltinModule('node:https') as typeof import('node:https');

export class ServerError extends Error {
  status: number;
  code: string;
  /** The server's Retry-After, in milliseconds from when the answer arrived. */
  retryAfterMs?: number;
  constructor(status: number, code: string, message: string, retryAfterMs?: number) {
    super(message);
    this.status = status;
    this.code = code;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; anything else is ignored. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) && /[a-z]/i.test(text) ? Math.max(0, at - nowMs) : undefined;
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses that are answers, not errors (default: 2xx). */
  expect?: readonly number[];
  /** Longest silence (connecting, waiting for headers, between body chunks) before giving up. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Node's error codes for "the server could not be reached or stopped answering". */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('ERR_TLS') || code.includes('CERT'));
}

function send(url: URL, method: string, headers: Record<string, string>, payload: string | undefined, timeoutMs: number): Promise<{ status: number; headers: Http.IncomingHttpHeaders; text: string }> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, { method, headers: payload === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(payload)) }, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error(`${method} ${url.pathname}: no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    request.on('error', reject);
    request.end(payload);
  });
}

export async function callServer(baseUrl: string, method: string, path: string, opts: CallOptions = {}): Promise<JsonResponse> {
  const headers = { accept: 'application/json', ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers };
  const response = await send(new URL(path, baseUrl), method, headers, opts.body === undefined ? undefined : JSON.stringify(opts.body), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const text = response.text;
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  const ok = opts.expect ? opts.expect.includes(response.status) : response.status >= 200 && response.status < 300;
  if (!ok) {
    const error = body?.error;
    const retryAfterMs = parseRetryAfter(headerValue(response.headers, 'retry-after'), Date.now());
    throw new ServerError(response.status, error?.code ?? `HTTP_${response.status}`, `${method} ${path}: ${error?.message ?? (text.slice(0, 200) || `HTTP ${response.status}`)}`, retryAfterMs);
  }
  return { status: response.status, headers: response.headers, body };
}

/** Worth another attempt later: the server could not be reached, or answered with a transient
 * status. A 4xx other than timeout/rate limit means this request will never succeed as sent. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ServerError)) return true; // not reached, or backing off
  return error.status >= 500 || error.status === 408 || error.status === 429;
}

export function headerValue(headers: JsonResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
