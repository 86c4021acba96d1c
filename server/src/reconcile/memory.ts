// What one server instance remembers between reconciles, so that a one-file commit re-reads,
// re-parses and re-compiles only what it touches. Everything here is a cache of state that lives in
// PostgreSQL and the policy repository: losing it (a restart) or finding it stale (another instance
// applied since) costs one full compile, never correctness.
import { createParseCache, type ParseCache } from '../../../schemas/src/validate/parse-cache.ts';
import type { Compiler } from '../../../schemas/src/compile/compiler.ts';
import type { AppliedBase } from './desired-rows.ts';

export interface AppliedMemory extends AppliedBase {
  /** Indexes `policy`; kept to compile scopes for it without indexing again. */
  compiler: Compiler;
}

export interface ReconcileMemory {
  /** The revision this instance applied last, as applied; undefined until the first apply. */
  applied?: AppliedMemory;
  /** Per-file load results by path and blob id, shared by every revision read. */
  parseCache: ParseCache;
}

export function createReconcileMemory(): ReconcileMemory {
  return { parseCache: createParseCache() };
}

/** The remembered applied state if it is still the database's, else undefined (and forgotten). */
export function currentApplied(memory: ReconcileMemory, appliedRevision: string | null): AppliedMemory | undefined {
  if (memory.applied && memory.applied.stored.revision !== appliedRevision) memory.applied = undefined;
  return memory.applied;
}
