// The console's live view: one server-sent-events stream per browser. Agent activity (heartbeats,
// reports, queued enrollments) is collected from this instance's responses and published on the bus
// once a second, so every instance's consoles see every agent. Work that depends on the number of
// open consoles is only the fan-out of one prepared message: the overview counts are computed once
// per change (at most every few seconds) and pushed to every stream, never fetched per browser.
import type { ServerResponse } from 'node:http';
import type postgres from 'postgres';
import type { Bus, BusPayloads } from '../hub/bus.ts';
import { MAX_PAYLOAD_BYTES } from '../hub/bus.ts';
import type { Logger } from '../logger.ts';
import { fleetOverview } from './fleet-state.ts';
import { withoutJit } from './no-jit.ts';
import type { StateThresholds } from './fleet-state.ts';

export interface FleetEventsOptions {
  sql: postgres.Sql;
  bus: Bus;
  log: Logger;
  thresholds: StateThresholds;
  /** How often collected agent activity is published (ms). */
  publishIntervalMs?: number;
  /** Least time between two overview recounts (ms). */
  overviewIntervalMs?: number;
  /** How often new reconciliations and queue entries are looked for while a console is open (ms). */
  pollIntervalMs?: number;
}

export interface FleetEvents {
  agentHeartbeat(agentId: string): void;
  agentReported(agentId: string): void;
  enrollmentQueued(): void;
  /** Streams events to this response until it closes. */
  attach(res: ServerResponse): void;
  readonly clients: number;
  close(): void;
}

/** A client that has this much unsent is too slow: it is dropped and its EventSource reconnects. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const KEEPALIVE_MS = 25_000;

export function createFleetEvents(opts: FleetEventsOptions): FleetEvents {
  const { sql, bus, log } = opts;
  const clients = new Set<ServerResponse>();
  const pending = { heartbeats: new Set<string>(), reports: new Set<string>(), queued: 0 };
  let overviewDue = false;
  let lastOverviewAt = 0;
  let cursor: { reconciliation: number; queue: number } | undefined;

  const send = (event: string, data: unknown) => {
    if (!clients.size) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        clients.delete(res);
      } else {
        res.write(frame);
      }
    }
  };

  const publish = async () => {
    if (!pending.heartbeats.size && !pending.reports.size && !pending.queued) return;
    const batches = activityBatches([...pending.heartbeats], [...pending.reports], pending.queued);
    pending.heartbeats.clear();
    pending.reports.clear();
    pending.queued = 0;
    for (const batch of batches) await bus.publish('pswm_fleet', batch);
  };

  const onActivity = async (activity: BusPayloads['pswm_fleet']) => {
    if (!clients.size) return;
    const ids = [...new Set([...activity.heartbeats, ...activity.reports])];
    const names = ids.length
      ? new Map((await sql<Array<{ id: string; name: string }>>`select id, name from agents where id = any(${ids}::uuid[])`).map((row) => [row.id, row.name]))
      : new Map<string, string>();
    const named = (list: string[]) => list.flatMap((id) => (names.has(id) ? [names.get(id)!] : []));
    send('agents', { heartbeats: named(activity.heartbeats), reports: named(activity.reports), at: new Date() });
    overviewDue = true;
  };

  const recount = async () => {
    if (!clients.size || !overviewDue || Date.now() - lastOverviewAt < (opts.overviewIntervalMs ?? 5000)) return;
    overviewDue = false;
    lastOverviewAt = Date.now();
    const { states, total, pendingApproval, oldRevision } = await withoutJit(sql, (tx) => fleetOverview(tx, opts.thresholds));
    send('overview', { states, total, pendingApproval, oldRevision });
  };

  // The cursor is read once even with no console open: first read by the first poll with a client,
  // it took in a reconciliation that landed between that console's page render and that poll, and
  // the page never heard of it.
  const poll = async () => {
    if (!clients.size && cursor) return;
    const [now] = await sql<Array<{ reconciliation: number; queue: number }>>`
      select coalesce((select max(id) from reconciliations), 0)::int as reconciliation,
             (select count(*) from enrollment_requests where status = 'pending')::int as queue`;
    if (cursor && now.reconciliation !== cursor.reconciliation) {
      send('reconciliation', { id: now.reconciliation });
      overviewDue = true;
    }
    if (cursor && now.queue !== cursor.queue) {
      send('queue', { pending: now.queue });
      overviewDue = true;
    }
    cursor = now;
  };

  const guarded = (name: string, fn: () => Promise<void>) => () => void fn().catch((error) => log.warn({ err: error }, `console events: ${name} failed`));
  const unsubscribe = bus.subscribe('pswm_fleet', (activity) => void onActivity(activity).catch((error) => log.warn({ err: error }, 'console events: delivery failed')));
  const timers = [
    setInterval(guarded('publish', publish), opts.publishIntervalMs ?? 1000),
    setInterval(guarded('poll', async () => { await poll(); await recount(); }), opts.pollIntervalMs ?? 2000),
    setInterval(() => { for (const res of clients) res.write(': keepalive\n\n'); }, KEEPALIVE_MS),
  ];
  for (const timer of timers) timer.unref();

  return {
    agentHeartbeat: (agentId) => void pending.heartbeats.add(agentId),
    agentReported: (agentId) => void pending.reports.add(agentId),
    enrollmentQueued: () => void pending.queued++,
    attach(res) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      // A reconnecting EventSource waits this long before trying again.
      res.write('retry: 3000\n\n');
      clients.add(res);
      res.on('close', () => clients.delete(res));
    },
    get clients() {
      return clients.size;
    },
    close() {
      for (const timer of timers) clearInterval(timer);
      unsubscribe();
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}

/** Splits activity into bus messages under PostgreSQL's NOTIFY limit. */
export function activityBatches(heartbeats: string[], reports: string[], queued: number): Array<BusPayloads['pswm_fleet']> {
  const batches: Array<BusPayloads['pswm_fleet']> = [];
  let batch: BusPayloads['pswm_fleet'] = { heartbeats: [], reports: [], queued };
  // Envelope and keys take < 200 bytes; each id is 36 characters plus quotes and a comma.
  let bytes = 200;
  const add = (list: 'heartbeats' | 'reports', id: string) => {
    if (bytes + id.length + 3 > MAX_PAYLOAD_BYTES) {
      batches.push(batch);
      batch = { heartbeats: [], reports: [], queued: 0 };
      bytes = 200;
    }
    batch[list].push(id);
    bytes += id.length + 3;
  };
  for (const id of heartbeats) add('heartbeats', id);
  for (const id of reports) add('reports', id);
  batches.push(batch);
  return batches;
}
