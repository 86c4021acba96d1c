// Between reconciles, enrolled agents' own scopes follow the agents: a newly enrolled agent, or one
// whose reported facts change what the selectors see, gets (or gives up) a scope of its own under
// the applied revision, and the agents whose document changed are returned to be signalled. The
// applied revision's policy and compiler come from the instance's memory, or are loaded once from the
// policy source (an instance that did not apply the revision itself).
import type postgres from 'postgres';
import type { Logger } from '../logger.ts';
import type { PolicySource } from '../git/source.ts';
import { referencedFactPaths } from '../../../schemas/src/compile/selectors.ts';
import { changedAgents, readAgentDocuments } from '../apply/agent-documents.ts';
import { isEmptyAgentScopeWrites, writeAgentScopes, type AgentScopeWrites } from '../apply/agent-scope-writes.ts';
import type { StoredInventory } from '../apply/plan-writes.ts';
import { agentScopeKey, agentScopes } from './agent-scopes.ts';
import { policyScopes } from './compile-scopes.ts';
import { readEnrolledAgents, type EnrolledAgent } from './enrolled-agents.ts';
import { adoptApplied, currentApplied, type AppliedMemory, type ReconcileMemory } from './memory.ts';
import { RECONCILE_LOCK_KEY } from './reconcile.ts';
import { bumpDocumentsVersion, readPolicyState } from './status.ts';

export interface AgentRefreshDeps {
  sql: postgres.Sql;
  source: PolicySource;
  memory: ReconcileMemory;
  log: Logger;
}

export interface AgentRefreshOutcome {
  /** The applied revision the agents were compiled under (null: nothing applied yet). */
  revision: string | null;
  changedAgents: string[];
  /** The applied documents kept changing under every attempt: nothing was written; ask again. */
  unfinished?: boolean;
}

// Another instance writing between our read and our lock makes us start over; more than a few
// rounds means a busy fleet, and the next refresh or reconcile catches up.
const ATTEMPTS = 3;

/** Re-decides the own scopes of the given agents (or of every agent) and writes what changed. */
export async function refreshAgentScopes(deps: AgentRefreshDeps, agentIds: string[] | 'all'): Promise<AgentRefreshOutcome> {
  const { sql, memory } = deps;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const state = await readPolicyState(sql);
    if (!state.appliedRevision) return { revision: null, changedAgents: [] };
    const applied = await currentApplied(memory, sql, state) ?? await adoptApplied(memory, deps, state.appliedRevision);
    if (!applied) continue;
    const { revision, documentsVersion } = applied.stored;
    const agents = await readEnrolledAgents(sql, referencedFactPaths(applied.policy), agentIds === 'all' ? 'all' : { agentIds });
    const writes = agentScopeWritesFor(applied, agents, agentIds === 'all');
    if (isEmptyAgentScopeWrites(writes)) return { revision, changedAgents: [] };

    const written = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${RECONCILE_LOCK_KEY})`;
      const [locked] = await tx<Array<{ applied_revision: string | null; documents_version: string }>>`select applied_revision, documents_version from policy_state`;
      if (locked.applied_revision !== revision || Number(locked.documents_version) !== documentsVersion) return undefined;
      // Only the refreshed agents' documents can change here.
      const whose = agentIds === 'all' ? 'all' : { agentIds };
      const before = await readAgentDocuments(tx, whose);
      await writeAgentScopes(tx, writes, revision!);
      const version = await bumpDocumentsVersion(tx);
      return { version, changed: changedAgents(before.documents, (await readAgentDocuments(tx, whose)).documents) };
    });
    if (!written) continue;
    rememberWrites(applied.stored, writes, written.version);
    return { revision, changedAgents: written.changed };
  }
  deps.log.warn({ agents: agentIds === 'all' ? 'all' : agentIds.length }, 'agent scopes not refreshed yet: the applied documents kept changing; trying again');
  return { revision: null, changedAgents: [], unfinished: true };
}

/** What the agents' own scopes should be, against what the applied state holds. */
function agentScopeWritesFor(applied: AppliedMemory, agents: EnrolledAgent[], everyAgent: boolean): AgentScopeWrites {
  const { stored } = applied;
  const policyKeys = new Set(policyScopes(applied.policy).keys());
  const own = agentScopes(applied.compiler, agents, (scope) => (policyKeys.has(scope) ? stored.scopes.get(scope) : undefined));
  const wanted = new Set(own.scopes.map((row) => row.scope));
  // Keys no longer wanted: of the agents looked at, or (every agent) any non-policy scope, which
  // also drops the scopes of agents revoked since.
  const candidates = everyAgent ? stored.scopes.keys() : agents.map(agentScopeKey);
  const deletes = [...candidates].filter((key) => stored.scopes.has(key) && !policyKeys.has(key) && !wanted.has(key));
  return {
    upsert: own.scopes.filter((row) => stored.scopes.get(row.scope) !== row.documentSha256),
    delete: [...new Set(deletes)],
    documents: [...own.documents.values()].filter((row) => !stored.documents.has(row.sha256)),
    parts: [...own.parts.values()].filter((row) => !stored.partShas.has(row.sha256)),
  };
}

function rememberWrites(stored: StoredInventory, writes: AgentScopeWrites, documentsVersion: number): void {
  for (const row of writes.upsert) stored.scopes.set(row.scope, row.documentSha256);
  for (const key of writes.delete) stored.scopes.delete(key);
  for (const row of writes.documents) stored.documents.set(row.sha256, { settingsSha256: row.settingsSha256, resourcesSha256: row.resourcesSha256 });
  for (const row of writes.parts) stored.partShas.add(row.sha256);
  stored.documentsVersion = documentsVersion;
}
