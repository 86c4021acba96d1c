// Which scopes a commit can change, from the objects it changed: the reconciler recompiles those
// and keeps every other scope's document. Errs on the side of more: a scope listed here may well
// compile to the same parts again, but a scope left out must not be able to change.
import type { AgentIdentity, Kind, Policy, Targets } from '../model.ts';
import { fileUnder } from './target-index.ts';

export interface Scope {
  key: string;
  agent: AgentIdentity;
}

/** `changedKeys` are "Kind/id" of objects added, removed or changed between `base` and `head`.
 * Settings reach every scope; an Organization or Location the scopes in it; an AgentOverride the
 * scopes of the agent it names (before and after); a Script, ExternalFact or ChocoDeployment the
 * scopes its targets select before or after, facts ignored (agents' facts are not known here), so
 * one that names no organization, location or agent reaches every scope. 'all' = every scope. */
export function affectedScopes(base: Policy, head: Policy, changedKeys: string[], scopes: Iterable<Scope>): Set<string> | 'all' {
  const index = indexScopes(scopes);
  const affected = new Set<string>();
  const add = (keys: string[] | undefined) => {
    for (const key of keys ?? []) affected.add(key);
  };
  for (const changed of changedKeys) {
    const slash = changed.indexOf('/');
    const kind = changed.slice(0, slash) as Kind;
    const id = changed.slice(slash + 1);
    switch (kind) {
      case 'Organization':
        add(index.byOrganization.get(id));
        break;
      case 'Location':
        add(index.byLocation.get(id));
        break;
      case 'AgentOverride':
        for (const policy of [base, head]) add(index.byAgent.get(policy.overrides.get(id)?.spec.agent ?? ''));
        break;
      case 'Script':
      case 'ExternalFact':
      case 'ChocoDeployment':
        for (const targets of targetsOnEitherSide(base, head, kind, id)) {
          if (!namesAnyone(targets)) return 'all';
          for (const organization of targets?.organizations ?? []) add(index.byOrganization.get(organization));
          for (const location of targets?.locations ?? []) add(index.byLocation.get(location));
          for (const agent of targets?.agents ?? []) add(index.byAgent.get(agent));
        }
        break;
      default:
        // Settings, or a kind this function does not know: nothing narrower is safe.
        return 'all';
    }
  }
  return affected;
}

interface ScopeIndex {
  byOrganization: Map<string, string[]>;
  byLocation: Map<string, string[]>; // "org/location"
  byAgent: Map<string, string[]>;
}

function indexScopes(scopes: Iterable<Scope>): ScopeIndex {
  const index: ScopeIndex = { byOrganization: new Map(), byLocation: new Map(), byAgent: new Map() };
  for (const { key, agent } of scopes) {
    fileUnder(index.byOrganization, agent.organization, key);
    fileUnder(index.byLocation, `${agent.organization}/${agent.location}`, key);
    // A nameless agent stands for a whole location: no target or override can name it.
    if (agent.name !== '') fileUnder(index.byAgent, agent.name, key);
  }
  return index;
}

const MAP_OF_KIND = { Script: 'scripts', ExternalFact: 'externalFacts', ChocoDeployment: 'chocoDeployments' } as const;

/** The object's targets in each revision that has it (one entry per side; `undefined` = no targets). */
function targetsOnEitherSide(base: Policy, head: Policy, kind: keyof typeof MAP_OF_KIND, id: string): Array<Targets | undefined> {
  const sides: Array<Targets | undefined> = [];
  for (const policy of [base, head]) {
    const document = policy[MAP_OF_KIND[kind]].get(id);
    if (document) sides.push(document.spec.targets);
  }
  return sides;
}

function namesAnyone(targets: Targets | undefined): boolean {
  return Boolean(targets?.organizations?.length || targets?.locations?.length || targets?.agents?.length);
}

/** Agents a commit names by name, on either side: `targets.agents` of changed Scripts, ExternalFacts
 * and ChocoDeployments, and the agents of changed AgentOverrides. Their own scopes must be decided
 * again wherever they are enrolled, since no location scope stands for them. */
export function namedAgents(base: Policy, head: Policy, changedKeys: string[]): string[] {
  const names = new Set<string>();
  for (const changed of changedKeys) {
    const slash = changed.indexOf('/');
    const kind = changed.slice(0, slash) as Kind;
    const id = changed.slice(slash + 1);
    if (kind === 'AgentOverride') {
      for (const policy of [base, head]) {
        const agent = policy.overrides.get(id)?.spec.agent;
        if (agent) names.add(agent);
      }
    } else if (kind in MAP_OF_KIND) {
      for (const targets of targetsOnEitherSide(base, head, kind as keyof typeof MAP_OF_KIND, id)) for (const agent of targets?.agents ?? []) names.add(agent);
    }
  }
  return [...names].sort();
}
