// JSON over HTTP with undici. A server answer outside `expect` becomes an ServerError carrying the
// API's `{ error: { code, message } }`; a failure to reach the server stays undici's own error.
import { request } from 'undici';

export class ServerError extends Error {
  status: number;
  code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
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
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export async function callServer(baseUrl: string, method: string, path: string, opts: CallOptions = {}): Promise<JsonResponse> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const response = await request(new URL(path, baseUrl), {
    method: method as 'GET',
    headers: { accept: 'application/json', ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await response.body.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  const ok = opts.expect ? opts.expect.includes(response.statusCode) : response.statusCode >= 200 && response.statusCode < 300;
  if (!ok) {
    const error = body?.error;
    throw new ServerError(response.statusCode, error?.code ?? `HTTP_${response.statusCode}`, `${method} ${path}: ${error?.message ?? (text.slice(0, 200) || `HTTP ${response.statusCode}`)}`);
  }
  return { status: response.statusCode, headers: response.headers, body };
}

/** Worth another attempt later: the server could not be reached, or answered with a transient
 * status. A 4xx other than timeout/rate limit means this request will never succeed as sent. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ServerError)) return true;
  return error.status >= 500 || error.status === 408 || error.status === 429;
}

export function headerValue(headers: JsonResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
