import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { createBus, MAX_PAYLOAD_BYTES, notifyStatement } from '../src/hub/bus.ts';
import type { Bus, BusMessage, BusPayloads } from '../src/hub/bus.ts';
import { createLogger } from '../src/logger.ts';
import { freshDatabase, oneClientDatabase } from './support/database.ts';
import { startPostgresProxy } from './support/postgres-proxy.ts';

/** An embedded bus's database: it must not be used (LISTEN does not work through pglite-socket). */
const NO_DATABASE = { sql: undefined as unknown as postgres.Sql, control: undefined as unknown as postgres.Sql, embedded: true };
const log = createLogger({ logLevel: 'silent' });

/** Records every signal a bus delivers, and resolves waits for a given reason. */
function recordSignals(bus: Bus) {
  const received: BusPayloads['pswm_signal'][] = [];
  const waiters: { reason: string; resolve: () => void }[] = [];
  bus.subscribe('pswm_signal', (payload) => {
    received.push(payload);
    for (const waiter of waiters.filter((w) => w.reason === payload.reason)) waiter.resolve();
  });
  const arrival = (reason: string) => received.some((p) => p.reason === reason)
    ? Promise.resolve()
    : new Promise<void>((resolve) => waiters.push({ reason, resolve }));
  return { received, arrival, reasons: () => received.map((p) => p.reason) };
}

/** Two buses on one fresh database, each with its own pool, as two server processes would have. */
async function twoInstances(t: import('node:test').TestContext): Promise<[Bus, Bus]> {
  const { url } = await freshDatabase(t);
  const pools = [postgres(url, { max: 2, onnotice: () => {} }), postgres(url, { max: 2, onnotice: () => {} })];
  t.after(() => Promise.all(pools.map((pool) => pool.end())));
  const buses = await Promise.all(pools.map((pool) => createBus(oneClientDatabase(pool), log)));
  t.after(() => Promise.all(buses.map((bus) => bus.close())));
  return [buses[0], buses[1]];
}

test('a message published on one instance reaches every instance once, the publisher included', { timeout: 30_000 }, async (t) => {
  const [busA, busB] = await twoInstances(t);
  const onA = recordSignals(busA);
  const onB = recordSignals(busB);

  await busA.publish('pswm_signal', { agentIds: ['agent-1', 'agent-2'], reason: 'first' });
  await onB.arrival('first');
  assert.deepEqual(onB.received, [{ agentIds: ['agent-1', 'agent-2'], reason: 'first' }]);

  // NOTIFY reaches each listener in commit order: once A sees B's fence, A's echo of "first" (if it
  // were delivered) would already have arrived.
  await busB.publish('pswm_signal', { agentIds: [], reason: 'fence' });
  await onA.arrival('fence');
  assert.deepEqual(onA.reasons(), ['first', 'fence']);
  assert.deepEqual(onB.reasons(), ['first', 'fence']);
});

test('channels are separate and an unsubscribed function hears nothing more', { timeout: 30_000 }, async (t) => {
  const { sql } = await freshDatabase(t);
  const bus = await createBus(oneClientDatabase(sql), log);
  t.after(() => bus.close());
  const revoked: string[] = [];
  const unsubscribe = bus.subscribe('pswm_agent_revoked', (payload) => revoked.push(payload.agentId));
  const signals = recordSignals(bus);
  await bus.publish('pswm_agent_revoked', { agentId: 'a1' });
  unsubscribe();
  await bus.publish('pswm_agent_revoked', { agentId: 'a2' });
  await bus.publish('pswm_signal', { agentIds: ['a3'], reason: 'after' });
  await signals.arrival('after');
  assert.deepEqual(revoked, ['a1']);
  assert.deepEqual(signals.reasons(), ['after']);
});

test('embedded mode delivers in process without touching the database', async () => {
  // No sql at all: an embedded bus must not use the database (LISTEN does not work through pglite-socket).
  const bus = await createBus(NO_DATABASE, log);
  const signals = recordSignals(bus);
  const revoked: string[] = [];
  bus.subscribe('pswm_agent_revoked', (payload) => revoked.push(payload.agentId));
  await bus.publish('pswm_signal', { agentIds: ['x'], reason: 'wake' });
  await bus.publish('pswm_agent_revoked', { agentId: 'x' });
  assert.deepEqual(signals.received, [{ agentIds: ['x'], reason: 'wake' }]);
  assert.deepEqual(revoked, ['x']);
  await bus.close();
  await assert.rejects(bus.publish('pswm_signal', { agentIds: [], reason: 'late' }), /closed/);
});

