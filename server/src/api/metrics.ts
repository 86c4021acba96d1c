// Prometheus metrics. Each app has its own registry (`app.metrics`), so other parts register their
// metrics on it: `new Counter({ name, help, registers: [app.metrics] })`.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { readdir } from 'node:fs/promises';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

async function metricsPlugin(app: FastifyInstance): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pswm_' });
  for (const name of PER_HANDLE_METRICS) registry.removeSingleMetric(name);
  replaceOpenFdsGauge(registry);
  const latency = new Histogram({
    name: 'pswm_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.decorate('metrics', registry);

  // Labels use the route pattern (/api/v1/tokens/:id), never the raw URL, to keep cardinality bounded.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    latency.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}

export const metrics = fp(metricsPlugin, { name: 'pswm-metrics' });

/**
 * Default metrics that list every libuv handle or resource on each scrape (two lists of 15,000 at
 * 15,000 agent sockets, each walked twice): a scrape blocked the event loop ~100 ms in the fleet
 * bench's CPU profile. The hub's `pswm_websocket_connections` counts the handles that grow with the fleet.
 */
export const PER_HANDLE_METRICS = ['pswm_nodejs_active_handles', 'pswm_nodejs_active_handles_total', 'pswm_nodejs_active_resources', 'pswm_nodejs_active_resources_total'];

// prom-client counts open files with a synchronous readdir of /proc/self/fd: with one descriptor per
// agent socket, a scrape at 15,000 agents blocked the event loop for tens of milliseconds. Same
// metric, read asynchronously.
function replaceOpenFdsGauge(registry: Registry): void {
  const name = 'pswm_process_open_fds';
  if (!registry.getSingleMetric(name)) return; // not on this platform
  registry.removeSingleMetric(name);
  new Gauge({
    name,
    help: 'Number of open file descriptors.',
    registers: [registry],
    async collect() {
      // Less the descriptor readdir itself holds open.
      this.set((await readdir('/proc/self/fd')).length - 1);
    },
  });
}
