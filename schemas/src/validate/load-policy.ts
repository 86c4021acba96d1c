// loadPolicy: repository files → the validated Policy of one revision, or every error at once.
// Pure: the caller reads the files (git tree or directory); no file system, clock or environment.
//
// Stages: YAML (limits, syntax) → envelope and kind schema per document → cross-document checks on
// the schema-valid documents → script/fact contents resolved from the repository files.
import { sortErrors, policyError } from '../errors.ts';
import { isPolicyFile } from '../load/policy-files.ts';
import type { LoadResult, PolicyDocument, PolicyError, RepoFile } from '../model.ts';
import { assemblePolicy } from './assemble-policy.ts';
import { CROSS_DOCUMENT_CHECKS } from './checks.ts';
import type { DeclaredNames } from './checks.ts';
import { resolveContents } from './contents.ts';
import { untrustedSelectionWarnings } from './trust-rules.ts';
import { loadFilesCached } from './parse-cache.ts';
import type { ParseCache } from './parse-cache.ts';

export interface PolicyLimits {
  maxFileBytes: number;
  maxDocumentBytes: number;
  maxDocuments: number;
  /** Passed to the yaml package's maxAliasCount (and mirrored to locate the offending alias). */
  maxAliasCount: number;
  /** Largest script, check or fact file a `file` reference may name. */
  maxScriptBytes: number;
}

export const DEFAULT_POLICY_LIMITS: PolicyLimits = {
  maxFileBytes: 1024 * 1024,
  maxDocumentBytes: 256 * 1024,
  maxDocuments: 100_000,
  maxAliasCount: 100,
  maxScriptBytes: 1024 * 1024,
};

/**
 * Pass one `parseCache` (createParseCache()) to successive loads of the same repository to skip
 * parsing and schema-checking files whose content did not change.
 */
export function loadPolicy(files: RepoFile[], limits: Partial<PolicyLimits> = {}, parseCache?: ParseCache): LoadResult {
  const effective: PolicyLimits = { ...DEFAULT_POLICY_LIMITS, ...limits };
  const errors: PolicyError[] = [];
  const documents: PolicyDocument[] = [];
  const declared: DeclaredNames = new Map();
  let documentCount = 0;
  const policyFiles = files.filter((file) => isPolicyFile(file.path) && file.symlinkTarget === undefined);
  policyFiles.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const parsed of loadFilesCached(policyFiles, effective, parseCache)) {
    errors.push(...parsed.errors);
    for (const { source, result } of parsed.documents) {
      documentCount += 1;
      if (documentCount > effective.maxDocuments) {
        const message = `the repository holds more than ${effective.maxDocuments} documents; this one and those after it were not read`;
        errors.push(policyError('TOO_MANY_DOCUMENTS', message, source));
        return { ok: false, errors: sortErrors(errors), warnings: [] };
      }
      if (result.ok) {
        documents.push(result.document);
        declare(declared, result.document.kind, result.document.id);
      } else {
        errors.push(...result.errors);
        if (result.declared) declare(declared, result.declared.kind, result.declared.id);
      }
    }
  }
  const context = { documents, declared, files: indexByPath(files), limits: effective };
  for (const check of CROSS_DOCUMENT_CHECKS) errors.push(...check(context));
  const contents = resolveContents(context);
  errors.push(...contents.errors);
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors), warnings: [] };
  return { ok: true, policy: assemblePolicy(documents, contents.resolved), warnings: sortErrors(untrustedSelectionWarnings(documents)) };
}

function declare(declared: DeclaredNames, kind: string, id: string): void {
  const ids = declared.get(kind) ?? new Set<string>();
  ids.add(id);
  declared.set(kind, ids);
}

function indexByPath(files: RepoFile[]): Map<string, RepoFile> {
  return new Map(files.map((file) => [file.path, file]));
}
