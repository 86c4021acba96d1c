// The agent groups a plan reports on, read from the policy alone (the plan runs offline, without the
// fleet): every location, and every agent the policy names (by an AgentOverride or in
// targets.agents), placed in the override's scope or, when unscoped, in "any location".
import type { AgentIdentity, Policy } from '../model.ts';
import { agentsNamedByTargets } from '../compile/group-key.ts';
import { compareText } from '../compile/compare.ts';

/** Stands for an unknown organization or location: no target or settings layer names it. */
export const ANY = '*';

export interface PlanGroup {
  /** "org/location" or "org/location agent NAME"; "*" where the agent may be anywhere. */
  scope: string;
  agent: AgentIdentity;
  /** Whether the group's location (when it names one) exists on each side. */
  inBase: boolean;
  inHead: boolean;
}

export function planGroups(base: Policy, head: Policy): PlanGroup[] {
  const locationKeys = new Set([...base.locations.keys(), ...head.locations.keys()]);
  const locationGroups = [...locationKeys].sort(compareText).map((key) => {
    const [organization, location] = splitLocation(key);
    // An empty name: no override or target can name it, so the group sees only shared policy.
    return groupFor(base, head, { name: '', organization, location, facts: {} }, key);
  });

  const agentScopes = new Map<string, AgentIdentity>();
  const addAgent = (name: string, organization = ANY, location = ANY) => {
    const agent = { name, organization, location, facts: {} };
    agentScopes.set(`${organization}/${location} agent ${name}`, agent);
  };
  for (const policy of [base, head]) {
    for (const override of policy.overrides.values()) {
      const [organization, location] = override.spec.location ? splitLocation(override.spec.location) : [override.spec.organization ?? ANY, ANY];
      addAgent(override.spec.agent, organization, location);
    }
  }
  const overridden = new Set([...agentScopes.values()].map((agent) => agent.name));
  for (const name of new Set([...agentsNamedByTargets(base), ...agentsNamedByTargets(head)])) {
    if (!overridden.has(name)) addAgent(name);
  }
  const agentGroups = [...agentScopes.keys()].sort(compareText).map((scope) => groupFor(base, head, agentScopes.get(scope)!, scope));
  return [...locationGroups, ...agentGroups];
}

function groupFor(base: Policy, head: Policy, agent: AgentIdentity, scope: string): PlanGroup {
  const locationKey = `${agent.organization}/${agent.location}`;
  const exists = (policy: Policy) => agent.location === ANY || policy.locations.has(locationKey);
  return { scope, agent, inBase: exists(base), inHead: exists(head) };
}

function splitLocation(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