test('a payload PostgreSQL would refuse is rejected before it is sent, and delivered nowhere, also among others in publishAll', { timeout: 30_000 }, async (t) => {
  const { sql } = await freshDatabase(t);
  const bus = await createBus(oneClientDatabase(sql), log);
  t.after(() => bus.close());
  const signals = recordSignals(bus);
  const agentIds = Array.from({ length: Math.ceil(MAX_PAYLOAD_BYTES / 10) }, (_, i) => `agent-${i}`);
  await assert.rejects(bus.publish('pswm_signal', { agentIds, reason: 'too big' }), /bytes; the limit is 7999/);
  assert.deepEqual(signals.received, []);
  // with publishAll, one message too large: none of them is sent or delivered
  await assert.rejects(bus.publishAll([{ channel: 'pswm_signal', payload: { agentIds: ['a'], reason: 'small' } }, { channel: 'pswm_signal', payload: { agentIds, reason: 'too big' } }]), /bytes; the limit is 7999/);
  assert.deepEqual(signals.received, []);
});

test('publishAll: the publisher has every message before PostgreSQL answers, and the other instance gets them all, in order, across channels', { timeout: 30_000 }, async (t) => {
  const { url } = await freshDatabase(t);
  // Instance A reaches PostgreSQL through a proxy that can hold back what PostgreSQL answers it.
  let holding = false;
  const held: Array<() => void> = [];
  const proxy = await startPostgresProxy(t, {
    fromServer: (chunk, connection) => (holding ? held.push(() => connection.toClient(chunk)) : connection.toClient(chunk)),
  });
  const pools = [postgres(proxy.via(url), { max: 2, onnotice: () => {} }), postgres(url, { max: 2, onnotice: () => {} })];
  t.after(() => Promise.all(pools.map((pool) => pool.end({ timeout: 1 }))));
  const [busA, busB] = await Promise.all(pools.map((pool) => createBus(oneClientDatabase(pool), log)));
  t.after(() => Promise.all([busA, busB].map((bus) => bus.close())));
  // A first publish opens the connection and prepares the statement (its parameters' types are asked
  // for in a round trip of their own): the one below is then sent at once.
  const warmUp = recordSignals(busB);
  await busA.publish('pswm_signal', { agentIds: [], reason: 'warm-up' });
  await warmUp.arrival('warm-up');
  const heard = (bus: Bus) => {
    const order: string[] = [];
    bus.subscribe('pswm_documents', (payload) => order.push(`documents ${(payload.agentIds as string[]).join()}`));
    bus.subscribe('pswm_signal', (payload) => order.push(`signal ${payload.reason}`));
    return order;
  };
  const [onA, onB] = [heard(busA), heard(busB)];
  // as a commit announces: the documents' change first, then the wake-ups, in slices
  const messages: BusMessage[] = [
    ...Array.from({ length: 20 }, (_, i): BusMessage => ({ channel: 'pswm_documents', payload: { agentIds: [`agent-${i}`] } })),
    ...Array.from({ length: 20 }, (_, i): BusMessage => ({ channel: 'pswm_signal', payload: { agentIds: [`agent-${i}`], reason: `slice ${i}` } })),
  ];
  const expected = [...Array.from({ length: 20 }, (_, i) => `documents agent-${i}`), ...Array.from({ length: 20 }, (_, i) => `signal slice ${i}`)];
  holding = true;
  let answered = false;
  const sent = busA.publishAll(messages).then(() => void (answered = true));
  // B hears them from PostgreSQL: the NOTIFY was sent and committed, only its answer to A is held.
  for (let waited = 0; onB.length < expected.length && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(onB, expected);
  assert.deepEqual(onA, expected, 'the publishing instance has them while PostgreSQL\'s answer has not reached it');
  assert.equal(answered, false);
  holding = false;
  for (const release of held.splice(0)) release();
  await sent;
  await busB.publish('pswm_signal', { agentIds: [], reason: 'fence' });
  for (let waited = 0; !onA.includes('signal fence') && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(onA, [...expected, 'signal fence'], 'and not a second time from the echo');
});

test('another process has a message while the publisher\'s own subscribers still run, also on a connection that never sent one', { timeout: 30_000 }, async (t) => {
  const { url } = await freshDatabase(t);
  // The other instance: a process of its own, which prints when each notification arrives.
  const listener = spawn(process.execPath, ['--input-type=module', '-e', `
    import postgres from 'postgres';
    const sql = postgres(process.argv[1], { max: 1, onnotice: () => {} });
    await sql.listen('pswm_signal', (text) => console.log(Date.now(), JSON.parse(text).payload.reason));
    console.log('listening');
  `, url], { cwd: path.dirname(fileURLToPath(import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => void listener.kill());
  const heard = new Map<string, number>();
  const lines = createInterface({ input: listener.stdout });
  const listening = new Promise<void>((resolve) => lines.on('line', (line) => {
    if (line === 'listening') return resolve();
    const [at, ...reason] = line.split(' ');
    heard.set(reason.join(' '), Number(at));
  }));
  await listening;

  const pool = postgres(url, { max: 1, onnotice: () => {} });
  t.after(() => pool.end({ timeout: 1 }));
  const bus = await createBus(oneClientDatabase(pool), log);
  t.after(() => bus.close());
  await pool`select 1`; // the connection is open; the publish's statement is new to it
  // This instance's own subscriber holds its event loop 400 ms, as a fleet-wide signal's send loop
  // over every socket held here does.
  const BUSY_MS = 400;
  bus.subscribe('pswm_signal', () => {
    const until = performance.now() + BUSY_MS;
    while (performance.now() < until);
  });
  for (const reason of ['first on this connection', 'second']) {
    const sentAt = Date.now();
    await bus.publish('pswm_signal', { agentIds: [], reason });
    for (let waited = 0; !heard.has(reason) && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    const after = heard.get(reason)! - sentAt;
    assert.ok(after < BUSY_MS / 2, `"${reason}" reached the other process ${after} ms after the publish: it waited for this instance's own delivery`);
  }
});

test('a message goes into the statement as it is: quotes, backslashes, dollar quotes and any character arrive unchanged', { timeout: 30_000 }, async (t) => {
  const [busA, busB] = await twoInstances(t);
  const onB = recordSignals(busB);
  const reasons = [`it's "quoted" \\ back\\slashed`, '$bus$ ends a dollar quote $bus$; drop table agents; --', 'ünïcødé ✓, a NUL \u0000 and a \t tab (escaped by JSON)', '$$ $1 ::text[] )'];
  for (const reason of reasons) await busA.publish('pswm_signal', { agentIds: ['a'], reason });
  await onB.arrival(reasons.at(-1)!);
  assert.deepEqual(onB.reasons(), reasons);
  assert.match(notifyStatement([{ channel: 'pswm_signal', text: '$bus$' }]), /^select pg_notify\(m\.channel, m\.text\) from \(values \(\$bus\$pswm_signal\$bus\$, \$bus[0-9a-f]{32}\$\$bus\$\$bus[0-9a-f]{32}\$\)\)/);
});

test('closing a bus after its client was ended does not fail: there is no LISTEN left to undo', { timeout: 30_000 }, async (t) => {
  const { url } = await freshDatabase(t);
  const pool = postgres(url, { max: 1, onnotice: () => {} });
  const bus = await createBus(oneClientDatabase(pool), log);
  // as a test's database teardown (or a shutdown that ended the clients first) can do
  await pool.end();
  await bus.close();
});

test('a subscriber that throws does not keep the message from the others', async () => {
  const bus = await createBus(NO_DATABASE, log);
  bus.subscribe('pswm_signal', () => {
    throw new Error('broken subscriber');
  });
  const signals = recordSignals(bus);
  await bus.publish('pswm_signal', { agentIds: [], reason: 'still delivered' });
  assert.deepEqual(signals.reasons(), ['still delivered']);
  await bus.close();
});

test('after its connection is cut the bus listens again, tells subscribers to resync, and delivers again', { timeout: 30_000 }, async (t) => {
  const { url, sql } = await freshDatabase(t);
  const busSql = postgres(url, { max: 1, onnotice: () => {} });
  t.after(() => busSql.end());
  const bus = await createBus(oneClientDatabase(busSql), log);
  t.after(() => bus.close());
  let resynced!: () => void;
  const resync = new Promise<void>((resolve) => (resynced = resolve));
  const signals = recordSignals(bus);
  bus.subscribe('pswm_signal', () => {}, () => resynced());

  await sql`select pg_terminate_backend(pid) from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`;
  await resync;
  // Published by another session, so only the re-established LISTEN can deliver it.
  await sql`select pg_notify('pswm_signal', ${JSON.stringify({ origin: 'elsewhere', payload: { agentIds: [], reason: 'after reconnect' } })})`;
  await signals.arrival('after reconnect');
});
