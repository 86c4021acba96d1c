// Fleet gauges read from PostgreSQL when Prometheus scrapes, not kept in memory: every instance
// reports the same numbers, and nothing is queried between scrapes.
import { Gauge, type Registry } from 'prom-client';
import type postgres from 'postgres';

export function fleetMetrics(registry: Registry, sql: postgres.Sql): void {
  new Gauge({
    name: 'pswm_agents',
    help: 'Agents by status (pending, active, revoked).',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await sql<Array<{ status: string; count: number }>>`select status, count(*)::int as count from agents group by status`;
      this.reset();
      for (const { status, count } of rows) this.set({ status }, count);
    },
  });
}
