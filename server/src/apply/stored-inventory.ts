// Reads what the database holds of the applied revision: digests and positions only, enough for
// planWrites to decide which rows change. The reconciler needs it when its in-memory copy of the
// applied state is missing or stale (first reconcile of a process, or another instance applied).
import type postgres from 'postgres';
import { objectKey, type StoredInventory } from './plan-writes.ts';

export async function readStoredInventory(sql: postgres.Sql | postgres.TransactionSql): Promise<StoredInventory> {
  const [state] = await sql<Array<{ applied_revision: string | null; documents_version: string }>>`select applied_revision, documents_version from policy_state`;
  const objects = await sql<Array<{ kind: string; id: string; sha256: string; file: string; line: number }>>`
    select kind, id, sha256, file, line from policy_objects`;
  const contents = await sql<Array<{ sha256: string }>>`select sha256 from policy_contents`;
  const scopes = await sql<Array<{ scope: string; document_sha256: string }>>`select scope, document_sha256 from scope_documents`;
  const documents = await sql<Array<{ sha256: string; settings_sha256: string; resources_sha256: string }>>`
    select sha256, settings_sha256, resources_sha256 from desired_documents`;
  const parts = await sql<Array<{ sha256: string }>>`select sha256 from document_parts`;
  return {
    revision: state?.applied_revision ?? null,
    documentsVersion: Number(state?.documents_version ?? 0),
    objects: new Map(objects.map((o) => [objectKey(o.kind, o.id), { sha256: o.sha256, file: o.file, line: o.line }])),
    contentShas: new Set(contents.map((c) => c.sha256)),
    scopes: new Map(scopes.map((s) => [s.scope, s.document_sha256])),
    documents: new Map(documents.map((d) => [d.sha256, { settingsSha256: d.settings_sha256, resourcesSha256: d.resources_sha256 }])),
    partShas: new Set(parts.map((p) => p.sha256)),
  };
}
