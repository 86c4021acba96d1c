// The cross-document checks, run in order on the schema-valid documents. Each returns its errors;
// none stops the others, so an admin sees every problem of a commit at once.
import type { PolicyDocument, PolicyError, RepoFile, SourcePosition } from '../model.ts';
import type { PolicyLimits } from './load-policy.ts';
import { checkUniqueNames } from './names.ts';
import { checkPackages } from './packages.ts';
import { checkReferences } from './references.ts';
import { checkScriptRules } from './script-rules.ts';

/** Names declared per kind, including documents that failed their schema: a reference to a
 * document with a typo inside is not also reported as missing. */
export type DeclaredNames = Map<string, Set<string>>;

export interface CheckContext {
  documents: PolicyDocument[];
  declared: DeclaredNames;
  files: Map<string, RepoFile>;
  limits: PolicyLimits;
}

export type CrossDocumentCheck = (context: CheckContext) => PolicyError[];

export const CROSS_DOCUMENT_CHECKS: readonly CrossDocumentCheck[] = [checkUniqueNames, checkReferences, checkScriptRules, checkPackages];

/** `Script "cleanup"` */
export function nameOf(document: PolicyDocument): string {
  return `${document.kind} "${document.id}"`;
}

/** `policy/scripts.yaml:12` */
export function lineOf(at: SourcePosition): string {
  return `${at.file}:${at.line}`;
}

export function ofKind<K extends PolicyDocument['kind']>(documents: PolicyDocument[], kind: K): PolicyDocument<K>[] {
  return documents.filter((document): document is PolicyDocument<K> => document.kind === kind);
}
