// Compile stage of the reconcile: the scopes a revision defines and the document each receives.
// A scope is every location ("org/location") and every agent an AgentOverride pins to a location
// ("org/location/agent"). Enrolled agents ([3/7]) resolve to their most specific scope, or get a
// scope of their own when their facts or a `targets.agents` entry make their document differ.
// Documents are content-addressed: scopes that compile to the same bytes share one row.
import { compileGroup } from '../../../schemas/src/compile/compile-group.ts';
import type { AgentIdentity, Policy } from '../../../schemas/src/model.ts';
import type { DocumentRow, ScopeRow } from '../apply/plan-writes.ts';

export interface CompiledScopes {
  scopes: Map<string, ScopeRow>;
  documents: Map<string, DocumentRow>;
}

export function compileScopes(policy: Policy): CompiledScopes {
  const scopes = new Map<string, ScopeRow>();
  const documents = new Map<string, DocumentRow>();
  const add = (scope: string, agent: AgentIdentity) => {
    const compiled = compileGroup(policy, agent);
    if (!documents.has(compiled.sha256)) documents.set(compiled.sha256, { sha256: compiled.sha256, json: compiled.json });
    scopes.set(scope, {
      scope,
      organization: agent.organization,
      location: agent.location,
      agent: agent.name === '' ? null : agent.name,
      documentSha256: compiled.sha256,
    });
  };
  for (const location of policy.locations.values()) {
    // An empty name: no override or `targets.agents` entry can select it, so the location scope
    // holds exactly what every agent of the location shares.
    add(location.id, { name: '', organization: location.spec.organization, location: location.metadata.name, facts: {} });
  }
  for (const override of policy.overrides.values()) {
    const locationId = override.spec.location;
    // Overrides without a location apply wherever the agent is; their scope exists once the agent
    // is enrolled somewhere ([3/7]).
    if (!locationId) continue;
    const location = policy.locations.get(locationId);
    if (!location) continue;
    const agent = { name: override.spec.agent, organization: location.spec.organization, location: location.metadata.name, facts: {} };
    add(`${locationId}/${agent.name}`, agent);
  }
  return { scopes, documents };
}
