// What one server instance remembers between reconciles, so that a one-file commit re-reads,
// re-parses and re-compiles only what it touches. Everything here is a cache of state that lives in
// PostgreSQL and the policy repository: losing it (a restart) or finding it stale (another instance
// applied since) costs one full compile, never correctness.
import type postgres from 'postgres';
import { createParseCache, type ParseCache } from '../../../schemas/src/validate/parse-cache.ts';
import { readStoredInventory } from '../apply/stored-inventory.ts';
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

/** The remembered applied state if it is still the database's, else undefined (and forgotten). When
 * only agents' own scopes moved since (documents_version), the policy and compiler still hold and
 * the stored inventory is read again. */
export async function currentApplied(memory: ReconcileMemory, sql: postgres.Sql | postgres.TransactionSql, state: { appliedRevision: string | null; documentsVersion: number }): Promise<AppliedMemory | undefined> {
  if (memory.applied && memory.applied.stored.revision !== state.appliedRevision) memory.applied = undefined;
  if (memory.applied && memory.applied.stored.documentsVersion !== state.documentsVersion) {
    memory.applied = { ...memory.applied, stored: await readStoredInventory(sql) };
  }
  return memory.applied;
}
