// Turns the validated policy of one revision into the rows the applied state holds: one row per
// policy object (with the inventory digest), the resolved script contents, and the scope documents.
// With the previous applied revision at hand (`base`), only the scopes the changed objects can reach
// are compiled; the others keep the document the applied state gives them.
import { policyDocuments, type Inventory } from '../../../schemas/src/plan/inventory.ts';
import { affectedScopes } from '../../../schemas/src/compile/affected-scopes.ts';
import type { Compiler } from '../../../schemas/src/compile/compiler.ts';
import type { Policy } from '../../../schemas/src/model.ts';
import type { ContentRow, DesiredRows, ObjectRow, StoredInventory } from '../apply/plan-writes.ts';
import { compileScopes, policyScopes } from './compile-scopes.ts';
import { agentScopes } from './agent-scopes.ts';
import type { EnrolledAgent } from './enrolled-agents.ts';
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

/** `stored` is the applied state the plan will diff against: base.stored, or read from the database.
 * Enrolled agents' own scopes are decided afresh every time (cheap: one compile per distinct group),
 * since their facts may have changed whatever the commit touched. */
export function desiredRows(policy: Policy, compiler: Compiler, stored: StoredInventory, agents: EnrolledAgent[], base?: AppliedBase): DesiredResult {
  const entries = objectInventory(policy);
  const objects = objectRows(policy, entries);
  const contents = new Map<string, ContentRow>();
  for (const resolved of policy.contents.values()) contents.set(resolved.sha256, { sha256: resolved.sha256, content: resolved.content });

  const scopes = policyScopes(policy);
  const recompile = base
    ? affectedScopes(base.policy, policy, changedKeys(base.stored, entries), [...scopes].map(([key, agent]) => ({ key, agent })))
    : 'all';
  const compiled = compileScopes(compiler, scopes, recompile, stored.scopes);
  const own = agentScopes(compiler, agents, (scope) => compiled.scopes.get(scope)?.documentSha256);
  for (const row of own.scopes) compiled.scopes.set(row.scope, row);
  for (const [sha256, row] of own.documents) compiled.documents.set(sha256, row);
  for (const [sha256, row] of own.parts) compiled.parts.set(sha256, row);
  return {
    desired: { objects, contents, scopes: compiled.scopes, documents: compiled.documents, parts: compiled.parts },
    compiledScopes: compiled.compiled + own.compiled,
  };
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
