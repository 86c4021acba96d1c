// What is pruned, and after how long. Each rule deletes one small batch of rows older than its cutoff;
// the history a reader still needs is kept: every agent's latest report (its applied revision and
// drift come from it) and the newest reconciliation (the last attempt's errors).
import type { ServerConfig } from '../config/options.ts';

export interface RetentionRule {
  /** For logs and metrics. */
  table: string;
  days: number;
  /** `delete … where ctid in (<batch of at most $2 rows older than $1>)`, as SQL text with $1 = cutoff, $2 = batch size. */
  deleteBatch: string;
}

export type RetentionConfig = Pick<ServerConfig, 'retentionDays' | 'auditRetentionDays' | 'reconciliationRetentionDays'>;

export function retentionRules(config: RetentionConfig): RetentionRule[] {
  return [
    {
      // script_runs, choco_runs and report_drift go with their report (on delete cascade).
      table: 'reports',
      days: config.retentionDays,
      deleteBatch: `delete from reports where id in (
        select old.id from reports old
        where old.finished_at < $1
          and exists (select 1 from reports newer where newer.agent_id = old.agent_id and newer.finished_at > old.finished_at)
        limit $2)`,
    },
    {
      table: 'reconciliations',
      days: config.reconciliationRetentionDays,
      deleteBatch: `delete from reconciliations where id in (
        select id from reconciliations where finished_at < $1 and id < (select max(id) from reconciliations) limit $2)`,
    },
    {
      table: 'audit_log',
      days: config.auditRetentionDays,
      deleteBatch: 'delete from audit_log where id in (select id from audit_log where at < $1 limit $2)',
    },
  ];
}

export function cutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * 86_400_000);
}
