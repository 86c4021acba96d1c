// Reconcile outcomes as Prometheus metrics: how often each status happens, how long runs take, and
// when a revision was last applied (alert when that stops moving while commits keep coming).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReconcileOutcome } from './reconcile.ts';

export function reconcileMetrics(registry: Registry): (outcome: ReconcileOutcome) => void {
  const runs = new Counter({
    name: 'pswm_reconciliations_total',
    help: 'Reconcile attempts by status (applied, rejected, no-op, failed).',
    labelNames: ['status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'pswm_reconcile_duration_seconds',
    help: 'Duration of reconcile attempts by status.',
    labelNames: ['status'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const lastApplied = new Gauge({
    name: 'pswm_reconcile_last_applied_timestamp_seconds',
    help: 'Unix time at which this instance last applied a revision.',
    registers: [registry],
  });
  return (outcome) => {
    runs.inc({ status: outcome.status });
    duration.observe({ status: outcome.status }, outcome.durationMs / 1000);
    if (outcome.status === 'applied') lastApplied.setToCurrentTime();
  };
}
