// Reads a scope's document back as the agent receives it: the two parts and the contents they name,
// assembled by schemas' assembleDocument (the same code compileGroup uses, so served bytes and
// compiled bytes cannot drift apart). A document id names its content for good, so an assembled
// document is cached by id and never invalidated, only evicted (least recently used, by bytes).
import type postgres from 'postgres';
import { assembleDocument } from '../../../schemas/src/compile/assemble.ts';

export interface DocumentStore {
  /** Canonical JSON of the document with this id, or undefined when the applied state has none. */
  read(id: string): Promise<string | undefined>;
}

/** The canonical JSON of a document's two parts, or undefined when no document has this id. */
export async function readDocumentParts(sql: postgres.Sql | postgres.TransactionSql, id: string): Promise<{ settings: string; resources: string } | undefined> {
  const [parts] = await sql<Array<{ settings: string; resources: string }>>`
    select s.body as settings, r.body as resources
    from desired_documents d
    join document_parts s on s.sha256 = d.settings_sha256
    join document_parts r on r.sha256 = d.resources_sha256
    where d.sha256 = ${id}`;
  return parts;
}

const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export function createDocumentStore(sql: postgres.Sql, options: { cacheBytes?: number } = {}): DocumentStore {
  const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  const cache = new Map<string, string>(); // insertion order = recency
  let cachedBytes = 0;

  const remember = (id: string, json: string) => {
    cache.set(id, json);
    cachedBytes += json.length;
    for (const [oldest, text] of cache) {
      if (cachedBytes <= cacheBytes || oldest === id) break;
      cache.delete(oldest);
      cachedBytes -= text.length;
    }
  };

  // The agents of a location whose document a commit changed all poll within the same second: the
  // first read of the new document is shared by those that ask while it runs (bench:fleet at 30,000:
  // 75 polls each ran the read's four round trips, and the last was answered ~500 ms after the wake).
  const reading = new Map<string, Promise<string | undefined>>();
  const readAndRemember = async (id: string) => {
    try {
      const json = await readAssembled(sql, id);
      if (json !== undefined) remember(id, json);
      return json;
    } finally {
      reading.delete(id);
    }
  };

  return {
    read(id) {
      const cached = cache.get(id);
      if (cached !== undefined) {
        cache.delete(id);
        cache.set(id, cached);
        return Promise.resolve(cached);
      }
      let read = reading.get(id);
      if (!read) reading.set(id, (read = readAndRemember(id)));
      return read;
    },
  };
}

/** The document assembled from the database; one snapshot for both reads: a reconcile committing in
 * between could drop a content. */
function readAssembled(sql: postgres.Sql, id: string): Promise<string | undefined> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const parts = await readDocumentParts(tx, id);
    if (!parts) return undefined;
    // A first pass only learns which contents the resources part names; the second assembles.
    const wanted = new Set<string>();
    assembleDocument(parts.settings, parts.resources, (sha256) => (wanted.add(sha256), ''));
    const rows = wanted.size
      ? await tx<Array<{ sha256: string; content: string }>>`select sha256, content from policy_contents where sha256 = any(${[...wanted]}::text[])`
      : [];
    const contents = new Map(rows.map((row) => [row.sha256, row.content]));
    return assembleDocument(parts.settings, parts.resources, (sha256) => contents.get(sha256)).json;
  });
}
