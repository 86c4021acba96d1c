// Writes a plan of writes inside the caller's transaction. Each table gets a few set-based
// statements fed by unnest() arrays (one parameter per column, so no 65,534-parameter limit),
// chunked to keep single messages small. Order respects the foreign key: documents are inserted
// before scopes point at them and deleted after nothing does.
import type postgres from 'postgres';
import type { WritePlan } from './plan-writes.ts';

const ROWS_PER_STATEMENT = 2000;

export async function applyWrites(tx: postgres.TransactionSql, plan: WritePlan, revision: string): Promise<void> {
  await insertByDigest(tx, 'policy_contents', 'content', plan.contents.insert.map((r) => ({ sha256: r.sha256, text: r.content })));
  await insertByDigest(tx, 'desired_documents', 'canonical_json', plan.documents.insert.map((r) => ({ sha256: r.sha256, text: r.json })));
  for (const rows of chunks(plan.objects.upsert)) {
    await tx`
      insert into policy_objects (kind, id, sha256, revision, file, line, metadata, spec)
      select kind, id, sha, ${revision}, file, line, metadata::jsonb, spec::jsonb
      from unnest(
        ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.sha256)}::text[],
        ${rows.map((r) => r.file)}::text[], ${rows.map((r) => r.line)}::int[],
        ${rows.map((r) => JSON.stringify(r.metadata))}::text[], ${rows.map((r) => JSON.stringify(r.spec))}::text[]
      ) as t(kind, id, sha, file, line, metadata, spec)
      on conflict (kind, id) do update set
        sha256 = excluded.sha256, revision = excluded.revision, file = excluded.file, line = excluded.line,
        metadata = excluded.metadata, spec = excluded.spec`;
  }
  for (const rows of chunks(plan.objects.delete)) {
    await tx`
      delete from policy_objects o
      using unnest(${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.id)}::text[]) as t(kind, id)
      where o.kind = t.kind and o.id = t.id`;
  }
  for (const rows of chunks(plan.scopes.upsert)) {
    await tx`
      insert into scope_documents (scope, organization, location, agent, document_sha256, revision)
      select scope, organization, location, agent, sha, ${revision}
      from unnest(
        ${rows.map((r) => r.scope)}::text[], ${rows.map((r) => r.organization)}::text[],
        ${rows.map((r) => r.location)}::text[], ${rows.map((r) => r.agent)}::text[], ${rows.map((r) => r.documentSha256)}::text[]
      ) as t(scope, organization, location, agent, sha)
      on conflict (scope) do update set
        organization = excluded.organization, location = excluded.location, agent = excluded.agent,
        document_sha256 = excluded.document_sha256, revision = excluded.revision`;
  }
  for (const scopes of chunks(plan.scopes.delete)) {
    await tx`delete from scope_documents where scope = any(${scopes}::text[])`;
  }
  for (const shas of chunks(plan.documents.delete)) {
    await tx`delete from desired_documents where sha256 = any(${shas}::text[])`;
  }
  for (const shas of chunks(plan.contents.delete)) {
    await tx`delete from policy_contents where sha256 = any(${shas}::text[])`;
  }
}

// Content-addressed rows never change: an existing digest already holds the same bytes.
async function insertByDigest(tx: postgres.TransactionSql, table: string, column: string, rows: Array<{ sha256: string; text: string }>): Promise<void> {
  for (const chunk of chunks(rows)) {
    await tx`
      insert into ${tx(table)} (sha256, ${tx(column)}, size)
      select sha, text, octet_length(text)
      from unnest(${chunk.map((r) => r.sha256)}::text[], ${chunk.map((r) => r.text)}::text[]) as t(sha, text)
      on conflict (sha256) do nothing`;
  }
}

function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) yield rows.slice(start, start + ROWS_PER_STATEMENT);
}
