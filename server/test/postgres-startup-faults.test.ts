// The postgres.js patch for a connection's start-up (patches/postgres+3.4.9.patch, upstream
// porsager/postgres#1192, #1205, #1223): every new connection first reads the array types, and that
// query's failure was a rejection nobody handled, which ends a Node process. A server whose
// PostgreSQL restarts or fails over while its pool opens a connection died of it, and CI saw it when
// a test's database was dropped under a connection starting up. A real PostgreSQL behind a TCP proxy
// that interferes with exactly that query on the first connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { POSTGRES_ADMIN_URL } from './support/database.ts';
import { errorResponse, READY_FOR_QUERY, startPostgresProxy } from './support/postgres-proxy.ts';

type Interference = 'kill' | 'cancel' | 'refuse' | undefined;

/** `plan(n)` says what happens to the n-th connection: its first start-up query (the session state
 * asked for a target_session_attrs, else the array types) met by the backend
 * "terminated" (FATAL 57P01, then closed) or "cancelled" (ERROR 57014, ready again), or the connection
 * "refused" at its start-up message, as by a database dropped. */
function startupProxy(t: { after(fn: () => Promise<void> | void): void }, plan: (connection: number) => Interference) {
  return startPostgresProxy(t, {
    fromClient(chunk, connection) {
      const interference = plan(connection.index);
      if (interference === 'refuse') return connection.close(errorResponse('FATAL', '3D000', 'database "gone" does not exist'));
      if (!interference || !(chunk.includes('pg_catalog.pg_type') || chunk.includes('pg_is_in_recovery'))) return connection.toServer(chunk);
      if (interference === 'kill') connection.close(errorResponse('FATAL', '57P01', 'terminating connection due to administrator command'));
      else connection.toClient(Buffer.concat([errorResponse('ERROR', '57014', 'canceling statement due to statement timeout'), READY_FOR_QUERY]));
    },
  });
}

/** Rejections nobody handled while `fn` ran, and for a moment after. */
async function unhandledDuring(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const record = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', record);
  try {
    await fn();
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    process.off('unhandledRejection', record);
  }
  return seen;
}

test('a backend terminated while the connection reads its array types: the query runs on a new connection, nothing unhandled', async (t) => {
  const proxy = await startupProxy(t, (n) => (n === 1 ? 'kill' : undefined));
  const sql = postgres(proxy.via(POSTGRES_ADMIN_URL), { max: 1, onnotice: () => {} });
  t.after(() => sql.end({ timeout: 1 }));
  const unhandled = await unhandledDuring(async () => {
    const [row] = await sql<Array<{ one: number }>>`select 1 as one`;
    assert.equal(row.one, 1, 'the query is not failed with the old backend\'s 57P01');
    const [array] = await sql<Array<{ list: number[] }>>`select ${sql.array([1, 2, 3])}::int[] as list`;
    assert.deepEqual(array.list, [1, 2, 3], 'the new connection has its array types');
  });
  assert.deepEqual(unhandled, []);
  assert.equal(proxy.connections(), 2);
});

test('an array-types query that fails (cancelled): that one query fails with the error, the next gets a connection with its types', async (t) => {
  const proxy = await startupProxy(t, (n) => (n === 1 ? 'cancel' : undefined));
  const sql = postgres(proxy.via(POSTGRES_ADMIN_URL), { max: 1, onnotice: () => {} });
  t.after(() => sql.end({ timeout: 1 }));
  const unhandled = await unhandledDuring(async () => {
    await assert.rejects(sql`select 1 as one`, (error: Error & { code?: string }) => error.code === '57014');
    const [row] = await sql<Array<{ one: number }>>`select 1 as one`;
    assert.equal(row.one, 1);
    // A second query: an array parameter in a connection's very first query is serialised before the
    // types are read (porsager/postgres#789, not patched).
    const [array] = await sql<Array<{ list: number[] }>>`select ${sql.array([4, 5])}::int[] as list`;
    assert.deepEqual(array.list, [4, 5]);
  });
  assert.deepEqual(unhandled, []);
  assert.equal(proxy.connections(), 2, 'the connection without its types was closed, not reused');
});

test('a backend terminated during start-up and a database that stays gone: the query fails, the pool ends, nothing unhandled', async (t) => {
  const proxy = await startupProxy(t, (n) => (n === 1 ? 'kill' : 'refuse'));
  const sql = postgres(proxy.via(POSTGRES_ADMIN_URL), { max: 1, onnotice: () => {}, connect_timeout: 2 });
  const unhandled = await unhandledDuring(async () => {
    await assert.rejects(sql`select 1`, (error: Error & { code?: string }) => error.code === '3D000');
    await sql.end({ timeout: 1 });
  });
  assert.deepEqual(unhandled, []);
});

test('with target_session_attrs, a backend terminated while the connection asks its session state: the query runs on a new connection, nothing unhandled', async (t) => {
  const proxy = await startupProxy(t, (n) => (n === 1 ? 'kill' : undefined));
  const sql = postgres(`${proxy.via(POSTGRES_ADMIN_URL)}?target_session_attrs=read-write`, { max: 1, onnotice: () => {} });
  t.after(() => sql.end({ timeout: 1 }));
  const unhandled = await unhandledDuring(async () => {
    const [row] = await sql<Array<{ one: number }>>`select 1 as one`;
    assert.equal(row.one, 1);
  });
  assert.deepEqual(unhandled, []);
  assert.equal(proxy.connections(), 2);
});
