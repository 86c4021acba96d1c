// Shared by the desired-state tests: one agent API instance in this process serving desired states
// from a database the test reconciles into, with every query it sends counted (postgres.js `debug`),
// and real agents enrolled through the API with their own keys.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { createAgentAuthority } from '../src/agents/access-token.ts';
import { deriveServerKeys } from '../src/agents/server-secret.ts';
import { registerAgentApi } from '../src/api/agent-api.ts';
import { API_PREFIX, buildApp } from '../src/api/app.ts';
import { desiredStateRoutes } from '../src/api/desired-state.ts';
import { createDocumentStore } from '../src/apply/document-store.ts';
import { createToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { createBus } from '../src/hub/bus.ts';
import { createDocumentMap, documentChangeMessages, type DocumentMap } from '../src/reconcile/document-map.ts';
import { enrolAgent } from './support/agent-identity.ts';

export { enrolAgent };
import { freshDatabase, oneClientDatabase, type TestDatabase } from './support/database.ts';
import { silentLog, templateRepo } from './reconcile-fixtures.ts';
import assert from 'node:assert/strict';
import { openPolicySource } from '../src/git/source.ts';
import { reconcileOnce } from '../src/reconcile/reconcile.ts';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

export interface DesiredStateInstance {
  url: string;
  map: DocumentMap;
  /** Tells every instance on the database that these agents' documents changed (or anyone's), as a writer of documents does. */
  documentsChanged(agentIds?: string[]): Promise<void>;
  /** Queries this instance has sent to PostgreSQL so far. */
  queries(): number;
  adminToken: string;
  enrol(name: string, placement: { organization: string; location: string }): Promise<{ id: string; name: string; accessToken: string }>;
  desiredState(accessToken: string, etag?: string): Promise<Answer>;
}

export async function startDesiredStateInstance(db: TestDatabase, t: { after(fn: () => Promise<void>): void }): Promise<DesiredStateInstance> {
  let queries = 0;
  const sql = postgres(db.url, { max: 4, onnotice: () => {}, debug: () => void queries++ });
  const app = await buildApp({ db: oneClientDatabase(sql), config: loadConfig([], {}), log: silentLog });
  const bus = await createBus(oneClientDatabase(sql), silentLog);
  const keys = deriveServerKeys(randomBytes(32));
  const authority = await createAgentAuthority(sql, bus, keys.accessToken);
  // last_seen_at is flushed only on close: its batch UPDATE must not count as a poll's query.
  await registerAgentApi(app, { sql, authority, keys, lastSeenIntervalMs: 3_600_000 });
  const map = await createDocumentMap({ sql, bus, log: silentLog });
  await app.register(desiredStateRoutes, { prefix: API_PREFIX, documents: createDocumentStore(sql), map });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    // The map first: its reload timer keeps queries coming while the rest closes.
    map.close();
    await app.close();
    authority.close();
    await bus.close();
    await sql.end({ timeout: 5 });
  });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const { token: adminToken } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'desired-test', actor: 'test' }));

  return {
    url,
    map,
    documentsChanged: (agentIds) => bus.publishAll(documentChangeMessages(agentIds)),
    queries: () => queries,
    adminToken,
    enrol: (name, placement) => enrolAgent(url, adminToken, name, placement),
    desiredState: (accessToken, etag) => getDesiredState(url, accessToken, etag),
  };
}


export async function getDesiredState(url: string, accessToken: string, etag?: string): Promise<Answer> {
  const response = await fetch(`${url}/api/v1/agent/desired-state`, {
    headers: { authorization: `Bearer ${accessToken}`, ...(etag ? { 'if-none-match': etag } : {}) },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export async function scopeDocument(sql: postgres.Sql, scope: string): Promise<string | undefined> {
  const [row] = await sql<Array<{ document_sha256: string }>>`select document_sha256 from scope_documents where scope = ${scope}`;
  return row?.document_sha256;
}

/** A fresh database with the template policy applied from a real git repository. */
export async function appliedTemplate(t: Parameters<typeof templateRepo>[0] & { after(fn: () => Promise<void>): void }): Promise<{ db: TestDatabase }> {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const source = await openPolicySource({ dataDir: repo.dir, policyRepo: repo.dir, policyBranch: 'main' }, silentLog);
  t.after(() => source.close());
  assert.equal((await reconcileOnce({ sql: db.sql, source, log: silentLog, trigger: 'test' })).status, 'applied');
  return { db };
}
