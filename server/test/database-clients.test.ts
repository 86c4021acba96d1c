// The clients beside the pool: an operator's token check and a bus message (control client), and a
// reconcile (reconciler client) do not wait for the pool, which a large fleet keeps queued with
// agents' heartbeats and reports. Every pool connection is held by a sleeping query here; whatever
// runs on the other clients finishes while they still sleep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../src/api/app.ts';
import { createToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { openPolicySource } from '../src/git/source.ts';
import { createBus } from '../src/hub/bus.ts';
import { startReconciler } from '../src/reconcile/reconciler.ts';
import { freshDatabase } from './support/database.ts';
import { silentLog, templateRepo, tempDir, until } from './reconcile-fixtures.ts';

const POOL_SIZE = 10;
const HOLD_SECONDS = 10;

test('with every pool connection busy, an admin request is authorized, a bus message sent and a commit applied', { timeout: 90_000 }, async (t) => {
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
  const repo = await templateRepo(t);
  const source = await openPolicySource({ dataDir: repo.dir, policyRepo: repo.dir, policyBranch: 'main' }, silentLog);
  t.after(() => source.close());

  const order: string[] = [];
  const sleeps = Array.from({ length: POOL_SIZE }, () => db.sql`select pg_sleep(${HOLD_SECONDS})`);
  void Promise.race(sleeps).then(() => order.push('a pool connection free'));
  await until('every pool connection to be sleeping', async () =>
    (await fresh.sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and query like 'select pg_sleep%' and state = 'active'`)[0].n === POOL_SIZE, 20_000);

  const whoami = app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { authorization: `Bearer ${token}` } }).then((response) => {
    order.push('authorized');
    return response;
  });
  const published = bus.publish('pswm_signal', { all: true, reason: 'while the pool is busy' }).then(() => order.push('published'));
  // Its first run starts with it: the template's commit, applied under the run lock.
  const reconciler = await startReconciler({ db, source, config: { pollIntervalSeconds: 3600, webhookSecret: undefined, policyBranch: 'main' }, log: silentLog });
  t.after(() => reconciler.stop());
  const applied = until('the template to be applied', async () => (await fresh.sql`select applied_revision from policy_state`)[0]?.applied_revision ?? undefined, 30_000)
    .then(() => order.push('applied'));
  const response = await whoami;
  await published;
  await applied;
  await Promise.all(sleeps);

  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.json().name, 'control-test');
  assert.deepEqual(await received, { all: true, reason: 'while the pool is busy' });
  assert.deepEqual(order.slice().sort(), ['a pool connection free', 'applied', 'authorized', 'published']);
  assert.equal(order.at(-1), 'a pool connection free', `the control client waited for the pool: ${order.join(' → ')}`);
});
