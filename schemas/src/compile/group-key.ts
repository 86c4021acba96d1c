// Agents that agree on everything the compiler reads share one compiled document. The compiler reads
// an agent's organization and location, its AgentOverride, its name only where a target lists it,
// and the facts that selectors test. The key holds exactly those, so equal keys ⇒ identical
// documents, and thousands of agents collapse into a handful of groups.
import type { AgentIdentity, Policy, PolicyDocument, Targets } from '../model.ts';
import { factAt, factPathsOf } from '../targets.ts';
import { canonicalJson } from '../canonical-json.ts';
import { applicableOverride } from './settings.ts';
import { compareText } from './compare.ts';

export function groupKey(policy: Policy, agent: AgentIdentity): string {
  const { factPaths, namedAgents } = selectorsOf(policy);
  const facts: Record<string, string | null> = {};
  for (const path of factPaths) facts[path] = selectorValue(factAt(agent.facts ?? {}, path));
  return canonicalJson({
    organization: agent.organization,
    location: agent.location,
    override: applicableOverride(policy, agent)?.id ?? null,
    agent: namedAgents.has(agent.name) ? agent.name : null,
    facts,
  });
}

// The server keys every agent of the fleet against one policy; a loaded Policy never changes, so
// what its selectors read is worked out once per policy instead of once per agent.
const selectorsByPolicy = new WeakMap<Policy, { factPaths: string[]; namedAgents: Set<string> }>();

function selectorsOf(policy: Policy): { factPaths: string[]; namedAgents: Set<string> } {
  let selectors = selectorsByPolicy.get(policy);
  if (!selectors) {
    selectors = { factPaths: referencedFactPaths(policy), namedAgents: agentsNamedByTargets(policy) };
    selectorsByPolicy.set(policy, selectors);
  }
  return selectors;
}

/** Every fact path any selector in the policy tests, sorted. */
export function referencedFactPaths(policy: Policy): string[] {
  const paths = new Set<string>();
  for (const targets of allTargets(policy)) for (const path of factPathsOf(targets)) paths.add(path);
  return [...paths].sort(compareText);
}

/** Agent names listed in some `targets.agents`. */
export function agentsNamedByTargets(policy: Policy): Set<string> {
  const names = new Set<string>();
  for (const targets of allTargets(policy)) for (const name of targets?.agents ?? []) names.add(name);
  return names;
}

export function targetedDocuments(policy: Policy): Array<PolicyDocument<'Script' | 'ExternalFact' | 'ChocoDeployment'>> {
  return [...policy.scripts.values(), ...policy.externalFacts.values(), ...policy.chocoDeployments.values()];
}

function allTargets(policy: Policy): Array<Targets | undefined> {
  return targetedDocuments(policy).map((document) => document.spec.targets);
}

/** factsMatch compares scalars as strings and never matches objects or missing facts, so those
 * distinctions are all a selector can see. */
function selectorValue(value: unknown): string | null {
  if (value === undefined || value === null || typeof value === 'object') return null;
  return String(value);
}
