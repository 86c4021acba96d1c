// Reads what the database holds of the applied revision: digests and positions only, enough for
// planWrites to decide which rows change. Called inside the apply transaction, after the advisory
// lock, so the diff is against the state this transaction will change.
import type postgres from 'postgres';
import { objectKey, type StoredInventory } from './plan-writes.ts';

export async function readStoredInventory(sql: postgres.Sql | postgres.TransactionSql): Promise<StoredInventory> {
  const [state] = await sql<Array<{ applied_revision: string | null }>>`select applied_revision from policy_state`;
  const objects = await sql<Array<{ kind: string; id: string; sha256: string; file: string; line: number }>>`
    select kind, id, sha256, file, line from policy_objects`;
  const contents = await sql<Array<{ sha256: string }>>`select sha256 from policy_contents`;
  const scopes = await sql<Array<{ scope: string; document_sha256: string }>>`select scope, document_sha256 from scope_documents`;
  return {
    revision: state?.applied_revision ?? null,
    objects: new Map(objects.map((o) => [objectKey(o.kind, o.id), { sha256: o.sha256, file: o.file, line: o.line }])),
    contentShas: new Set(contents.map((c) => c.sha256)),
    scopes: new Map(scopes.map((s) => [s.scope, s.document_sha256])),
  };
}
