// GET /api/v1/agent/desired-state with If-None-Match. The last document is kept on disk so that a
// restarted agent still sends If-None-Match, and an agent that cannot reach the server converges
// the state it last received.
import path from 'node:path';
import type { DesiredState } from '@pswm/schemas';
import { loadJsonFile, saveJsonFile } from '../platform/json-file.ts';
import { headerValue, ServerError } from './http.ts';
import type { AgentSession } from './session.ts';

export interface CachedDesiredState {
  /** The document id (the ETag without quotes). */
  document: string;
  revision?: string;
  /** The largest report the server accepts (X-Pswm-Report-Limit), when it said. */
  report_limit_bytes?: number;
  state: DesiredState;
  fetched_at: string;
}

export type DesiredStateAnswer =
  | { status: 'new'; cached: CachedDesiredState }
  | { status: 'unchanged'; cached: CachedDesiredState }
  | { status: 'none' };

export function desiredStateCacheFile(cacheDir: string): string {
  return path.join(cacheDir, 'desired-state.json');
}

function isCached(value: unknown): value is CachedDesiredState {
  const v = value as Partial<CachedDesiredState> | null;
  return typeof v === 'object' && v !== null && typeof v.document === 'string' && typeof v.state === 'object' && v.state !== null;
}

export async function loadCachedDesiredState(file: string): Promise<CachedDesiredState | undefined> {
  return loadJsonFile<CachedDesiredState | undefined>(file, () => undefined, (v): v is CachedDesiredState | undefined => isCached(v));
}

const unquote = (etag: string) => etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');

/** Asks for the agent's desired state; a new document is written to `cacheFile` before it is
 * returned. Network and server errors propagate: the caller decides to fall back on the cache. */
export async function fetchDesiredState(session: AgentSession, cacheFile: string, now: Date): Promise<DesiredStateAnswer> {
  const cached = await loadCachedDesiredState(cacheFile);
  const response = await session.call('GET', '/api/v1/agent/desired-state', {
    headers: cached ? { 'if-none-match': `"${cached.document}"` } : {},
    expect: [200, 304, 404],
  });
  const revision = headerValue(response.headers, 'x-pswm-revision');
  const limit = Number(headerValue(response.headers, 'x-pswm-report-limit'));
  const reportLimit = Number.isSafeInteger(limit) && limit > 0 ? { report_limit_bytes: limit } : {};
  if (response.status === 304 && cached) {
    const changed = (revision && revision !== cached.revision) || (reportLimit.report_limit_bytes ?? cached.report_limit_bytes) !== cached.report_limit_bytes;
    const current = changed ? { ...cached, ...(revision ? { revision } : {}), ...reportLimit } : cached;
    if (current !== cached) await saveJsonFile(cacheFile, current);
    return { status: 'unchanged', cached: current };
  }
  if (response.status === 404) {
    if (response.body?.error?.code === 'NO_DESIRED_STATE') return { status: 'none' };
    throw new ServerError(404, response.body?.error?.code ?? 'NOT_FOUND', `GET /api/v1/agent/desired-state: ${response.body?.error?.message ?? 'not found'}`);
  }
  if (response.status === 304) throw new Error('the server answered 304 Not Modified but this agent has no cached desired state');
  const etag = headerValue(response.headers, 'etag');
  const fresh: CachedDesiredState = { document: etag ? unquote(etag) : '', ...(revision ? { revision } : {}), ...reportLimit, state: response.body as DesiredState, fetched_at: now.toISOString() };
  await saveJsonFile(cacheFile, fresh);
  return { status: 'new', cached: fresh };
}
