// Per-file load results kept between loads of successive revisions: a file whose content is
// unchanged (same git blob id, or same text when the caller has no blob id) is not parsed or
// schema-checked again. Only the per-file stage is cached; everything that looks across files
// runs on every load, so a cached load returns exactly what an uncached one would.
import { toPolicyDocument } from '../load/policy-document.ts';
import type { DocumentResult } from '../load/policy-document.ts';
import { parseYamlFile } from '../load/yaml-file.ts';
import type { YamlLimits } from '../load/yaml-file.ts';
import type { PolicyError, RepoFile, SourcePosition } from '../model.ts';

/** One policy file, parsed and schema-checked on its own. */
export interface FileResult {
  /** YAML errors (syntax, limits, aliases) of the file. */
  errors: PolicyError[];
  /** Each readable document in file order, with its envelope and schema outcome. */
  documents: Array<{ source: SourcePosition; result: DocumentResult }>;
}

interface CachedFile {
  size: number;
  /** The blob id when the file came with one, else its text. */
  oid?: string;
  text?: string;
  result: FileResult;
}

/** Opaque to callers: create one with createParseCache() per repository and pass it to every
 * loadPolicy of that repository. */
export interface ParseCache {
  /** by path */
  readonly files: Map<string, CachedFile>;
  /** The limits the cached results were computed under; other limits start afresh. */
  limits: string;
}

export function createParseCache(): ParseCache {
  return { files: new Map(), limits: '' };
}

export function loadFile(file: RepoFile, limits: YamlLimits): FileResult {
  const parsed = parseYamlFile(file, limits);
  return { errors: parsed.errors, documents: parsed.documents.map((document) => ({ source: document.source, result: toPolicyDocument(document) })) };
}

/**
 * `loadFile` over `files` through the cache, one file at a time so a caller that stops early (too
 * many documents) parses no further. When the iteration ends, early or not, entries of files not
 * seen in it are dropped, so the cache holds one revision's worth of results.
 */
export function* loadFilesCached(files: RepoFile[], limits: YamlLimits, cache: ParseCache | undefined): Generator<FileResult> {
  if (!cache) {
    for (const file of files) yield loadFile(file, limits);
    return;
  }
  const limitsKey = `${limits.maxFileBytes}/${limits.maxDocumentBytes}/${limits.maxAliasCount}`;
  if (cache.limits !== limitsKey) {
    cache.files.clear();
    cache.limits = limitsKey;
  }
  const seen = new Set<string>();
  try {
    for (const file of files) {
      seen.add(file.path);
      const cached = cache.files.get(file.path);
      if (cached && sameContent(cached, file)) {
        yield cached.result;
        continue;
      }
      const result = loadFile(file, limits);
      cache.files.set(file.path, file.oid === undefined ? { size: file.size, text: file.text, result } : { size: file.size, oid: file.oid, result });
      yield result;
    }
  } finally {
    for (const path of cache.files.keys()) if (!seen.has(path)) cache.files.delete(path);
  }
}

/** A blob id identifies content; without one, the text itself is compared (cheaper than hashing
 * it, and the same string object when the caller reuses it, as readPolicyRevision does). */
function sameContent(cached: CachedFile, file: RepoFile): boolean {
  if (cached.size !== file.size) return false;
  if (file.oid !== undefined || cached.oid !== undefined) return cached.oid === file.oid;
  return cached.text === file.text;
}
