// Compile stage of the reconcile: the scopes a revision defines and the document each receives.
// A scope is every location ("org/location") and every agent an AgentOverride pins to a location
// ("org/location/agent"). Enrolled agents resolve to their most specific scope, or get a scope of
// their own when their facts or a `targets.agents` entry make their document differ (agent-scopes.ts).
// A document is two content-addressed parts (settings, resources); scopes that compile to the same
// parts share them, and most scopes of a fleet share a resources part.
import type { AgentIdentity, CompiledParts, Policy } from '../../../schemas/src/model.ts';
import type { Compiler } from '../../../schemas/src/compile/compiler.ts';
import type { DocumentRow, PartRow, ScopeRow } from '../apply/plan-writes.ts';

export interface CompiledScopes {
  scopes: Map<string, ScopeRow>;
  /** Documents and parts of the scopes compiled this time (not of the scopes carried over). */
  documents: Map<string, DocumentRow>;
  parts: Map<string, PartRow>;
  /** How many scopes were compiled. */
  compiled: number;
}

/** Every scope of the policy, keyed by scope key, with the agent identity it is compiled for. */
export function policyScopes(policy: Policy): Map<string, AgentIdentity> {
  const scopes = new Map<string, AgentIdentity>();
  for (const location of policy.locations.values()) {
    // An empty name: no override or `targets.agents` entry can select it, so the location scope
    // holds exactly what every agent of the location shares.
    scopes.set(location.id, { name: '', organization: location.spec.organization, location: location.metadata.name, facts: {} });
  }
  for (const override of policy.overrides.values()) {
    const locationId = override.spec.location;
    // Overrides without a location apply wherever the agent is; their scope exists once the agent
    // is enrolled somewhere ([3/7]).
    if (!locationId) continue;
    const location = policy.locations.get(locationId);
    if (!location) continue;
    scopes.set(`${locationId}/${override.spec.agent}`, { name: override.spec.agent, organization: location.spec.organization, location: location.metadata.name, facts: {} });
  }
  return scopes;
}

/**
 * Compiles the scopes in `recompile` ('all', or a set of keys) and every scope `applied` does not
 * know yet; the rest keep the document `applied` (scope → document id) gives them.
 */
export function compileScopes(compiler: Compiler, scopes: Map<string, AgentIdentity>, recompile: Set<string> | 'all', applied: ReadonlyMap<string, string>): CompiledScopes {
  const rows = new Map<string, ScopeRow>();
  const documents = new Map<string, DocumentRow>();
  const parts = new Map<string, PartRow>();
  let compiled = 0;
  for (const [scope, agent] of scopes) {
    let documentSha256 = recompile === 'all' || recompile.has(scope) ? undefined : applied.get(scope);
    if (documentSha256 === undefined) {
      const document = compiler.compileParts(agent);
      compiled++;
      documentSha256 = document.sha256;
      keepCompiled(documents, parts, document);
    }
    rows.set(scope, { scope, organization: agent.organization, location: agent.location, agent: agent.name === '' ? null : agent.name, documentSha256 });
  }
  return { scopes: rows, documents, parts, compiled };
}

/** Adds a compiled document and its two parts to the rows to write (once per digest). */
export function keepCompiled(documents: Map<string, DocumentRow>, parts: Map<string, PartRow>, document: CompiledParts): void {
  if (documents.has(document.sha256)) return;
  documents.set(document.sha256, { sha256: document.sha256, settingsSha256: document.settings.sha256, resourcesSha256: document.resources.sha256 });
  if (!parts.has(document.settings.sha256)) parts.set(document.settings.sha256, { sha256: document.settings.sha256, kind: 'settings', body: document.settings.json });
  if (!parts.has(document.resources.sha256)) parts.set(document.resources.sha256, { sha256: document.resources.sha256, kind: 'resources', body: document.resources.json });
}
