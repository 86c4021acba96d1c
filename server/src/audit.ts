// The audit log: who did what to which object, and whether it worked. Entries are only ever inserted.
import type postgres from 'postgres';
import type { Queryable } from './db/database.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  outcome: 'success' | 'failure';
  details?: object;
}

export async function audit(sql: Queryable, entry: AuditEntry): Promise<void> {
  await sql`
    insert into audit_log (actor, action, target, outcome, details)
    values (${entry.actor}, ${entry.action}, ${entry.target ?? null}, ${entry.outcome}, ${sql.json((entry.details ?? {}) as postgres.JSONValue)})`;
}
