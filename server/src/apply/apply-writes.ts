// Writes a plan of writes inside the caller's transaction. Each table gets a few set-based
// statements fed by unnest() arrays (one parameter per column, so no 65,534-parameter limit),
// chunked by rows and bytes to keep single messages moderate. Order respects the foreign keys:
// parts before the documents that name them, documents before the scopes that point at them, and
// deletes the other way round.
import type postgres from 'postgres';
import type { WritePlan } from './plan-writes.ts';

const ROWS_PER_STATEMENT = 5000;
const BYTES_PER_STATEMENT = 8 * 1024 * 1024;

/** Writes the plan; returns the milliseconds spent per table (for the reconcile's stage log). */
export async function applyWrites(tx: postgres.TransactionSql, plan: WritePlan, revision: string): Promise<Record<string, number>> {
  const spentMs: Record<string, number> = {};
  const timed = async (table: string, write: () => Promise<void>) => {
    const started = performance.now();
    await write();
    spentMs[table] = (spentMs[table] ?? 0) + performance.now() - started;
  };

  await timed('contents', () => insertByDigest(tx, 'policy_contents', 'content', plan.contents.insert.map((r) => ({ sha256: r.sha256, text: r.content }))));
  await timed('parts', async () => {
    for (const rows of chunks(plan.parts.insert, (r) => r.body.length)) {
      await tx`
        insert into document_parts (sha256, kind, body, size)
        select sha, kind, body, octet_length(body)
        from unnest(${rows.map((r) => r.sha256)}::text[], ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.body)}::text[]) as t(sha, kind, body)
        on conflict (sha256) do nothing`;
    }
  });
  await timed('documents', async () => {
    for (const rows of chunks(plan.documents.insert)) {
      await tx`
        insert into desired_documents (sha256, settings_sha256, resources_sha256)
        select * from unnest(${rows.map((r) => r.sha256)}::text[], ${rows.map((r) => r.settingsSha256)}::text[], ${rows.map((r) => r.resourcesSha256)}::text[])
        on conflict (sha256) do nothing`;
    }
  });
  await timed('objects', async () => {
    for (const rows of chunks(plan.objects.upsert.map((r) => ({ ...r, metadata: JSON.stringify(r.metadata), spec: JSON.stringify(r.spec) })), (r) => r.spec.length)) {
      await tx`
        insert into policy_objects (kind, id, sha256, revision, file, line, metadata, spec)
        select kind, id, sha, ${revision}, file, line, metadata::jsonb, spec::jsonb
        from unnest(
          ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.sha256)}::text[],
          ${rows.map((r) => r.file)}::text[], ${rows.map((r) => r.line)}::int[],
          ${rows.map((r) => r.metadata)}::text[], ${rows.map((r) => r.spec)}::text[]
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
  });
  await timed('scopes', async () => {
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
    await deleteByKey(tx, 'scope_documents', 'scope', plan.scopes.delete);
  });
  await timed('documents', () => deleteByKey(tx, 'desired_documents', 'sha256', plan.documents.delete));
  await timed('parts', () => deleteByKey(tx, 'document_parts', 'sha256', plan.parts.delete));
  await timed('contents', () => deleteByKey(tx, 'policy_contents', 'sha256', plan.contents.delete));
  return spentMs;
}

// Content-addressed rows never change: an existing digest already holds the same bytes.
async function insertByDigest(tx: postgres.TransactionSql, table: string, column: string, rows: Array<{ sha256: string; text: string }>): Promise<void> {
  for (const chunk of chunks(rows, (r) => r.text.length)) {
    await tx`
      insert into ${tx(table)} (sha256, ${tx(column)}, size)
      select sha, text, octet_length(text)
      from unnest(${chunk.map((r) => r.sha256)}::text[], ${chunk.map((r) => r.text)}::text[]) as t(sha, text)
      on conflict (sha256) do nothing`;
  }
}

async function deleteByKey(tx: postgres.TransactionSql, table: string, column: string, keys: string[]): Promise<void> {
  for (const chunk of chunks(keys)) await tx`delete from ${tx(table)} where ${tx(column)} = any(${chunk}::text[])`;
}

/** Slices of at most ROWS_PER_STATEMENT rows and (roughly) BYTES_PER_STATEMENT of text. */
function* chunks<T>(rows: T[], lengthOf: (row: T) => number = () => 0): Generator<T[]> {
  let start = 0;
  while (start < rows.length) {
    let end = start;
    let bytes = 0;
    while (end < rows.length && end - start < ROWS_PER_STATEMENT && (end === start || bytes + lengthOf(rows[end]) <= BYTES_PER_STATEMENT)) {
      bytes += lengthOf(rows[end]);
      end++;
    }
    yield rows.slice(start, end);
    start = end;
  }
}
