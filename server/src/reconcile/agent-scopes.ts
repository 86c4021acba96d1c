// Which enrolled agents need a scope of their own, "<org>/<location>/<name>", compiled with their
// facts: those whose document differs from their location's (a `targets.agents` entry, an override
// without a location, facts a selector matches), and those whose key an AgentOverride pinned to the
// location already uses (that scope is then compiled with the agent's real facts). Every other agent
// reads its location's scope, so a fleet of thousands adds rows only for agents that really differ.
// Pure: agents that agree on the compiler's groupKey get identical documents, so each group is
// compiled once.
import type { Compiler } from '../../../schemas/src/compile/compiler.ts';
import type { CompiledParts } from '../../../schemas/src/model.ts';
import type { DocumentRow, PartRow, ScopeRow } from '../apply/plan-writes.ts';
import { keepCompiled } from './compile-scopes.ts';
import type { EnrolledAgent } from './enrolled-agents.ts';

export interface AgentScopes {
  /** The agents' own scope rows (an agent absent here reads its location's scope). */
  scopes: ScopeRow[];
  documents: Map<string, DocumentRow>;
  parts: Map<string, PartRow>;
  /** Distinct groups compiled. */
  compiled: number;
}

export function agentScopeKey(agent: EnrolledAgent): string {
  return `${agent.identity.organization}/${agent.identity.location}/${agent.identity.name}`;
}

/**
 * `policyScopeDocument` gives the document of a policy scope (a location, or an override's
 * "org/location/agent") and nothing for any other key, agents' own scopes included; an agent whose
 * location has none (not in the policy) gets nothing.
 */
export function agentScopes(compiler: Compiler, agents: Iterable<EnrolledAgent>, policyScopeDocument: (scope: string) => string | undefined): AgentScopes {
  const result: AgentScopes = { scopes: [], documents: new Map(), parts: new Map(), compiled: 0 };
  const byGroup = new Map<string, CompiledParts>();
  for (const agent of agents) {
    const { identity } = agent;
    const locationDocument = policyScopeDocument(`${identity.organization}/${identity.location}`);
    if (locationDocument === undefined) continue;
    const key = agentScopeKey(agent);
    const group = compiler.groupKey(identity);
    let document = byGroup.get(group);
    if (!document) {
      byGroup.set(group, (document = compiler.compileParts(identity)));
      result.compiled++;
    }
    if (document.sha256 === locationDocument && policyScopeDocument(key) === undefined) continue;
    keepCompiled(result.documents, result.parts, document);
    result.scopes.push({ scope: key, organization: identity.organization, location: identity.location, agent: identity.name, documentSha256: document.sha256 });
  }
  return result;
}
