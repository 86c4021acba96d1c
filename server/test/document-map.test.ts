// The agent → document map across two instances on one database: a change naming agents re-reads
// those agents only, everywhere; anything else (too many agents, a message it cannot read, a bus
// reconnect) reloads the whole map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { silentLog, tempDir, type templateRepo, until } from './reconcile-fixtures.ts';
import { readAgentDocuments, visitEveryAgentDocument } from '../src/apply/agent-documents.ts';
import { createDocumentMap } from '../src/reconcile/document-map.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { appliedTemplate, scopeDocument, startDesiredStateInstance } from './desired-fixtures.ts';

async function setup(t: Parameters<typeof templateRepo>[0] & { after(fn: () => Promise<void>): void }) {
  const { db } = await appliedTemplate(t);
  const instances = [await startDesiredStateInstance(db, t), await startDesiredStateInstance(db, t)];
  const [first, second] = [await instances[0].enrol('web-1', { organization: 'contoso', location: 'paris' }), await instances[0].enrol('web-2', { organization: 'contoso', location: 'paris' })];
  await instances[0].documentsChanged();
  const paris = (await scopeDocument(db.sql, 'contoso/paris'))!;
  const nyc = (await scopeDocument(db.sql, 'fabrikam/nyc'))!;
  for (const { map } of instances) await until('both agents in the map', async () => map.cached(first.id)?.document === paris && map.cached(second.id)?.document === paris);
  // Paris now gets New York's document: both agents' documents changed in the database.
  await db.sql`update scope_documents set document_sha256 = ${nyc} where scope = 'contoso/paris'`;
  const documentsOf = (agentId: string) => instances.map(({ map }) => map.cached(agentId)?.document);
  const settled = (agentId: string, document: string) => until(`${agentId} to have ${document} on both instances`, async () => documentsOf(agentId).every((d) => d === document));
  return { db, instances, first, second, paris, nyc, documentsOf, settled };
}

test('a change naming agents updates those agents on every instance, and only them', async (t) => {
  const { instances, first, second, paris, nyc, documentsOf, settled } = await setup(t);
  await instances[1].documentsChanged([first.id]);
  await settled(first.id, nyc);
  assert.deepEqual(documentsOf(second.id), [paris, paris], 'an agent the change did not name is not re-read');

  await instances[0].documentsChanged([]);
  // While an update for a change runs, lookups fall through (cached is undefined): wait it out.
  await until('the empty change to be applied', async () => documentsOf(second.id).every(Boolean));
  assert.deepEqual(documentsOf(second.id), [paris, paris], 'a change naming nobody re-reads nobody');
  await instances[0].documentsChanged();
  await settled(second.id, nyc);
});

test('while an update for a change waits, only the agents it names fall through to the database; the others are answered from memory', async (t) => {
  const { db, instances, first, second, paris, nyc, settled } = await setup(t);
  // The update's read waits behind this lock, as it waits behind a busy pool at fleet scale.
  let release!: () => void;
  let locked!: () => void;
  const lockTaken = new Promise<void>((resolve) => (locked = resolve));
  const holder = db.sql.begin(async (tx) => {
    await tx`lock table agents in access exclusive mode`;
    locked();
    await new Promise<void>((resolve) => (release = resolve));
  });
  t.after(async () => {
    release?.();
    await holder;
  });
  await lockTaken;
  await instances[0].documentsChanged([first.id]);
  for (const { map } of instances) {
    await until('the change to be heard', async () => map.cached(first.id) === undefined);
    assert.equal(map.cached(second.id)?.document, paris, 'an agent the change does not name is still answered from memory');
  }
  release();
  await holder;
  await settled(first.id, nyc);
});

test('a change naming more agents than one update re-reads by id, or a message naming something else, reloads the whole map', async (t) => {
  const { db, instances, first, second, nyc, settled } = await setup(t);
  await instances[0].documentsChanged([first.id, ...Array.from({ length: 2_000 }, () => randomUUID())]);
  await settled(second.id, nyc);

  await db.sql`update scope_documents set document_sha256 = ${(await scopeDocument(db.sql, 'contoso/berlin'))!} where scope = 'contoso/paris'`;
  const berlin = (await scopeDocument(db.sql, 'contoso/berlin'))!;
  await db.sql`select pg_notify('pswm_documents', ${JSON.stringify({ origin: 'elsewhere', payload: { agentIds: ['not an id'] } })})`;
  await settled(first.id, berlin);
  await settled(second.id, berlin);
});

test('a revoked agent named by a change leaves the map; an unknown one is looked up', async (t) => {
  const { db, instances, first, second, nyc, settled } = await setup(t);
  await db.sql`update agents set status = 'revoked', revoked_at = now() where id = ${first.id}`;
  await instances[0].documentsChanged([first.id, second.id]);
  await settled(second.id, nyc);
  for (const { map } of instances) assert.equal(map.knows(first.id), false);

  const late = await instances[0].enrol('web-3', { organization: 'contoso', location: 'paris' });
  for (const { map } of instances) {
    assert.equal(map.knows(late.id), false);
    assert.equal((await map.lookup(late.id))?.document, nyc);
    assert.equal(map.cached(late.id)?.document, nyc, 'a lookup is remembered');
  }
});

test('the safety net reads every agent in batches, the same map as one query; the cursor works on the embedded database too', async (t) => {
  const { db } = await setup(t);
  const inBatches = async (sql: typeof db.sql) => {
    const documents = new Map<string, string>();
    const state = await visitEveryAgentDocument(sql, (agentId, document) => documents.set(agentId, document), 1);
    return { ...state, documents };
  };
  const batched = await inBatches(db.sql);
  assert.deepEqual(batched, await readAgentDocuments(db.sql));
  assert.equal(batched.documents.size, 2);

  const dataDir = await tempDir(t, 'pswm-map-embedded-');
  const embedded = await openDatabase({ dataDir, databaseUrl: undefined }, silentLog);
  t.after(() => embedded.close());
  await migrate(embedded.sql, silentLog);
  assert.deepEqual(await inBatches(embedded.sql), { revision: null, documentsVersion: 0, documents: new Map() });
});

test('with every notification lost, the safety net re-reads the fleet only after a write moved documents_version, and drops revoked agents', async (t) => {
  const { db, first, second, paris, nyc } = await setup(t);
  // setup() changed Paris's document behind the maps' backs; this map starts from it.
  const deaf = { subscribe: () => () => {} };
  const map = await createDocumentMap({ sql: db.sql, bus: deaf, log: silentLog, safetyNetMs: 20 });
  t.after(() => map.close());
  assert.equal(map.cached(first.id)?.document, nyc);

  // A write that does not bump documents_version is invisible to the safety net: proof that it did
  // not re-read the fleet (no writer of documents does this; every one bumps the version).
  await db.sql`update scope_documents set document_sha256 = ${paris} where scope = 'contoso/paris'`;
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(map.cached(first.id)?.document, nyc, 'documents_version did not move: nothing re-read');

  // As a reconcile does: the write and the bump together, and the notification lost.
  await db.sql`update agents set status = 'revoked', revoked_at = now() where id = ${first.id}`;
  await db.sql`update policy_state set documents_version = documents_version + 1`;
  await until('the safety net to re-read', async () => map.cached(second.id)?.document === paris);
  // The background reload updates each entry as it reads it and drops the unseen ones after its last
  // batch: the read above can be seen before that sweep (it was, once, on a loaded CI machine).
  await until('a revoked agent to leave the map with the full reload', async () => !map.knows(first.id));
});
