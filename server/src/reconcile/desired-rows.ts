// Turns the validated policy of one revision into the rows the applied state holds: one row per
// policy object (with the inventory digest), the resolved script contents, and the scope documents.
// With the previous applied revision at hand (`base`), only the scopes the changed objects can reach
// are compiled; the others keep the document the applied state gives them.
import { policyDocuments, type Inventory } from '../../../schemas/src/plan/inventory.ts';
import { affectedScopes, namedAgents } from '../../../schemas/src/compile/affected-scopes.ts';
import { referencedFactPaths } from '../../../schemas/src/compile/selectors.ts';
import type { Compiler } from '../../../schemas/src/compile/compiler.ts';
import type { AgentIdentity, Policy } from '../../../schemas/src/model.ts';
import type { ContentRow, DesiredRows, ObjectRow, ScopeRow, StoredInventory } from '../apply/plan-writes.ts';
import { compileScopes, policyScopes } from './compile-scopes.ts';
import { agentScopeKey, agentScopes } from './agent-scopes.ts';
import type { AgentSelection, EnrolledAgent } from './enrolled-agents.ts';
import { objectInventory } from './object-inventory.ts';

/** The previous applied revision, as the reconciler remembers it. */
export interface AppliedBase {
  policy: Policy;
  stored: StoredInventory;
}

export interface DesiredResult {
  desired: DesiredRows;
  /** Scopes compiled (all of them without a base). */
  compiledScopes: number;
}

/** What a revision needs compiled, decided before any agent is read, so a small commit reads and
 * re-decides only the agents it can reach. */
export interface CompilePlan {
  entries: Inventory;
  scopes: Map<string, AgentIdentity>;
  /** Policy scopes to compile ('all' without a base). */
  recompile: Set<string> | 'all';
  /** Enrolled agents whose own scopes are decided again; every other agent keeps the own scope the
   * applied state gives it (agent-refresh.ts keeps those current as facts change between commits). */
  agents: AgentSelection;
  /** The base revision's policy scopes: a stored scope outside them is an agent's own. */
  baseScopes: ReadonlySet<string>;
}

/** Without a base (or when the change can reach anyone) every scope compiles and every agent is
 * decided again; otherwise the scopes the changed objects reach, and the agents enrolled in their
 * locations or named by the changed objects. */
export function planCompile(policy: Policy, stored: StoredInventory, base?: AppliedBase): CompilePlan {
  const entries = objectInventory(policy);
  const scopes = policyScopes(policy);
  if (!base) return { entries, scopes, recompile: 'all', agents: 'all', baseScopes: new Set() };
  const keys = changedKeys(stored, entries);
  const recompile = affectedScopes(base.policy, policy, keys, [...scopes].map(([key, agent]) => ({ key, agent })));
  const baseScopes = new Set(policyScopes(base.policy).keys());
  // A new or dropped fact selector changes which facts decide own scopes: decide them all again.
  if (recompile === 'all' || referencedFactPaths(base.policy).join('\n') !== referencedFactPaths(policy).join('\n')) {
    return { entries, scopes, recompile, agents: 'all', baseScopes };
  }
  const locations = new Set([...recompile].map((scope) => scope.split('/').slice(0, 2).join('/')));
  return { entries, scopes, recompile, agents: { locations: [...locations].sort(), names: namedAgents(base.policy, policy, keys) }, baseScopes };
}

/** `stored` is the applied state the plan will diff against: base.stored, or read from the database.
 * `agents` are the agents `plan.agents` selects; their own scopes are decided afresh (one compile per
 * distinct group), the other agents' own scopes are carried over from `stored`. */
export function desiredRows(policy: Policy, compiler: Compiler, stored: StoredInventory, agents: EnrolledAgent[], plan: CompilePlan = planCompile(policy, stored)): DesiredResult {
  const objects = objectRows(policy, plan.entries);
  const contents = new Map<string, ContentRow>();
  for (const resolved of policy.contents.values()) contents.set(resolved.sha256, { sha256: resolved.sha256, content: resolved.content });

  const compiled = compileScopes(compiler, plan.scopes, plan.recompile, stored.scopes);
  const own = agentScopes(compiler, agents, (scope) => compiled.scopes.get(scope)?.documentSha256);
  if (plan.agents !== 'all') carryOverOwnScopes(compiled.scopes, stored.scopes, plan, new Set(agents.map(agentScopeKey)));
  for (const row of own.scopes) compiled.scopes.set(row.scope, row);
  for (const [sha256, row] of own.documents) compiled.documents.set(sha256, row);
  for (const [sha256, row] of own.parts) compiled.parts.set(sha256, row);
  return {
    desired: { objects, contents, scopes: compiled.scopes, documents: compiled.documents, parts: compiled.parts },
    compiledScopes: compiled.compiled + own.compiled,
  };
}

/** The own scopes of agents not decided again stay as stored, while their location is still in the
 * policy (an agent whose location went away has no document) and no changed object names them. */
function carryOverOwnScopes(scopes: Map<string, ScopeRow>, stored: ReadonlyMap<string, string>, plan: CompilePlan, decided: ReadonlySet<string>): void {
  const named = new Set(plan.agents !== 'all' && 'names' in plan.agents ? plan.agents.names : []);
  for (const [scope, documentSha256] of stored) {
    if (scopes.has(scope) || decided.has(scope) || plan.baseScopes.has(scope)) continue;
    const [organization, location, agent] = scope.split('/');
    if (agent === undefined || named.has(agent) || !scopes.has(`${organization}/${location}`)) continue;
    scopes.set(scope, { scope, organization, location, agent, documentSha256 });
  }
}

/** "Kind/id" of every object added, removed, changed, or moved to another file: provenance names the
 * file, so a move changes the settings part of the scopes it reaches; a line move does not. */
function changedKeys(applied: StoredInventory, head: Inventory): string[] {
  const keys: string[] = [];
  for (const [key, entry] of head) {
    const before = applied.objects.get(key);
    if (!before || before.sha256 !== entry.sha256 || before.file !== entry.file) keys.push(key);
  }
  for (const key of applied.objects.keys()) if (!head.has(key)) keys.push(key);
  return keys;
}

function objectRows(policy: Policy, entries: Inventory): Map<string, ObjectRow> {
  const objects = new Map<string, ObjectRow>();
  for (const document of policyDocuments(policy)) {
    const key = `${document.kind}/${document.id}`;
    objects.set(key, { ...entries.get(key)!, metadata: document.metadata, spec: document.spec });
  }
  return objects;
}
