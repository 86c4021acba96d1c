// The document store against real PostgreSQL, with the template policy applied from a real git
// repository: what a poll reads when its document is not cached yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { createDocumentStore } from '../src/apply/document-store.ts';
import type { templateRepo } from './reconcile-fixtures.ts';
import { appliedTemplate, scopeDocument } from './desired-fixtures.ts';

async function countingStores(t: Parameters<typeof templateRepo>[0] & { after(fn: () => Promise<void>): void }) {
  const { db } = await appliedTemplate(t);
  /** A store on its own connections, with the queries it sends counted. */
  const countingStore = () => {
    let queries = 0;
    const sql = postgres(db.url, { max: 4, onnotice: () => {}, debug: () => void queries++ });
    t.after(() => sql.end({ timeout: 5 }));
    return { store: createDocumentStore(sql), queries: () => queries };
  };
  return { db, countingStore };
}

test('reads of a document not yet cached that arrive while the first runs share it: one read, the same answer', async (t) => {
  const { db, countingStore } = await countingStores(t);
  const id = (await scopeDocument(db.sql, 'contoso/paris'))!;

  const alone = countingStore();
  const expected = await alone.store.read(id);
  assert.ok(expected?.includes('"apiVersion":"pswm/v1"'));
  const oneRead = alone.queries();

  // a location's agents polling at once after a commit changed their document
  const shared = countingStore();
  const answers = await Promise.all(Array.from({ length: 20 }, () => shared.store.read(id)));
  assert.deepEqual(new Set(answers), new Set([expected]));
  assert.equal(shared.queries(), oneRead, `20 concurrent reads sent ${shared.queries()} queries, one read sends ${oneRead}`);
  // then from memory
  assert.equal(await shared.store.read(id), expected);
  assert.equal(shared.queries(), oneRead);

  // a document no one has is not remembered: the next read asks the database again
  const unknown = '0'.repeat(64);
  assert.deepEqual(await Promise.all([shared.store.read(unknown), shared.store.read(unknown)]), [undefined, undefined]);
  const afterUnknown = shared.queries();
  assert.equal(await shared.store.read(unknown), undefined);
  assert.ok(shared.queries() > afterUnknown, 'the second read of an unknown document went to the database again');
});
