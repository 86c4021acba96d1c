// Writes a plan of writes inside the caller's transaction. Rows the applied state lacks go in by bulk
// insert (insert-rows.ts); the plan was made against the applied state read or remembered under the
// reconcile lock, so they cannot exist yet. Updates and deletes are set-based statements fed by
// unnest() arrays (one parameter per column: no 65,534-parameter limit), chunked. Order respects the
// foreign keys: parts before the documents that name them, documents before the scopes that point
// at them, and deletes the other way round.
import type postgres from 'postgres';
import type { WritePlan } from './plan-writes.ts';
import { insertRows, type InsertMethod } from './insert-rows.ts';

const ROWS_PER_STATEMENT = 5000;

/** Writes the plan; returns the milliseconds spent per table (for the reconcile's stage log). */
export async function applyWrites(tx: postgres.TransactionSql, plan: WritePlan, revision: string, method: InsertMethod): Promise<Record<string, number>> {
  const spentMs: Record<string, number> = {};
  const timed = async (table: string, write: () => Promise<unknown>) => {
    const started = performance.now();
    await write();
    spentMs[table] = (spentMs[table] ?? 0) + performance.now() - started;
  };

  await timed('contents', () => insertRows(tx, method, 'policy_contents', ['sha256', 'content', 'size'],
    plan.contents.insert.map((r) => [r.sha256, r.content, Buffer.byteLength(r.content)])));
  await timed('parts', () => insertRows(tx, method, 'document_parts', ['sha256', 'kind', 'body', 'size'],
    plan.parts.insert.map((r) => [r.sha256, r.kind, r.body, Buffer.byteLength(r.body)])));
  await timed('documents', () => insertRows(tx, method, 'desired_documents', ['sha256', 'settings_sha256', 'resources_sha256'],
    plan.documents.insert.map((r) => [r.sha256, r.settingsSha256, r.resourcesSha256])));

  await timed('objects', async () => {
    await insertRows(tx, method, 'policy_objects', ['kind', 'id', 'sha256', 'revision', 'file', 'line', 'metadata', 'spec'],
      plan.objects.insert.map((r) => [r.kind, r.id, r.sha256, revision, r.file, r.line, r.metadata as object, r.spec as object]));
    for (const rows of chunks(plan.objects.update)) {
      await tx`
        update policy_objects o set sha256 = t.sha, revision = ${revision}, file = t.file, line = t.line,
          metadata = t.metadata::jsonb, spec = t.spec::jsonb
        from unnest(
          ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.sha256)}::text[],
          ${rows.map((r) => r.file)}::text[], ${rows.map((r) => r.line)}::int[],
          ${rows.map((r) => JSON.stringify(r.metadata))}::text[], ${rows.map((r) => JSON.stringify(r.spec))}::text[]
        ) as t(kind, id, sha, file, line, metadata, spec)
        where o.kind = t.kind and o.id = t.id`;
    }
    for (const rows of chunks(plan.objects.delete)) {
      await tx`
        delete from policy_objects o
        using unnest(${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.id)}::text[]) as t(kind, id)
        where o.kind = t.kind and o.id = t.id`;
    }
  });

  await timed('scopes', async () => {
    await insertRows(tx, method, 'scope_documents', ['scope', 'organization', 'location', 'agent', 'document_sha256', 'revision'],
      plan.scopes.insert.map((r) => [r.scope, r.organization, r.location, r.agent, r.documentSha256, revision]));
    for (const rows of chunks(plan.scopes.update)) {
      await tx`
        update scope_documents s set document_sha256 = t.sha, revision = ${revision}
        from unnest(${rows.map((r) => r.scope)}::text[], ${rows.map((r) => r.documentSha256)}::text[]) as t(scope, sha)
        where s.scope = t.scope`;
    }
    await deleteByKey(tx, 'scope_documents', 'scope', plan.scopes.delete);
  });
  await timed('documents', () => deleteByKey(tx, 'desired_documents', 'sha256', plan.documents.delete));
  await timed('parts', () => deleteByKey(tx, 'document_parts', 'sha256', plan.parts.delete));
  await timed('contents', () => deleteByKey(tx, 'policy_contents', 'sha256', plan.contents.delete));
  return spentMs;
}

async function deleteByKey(tx: postgres.TransactionSql, table: string, column: string, keys: string[]): Promise<void> {
  for (const chunk of chunks(keys)) await tx`delete from ${tx(table)} where ${tx(column)} = any(${chunk}::text[])`;
}

function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) yield rows.slice(start, start + ROWS_PER_STATEMENT);
}
