// The console's live stream (web-console/fleet-events.ts) against a real database: what it announces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBus } from '../src/hub/bus.ts';
import { createFleetEvents } from '../src/web-console/fleet-events.ts';
import { freshDatabase, oneClientDatabase } from './support/database.ts';
import { silentLog, until } from './reconcile-fixtures.ts';

/** A response the stream writes to, as a browser's EventSource would read it. */
function eventStream() {
  const body = new PassThrough();
  let text = '';
  body.on('data', (chunk: Buffer) => (text += chunk));
  const res = Object.assign(body, { writeHead: () => res }) as unknown as ServerResponse;
  return { res, events: () => [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({ type: m[1], data: JSON.parse(m[2]) })) };
}

test('the first console after a start hears of a reconciliation recorded before the stream\'s first poll with a client', { timeout: 30_000 }, async (t) => {
  const { sql } = await freshDatabase(t);
  const bus = await createBus({ ...oneClientDatabase(sql), embedded: true }, silentLog);
  t.after(() => bus.close());
  const POLL_MS = 50;
  const events = createFleetEvents({ sql, bus, log: silentLog, thresholds: { offlineAfterSeconds: 3600 }, pollIntervalMs: POLL_MS });
  t.after(() => events.close());
  // The stream has run (no console open) before the reconciliation is recorded, as after a start.
  await sleep(POLL_MS * 6);
  const [{ id }] = await sql<Array<{ id: string }>>`
    insert into reconciliations (trigger, status, duration_ms, started_at, finished_at)
    values ('test', 'rejected', 1, now(), now()) returning id`;
  const page = eventStream();
  events.attach(page.res);
  const heard = await until('the reconciliation event', async () => page.events().find((e) => e.type === 'reconciliation'), 5_000, POLL_MS);
  assert.deepEqual(heard.data, { id: Number(id) });
});
