// What one server instance remembers between reconciles, so that a one-file commit re-reads,
// re-parses and re-compiles only what it touches. Everything here is a cache of state that lives in
// PostgreSQL and the policy repository: losing it (a restart) or finding it stale (another instance
// applied since) costs a re-read of the applied revision and the stored inventory (adoptApplied),
// never correctness.
import type postgres from 'postgres';
import { createParseCache, type ParseCache } from '../../../schemas/src/validate/parse-cache.ts';
import { readStoredInventory } from '../apply/stored-inventory.ts';
import { createCompiler, type Compiler } from '../../../schemas/src/compile/compiler.ts';
import { loadPolicy } from '../../../schemas/src/validate/load-policy.ts';
import type { PolicySource } from '../git/source.ts';
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

/**
 * The applied revision as the memory would hold it had this instance applied it: its policy read from
 * the source (through the parse cache) and the stored inventory from the database; remembered.
 * Undefined when the database moved on meanwhile. Instances take turns applying commits (whichever
 * takes the run lock first), so without this every other commit was a full compile: at 30,000
 * agents 800 scopes and every agent decided again, ~1 s, instead of the location's 2 scopes.
 */
export async function adoptApplied(memory: ReconcileMemory, deps: { sql: postgres.Sql; source: Pick<PolicySource, 'read'> }, revision: string): Promise<AppliedMemory | undefined> {
  const snapshot = await deps.source.read(revision);
  const loaded = loadPolicy(snapshot.files, undefined, memory.parseCache);
  if (!loaded.ok) throw new Error(`the applied revision ${revision} does not load (${loaded.errors.length} error(s))`);
  const stored = await readStoredInventory(deps.sql);
  if (stored.revision !== revision) return undefined;
  memory.applied = { policy: loaded.policy, compiler: createCompiler(loaded.policy), stored };
  return memory.applied;
}
