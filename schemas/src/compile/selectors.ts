// What the policy's selectors read about an agent: the fact paths they test and the agent names
// they list. Agents that agree on these (and on organization, location and override) cannot be
// told apart by the compiler.
import type { Policy, PolicyDocument, Targets } from '../model.ts';
import { factPathsOf } from '../targets.ts';
import { compareText } from './compare.ts';

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

/** factsMatch compares scalars as strings and never matches objects or missing facts, so those
 * distinctions are all a selector can see. */
export function selectorValue(value: unknown): string | null {
  if (value === undefined || value === null || typeof value === 'object') return null;
  return String(value);
}

function allTargets(policy: Policy): Array<Targets | undefined> {
  return targetedDocuments(policy).map((document) => document.spec.targets);
}
