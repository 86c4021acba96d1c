// The control client: an operator's token check and a bus message do not wait for the pool, which a
// large fleet keeps queued with agents' heartbeats and reports. Every pool connection is held by a
// sleeping query here; whatever runs on the control client finishes while they still sleep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../src/api/app.ts';
import { createToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { createBus } from '../src/hub/bus.ts';
import { freshDatabase } from './support/database.ts';
import { silentLog, tempDir, until } from './reconcile-fixtures.ts';

const POOL_SIZE = 10;
const HOLD_SECONDS = 5;

test('with every pool connection busy, an admin request is authorized and a bus message sent on the control client', { timeout: 60_000 }, async (t) => {
  const fresh = await freshDatabase();
  const db = await openDatabase({ dataDir: await tempDir(t), databaseUrl: fresh.url }, silentLog);
  // Stopped before the database is dropped: DROP DATABASE waits on the connections.
  t.after(async () => {
    await db.close();
    await fresh.drop();
  });
  const { token } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'control-test', actor: 'test' }));
  const app = await buildApp({ db, config: loadConfig([], {}), log: silentLog });
  t.after(() => app.close());
  const bus = await createBus(db, silentLog);
  t.after(() => bus.close());
  const received = new Promise<unknown>((resolve) => bus.subscribe('pswm_signal', resolve));

  const order: string[] = [];
  // One more than the pool holds, so the pool also has a queue.
  const sleeps = Array.from({ length: POOL_SIZE + 1 }, () => db.sql`select pg_sleep(${HOLD_SECONDS})`);
  void Promise.race(sleeps).then(() => order.push('a pool connection free'));
  await until('every pool connection to be sleeping', async () =>
    (await fresh.sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and query like 'select pg_sleep%' and state = 'active'`)[0].n === POOL_SIZE, 20_000);

  const whoami = app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { authorization: `Bearer ${token}` } }).then((response) => {
    order.push('authorized');
    return response;
  });
  const published = bus.publish('pswm_signal', { all: true, reason: 'while the pool is busy' }).then(() => order.push('published'));
  const response = await whoami;
  await published;
  await Promise.all(sleeps);

  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.json().name, 'control-test');
  assert.deepEqual(await received, { all: true, reason: 'while the pool is busy' });
  assert.deepEqual(order.slice().sort(), ['a pool connection free', 'authorized', 'published']);
  assert.equal(order.at(-1), 'a pool connection free', `the control client waited for the pool: ${order.join(' → ')}`);
});

